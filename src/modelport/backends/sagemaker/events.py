"""The audit trail in S3: one object per event, and a stage log made of empty objects.

Under ``s3://BUCKET/PREFIX/NAME/.modelport/`` (the URL's bucket and prefix):

| key | content |
|---|---|
| `events/VERSION/ID.json` | one event, as JSON |
| `stages/STAGE/AT~ID~VERSION~FROM~TO~ROLLED_BACK` | nothing: the key is the entry |

An event is appended under its own id, never merged into a shared value, so concurrent
appends cannot lose one and a retried append rewrites the same keys. Each ``transitioned``
event is also indexed under its ``from`` and its ``to`` stage (``-`` marks a missing
part); ``AT`` (UTC, ``%Y%m%dT%H%M%S%fZ``) leads the key so that S3's listing order is time
order, and the stage log is read from listings alone: one call per 1000 entries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import ValidationError

from modelport.backends.kit.codec import CorruptMetadataError
from modelport.models import Event, EventKind

log = logging.getLogger("modelport.sagemaker")

T = TypeVar("T")
R = TypeVar("R")
TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
MISSING = "-"  # no stage or version name starts with it
SEPARATOR = "~"
ROOT = ".modelport"  # artifact folders start with a letter or digit: no clash


def model_root(prefix: str, name: str) -> str:
    return "/".join(part for part in (prefix.strip("/"), name, ROOT) if part)


def event_key(root: str, version: str, event_id: str) -> str:
    return f"{root}/events/{version}/{event_id}.json"


def events_prefix(root: str, version: str) -> str:
    return f"{root}/events/{version}/"


def stage_prefix(root: str, stage: str) -> str:
    return f"{root}/stages/{stage}/"


def stage_entry_key(root: str, stage: str, event: Event) -> str:
    parts = (
        event.at.astimezone(timezone.utc).strftime(TIME_FORMAT),
        event.id,
        event.version,
        event.from_ or MISSING,
        event.to or MISSING,
        event.rolled_back or MISSING,
    )
    return stage_prefix(root, stage) + SEPARATOR.join(parts)


def stage_entry(name: str, entry: str) -> Event | None:
    """The stage-log event a key (without its prefix) names; None for a key that is not an
    entry (a folder marker, a file someone put there)."""
    parts = entry.split(SEPARATOR)
    if len(parts) != 6:
        return None
    at, event_id, version, from_, to, rolled_back = parts
    try:
        return Event(
            id=event_id,
            kind=EventKind.TRANSITIONED,
            name=name,
            version=version,
            from_=None if from_ == MISSING else from_,
            to=None if to == MISSING else to,
            at=datetime.strptime(at, TIME_FORMAT).replace(tzinfo=timezone.utc),
            rolled_back=None if rolled_back == MISSING else rolled_back,
        )
    except (ValueError, ValidationError):
        return None


def encode_event(event: Event) -> bytes:
    payload = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def decode_event(body: bytes, name: str, version: str) -> Event:
    try:
        payload = json.loads(body)
        return Event.model_validate({**payload, "name": name, "version": version})
    except (ValueError, TypeError, ValidationError) as exc:
        raise CorruptMetadataError(f"a stored modelport event does not decode: {exc}") from None


def stage_keys(root: str, event: Event) -> list[str]:
    """The stage-log entries of one event: none unless it is a transition."""
    if event.kind is not EventKind.TRANSITIONED:
        return []
    stages = dict.fromkeys(s for s in (event.from_, event.to) if s)  # ordered, no repeats
    return [stage_entry_key(root, stage, event) for stage in stages]


class EventStore:
    """Reads and appends events with one S3 client (its retries turned off). ``executor``
    runs independent requests side by side."""

    def __init__(self, s3: Any, bucket: str, prefix: str, executor: Executor | None) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.executor = executor

    def location(self, name: str) -> str:
        return f"s3://{self.bucket}/{model_root(self.prefix, name)}/"

    def append(self, name: str, version: str, events: Sequence[Event]) -> None:
        """Each event in turn, its stage-log entries first: a listed event is in the log."""
        root = model_root(self.prefix, name)
        for event in events:
            placed = event.model_copy(update={"name": name, "version": version})
            self._map(self._put_empty, stage_keys(root, placed))
            self._put(event_key(root, version, placed.id), encode_event(placed))

    def event_ids(self, name: str, version: str) -> list[str]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        return [key[len(prefix) :].removesuffix(".json") for key in self._keys(prefix)]

    def read(self, name: str, version: str) -> list[Event]:
        """The version's events, oldest first (ties in id order, the same for every client)."""
        prefix = events_prefix(model_root(self.prefix, name), version)
        bodies = self._map(self._get, list(self._keys(prefix)))
        events = []
        for body in bodies:
            try:
                events.append(decode_event(body, name, version))
            except CorruptMetadataError as exc:  # one bad object costs that event only
                log.warning("%s/%s: %s; skipped", name, version, exc)
        return sorted(events, key=lambda e: (e.at, e.id))

    def stage_log(self, name: str, stage: str) -> list[Event]:
        prefix = stage_prefix(model_root(self.prefix, name), stage)
        entries = (stage_entry(name, key[len(prefix) :]) for key in self._keys(prefix))
        return sorted((e for e in entries if e is not None), key=lambda e: (e.at, e.id))

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def _put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def _put_empty(self, key: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"")

    def _get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def _map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        if self.executor is None or len(items) < 2:
            return [fn(item) for item in items]
        return list(self.executor.map(fn, items))
