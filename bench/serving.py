"""Serving a model from a local ``mlflow server``: what a replica does on start-up,
many at once, with the raw MLflow recipe and with modelport, cold and warm.

    python bench/serving.py [--size-mb 50] [--requests 200] [--concurrency 16]
                            [--server-workers 4] [--refresh 0.2]

One run starts ``mlflow server`` on 127.0.0.1 (stopped by its PID at the end), registers
a model of ``--size-mb`` random bytes in production, then sends ``--requests`` requests
from ``--concurrency`` threads, each one:

- raw: ``MlflowClient().get_model_version_by_alias`` + ``mlflow.artifacts.download_artifacts``
  into a fresh temporary folder;
- modelport cold: ``reg.download("name@production", fresh folder)`` (it resolves the alias:
  one registry call, as the raw recipe makes);
- modelport warm: ``reg.download("name@production")`` into the artifact cache
  (``MODELPORT_CACHE`` in a temporary folder, filled once before the clock starts).

It prints p50, p95, ops/s and the artifact cache hit rate of each, then promotes a new
version and times how long a ``reg.watch(...)`` handle (refresh ``--refresh`` s, in the
background) takes to serve it. Every folder it made is removed. No target: it reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/

from tests.backends.mlflow_fixtures import create_empty_db, running_server

import modelport as mp

NAME = "serving-model"
REF = f"{NAME}@production"


class Transfers:
    """A progress sink counting downloads that fetched bytes (misses) and those that
    fetched none (artifact cache hits)."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        del versions, nbytes

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            if nbytes:
                self.misses += versions
            else:
                self.hits += versions

    def hit_rate(self) -> str:
        total = self.hits + self.misses
        return f"{self.hits / total:6.1%}" if total else "     -"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    request: Callable[[int], None], requests: int, concurrency: int
) -> tuple[list[float], float]:
    """Milliseconds of each request, and the requests per second of the whole batch."""

    def timed(index: int) -> float:
        start = time.perf_counter()
        request(index)
        return (time.perf_counter() - start) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="bench") as pool:
        samples = list(pool.map(timed, range(requests)))
    return samples, requests / (time.perf_counter() - started)


def row(label: str, samples: list[float], ops: float, hit_rate: str = "     -") -> str:
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    return (
        f"  {label:<48} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   {ops:7.1f} ops/s"
        f"   cache hits {hit_rate}"
    )


def in_fresh_folder(root: Path, fetch: Callable[[Path], object]) -> Callable[[int], None]:
    """A request that fetches into a folder of its own, removed once fetched."""

    def request(index: int) -> None:
        folder = root / f"request-{index}"
        try:
            fetch(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return request


def raw_recipe(tracking_uri: str, root: Path) -> Callable[[int], None]:
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def fetch(folder: Path) -> None:
        folder.mkdir()
        mv = client.get_model_version_by_alias(NAME, "production")
        mlflow.artifacts.download_artifacts(
            artifact_uri=mv.source, dst_path=str(folder), tracking_uri=tracking_uri
        )

    return in_fresh_folder(root, fetch)


def modelport_cold(reg: mp.Registry, root: Path) -> Callable[[int], None]:
    def fetch(folder: Path) -> None:
        reg.download(REF, folder)  # resolves the alias itself: one registry call

    return in_fresh_folder(root, fetch)


def modelport_warm(reg: mp.Registry, transfers: Transfers) -> Callable[[int], None]:
    def request(_: int) -> None:
        reg.download(REF, progress=transfers)

    return request


def promote(reg: mp.Registry, model: Path) -> mp.ModelVersion:
    mv = reg.register(NAME, model, metrics={"f1": 0.81})
    reg.approve(mv.ref, reason="bench", actor="bench")
    return reg.transition(mv.ref, "production", actor="bench")


def handle_swap_seconds(reg: mp.Registry, model: Path, refresh: float) -> float:
    """From the start of the transition to production to a watch handle serving the
    new version (registered and approved beforehand, off the clock)."""
    (model / "weights.bin").write_bytes(os.urandom((model / "weights.bin").stat().st_size))
    with reg.watch(REF, lambda path: path, refresh=refresh, background=True) as handle:
        handle.get()
        mv = reg.register(NAME, model, metrics={"f1": 0.82})
        reg.approve(mv.ref, reason="bench", actor="bench")
        start = time.perf_counter()
        reg.transition(mv.ref, "production", actor="bench")
        while (served := handle.version) is None or served.version != mv.version:
            if time.perf_counter() - start > 120:
                raise RuntimeError(f"the handle still serves {served} after 120 s")
            time.sleep(0.005)
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--refresh", type=float, default=0.2, help="watch handle refresh, s")
    args = parser.parse_args()
    os.environ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # 200 bars on stderr
    with tempfile.TemporaryDirectory(prefix="modelport-bench-serving-") as tmp:
        root = Path(tmp)
        os.environ["MODELPORT_CACHE"] = str(root / "artifact-cache")
        model = root / "model"
        model.mkdir()
        (model / "weights.bin").write_bytes(os.urandom(int(args.size_mb * 1e6)))
        (root / "requests").mkdir()
        create_empty_db(root / "mlflow.db")
        log = root / "server.log"
        with running_server(
            root / "mlflow.db", root / "artifacts", log, args.server_workers
        ) as server:
            reg = mp.connect(f"mlflow+{server.url}")
            promote(reg, model)
            print(
                f"{args.size_mb:g} MB model, {args.requests} requests, concurrency "
                f"{args.concurrency}, mlflow server with {args.server_workers} workers"
            )
            raw, raw_ops = run(
                raw_recipe(server.url, root / "requests"), args.requests, args.concurrency
            )
            print(row("raw MLflow: by_alias + download_artifacts", raw, raw_ops))
            cold, cold_ops = run(
                modelport_cold(reg, root / "requests"), args.requests, args.concurrency
            )
            print(row("modelport cold: download(name@production, dest)", cold, cold_ops))
            print(f"    raw / modelport cold ops/s: {raw_ops / cold_ops:.2f}x")
            resolves, resolve_ops = run(lambda _: reg.resolve(REF), args.requests, args.concurrency)
            print(row("  of which: modelport resolve alone", resolves, resolve_ops))
            reg.download(REF)  # the one miss that fills the cache, before the clock
            transfers = Transfers()
            warm, warm_ops = run(modelport_warm(reg, transfers), args.requests, args.concurrency)
            hit_rate = transfers.hit_rate()
            print(row("modelport warm: download(name@production) cached", warm, warm_ops, hit_rate))
            swap = handle_swap_seconds(reg, model, args.refresh)
            print(
                f"  watch handle (refresh {args.refresh:g} s, background): new version served "
                f"{swap:.2f} s after the transition started"
            )
            reg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
