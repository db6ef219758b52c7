"""GCS for ``vertex://``: artifacts as folders of files, and the audit trail beside them.

Artifacts: ``gs://BUCKET/PREFIX/NAME/SLOT/<files>`` (SLOT: the register's idempotency
key), the folder Vertex's ``artifact_uri`` names. The audit trail is
`ObjectEventStore` (the same key layout as S3 and
Blob, under ``PREFIX/NAME/.modelport/``) over this module's primitives: an upload from
bytes with its content type, a download and a ``list_blobs`` listing. Every call is made
with ``retry=None`` and an explicit timeout: the facade retries.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modelport.artifacts import materialize
from modelport.backends.kit.event_store import ObjectEventStore
from modelport.backends.kit.sent import counting_reads
from modelport.digest import iter_directory, safe_member_path
from modelport.errors import InvalidInputError, VersionNotFoundError
from modelport.progress import OnBytes
from modelport.scratch import scratch_dir

log = logging.getLogger("modelport.vertex")


def split_gcs_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "gs" or not parts.netloc:
        raise InvalidInputError(f"Vertex artifacts are gs:// URIs, not {uri[:100]!r}", field="uri")
    return parts.netloc, parts.path.lstrip("/")


class GcsStore(ObjectEventStore):
    """One ``google.cloud.storage.Client`` and the calls modelport makes with it."""

    def __init__(self, client: Any, bucket: str, prefix: str, timeout: float) -> None:
        super().__init__(prefix, log)
        self.client = client
        self.bucket = bucket
        self.timeout = timeout

    # -- artifacts ---------------------------------------------------------------

    def upload_folder(self, source: Path, folder: str, on_bytes: OnBytes | None = None) -> str:
        """Lay ``source`` out as files under ``folder``; the same register rewrites the same
        objects, so a retried upload is harmless. ``on_bytes`` is told the bytes of each
        file as the SDK reads them to send."""
        bucket = self.client.bucket(self.bucket)
        with scratch_dir("upload") as tmp:
            materialize(source, tmp)
            for relative, full in iter_directory(tmp):
                self._upload_file(bucket.blob(f"{folder}/{relative}"), full, on_bytes)
        return self.uri(folder)

    def _upload_file(self, blob: Any, path: Path, on_bytes: OnBytes | None) -> None:
        """``upload_from_filename`` as the SDK does it (content type guessed from the
        file's name, the size from the open file: multipart up to 8 MiB, else resumable),
        but from a file object: the SDK takes no callback, a wrapped file can count."""
        content_type, _ = mimetypes.guess_type(str(path))
        with path.open("rb") as file:
            blob.upload_from_file(
                counting_reads(file, on_bytes),
                size=os.fstat(file.fileno()).st_size,
                content_type=content_type,
                retry=None,
                timeout=self.timeout,
            )

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

    def size(self, uri: str) -> int | None:
        """The bytes under the folder ``uri`` (or of the one object it names)."""
        bucket_name, path = split_gcs_uri(uri)
        prefix = path.rstrip("/") + "/" if path else ""
        sizes = [int(blob.size or 0) for blob in self._blobs(bucket_name, prefix)]
        if sizes or not path:
            return sum(sizes) or None
        blob = self.client.bucket(bucket_name).get_blob(path, retry=None, timeout=self.timeout)
        return None if blob is None else int(blob.size or 0) or None

    # -- the audit trail's primitives ---------------------------------------------------

    def uri(self, path: str) -> str:
        return f"gs://{self.bucket}/{path}"

    def _put(self, key: str, body: bytes, content_type: str | None) -> None:
        blob = self.client.bucket(self.bucket).blob(key)
        blob.upload_from_string(
            body,
            content_type=content_type or "application/octet-stream",
            retry=None,
            timeout=self.timeout,
        )

    def _get(self, key: str) -> bytes:
        from google.cloud.storage import Bucket

        # The download is the one request: a handle is local either way, and built directly
        # it is not mistaken for the start of an upload (call counters count client.bucket).
        blob = Bucket(self.client, self.bucket).blob(key)
        return bytes(blob.download_as_bytes(retry=None, timeout=self.timeout))

    def _keys(self, prefix: str) -> Iterator[str]:
        return (str(blob.name) for blob in self._blobs(self.bucket, prefix))

    def _blobs(self, bucket: str, prefix: str) -> Iterator[Any]:
        yield from self.client.list_blobs(bucket, prefix=prefix, retry=None, timeout=self.timeout)
