"""Local artifact layout: staging, packing to ``.tar.gz`` and back, atomic publishing.

An artifact is always laid out locally as a directory of files; a single-file
artifact is a directory holding that file. Backends that need one archive
(SageMaker's ``model.tar.gz``) pack and unpack with the helpers here.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from modelport.digest import CHUNK, archive_files, is_archive, iter_directory, write_hashed

_BLOCK = tarfile.BLOCKSIZE
_GZIP = 16 + zlib.MAX_WBITS  # zlib's window bits asking for a gzip header and trailer


def materialize(source: Path, dest_dir: Path) -> None:
    """Lay a local artifact (directory, ``.tar.gz`` or file) out as files in ``dest_dir``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for relative, full in iter_directory(source):
            target = dest_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(full, target)
    elif is_archive(source):
        with source.open("rb") as stream:
            unpack_tar_gz(stream, dest_dir)
    else:
        shutil.copyfile(source, dest_dir / source.name)


def link_tree(source: Path, dest_dir: Path) -> None:
    """Lay a local artifact out in ``dest_dir`` as `materialize` does, but as links to
    its files rather than copies (an archive is still unpacked).

    For an upload that reads files by path (MLflow's, Azure's, Vertex's ``log_artifacts``
    and the like follow links): it sends the originals without copying a large artifact
    first. ``dest_dir`` is for reading only: a write through a link changes the source.
    """
    if not source.is_dir() and is_archive(source):
        materialize(source, dest_dir)
        return
    dest_dir.mkdir(parents=True, exist_ok=True)
    members = iter_directory(source) if source.is_dir() else iter([(source.name, source)])
    for relative, full in members:
        target = dest_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(full.resolve())


def pack_tar_gz(source: Path, out: IO[bytes], compresslevel: int = 0) -> None:
    """Write ``source`` (a directory's files, or one file) to ``out`` as a gzipped tar."""
    for chunk in tar_gz_chunks(source, compresslevel):
        out.write(chunk)


def tar_gz_stream(source: Path, compresslevel: int = 0) -> BinaryIO:
    """``source`` as a gzipped tar to ``read``, packed as it is read: an upload can
    stream it without a packed copy on disk or in memory."""
    return io.BufferedReader(_ChunkReader(tar_gz_chunks(source, compresslevel)), CHUNK)


def tar_gz_chunks(source: Path, compresslevel: int = 0) -> Generator[bytes, None, None]:
    """``source`` (a directory's files, or one file) as a gzipped tar, chunk by chunk.

    Level 0 (stored) by default: float weights shrink by ~7% at level 1 while zlib runs
    at ~40 MB/s, several times slower than the upload it would shorten.
    """
    squeeze = zlib.compressobj(compresslevel, zlib.DEFLATED, _GZIP)
    members = iter_directory(source) if source.is_dir() else iter([(source.name, source)])
    for arcname, full in members:
        for piece in _tar_member(arcname, full):
            yield squeeze.compress(piece)
    yield squeeze.compress(bytes(2 * _BLOCK)) + squeeze.flush()  # the end-of-archive blocks


def _tar_member(arcname: str, full: Path) -> Iterator[bytes]:
    """One regular file as tar blocks: its header, its bytes, zeros to a whole block."""
    with full.open("rb") as stream:
        found = os.fstat(stream.fileno())
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = found.st_size, int(found.st_mtime), found.st_mode & 0o777
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        left = info.size
        while left > 0 and (chunk := stream.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
    if left:  # the header promised more bytes: an archive cut here would be damaged
        raise OSError(f"{full} shrank while it was being packed")
    yield bytes(-info.size % _BLOCK)


class _ChunkReader(io.RawIOBase):
    """A readable stream over a generator of byte chunks; closing it closes the generator
    (and so the file it was reading, when an upload stops half-way)."""

    def __init__(self, chunks: Generator[bytes, None, None]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def close(self) -> None:
        self._chunks.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        taken = min(len(buffer), len(self._pending))
        buffer[:taken] = self._pending[:taken]
        self._pending = self._pending[taken:]
        return taken


def unpack_tar_gz(stream: BinaryIO, dest_dir: Path) -> None:
    """Extract the regular files of a gzipped tar stream (see `archive_files` for what
    is refused), hashing them as they are written (`write_hashed`)."""
    for name, content in archive_files(stream):
        target = dest_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_hashed(content, target)


@contextmanager
def staging_dir(near: Path) -> Iterator[Path]:
    """A fresh directory beside ``near`` (same filesystem, so publishing is a rename).

    It is removed when the block ends, whether it was published or not.
    """
    near.parent.mkdir(parents=True, exist_ok=True)
    # The PID lets a later run remove what a killed one left (modelport.destinations).
    path = Path(tempfile.mkdtemp(prefix=f".{near.name}.partial-{os.getpid()}-", dir=near.parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(staged: Path, dest: Path) -> None:
    """Move a complete staged directory to ``dest``, replacing what was there.

    The old ``dest`` is moved aside first and put back if the final rename fails, so
    a failure leaves either the old content or the new, never neither.
    """
    if not (dest.exists() or dest.is_symlink()):
        staged.rename(dest)
        return
    retired = dest.with_name(f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    dest.rename(retired)
    try:
        staged.rename(dest)
    except OSError:
        retired.rename(dest)
        raise
    if retired.is_dir() and not retired.is_symlink():
        shutil.rmtree(retired, ignore_errors=True)
    else:
        retired.unlink()
