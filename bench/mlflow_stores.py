"""Serving reads on MLflow as teams run it: raw MLflow vs modelport, one row per store.

    python bench/mlflow_stores.py [--size-mb 5] [--requests 200] [--concurrency 16]
                                  [--server-workers 4] [--rounds 4] [--stores ...]

For each store it starts a real ``mlflow server`` (``--server-workers`` workers) on
127.0.0.1, registers one model of ``--size-mb`` random bytes in production, and sends
``--requests`` requests from ``--concurrency`` threads, each one the read a serving replica
makes on start-up:

- raw MLflow: ``MlflowClient.get_model_version_by_alias`` + ``mlflow.artifacts.download_artifacts``
  into a fresh folder;
- modelport: ``reg.download("name@production", fresh folder)``: the alias resolved (one
  registry call, as raw) and the digest checked; no artifact cache.

The two alternate in ``--rounds`` batches so that both see the same machine; the table
gives p50, p95 and ops/s of each, and modelport's p50 and p95 as a ratio of raw's (the
target: at most 1.0 on every row). Stores (the seed article's table):

- ``sqlite-local``: SQLite, artifacts on the server's disk;
- ``sqlite-s3``: SQLite, artifacts in S3 (moto's server);
- ``postgres-s3``: PostgreSQL (a throwaway cluster), artifacts in S3 (moto's server);
- ``postgres-gcs``: PostgreSQL, artifacts in GCS (gcp-storage-emulator).

Every server, emulator and folder it started is stopped by its PID or removed at the end.
PostgreSQL's binaries must be installed (``apt-get install postgresql``; ``.ci/run`` does).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/

from tests.backends.mlflow_fixtures import create_empty_db, running_mlflow
from tests.backends.postgres_fixtures import (
    postgres_bindir,
    running_cluster,
    running_moto_s3,
)

import modelport as mp
from modelport.testing.vertex import GcsEmulator
from serving import modelport_cold, percentile, promote, raw_recipe, run  # bench/serving.py

STORES = ("sqlite-local", "sqlite-s3", "postgres-s3", "postgres-gcs")
Server = Callable[[Path, int], contextlib.AbstractContextManager[str]]


def sqlite_db(root: Path) -> str:
    create_empty_db(root / "mlflow.db")
    return f"sqlite:///{root / 'mlflow.db'}"


@contextlib.contextmanager
def postgres_db(root: Path) -> Iterator[str]:
    del root
    with running_cluster(postgres_bindir()) as cluster:
        yield cluster.create_database(f"bench_{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def s3_destination(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with running_moto_s3(root / "moto.log") as s3:
        yield f"s3://{s3.bucket}/mlflow", s3.server_env()


@contextlib.contextmanager
def gcs_destination(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    del root
    with GcsEmulator() as gcs:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        gcs.create_bucket(bucket)
        env = {"STORAGE_EMULATOR_HOST": gcs.endpoint, "GOOGLE_CLOUD_PROJECT": "modelport-bench"}
        yield f"gs://{bucket}/mlflow", env


@contextlib.contextmanager
def local_destination(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    yield str(root / "artifacts"), {}


@contextlib.contextmanager
def store_server(store: str, root: Path, workers: int) -> Iterator[str]:
    """An ``mlflow server`` on ``store`` until the block ends; yields its URL."""
    database, artifacts = store.split("-")
    with contextlib.ExitStack() as stack:
        if database == "sqlite":
            store_uri = sqlite_db(root)
        else:
            store_uri = stack.enter_context(postgres_db(root))
        destinations = {"local": local_destination, "s3": s3_destination, "gcs": gcs_destination}
        destination, env = stack.enter_context(destinations[artifacts](root))
        yield stack.enter_context(
            running_mlflow(store_uri, destination, root / "server.log", workers, env)
        )


def measure(
    url: str, root: Path, model: Path, requests: int, concurrency: int, rounds: int
) -> dict[str, tuple[list[float], float]]:
    """Samples (ms) and ops/s of raw MLflow and of modelport, alternating batches."""
    reg = mp.connect(f"mlflow+{url}")
    promote(reg, model)
    folders = root / "requests"
    folders.mkdir()
    recipes = {"raw MLflow": raw_recipe(url, folders), "modelport": modelport_cold(reg, folders)}
    samples: dict[str, list[float]] = {label: [] for label in recipes}
    seconds: dict[str, float] = dict.fromkeys(recipes, 0.0)
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for label, recipe in recipes.items():
            batch, ops = run(recipe, per_round, concurrency)
            samples[label] += batch
            seconds[label] += per_round / ops
    reg.close()
    return {label: (samples[label], len(samples[label]) / seconds[label]) for label in recipes}


def print_row(store: str, results: dict[str, tuple[list[float], float]]) -> bool:
    (raw, raw_ops), (ours, our_ops) = results["raw MLflow"], results["modelport"]
    p50s = statistics.median(raw), statistics.median(ours)
    p95s = percentile(raw, 0.95), percentile(ours, 0.95)
    ratio50, ratio95 = p50s[1] / p50s[0], p95s[1] / p95s[0]
    print(
        f"| {store:<12} | {p50s[0]:7.1f} | {p95s[0]:7.1f} | {raw_ops:6.1f} "
        f"| {p50s[1]:7.1f} | {p95s[1]:7.1f} | {our_ops:6.1f} | {ratio50:5.2f} | {ratio95:5.2f} |",
        flush=True,
    )
    return ratio50 <= 1.0 and ratio95 <= 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--server-workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternating batches")
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    args = parser.parse_args()
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # 200 bars on stderr
    print(
        f"{args.size_mb:g} MB model, {args.requests} requests per side, concurrency "
        f"{args.concurrency}, mlflow server with {args.server_workers} workers; ms"
    )
    print(
        "| store        | raw p50 | raw p95 | raw/s  |  mp p50 |  mp p95 |  mp/s  | x p50 | x p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    met = True
    for store in args.stores:
        with tempfile.TemporaryDirectory(prefix="modelport-bench-stores-") as tmp:
            root = Path(tmp)
            model = root / "model"
            model.mkdir()
            (model / "weights.bin").write_bytes(os.urandom(int(args.size_mb * 1e6)))
            with store_server(store, root, args.server_workers) as url:
                results = measure(url, root, model, args.requests, args.concurrency, args.rounds)
            met = print_row(store, results) and met
    print(f"modelport at most raw MLflow's p50 and p95 on every row: {'yes' if met else 'NO'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
