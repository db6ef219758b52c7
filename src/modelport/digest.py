"""Content digests of artifacts (SPEC section 6).

The digest is SHA-256 over a canonical manifest: one line ``<sha256> <size> <path>``
per regular file, sorted by path, where ``path`` is relative and uses ``/``. A
directory and its ``.tar.gz`` therefore have the same digest, and so does a single
file and a directory holding only that file.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from modelport.errors import InvalidInputError

CHUNK = 1024 * 1024
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
PREFIX = "sha256:"


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


def manifest_digest(entries: Iterable[FileEntry]) -> str:
    hasher = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.path):
        hasher.update(f"{entry.sha256} {entry.size} {entry.path}\n".encode())
    return PREFIX + hasher.hexdigest()


def hash_stream(stream: IO[bytes], sink: IO[bytes] | None = None) -> tuple[int, str]:
    """Size and SHA-256 of a stream, copying it to ``sink`` on the way if given."""
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return size, hasher.hexdigest()


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES)


def safe_member_path(name: str) -> str:
    """A tar member's path, normalised; refuses absolute paths and ``..`` escapes."""
    pure = PurePosixPath(name)
    parts = [p for p in pure.parts if p not in ("", ".")]
    if pure.is_absolute() or ".." in parts or not parts:
        raise InvalidInputError(f"archive member {name!r} escapes the archive", field="artifact")
    return "/".join(parts)


def iter_directory(root: Path) -> Iterator[tuple[str, Path]]:
    """Relative POSIX path and absolute path of every regular file under ``root``."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            if full.is_file():
                yield full.relative_to(root).as_posix(), full


def entries_of_directory(root: Path) -> Iterator[FileEntry]:
    for relative, full in iter_directory(root):
        with full.open("rb") as stream:
            size, sha = hash_stream(stream)
        yield FileEntry(relative, size, sha)


def entries_of_archive(stream: IO[bytes]) -> Iterator[FileEntry]:
    with tarfile.open(fileobj=stream, mode="r|gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            extracted = archive.extractfile(member)
            assert extracted is not None  # a regular file always has content
            size, sha = hash_stream(extracted)
            yield FileEntry(safe_member_path(member.name), size, sha)


def digest_path(path: Path) -> str:
    """Digest of a local directory, ``.tar.gz`` archive or single file."""
    if path.is_dir():
        return manifest_digest(entries_of_directory(path))
    if is_archive(path):
        with path.open("rb") as stream:
            return manifest_digest(entries_of_archive(stream))
    if path.is_file():
        with path.open("rb") as stream:
            size, sha = hash_stream(stream)
        return manifest_digest([FileEntry(path.name, size, sha)])
    raise InvalidInputError(f"artifact path {str(path)!r} does not exist", field="artifact")
