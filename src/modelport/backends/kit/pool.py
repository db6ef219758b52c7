"""A backend's few worker threads, for reads that do not depend on each other.

A record often needs two calls to two places (the version, and the model's pointers);
made one after the other their latencies add up, made side by side the slower one
counts. The threads are made on first use and stopped by `WorkerPool.shutdown`
(the backend's ``close``); no call run here may use the pool itself (it could wait on
a thread that waits on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class WorkerPool:
    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` beside the caller's next call."""
        return self._pool().submit(fn)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) < 2:
            return [fn(item) for item in items]
        return list(self._pool().map(fn, items))

    def both(self, first: Callable[[], T], second: Callable[[], R]) -> tuple[T, R]:
        """``first`` here and ``second`` in a worker, side by side. Both are finished
        before this returns or raises (``first``'s error wins): nothing is left running."""
        background = self.submit(second)
        try:
            here = first()
        finally:
            there = background.exception()  # waits; a failure here is raised first
        if there is not None:
            raise there
        return here, background.result()

    def executor(self) -> ThreadPoolExecutor:
        """The threads themselves, for an API that takes an executor."""
        return self._pool()

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, self._name)
            return self._executor
