"""The local artifact cache: downloads kept by content digest, shared by every process.

``Registry.download(ref)`` without a destination lands here. The layout under the cache
directory (``$MODELPORT_CACHE``, else the user cache directory of the platform)::

    sha256/<hex>/      the artifact's files, exactly as the digest describes them
    locks/<hex>.lock   one lock file per digest: who fills, reads or evicts it
    staging/           folders being filled (renamed into ``sha256/`` once verified)

The key is the digest alone, so the same content from two registries is one copy. An
entry is written once, by the process holding its lock; the others wait for the lock
and then find it. Its folder's modification time records its last use, and after each
write the least recently used entries go until the cache is under its size limit
(``$MODELPORT_CACHE_SIZE``), skipping any entry another process holds the lock of.

Not to be confused with `modelport.cache`, the in-memory cache of resolved refs.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from modelport.destinations import follow_umask
from modelport.errors import InvalidInputError

CACHE_DIR_VARIABLE = "MODELPORT_CACHE"
CACHE_SIZE_VARIABLE = "MODELPORT_CACHE_SIZE"
DEFAULT_MAX_BYTES = 20 * 1000**3  # 20 GB: a few large models

_DIGEST = re.compile(r"sha256:(?P<hex>[0-9a-f]{64})")
_HEX = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"\s*(?P<number>\d+(?:\.\d*)?)\s*(?P<unit>(?:[kmgt]i?)?b?)\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
_BINARY_UNITS = {"ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


@dataclass(frozen=True)
class CacheEntry:
    """One cached artifact: its digest, folder, size in bytes and last use."""

    digest: str
    path: Path
    size: int
    last_used: datetime


def parse_size(text: str, field: str) -> int:
    """Bytes from ``"20GB"``, ``"500MB"``, ``"1.5GiB"`` or ``"1048576"``; ``field`` names
    the variable or option in the error a malformed size raises."""
    found = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidInputError(
            f"{field} must be a size such as 20GB, 500MB or a number of bytes, got {text!r}",
            field=field,
        )
    unit = found["unit"].lower().removesuffix("b")
    return int(float(found["number"]) * {**_UNITS, **_BINARY_UNITS}[unit])


class ArtifactCache:
    """Verified artifacts under ``root``, keyed by digest, at most ``max_bytes`` in all
    (an entry larger than that alone is kept until the next write)."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ArtifactCache:
        """The cache that ``$MODELPORT_CACHE`` and ``$MODELPORT_CACHE_SIZE`` describe."""
        size = environ.get(CACHE_SIZE_VARIABLE, "").strip()
        max_bytes = parse_size(size, CACHE_SIZE_VARIABLE) if size else DEFAULT_MAX_BYTES
        return cls(_cache_root(environ.get(CACHE_DIR_VARIABLE, "").strip()), max_bytes)

    def get(self, digest: str, fill: Callable[[Path], None]) -> Path:
        """The folder holding ``digest``'s files; on a miss ``fill`` writes them into an
        empty staging folder and must verify them (raise if they differ from ``digest``).

        Concurrent calls for one digest, in any process, call ``fill`` once."""
        key = _key(digest)
        entry = self._entry(key)
        if entry.is_dir():  # a hit takes no lock: an entry appears and goes by one rename
            _touch(entry)
            return entry
        with self._locked(key):
            if entry.is_dir():
                _touch(entry)
                return entry
            self._fill(key, entry, fill)
        self.prune(self.max_bytes, keep=key)
        return entry

    def entries(self) -> list[CacheEntry]:
        """Every entry, least recently used first."""
        found = (
            _describe(folder)
            for folder in _children(self.root / "sha256")
            if _HEX.fullmatch(folder.name)
        )
        return sorted((e for e in found if e is not None), key=lambda entry: entry.last_used)

    def prune(self, max_bytes: int, *, keep: str | None = None) -> list[CacheEntry]:
        """Evict least recently used entries until at most ``max_bytes`` remain; the
        entries removed. Entries whose lock another process holds stay, as does ``keep``."""
        entries = self.entries()
        total = sum(entry.size for entry in entries)
        removed: list[CacheEntry] = []
        for entry in entries:
            if total <= max_bytes:
                break
            if entry.path.name != keep and self._evict(entry.path):
                removed.append(entry)
                total -= entry.size
        return removed

    def _fill(self, key: str, entry: Path, fill: Callable[[Path], None]) -> None:
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(staging, key)  # we hold the lock: whoever left them is gone
        staged = Path(tempfile.mkdtemp(prefix=f"{key}.partial-", dir=staging))
        try:
            fill(staged)
            follow_umask(staged)
            entry.parent.mkdir(parents=True, exist_ok=True)
            staged.rename(entry)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _evict(self, entry: Path) -> bool:
        """Remove ``entry`` unless another process holds its lock; whether it went."""
        from filelock import Timeout

        try:
            with self._locked(entry.name, timeout=0):
                if not entry.is_dir():
                    return False
                # Renamed first so that no reader ever sees a half-removed entry.
                doomed = self.root / "staging" / f"{entry.name}.evicted-{uuid.uuid4().hex[:8]}"
                doomed.parent.mkdir(parents=True, exist_ok=True)
                entry.rename(doomed)
                shutil.rmtree(doomed, ignore_errors=True)
                return True
        except Timeout:
            return False

    @contextmanager
    def _locked(self, key: str, timeout: float = -1) -> Iterator[None]:
        from filelock import FileLock

        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with FileLock(locks / f"{key}.lock", timeout=timeout):
            yield

    def _entry(self, key: str) -> Path:
        return self.root / "sha256" / key


def _cache_root(configured: str) -> Path:
    if configured:
        return Path(os.path.abspath(Path(configured).expanduser()))
    from platformdirs import user_cache_path

    return user_cache_path("modelport")


def _key(digest: str) -> str:
    found = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if found is None:
        raise InvalidInputError(
            f"digest must be 'sha256:' and 64 hex digits, got {digest!r}", field="digest"
        )
    return found["hex"]


def _touch(entry: Path) -> None:
    with suppress(OSError):  # a cache shared read-only still serves hits
        os.utime(entry)


def _describe(folder: Path) -> CacheEntry | None:
    """The entry in ``folder``; None if it is not a folder or another process evicts it
    meanwhile."""
    try:
        if not folder.is_dir():
            return None
        used = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc)
        size = sum(
            (Path(dirpath) / name).stat().st_size
            for dirpath, _, names in os.walk(folder)
            for name in names
        )
    except OSError:
        return None
    return CacheEntry(f"sha256:{folder.name}", folder, size, used)


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []


def _remove_leftovers(staging: Path, key: str) -> None:
    for leftover in staging.glob(f"{key}.*"):
        shutil.rmtree(leftover, ignore_errors=True)
