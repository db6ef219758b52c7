"""A one-line progress display on a terminal: versions done, bytes copied, rate."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Thread-safe counters, redrawn on ``stream`` at most every ``interval`` seconds."""

    def __init__(
        self,
        total: int,
        *,
        enabled: bool,
        stream: TextIO | None = None,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.versions = 0
        self.bytes = 0
        self._clock = clock
        self._started = clock()
        self._drawn = float("-inf")
        self._lock = threading.Lock()

    @staticmethod
    def wanted(progress: bool | None) -> bool:
        """``None`` means: show it when stderr is a terminal."""
        return sys.stderr.isatty() if progress is None else progress

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        """The total was given at construction."""
        del versions, nbytes

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self.versions += versions
            self.bytes += nbytes
            now = self._clock()
            if self.enabled and now - self._drawn >= self.interval:
                self._drawn = now
                self._draw(now)

    def close(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw(self._clock())
                self.stream.write("\n")
                self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        megabytes = self.bytes / 1e6
        return (
            f"migrating: {self.versions}/{self.total} versions, {megabytes:.1f} MB, "
            f"{megabytes / elapsed:.1f} MB/s, {self.versions / elapsed:.2f} versions/s"
        )

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()
