"""The audit trail in S3, under ``s3://BUCKET/PREFIX/NAME/.modelport/`` (the URL's bucket
and prefix), in the key layout of :mod:`modelport.backends.kit.event_keys`: one object per
event and a stage log of empty objects, read from listings alone (one call per 1000
entries)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

from modelport.backends.kit.codec import CorruptMetadataError
from modelport.backends.kit.event_keys import (  # the layout S3 shares with GCS and Blob
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

log = logging.getLogger("modelport.sagemaker")

T = TypeVar("T")
R = TypeVar("R")


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
