"""The audit trail in S3, under ``s3://BUCKET/PREFIX/NAME/.modelport/`` (the URL's bucket
and prefix): `ObjectEventStore` over one S3
client. Its primitives: ``PutObject`` (a stage-log entry without a content type),
``GetObject`` and ``ListObjectsV2`` pages (one call per 1000 entries); the backend's pool
runs one version's GETs and one event's stage-log PUTs side by side."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from modelport.backends.kit.event_store import ObjectEventStore

log = logging.getLogger("modelport.sagemaker")


class EventStore(ObjectEventStore):
    """Reads and appends events with one S3 client (its retries turned off)."""

    def __init__(self, s3: Any, bucket: str, prefix: str, executor: Executor | None) -> None:
        super().__init__(prefix, log, executor)
        self.s3 = s3
        self.bucket = bucket

    def uri(self, path: str) -> str:
        return f"s3://{self.bucket}/{path}"

    def _put(self, key: str, body: bytes, content_type: str | None) -> None:
        typed = {} if content_type is None else {"ContentType": content_type}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **typed)

    def _get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])
