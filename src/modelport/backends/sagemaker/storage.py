"""Artifacts in S3: ``model.tar.gz`` up (packed as it is sent, managed multipart
transfer) and back down (unpacked and hashed as it arrives), in constant memory."""

from __future__ import annotations

import os
import threading
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from boto3.s3.transfer import TransferConfig

from modelport.artifacts import tar_gz_stream, unpack_tar_gz
from modelport.digest import ARCHIVE_SUFFIXES, is_archive, safe_member_path
from modelport.errors import ConflictError, InvalidInputError, VersionNotFoundError
from modelport.progress import OnBytes

ARCHIVE_NAME = "model.tar.gz"
DIGEST_METADATA = "modelport-digest"  # S3 user metadata: lets a retried upload be skipped
# One retry layer: the facade's. s3transfer would otherwise retry failed downloads itself.
TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, num_download_attempts=1)


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidInputError(
            f"SageMaker artifacts are read from s3:// URIs, not {uri[:100]!r}", field="uri"
        )
    return parts.netloc, unquote(parts.path.lstrip("/"))


class ArtifactStore:
    """Uploads and downloads artifacts with one S3 client (its retries turned off)."""

    def __init__(self, s3: Any, gzip_level: int = 0) -> None:
        self.s3 = s3
        self.gzip_level = gzip_level

    def upload(
        self,
        source: Path,
        bucket: str,
        key: str,
        digest: str | None,
        on_bytes: OnBytes | None = None,
    ) -> str:
        """Pack ``source`` (directory, file or ``.tar.gz``) to ``s3://bucket/key``; skipped
        when an earlier attempt of the same register already stored the same content, and
        refused when it stored other content (the key is the register's idempotency key).
        ``on_bytes`` is s3transfer's ``Callback``: bytes of the packed archive as sent."""
        uri = f"s3://{bucket}/{key}"
        stored = self._stored_digest(bucket, key)
        if stored is not None and stored == digest:
            return uri
        if stored is not None:
            raise ConflictError(
                f"{uri} already holds an artifact with digest {stored}, not {digest}: the "
                "idempotency key of this register was used before for other content",
                field="idempotency_key",
            )
        extra: dict[str, Any] = {"ContentType": "application/gzip"}
        if digest is not None:
            extra["Metadata"] = {DIGEST_METADATA: digest}
        if is_archive(source):  # already packed: parts are read from it as they are sent
            self.s3.upload_file(
                str(source), bucket, key, ExtraArgs=extra, Config=TRANSFER, Callback=on_bytes
            )
            return uri
        # Packed while it is sent: no packed copy is written and read back. s3transfer
        # holds at most max_in_memory_upload_chunks parts of a stream in memory.
        with tar_gz_stream(source, self.gzip_level) as packed:
            self.s3.upload_fileobj(
                packed, bucket, key, ExtraArgs=extra, Config=TRANSFER, Callback=on_bytes
            )
        return uri

    def fetch(self, uri: str, dest: Path) -> None:
        """Write the artifact at ``uri`` as files into ``dest``: an archive is unpacked, a
        prefix (ending in ``/``) is copied object by object, another object lands as a file."""
        bucket, key = split_s3_uri(uri)
        if not key or key.endswith("/"):
            self._fetch_prefix(uri, bucket, key, dest)
            return
        name = PurePosixPath(key).name
        if name.endswith(ARCHIVE_SUFFIXES):
            self._fetch_archive(bucket, key, dest)
            return
        with (dest / safe_member_path(name)).open("wb") as sink:
            self.s3.download_fileobj(bucket, key, sink, Config=TRANSFER)

    def size(self, uri: str) -> int | None:
        """The bytes stored at ``uri``: one object's (an archive's is within a few hundred
        bytes a file of what it unpacks to, at the default level 0), or a prefix's first
        page of objects; None beyond one page."""
        bucket, key = split_s3_uri(uri)
        if key and not key.endswith("/"):
            return int(self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        page = self.s3.list_objects_v2(Bucket=bucket, Prefix=key)
        if page.get("IsTruncated"):
            return None
        return sum(int(item["Size"]) for item in page.get("Contents", []))

    def _fetch_archive(self, bucket: str, key: str, dest: Path) -> None:
        """Unpack the archive as it arrives: s3transfer writes it, in order, into a pipe
        the unpacker reads, so the files grow in ``dest`` while the download runs (a
        progress bar moves with it) and no copy of the archive is written to disk.

        Whichever side fails first is the error raised: a failed download ends the pipe
        early (the unpacker would call the archive truncated), a refused archive closes
        it (the download would see a broken pipe)."""
        read_end, write_end = os.pipe()
        failed: list[BaseException] = []

        def download() -> None:
            try:
                with open(write_end, "wb") as sink:
                    self.s3.download_fileobj(bucket, key, sink, Config=TRANSFER)
            except BaseException as exc:  # handed to the caller's thread below
                failed.append(exc)

        thread = threading.Thread(target=download, name="modelport-s3-archive", daemon=True)
        thread.start()
        unpacked: BaseException | None = None
        try:
            with open(read_end, "rb") as source:
                unpack_tar_gz(source, dest)
                while source.read(1 << 20):  # the archive's padding and gzip trailer
                    pass
        except BaseException as exc:
            unpacked = exc
        thread.join()
        if failed and not (unpacked is not None and isinstance(failed[0], BrokenPipeError)):
            raise failed[0]
        if unpacked is not None:
            raise unpacked

    def _fetch_prefix(self, uri: str, bucket: str, prefix: str, dest: Path) -> None:
        found = False
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = str(item["Key"])[len(prefix) :]
                if not relative or relative.endswith("/"):
                    continue
                target = dest / safe_member_path(relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as sink:
                    self.s3.download_fileobj(bucket, item["Key"], sink, Config=TRANSFER)
                found = True
        if not found:
            raise VersionNotFoundError(f"no artifact objects under {uri!r}", field="uri")

    def _stored_digest(self, bucket: str, key: str) -> str | None:
        """The digest recorded on the object at ``key``; ``""`` for an object without one."""
        from botocore.exceptions import ClientError

        try:
            head = self.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return str((head.get("Metadata") or {}).get(DIGEST_METADATA) or "")
