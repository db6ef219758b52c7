"""A migration in its own process, for the kill test.

``python -m tests.migration.kill_child SRC DST [--stop-at K]`` migrates SRC to DST (URLs,
or ``pickle:PATH`` for :class:`FileBackend`). With ``--stop-at K`` it prints ``STOP`` at
the K-th write marker (before or after a create/update on DST) and waits to be killed:
at a "before" marker it keeps going, so the kill lands inside or after that write; at an
"after" marker it stops right after the write took effect.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from pathlib import Path

import modelport as mp
from modelport.migration import migrate
from tests.migration.filebackend import SCHEME, FileBackend
from tests.migration.flaky import FlakyBackend
from tests.subprocesses import imported_line

RETRY = mp.RetryPolicy(attempts=5, initial_wait=0.01, max_wait=0.1, deadline=30)


def open_registry(spec: str) -> mp.Registry:
    if spec.startswith(SCHEME):
        return mp.Registry(FileBackend(Path(spec[len(SCHEME) :])), retry=RETRY)
    return mp.connect(spec, retry=RETRY)


class Tripwire:
    """Counts write markers; at the chosen one, announces it (and, after a write, waits)."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, marker: str) -> None:
        with self._lock:
            n = next(self._count)
        if n != self.stop_at:
            return
        print(f"STOP {n} {marker}", flush=True)
        if marker.endswith(":after"):
            time.sleep(120)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--stop-at", type=int, default=0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    print(imported_line(), flush=True)
    src, dst = open_registry(args.src), open_registry(args.dst)
    if args.stop_at:
        wired = FlakyBackend(dst.backend, rate=0.0, on_write=Tripwire(args.stop_at))
        dst = mp.Registry(wired, retry=RETRY)
    report = migrate(src, dst, workers=args.workers, progress=False)
    print(json.dumps({"ok": report.ok, "counts": report.counts}), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
