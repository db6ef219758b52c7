"""What long calls report their progress to: a sink the caller passes in.

Library calls draw nothing; a caller that wants a bar (the CLI does, on a terminal)
passes an object with ``advance``. Progress moves by bytes while an artifact moves,
not once per artifact:

- **Downloads** (``download``, and the fetch half of a migration) are measured by a
  watcher thread (`watching`) that samples the bytes present in the folder the files
  land in, about every 0.2 s. The facade owns that folder, so this needs nothing from
  a backend and counts only bytes that really arrived.
- **Uploads** (``register``) are reported by the backend as its SDK sends them, through
  the ``on_bytes`` callback of ``Backend.create_version``: boto3's ``Callback``
  (SageMaker), Azure's per-blob ``progress_hook`` (Azure ML, workspace and registry) and
  a file object whose reads are counted (Vertex's GCS uploads), the last two adapted in
  `modelport.backends.kit.sent`; ``memory://`` counts its own reads; MLflow with local
  artifacts samples the folder its SDK copies into (`growth_of`). MLflow with remote
  artifacts gives no hook and reports nothing: the bytes arrive at once when the
  artifact is stored. A migration that uploads straight from a source's stored files
  reports through the same callback, given to ``Backend.stage_artifact``.

Either way one `ByteCount` per artifact turns samples and callbacks into advances, and
settles at the end on the artifact's size: the bytes advanced for an artifact always add
up to its size (its files as laid out locally), whatever a retry re-sent or an archive's
headers added, so the rate a bar shows agrees with a summary made from the same count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

OnBytes = Callable[[int], None]
"""Told the bytes sent or received since its last call; may be called from several threads."""

SAMPLE_SECONDS = 0.2


class ProgressSink(Protocol):
    """Told how much work there is, then how much is done as it gets done; may be
    called from several threads."""

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        """Work known to lie ahead (added to what was expected so far; negative when an
        estimate told earlier turns out too high)."""

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        """Work done since the last call."""


class ByteCount:
    """The bytes of one artifact as they move, advanced on ``sink`` as they grow.

    It reports a high-water mark, never more than ``limit`` (the artifact's size, when
    known ahead): a retry that sends bytes again, or a tar stream's headers, would
    otherwise count bytes twice. `settle` brings the count to the final size.
    """

    def __init__(self, sink: ProgressSink, limit: int | None = None) -> None:
        self._sink = sink
        self._limit = limit
        self._sent = 0  # the sum of the callbacks so far
        self.reported = 0
        self._lock = threading.Lock()  # SDK callbacks come from their transfer threads

    def __call__(self, nbytes: int) -> None:
        """An `OnBytes`: ``nbytes`` more were sent or received."""
        with self._lock:
            self._sent += nbytes
            self._raise_to(self._sent)

    def reached(self, nbytes: int) -> None:
        """``nbytes`` are there in all (a sample of a folder's size)."""
        with self._lock:
            self._raise_to(nbytes)

    def settle(self, size: int) -> None:
        """The artifact is complete at ``size`` bytes: advance by what was not reported yet."""
        with self._lock:
            self._limit = size
            self._raise_to(size)

    def _raise_to(self, nbytes: int) -> None:
        if self._limit is not None:
            nbytes = min(nbytes, self._limit)
        if nbytes > self.reported:
            self._sink.advance(nbytes=nbytes - self.reported)
            self.reported = nbytes


@contextmanager
def watching(folder: Path, count: ByteCount) -> Iterator[None]:
    """Sample the bytes under ``folder`` into ``count`` every `SAMPLE_SECONDS` while the
    block runs (a download writing there); the caller settles ``count`` afterwards."""
    with _sampling(folder, count.reached):
        yield


@contextmanager
def growth_of(folder: Path, on_bytes: OnBytes) -> Iterator[None]:
    """Tell ``on_bytes`` how much ``folder`` grew since it last heard, every
    `SAMPLE_SECONDS` while the block runs: the upload of an SDK that copies files
    there and reports nothing (MLflow's local artifact store)."""
    told = [_bytes_present(folder)]

    def reached(nbytes: int) -> None:
        if nbytes > told[0]:
            on_bytes(nbytes - told[0])
            told[0] = nbytes

    with _sampling(folder, reached):
        yield


@contextmanager
def _sampling(folder: Path, reached: Callable[[int], None]) -> Iterator[None]:
    stop = threading.Event()
    every = SAMPLE_SECONDS  # read at the call, so a test can sample faster

    def sample() -> None:
        while not stop.wait(every):
            reached(_bytes_present(folder))

    thread = threading.Thread(target=sample, name="modelport-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def tree_size(path: Path) -> int:
    """The bytes of the file at ``path``, or of every file under the folder ``path``."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _bytes_present(folder: Path) -> int:
    """`tree_size` of a folder being written: files that vanish or move while it is
    walked (a backend's temporary files) count as absent, not as an error."""
    total = 0
    try:
        for path in folder.rglob("*"):
            try:
                if not path.is_symlink() and path.is_file():
                    total += path.stat().st_size
            except OSError:
                continue
    except OSError:
        pass
    return total
