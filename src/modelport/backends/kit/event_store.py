"""The audit trail in an object store (S3, GCS, Azure Blob), written and read the same way
for every backend that keeps its events beside its artifacts.

`ObjectEventStore` holds the logic, over the key layout of
`modelport.backends.kit.event_keys`:

- ``append``: each event in turn, its stage-log entries (empty objects) first and then the
  event object, so a listed event is always in the stage log; a retry rewrites the same keys.
- ``event_ids``: the ids of a version's stored events, from one listing.
- ``read_events``: a version's events, oldest first (ties in id order); an object that does
  not decode is logged and skipped, so one bad object costs that event only.
- ``stage_log``: a stage's transitions, from listings alone.
- ``location``: the URI of a model's trail, for error messages.

A backend's store subclasses it and provides the raw primitives of its SDK: ``uri`` (its
scheme's URI of a path), ``_put`` (bytes with a content type, or none for a stage-log
entry), ``_get`` (bytes) and ``_keys`` (the keys under a prefix, in listing order). Given an
executor, independent requests (one version's GETs, one event's stage-log PUTs) run side by
side; the number of requests is the same either way.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import TypeVar

from modelport.backends.kit.codec import CorruptMetadataError
from modelport.backends.kit.event_keys import (
    decode_event,
    encode_event,
    event_key,
    events_prefix,
    model_root,
    stage_entry,
    stage_keys,
    stage_prefix,
)
from modelport.models import Event

EVENT_CONTENT_TYPE = "application/json"

T = TypeVar("T")
R = TypeVar("R")


class ObjectEventStore(ABC):
    """Events and the stage log under ``PREFIX/NAME/.modelport/`` of one bucket or container.
    ``log`` is the backend's logger (skipped events are reported under its name)."""

    def __init__(self, prefix: str, log: logging.Logger, executor: Executor | None = None) -> None:
        self.prefix = prefix
        self.log = log
        self.executor = executor

    # -- the primitives a backend provides ------------------------------------------

    @abstractmethod
    def uri(self, path: str) -> str:
        """The store's URI of ``path`` (a key or a folder ending in ``/``)."""

    @abstractmethod
    def _put(self, key: str, body: bytes, content_type: str | None) -> None:
        """Write one object; ``content_type`` None: an empty stage-log entry, no type of its
        own."""

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _keys(self, prefix: str) -> Iterator[str]:
        """The keys under ``prefix``, in listing (lexicographic) order."""

    def _map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        if self.executor is None or len(items) < 2:
            return [fn(item) for item in items]
        return list(self.executor.map(fn, items))

    # -- the audit trail -------------------------------------------------------------

    def location(self, name: str) -> str:
        return self.uri(model_root(self.prefix, name) + "/")

    def append(self, name: str, version: str, events: Sequence[Event]) -> None:
        """Each event in turn, its stage-log entries first: a listed event is in the log."""
        root = model_root(self.prefix, name)
        for event in events:
            placed = event.model_copy(update={"name": name, "version": version})
            self._map(self._put_stage_entry, stage_keys(root, placed))
            self._put(event_key(root, version, placed.id), encode_event(placed), EVENT_CONTENT_TYPE)

    def event_ids(self, name: str, version: str) -> list[str]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        return [key[len(prefix) :].removesuffix(".json") for key in self._keys(prefix)]

    def read_events(self, name: str, version: str) -> list[Event]:
        """The version's events, oldest first (ties in id order, the same for every client)."""
        prefix = events_prefix(model_root(self.prefix, name), version)
        events = []
        for body in self._map(self._get, list(self._keys(prefix))):
            try:
                events.append(decode_event(body, name, version))
            except CorruptMetadataError as exc:  # one bad object costs that event only
                self.log.warning("%s/%s: %s; skipped", name, version, exc)
        return sorted(events, key=lambda e: (e.at, e.id))

    def stage_log(self, name: str, stage: str) -> list[Event]:
        prefix = stage_prefix(model_root(self.prefix, name), stage)
        entries = (stage_entry(name, key[len(prefix) :]) for key in self._keys(prefix))
        return sorted((e for e in entries if e is not None), key=lambda e: (e.at, e.id))

    def _put_stage_entry(self, key: str) -> None:
        self._put(key, b"", None)
