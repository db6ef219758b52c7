"""`WorkerPool.both`: two reads side by side, nothing left running, the first's error wins."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from modelport.backends.kit.pool import WorkerPool


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(2, "test-pool")
    yield workers
    workers.shutdown()


def test_both_runs_side_by_side(pool: WorkerPool) -> None:
    met = threading.Barrier(2, timeout=5)  # each side waits for the other: only side by side passes

    def side(value: str) -> str:
        met.wait()
        return value

    assert pool.both(lambda: side("here"), lambda: side("there")) == ("here", "there")


def test_first_error_wins_and_the_second_is_finished(pool: WorkerPool) -> None:
    finished: list[str] = []

    def slow_failure() -> None:
        time.sleep(0.05)
        finished.append("second")
        raise KeyError("second")

    def first() -> None:
        raise LookupError("first")

    with pytest.raises(LookupError, match="first"):
        pool.both(first, slow_failure)
    assert finished == ["second"]


def test_second_error_is_raised(pool: WorkerPool) -> None:
    def second() -> None:
        raise ValueError("second")

    with pytest.raises(ValueError, match="second"):
        pool.both(lambda: 1, second)


def test_map_keeps_order_and_shutdown_allows_reuse(pool: WorkerPool) -> None:
    assert pool.map(lambda n: n * 2, [1, 2, 3]) == [2, 4, 6]
    pool.shutdown()
    assert pool.submit(lambda: "again").result(timeout=5) == "again"
