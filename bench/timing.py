"""Timing shared by the resolve benchmarks: calls interleaved round by round, so that every
row sees the same machine, and nearest-rank percentiles."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def percentile(sorted_ns: list[int], q: float) -> float:
    """The q-th percentile in milliseconds (nearest rank)."""
    index = min(len(sorted_ns) - 1, max(0, round(q / 100 * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1e6


def interleaved(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[int]]:
    """Nanoseconds per call of each labelled callable, one of each per round, sorted."""
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {label: [] for label in calls}
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            for label, call in calls.items():
                start = clock()
                call()
                samples[label].append(clock() - start)
    finally:
        gc.enable()
    return {label: sorted(values) for label, values in samples.items()}
