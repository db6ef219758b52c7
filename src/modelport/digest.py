"""Content digests of artifacts (SPEC section 6).

The digest is SHA-256 over a canonical manifest: one line ``<sha256> <size> <path>``
per regular file, sorted by path, where ``path`` is relative and uses ``/``. A
directory and its ``.tar.gz`` therefore have the same digest, and so does a single
file and a directory holding only that file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from modelport.errors import InvalidInputError

CHUNK = 1024 * 1024
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
PREFIX = "sha256:"
MARKER_NAME = ".modelport.json"  # a download's marker (modelport.destinations): not content


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


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def hash_stream(stream: Readable, sink: IO[bytes] | None = None) -> tuple[int, str]:
    """Size and SHA-256 of a stream, copying it to ``sink`` on the way if given."""
    hasher, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return size, hasher.hexdigest()


def write_hashed(stream: Readable, target: Path) -> tuple[int, str]:
    """Copy ``stream`` into the new file ``target``, hashing on the way; size and SHA-256.

    The hash is kept for `file_sha256` while the file stays as written, so that the
    digest checks that follow (a download's; a migration's, which digests the folder it
    fetched again to register it) do not read the file again."""
    with target.open("wb") as sink:
        size, sha = hash_stream(stream, sink)
    _LEDGER.record(target, sha)
    return size, sha


def file_sha256(path: Path, *, remember: bool = False) -> tuple[int, str]:
    """Size and SHA-256 of the file at ``path``: the hash kept for it if the file looks
    untouched since, else read afresh (and kept, with ``remember``)."""
    kept = _LEDGER.lookup(path)
    if kept is not None:
        return kept
    with path.open("rb") as stream:
        size, sha = hash_stream(stream)
    if remember:
        _LEDGER.record(path, sha)
    return size, sha


class _Ledger:
    """SHA-256s of files `write_hashed` wrote and `remembered_digest` read. A kept hash
    is used only while the file's device, inode, size and modification and change times
    (ns) are as they were; a write or ``chmod`` moves the change time, which no caller can
    set back. (A rewrite to the same size within one tick of the kernel's clock, a few ms,
    would go unseen: downloads write into a private staging folder that nothing else
    writes to before the check, and a migration reads another registry's stored files,
    which that registry never rewrites.) The oldest entries go first."""

    LIMIT = 65536

    def __init__(self) -> None:
        self._shas: OrderedDict[tuple[int, ...], str] = OrderedDict()
        self._lock = threading.Lock()  # downloads may run in several threads

    def record(self, path: Path, sha: str) -> None:
        key = _identity(path)
        with self._lock:
            self._shas[key] = sha
            while len(self._shas) > self.LIMIT:
                self._shas.popitem(last=False)

    def lookup(self, path: Path) -> tuple[int, str] | None:
        key = _identity(path)
        with self._lock:
            sha = self._shas.get(key)
        return None if sha is None else (key[2], sha)


def _identity(path: Path) -> tuple[int, ...]:
    found = path.stat()
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


_LEDGER = _Ledger()


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
    """Relative POSIX path and absolute path of every file under ``root``, sorted.

    Refuses, naming it, what a registry could not give back as it is: a link to a
    directory, a broken link, a pipe or device, a name that is not valid Unicode."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for dirname in dirnames:
            if (Path(dirpath) / dirname).is_symlink():
                raise _unkept(_relative(root, Path(dirpath) / dirname), "a link to a directory")
        for filename in sorted(filenames):
            if filename == MARKER_NAME and dirpath == str(root):
                continue
            full = Path(dirpath) / filename
            relative = _relative(root, full)
            if not full.is_file():
                raise _unkept(relative, describe_kind(full))
            yield relative, full


def describe_kind(path: Path) -> str:
    """What ``path`` is, in words, for an error about something that is not a plain file."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            return "a link loop" if exc.errno == errno.ELOOP else "a broken link"
        return "missing"
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISREG: "a file",
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISSOCK: "a socket",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
    }
    return next((words for test, words in kinds.items() if test(mode)), "a special file")


def _relative(root: Path, full: Path) -> str:
    relative = full.relative_to(root).as_posix()
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"artifact file name {relative!r} is not valid UTF-8; rename it", field="artifact"
        ) from None
    return relative


def _unkept(relative: str, kind: str) -> InvalidInputError:
    return InvalidInputError(
        f"artifact member {relative!r} is {kind}: artifacts hold regular files only",
        field="artifact",
    )


def entries_of_directory(root: Path, *, remember: bool = False) -> Iterator[FileEntry]:
    for relative, full in iter_directory(root):
        size, sha = file_sha256(full, remember=remember)
        yield FileEntry(relative, size, sha)


def entries_of_archive(stream: IO[bytes]) -> Iterator[FileEntry]:
    for name, content in archive_files(stream):
        size, sha = hash_stream(content)
        yield FileEntry(name, size, sha)


class UnreadableArchiveError(InvalidInputError):
    """A ``.tar.gz`` that is not gzip, is cut short, or is damaged."""


def archive_files(stream: IO[bytes]) -> Iterator[tuple[str, Readable]]:
    """The regular files of a gzipped tar stream: (normalised path, content), in order.

    Refuses, naming the member, what would not come back as it went in: a path that
    escapes, two members with one path (``w`` and ``./w``), links and special files."""
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|gz") as archive:
            for member in archive:
                if member.isdir():
                    continue
                name = safe_member_path(member.name)
                if not member.isfile():
                    raise _unkept(member.name, _MEMBER_KINDS.get(member.type, "a special file"))
                if name in seen:
                    raise InvalidInputError(
                        f"archive member {member.name!r} is a second copy of {name!r}",
                        field="artifact",
                    )
                seen.add(name)
                content = archive.extractfile(member)
                assert content is not None  # a regular file always has content
                yield name, _CheckedReader(content)
    except _DAMAGE as exc:
        raise _unreadable(exc) from None


_DAMAGE = (tarfile.TarError, EOFError, zlib.error, OSError)  # gzip.BadGzipFile is an OSError


def _unreadable(exc: BaseException) -> UnreadableArchiveError:
    return UnreadableArchiveError(
        f"artifact is not a readable .tar.gz: {exc or type(exc).__name__}", field="artifact"
    )


class _CheckedReader:
    """A member's content; damage met while reading it is reported as such."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(size)
        except _DAMAGE as exc:
            raise _unreadable(exc) from None


_MEMBER_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.FIFOTYPE: "a named pipe (FIFO)",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
}


def remembered_digest(folder: Path) -> str:
    """Digest of a directory read in place (another registry's own files), its files'
    hashes kept so that the checks which follow (`digest_path`) read nothing again
    while the files stay as they were."""
    return manifest_digest(entries_of_directory(folder, remember=True))


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
    raise InvalidInputError(
        f"artifact path {str(path)!r} is {describe_kind(path)}", field="artifact"
    )
