"""Latency of ``Registry.resolve`` from the resolve cache, next to an uncached resolve.

Usage: python bench/resolve_cached.py [--calls N]

Deployment code connects with ``cache_ttl`` and resolves ``name@production`` on every
request; after one warm-up call that resolve is served from the cache. Each call is timed
on its own with ``time.perf_counter_ns``; the timer's own overhead (an empty timed block)
is measured too and shown, not subtracted. Target: cached p50 < 20 microseconds.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import modelport as mp

TARGET_P50_US = 20.0
REF = "fraud-detector@production"


def percentile(sorted_ns: list[int], q: float) -> float:
    """The q-th percentile in microseconds (nearest rank)."""
    index = min(len(sorted_ns) - 1, max(0, round(q / 100 * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1000


def timed(call: Callable[[], object], calls: int) -> list[int]:
    """Nanoseconds of each of ``calls`` calls, sorted; the collector is paused meanwhile."""
    clock = time.perf_counter_ns
    samples = [0] * calls
    gc.collect()
    gc.disable()
    try:
        for i in range(calls):
            start = clock()
            call()
            samples[i] = clock() - start
    finally:
        gc.enable()
    return sorted(samples)


def production_registry(cache_ttl: float, artifact: Path) -> mp.Registry:
    reg = mp.connect("memory://", cache_ttl=cache_ttl)
    for i in range(5):  # a few versions, so that an uncached resolve has something to scan
        reg.register("fraud-detector", artifact, metrics={"f1": 0.7 + i / 100})
    reg.approve("fraud-detector/5", reason="bench")
    reg.transition("fraud-detector/5", "production", reason="bench")
    return reg


def row(label: str, samples: list[int]) -> tuple[str, float, float, float, float]:
    return (
        label,
        percentile(samples, 50),
        percentile(samples, 95),
        percentile(samples, 99),
        statistics.fmean(samples) / 1000,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="timed cached calls")
    args = parser.parse_args()
    uncached_calls = max(1000, args.calls // 10)

    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model.bin"
        artifact.write_bytes(b"weights" * 100)
        cached = production_registry(60.0, artifact)
        uncached = production_registry(0.0, artifact)

    warm = cached.resolve(REF)  # the one warm-up call that fills the cache
    assert cached.resolve(REF) is warm, "the second resolve should come from the cache"

    rows = [
        row("timer overhead (empty block)", timed(lambda: None, args.calls)),
        row(f"cached   resolve({REF!r})", timed(lambda: cached.resolve(REF), args.calls)),
        row(f"uncached resolve({REF!r})", timed(lambda: uncached.resolve(REF), uncached_calls)),
    ]
    print(
        f"python {sys.version.split()[0]}; {args.calls} cached and {uncached_calls} "
        "uncached calls; microseconds\n"
    )
    print(f"{'':<52} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8}")
    for label, p50, p95, p99, mean in rows:
        print(f"{label:<52} {p50:8.2f} {p95:8.2f} {p99:8.2f} {mean:8.2f}")

    cached_p50, uncached_p50 = rows[1][1], rows[2][1]
    print(f"\nuncached / cached p50: {uncached_p50 / cached_p50:.1f}x")
    verdict = "OK" if cached_p50 < TARGET_P50_US else "OVER TARGET"
    print(f"cached p50: {cached_p50:.2f} us (target < {TARGET_P50_US:.0f} us): {verdict}")
    return 0 if cached_p50 < TARGET_P50_US else 1


if __name__ == "__main__":
    sys.exit(main())
