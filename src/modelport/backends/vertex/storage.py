"""GCS for ``vertex://``: artifacts as folders of files, and the audit trail beside them.

Artifacts: ``gs://BUCKET/PREFIX/NAME/SLOT/<files>`` (SLOT: the register's idempotency
key), the folder Vertex's ``artifact_uri`` names. Events and the stage log use the same
key layout as the SageMaker backend's S3 store, under ``PREFIX/NAME/.modelport/``:
``events/VERSION/ID.json`` (one object per event) and ``stages/STAGE/AT~ID~...`` (empty
objects whose names are the entries; listing order is time order). Every call is made
with ``retry=None`` and an explicit timeout: the facade retries.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modelport.artifacts import materialize
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
from modelport.digest import iter_directory, safe_member_path
from modelport.errors import InvalidInputError, VersionNotFoundError
from modelport.models import Event

log = logging.getLogger("modelport.vertex")


def split_gcs_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "gs" or not parts.netloc:
        raise InvalidInputError(f"Vertex artifacts are gs:// URIs, not {uri[:100]!r}", field="uri")
    return parts.netloc, parts.path.lstrip("/")


class GcsStore:
    """One ``google.cloud.storage.Client`` and the calls modelport makes with it."""

    def __init__(self, client: Any, bucket: str, prefix: str, timeout: float) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.timeout = timeout

    # -- artifacts ---------------------------------------------------------------

    def upload_folder(self, source: Path, folder: str) -> str:
        """Lay ``source`` out as files under ``folder``; the same register rewrites the same
        objects, so a retried upload is harmless."""
        bucket = self.client.bucket(self.bucket)
        with tempfile.TemporaryDirectory(prefix="modelport-upload-") as tmp:
            materialize(source, Path(tmp))
            for relative, full in iter_directory(Path(tmp)):
                blob = bucket.blob(f"{folder}/{relative}")
                blob.upload_from_filename(str(full), retry=None, timeout=self.timeout)
        return f"gs://{self.bucket}/{folder}"

    def fetch(self, uri: str, dest: Path) -> None:
        """The files under the folder ``uri`` (or the one object it names) into ``dest``."""
        bucket_name, path = split_gcs_uri(uri)
        prefix = path.rstrip("/") + "/" if path else ""
        found = False
        for blob in self._blobs(bucket_name, prefix):
            relative = blob.name[len(prefix) :]
            if not relative or relative.endswith("/"):
                continue
            target = dest / safe_member_path(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            blob.download_to_filename(str(target), retry=None, timeout=self.timeout)
            found = True
        if not found and path:
            blob = self.client.bucket(bucket_name).blob(path)
            if blob.exists(retry=None, timeout=self.timeout):
                target = dest / safe_member_path(Path(path).name)
                blob.download_to_filename(str(target), retry=None, timeout=self.timeout)
                found = True
        if not found:
            raise VersionNotFoundError(f"no artifact objects under {uri!r}", field="uri")

    # -- events ------------------------------------------------------------------

    def location(self, name: str) -> str:
        return f"gs://{self.bucket}/{model_root(self.prefix, name)}/"

    def append(self, name: str, version: str, events: Sequence[Event]) -> None:
        """Each event in turn, its stage-log entries first: a listed event is in the log."""
        root = model_root(self.prefix, name)
        for event in events:
            placed = event.model_copy(update={"name": name, "version": version})
            for key in stage_keys(root, placed):
                self._put(key, b"", "application/octet-stream")
            self._put(event_key(root, version, placed.id), encode_event(placed), "application/json")

    def event_ids(self, name: str, version: str) -> list[str]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        return [
            b.name[len(prefix) :].removesuffix(".json") for b in self._blobs(self.bucket, prefix)
        ]

    def read_events(self, name: str, version: str) -> list[Event]:
        prefix = events_prefix(model_root(self.prefix, name), version)
        events = []
        for blob in self._blobs(self.bucket, prefix):
            body = blob.download_as_bytes(retry=None, timeout=self.timeout)
            try:
                events.append(decode_event(body, name, version))
            except CorruptMetadataError as exc:  # one bad object costs that event only
                log.warning("%s/%s: %s; skipped", name, version, exc)
        return sorted(events, key=lambda e: (e.at, e.id))

    def stage_log(self, name: str, stage: str) -> list[Event]:
        prefix = stage_prefix(model_root(self.prefix, name), stage)
        entries = (
            stage_entry(name, b.name[len(prefix) :]) for b in self._blobs(self.bucket, prefix)
        )
        return sorted((e for e in entries if e is not None), key=lambda e: (e.at, e.id))

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        blob = self.client.bucket(self.bucket).blob(key)
        blob.upload_from_string(body, content_type=content_type, retry=None, timeout=self.timeout)

    def _blobs(self, bucket: str, prefix: str) -> Iterator[Any]:
        yield from self.client.list_blobs(bucket, prefix=prefix, retry=None, timeout=self.timeout)
