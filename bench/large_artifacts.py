"""Large artifacts: register and download of one big file through modelport vs the raw SDK.

    python bench/large_artifacts.py [--size-mb 64] [--rounds 3]
        [--scenarios mlflow-local,mlflow-s3,sagemaker]

One artifact (a folder holding one file of ``--size-mb`` random megabytes) is uploaded and
downloaded ``--rounds`` times per scenario, raw and modelport interleaved round by round
so both see the same machine:

- ``mlflow-local``: MLflow on SQLite with local artifacts. Raw: ``MlflowClient.log_artifacts``
  to a new run, ``mlflow.artifacts.download_artifacts`` into a fresh folder. modelport:
  ``register`` and ``download(ref, fresh folder)``.
- ``mlflow-s3``: the same against a local ``mlflow server`` whose artifacts live in S3 on a
  moto server (the server proxies them).
- ``sagemaker``: boto3 ``upload_file``/``download_file`` (default ``TransferConfig``) to
  and from moto S3, vs modelport ``register``/``download`` on the SageMaker rig with the
  same S3.

Prints, per scenario and direction: p50 throughput (MB/s) of each side, the ratio
modelport/raw (the target is >= 80%), and the p50 of the peak RSS growth of this process
during the modelport calls (sampled from ``/proc/self/status``; it must not grow with the size).
moto and the mlflow server run in processes of their own (stopped by PID), so what they
keep in memory is not counted. Every file made is removed at the end. The first round
pays first-call costs (imports, connections, a model's creation) on both sides: run 3
rounds or more, so that the p50 leaves it out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.backends helpers

from tests.backends.mlflow_fixtures import create_empty_db, running_mlflow
from tests.backends.postgres_fixtures import S3Store, running_moto_s3

import modelport as mp
from migrate_mlflow_to_sagemaker import DUMMY_AWS, IMAGE, REGION  # the rig's dummy account

MB = 1e6


class RssPeak:
    """The highest resident set size of this process while a block runs, sampled every
    10 ms (``ru_maxrss`` cannot be reset between calls of one process)."""

    def __init__(self) -> None:
        self.base = self.peak = 0

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        self.base = self.peak = _rss()
        stop_event = threading.Event()

        def sample() -> None:
            while not stop_event.wait(0.01):
                self.peak = max(self.peak, _rss())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield
        finally:
            stop_event.set()
            sampler.join()
            self.peak = max(self.peak, _rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / MB


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Side:
    """Seconds and RSS growth of one side (raw or modelport) of one direction."""

    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def rate(self, size: int) -> float:
        return size / MB / statistics.median(self.seconds)

    def rss(self) -> float:
        """The p50 of the peaks: the first call's one-off growth (imports, pools) is left out
        as its time is."""
        return statistics.median(self.rss_mb)


@dataclass
class Scenario:
    """The timed operations of one scenario, each given the round's scratch folder (a
    scenario without downloads has no ``*_down``), and untimed work before each round."""

    raw_up: Callable[[Path], None]
    mp_up: Callable[[Path], None]
    raw_down: Callable[[Path], None] | None = None
    mp_down: Callable[[Path], None] | None = None
    prepare: Callable[[int], None] = lambda _: None
    verbs: tuple[str, str] = ("register", "download")


def timed(side: Side, call: Callable[[Path], None], scratch: Path) -> None:
    scratch.mkdir(parents=True)
    peak = RssPeak()
    with peak.watching():
        started = time.perf_counter()
        call(scratch)
        side.seconds.append(time.perf_counter() - started)
    side.rss_mb.append(peak.growth_mb)
    shutil.rmtree(scratch)


def run(name: str, scenario: Scenario, size: int, rounds: int, root: Path) -> None:
    calls = {"raw up": scenario.raw_up, "mp up": scenario.mp_up}
    if scenario.raw_down is not None and scenario.mp_down is not None:
        calls |= {"raw down": scenario.raw_down, "mp down": scenario.mp_down}
    sides = {key: Side() for key in calls}
    for index in range(rounds):
        scenario.prepare(index)
        # Who goes first alternates: the second of a pair finds warmer caches.
        order = list(calls) if index % 2 == 0 else [*calls][1::-1] + [*calls][:1:-1]
        for key in order:
            timed(sides[key], calls[key], root / f"{name}-{index}-{key.replace(' ', '-')}")
    for direction, verb in zip(("up", "down"), scenario.verbs, strict=True):
        if f"raw {direction}" not in sides:
            continue
        raw, ours = sides[f"raw {direction}"], sides[f"mp {direction}"]
        ratio = ours.rate(size) / raw.rate(size)
        print(
            f"{name:13} {verb:8}  raw {raw.rate(size):7.1f} MB/s  modelport "
            f"{ours.rate(size):7.1f} MB/s  ratio {ratio:4.0%} "
            f"({'met' if ratio >= 0.8 else 'MISSED'})  peak RSS +{ours.rss():.0f} MB "
            f"(raw +{raw.rss():.0f} MB)",
            flush=True,
        )


# -- scenarios ----------------------------------------------------------------------------


def mlflow_scenario(tracking_uri: str, artifact: Path, name: str) -> Scenario:
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment(f"raw-{uuid.uuid4().hex[:8]}")
    runs: list[str] = []
    reg = mp.connect(f"mlflow+{tracking_uri}")
    ref = [""]

    def raw_up(_: Path) -> None:
        run_id = client.create_run(experiment).info.run_id
        client.log_artifacts(run_id, str(artifact), "model")
        runs.append(run_id)

    def raw_down(scratch: Path) -> None:
        mlflow.artifacts.download_artifacts(
            run_id=runs[-1], artifact_path="model", dst_path=str(scratch), tracking_uri=tracking_uri
        )

    def mp_up(_: Path) -> None:
        ref[0] = reg.register(name, artifact).ref

    def mp_down(scratch: Path) -> None:
        reg.download(ref[0], scratch / "model")

    return Scenario(raw_up, raw_down, mp_up, mp_down)


@dataclass(frozen=True)
class SageMakerRig:
    url: str  # modelport's URL of the rig
    s3: Any  # a boto3 S3 client of the same moto server
    bucket: str


def sagemaker_rig(stack: contextlib.ExitStack, s3_endpoint: str) -> SageMakerRig:
    """The SageMaker registry service (in a thread: metadata only) on the moto S3."""
    import boto3

    from modelport.testing.sagemaker import SageMakerRegistryService

    service = stack.enter_context(SageMakerRegistryService(region=REGION))
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    url = (
        f"sagemaker://{REGION}?bucket={bucket}&image={IMAGE}"
        f"&endpoint_url={service.endpoint_url}&s3_endpoint_url={s3_endpoint}"
    )
    return SageMakerRig(url, s3, bucket)


def sagemaker_scenario(rig: SageMakerRig, artifact: Path) -> Scenario:
    reg = mp.connect(rig.url)
    (weights,) = list(artifact.iterdir())
    ref = [""]

    def raw_up(_: Path) -> None:
        rig.s3.upload_file(str(weights), rig.bucket, "raw/weights.bin")

    def raw_down(scratch: Path) -> None:
        rig.s3.download_file(rig.bucket, "raw/weights.bin", str(scratch / "weights.bin"))

    def mp_up(_: Path) -> None:
        ref[0] = reg.register("big", artifact).ref

    def mp_down(scratch: Path) -> None:
        reg.download(ref[0], scratch / "model")

    return Scenario(raw_up, mp_up, raw_down, mp_down)


def migrate_scenario(rig: SageMakerRig, source_uri: str, artifact: Path) -> Scenario:
    """``mp.migrate`` of one version from MLflow (SQLite, local files) to the SageMaker rig
    vs boto3 ``upload_file`` of the same bytes (the issue's comparison); each round
    registers a model of its own in MLflow first, untimed."""
    source = mp.connect(source_uri)
    (weights,) = list(artifact.iterdir())
    current = [""]

    def prepare(index: int) -> None:
        current[0] = f"move-{index}"
        source.register(current[0], artifact)

    def raw_up(_: Path) -> None:
        rig.s3.upload_file(str(weights), rig.bucket, "raw/weights.bin")

    def mp_up(_: Path) -> None:
        report = mp.migrate(source, rig.url, models=[current[0]], progress=False)
        if not report.ok:
            raise SystemExit(report.summary())

    return Scenario(raw_up, mp_up, prepare=prepare, verbs=("migrate", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenarios", default="mlflow-local,mlflow-s3,sagemaker,migrate")
    args = parser.parse_args()
    wanted = set(args.scenarios.split(","))
    os.environ.update(DUMMY_AWS)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    size = int(args.size_mb * MB)
    with tempfile.TemporaryDirectory(prefix="modelport-bench-large-") as tmp:
        root = Path(tmp)
        os.chdir(root)  # MLflow on SQLite keeps artifacts in ./mlruns: inside the temp dir
        artifact = root / "artifact"
        artifact.mkdir()
        _random_file(artifact / "weights.bin", size)
        print(f"one artifact of {size / MB:.0f} MB, {args.rounds} rounds, p50 throughput")
        with contextlib.ExitStack() as stack:
            if "mlflow-local" in wanted:
                create_empty_db(root / "local.db")
                uri = f"sqlite:///{root / 'local.db'}"
                scenario = mlflow_scenario(uri, artifact, "big")
                run("mlflow-local", scenario, size, args.rounds, root)
            if wanted & {"mlflow-s3", "sagemaker", "migrate"}:
                s3 = stack.enter_context(running_moto_s3(root / "moto.log"))
            if "mlflow-s3" in wanted:
                url = stack.enter_context(_mlflow_on_s3(root, s3))
                run("mlflow-s3", mlflow_scenario(url, artifact, "big"), size, args.rounds, root)
            if wanted & {"sagemaker", "migrate"}:
                rig = sagemaker_rig(stack, s3.endpoint)
            if "sagemaker" in wanted:
                run("sagemaker", sagemaker_scenario(rig, artifact), size, args.rounds, root)
            if "migrate" in wanted:
                create_empty_db(root / "source.db")
                source = f"mlflow+sqlite:///{root / 'source.db'}"
                run("migrate", migrate_scenario(rig, source, artifact), size, args.rounds, root)
    return 0


@contextlib.contextmanager
def _mlflow_on_s3(root: Path, s3: S3Store) -> Iterator[str]:
    create_empty_db(root / "server.db")
    with running_mlflow(
        f"sqlite:///{root / 'server.db'}", f"s3://{s3.bucket}/art", root / "server.log",
        env=s3.server_env(),
    ) as url:  # fmt: skip
        yield url


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as sink:
        left = size
        while left > 0:
            step = min(8 * 1024 * 1024, left)
            sink.write(os.urandom(step))
            left -= step


if __name__ == "__main__":
    sys.exit(main())
