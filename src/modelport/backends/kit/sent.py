"""Bytes sent, told to an `OnBytes` from SDKs that do not count that way.

An upload's ``on_bytes`` wants the bytes sent since its last call. SDKs tell other things:

- `running_total`: azure-storage-blob's ``progress_hook(current, total)`` gives the bytes
  of one blob so far; this turns each rise into a delta.
- `counting_reads`: google-cloud-storage takes no callback at all, only a file object; the
  wrapper reports the bytes each ``read`` hands the SDK.

Both report a high-water mark of their one transfer: a retried request that starts a blob
over, or seeks back to re-send a chunk, adds nothing until it passes what was sent before.
They only report; capping at the artifact's size and drawing are the facade's
(`modelport.progress.ByteCount`). Given no ``on_bytes`` they hand back what the SDK would
have had without them (no hook, the file itself), so an upload without progress is the
upload it always was.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import BinaryIO, Protocol

from modelport.progress import OnBytes

ProgressHook = Callable[[int, "int | None"], None]
"""azure-storage-blob's ``progress_hook``: (bytes of this transfer so far, its size or None)."""


class _RunningTotal:
    def __init__(self, on_bytes: OnBytes) -> None:
        self._on_bytes = on_bytes
        self._highest = 0
        self._lock = threading.Lock()  # parallel block uploads call the hook from each thread

    def __call__(self, current: int, total: int | None = None) -> None:
        with self._lock:
            delta, self._highest = current - self._highest, max(current, self._highest)
        if delta > 0:
            self._on_bytes(delta)


def running_total(on_bytes: OnBytes | None) -> ProgressHook | None:
    """A ``progress_hook`` for ONE blob's upload telling ``on_bytes`` the new bytes."""
    return None if on_bytes is None else _RunningTotal(on_bytes)


class Readable(Protocol):
    """What google-cloud-storage's multipart and resumable uploads call on a file object."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int: ...

    def tell(self) -> int: ...


class _CountingReader:
    """A `Readable` over a file, the bytes read past the furthest point so far told to
    ``on_bytes``."""

    def __init__(self, file: BinaryIO, on_bytes: OnBytes) -> None:
        self._file = file
        self._on_bytes = on_bytes
        self._furthest = file.tell()

    def read(self, size: int = -1, /) -> bytes:
        data = self._file.read(size)
        end = self._file.tell()
        if end > self._furthest:
            self._on_bytes(end - self._furthest)
            self._furthest = end
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def counting_reads(file: BinaryIO, on_bytes: OnBytes | None) -> Readable:
    """``file``, its reads told to ``on_bytes`` (``file`` itself without one)."""
    return file if on_bytes is None else _CountingReader(file, on_bytes)
