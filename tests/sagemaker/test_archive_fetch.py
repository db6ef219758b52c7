"""A ``model.tar.gz`` is unpacked as it downloads (`ArtifactStore.fetch`): files land while
the archive still arrives, and whichever side fails first is the error raised."""

from __future__ import annotations

import io
import random
import tarfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from modelport.backends.sagemaker.storage import ArtifactStore
from modelport.digest import UnreadableArchiveError
from modelport.errors import InvalidInputError
from modelport.progress import tree_size
from tests.backends.sagemaker_fixtures import SageMakerRig

BIG = 4 * 1024 * 1024


def noise(size: int, seed: int) -> bytes:
    """Bytes gzip cannot shrink: the archive is as large as its files."""
    return random.Random(seed).randbytes(size)


def archive(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz", compresslevel=1) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        if link is not None:
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return packed.getvalue()


class Watched:
    """An S3 client whose downloads note how much ``dest`` held at each write, and can
    fail after ``fail_after`` bytes."""

    def __init__(self, s3: Any, dest: Path, fail_after: int | None = None) -> None:
        self.s3, self.dest, self.fail_after = s3, dest, fail_after
        self.seen: list[int] = []

    def download_fileobj(self, bucket: str, key: str, sink: Any, **kwargs: Any) -> None:
        watched = self

        class Sink(io.RawIOBase):
            written = 0

            def writable(self) -> bool:
                return True

            def write(self, data: Any) -> int:
                if watched.fail_after is not None and self.written >= watched.fail_after:
                    raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
                watched.seen.append(tree_size(watched.dest))
                self.written += len(data)
                return int(sink.write(data))

        self.s3.download_fileobj(bucket, key, Sink(), **kwargs)


@pytest.fixture
def stored(rig: SageMakerRig) -> Any:
    s3 = rig.s3.client()

    def put(data: bytes) -> str:
        key = f"fetch/{uuid.uuid4().hex}/model.tar.gz"
        s3.put_object(Bucket=rig.bucket, Key=key, Body=data)
        return f"s3://{rig.bucket}/{key}"

    return s3, put


def test_files_land_while_the_archive_still_downloads(stored: Any, tmp_path: Path) -> None:
    s3, put = stored
    first, second = noise(BIG, 1), noise(BIG, 2)
    uri = put(archive({"weights/a.bin": first, "weights/b.bin": second}))
    watched = Watched(s3, tmp_path)

    ArtifactStore(watched).fetch(uri, tmp_path)

    assert (tmp_path / "weights/a.bin").read_bytes() == first
    assert (tmp_path / "weights/b.bin").read_bytes() == second
    assert max(watched.seen) >= BIG  # the first file was there before the last bytes came


def test_a_download_failing_midway_is_the_error_raised(stored: Any, tmp_path: Path) -> None:
    s3, put = stored
    uri = put(archive({"a.bin": noise(BIG, 1), "b.bin": noise(BIG, 2)}))

    with pytest.raises(EndpointConnectionError):
        ArtifactStore(Watched(s3, tmp_path, fail_after=BIG // 2)).fetch(uri, tmp_path)
    assert not any(t.name == "modelport-s3-archive" for t in threading.enumerate())


def test_a_refused_archive_stops_the_download(stored: Any, tmp_path: Path) -> None:
    s3, put = stored
    uri = put(archive({"a.bin": b"ok"}, link="evil") + noise(BIG, 3))

    with pytest.raises(InvalidInputError, match="evil"):
        ArtifactStore(s3).fetch(uri, tmp_path)
    assert not any(t.name == "modelport-s3-archive" for t in threading.enumerate())


def test_a_truncated_archive_is_unreadable(stored: Any, tmp_path: Path) -> None:
    s3, put = stored
    whole = archive({"a.bin": noise(BIG, 4)})
    uri = put(whole[: len(whole) // 2])

    with pytest.raises(UnreadableArchiveError):
        ArtifactStore(s3).fetch(uri, tmp_path)
