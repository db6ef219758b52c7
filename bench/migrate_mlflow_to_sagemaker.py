"""Benchmark: migrate MLflow (SQLite, local artifacts) to the SageMaker rig with moto's S3.

    python bench/migrate_mlflow_to_sagemaker.py [--versions 50] [--size-mb 20]
        [--models 1] [--workers 4] [--big-mb 1024] [--skip-big]

Prints, for N versions of S MB each: versions/s, MB/s, peak RSS of the migrating
process, and the throughput of plain boto3 ``upload_file`` of the same bytes to the same
S3 in the same run, one file after the other (the ratio is the target: >= 70%). Then
migrates one artifact of ``--big-mb`` MB and prints its throughput next to ``upload_file``
of the same file, same run (target: >= 80%), and the peak RSS over what the process held
with both registries open (target: < 200 MB, i.e. not growing with size; the SDKs alone,
mlflow and boto3, hold ~250 MB before anything moves).

The rig (SageMaker registry service + moto S3) runs in a process of its own, so that
what moto keeps in memory is not counted; each measured phase runs in a fresh process,
so its peak RSS (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REGION = "us-east-1"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
CHUNK = 8 * 1024 * 1024
MB = 1e6


# -- phases, each in its own process ----------------------------------------------------


def serve_rig() -> None:
    """Run the SageMaker rig and moto S3; print their endpoints; stop when stdin closes."""
    from modelport.testing.sagemaker import MotoS3Server, SageMakerRegistryService

    with SageMakerRegistryService(region=REGION) as service, MotoS3Server(REGION) as s3:
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        s3.client().create_bucket(Bucket=bucket)
        endpoints = {
            "endpoint_url": service.endpoint_url,
            "s3_endpoint_url": s3.endpoint_url,
            "bucket": bucket,
        }
        print(json.dumps(endpoints), flush=True)
        sys.stdin.read()


def populate(source: str, data: Path, versions: int, models: int, size: int) -> None:
    """Register ``versions`` artifacts of ``size`` random bytes, round-robin over models;
    the bytes stay in ``data`` for the raw upload."""
    import modelport as mp

    registry = mp.connect(source)
    for i in range(versions):
        artifact = data / f"v{i:04d}"
        artifact.mkdir(parents=True)
        _random_file(artifact / "weights.bin", size)
        (artifact / "MLmodel").write_text(f"flavors: {{}}\nindex: {i}\n", encoding="utf-8")
        registry.register(f"bench-{i % models}", artifact, metrics={"f1": 0.5 + i / 1000})
    registry.close()


def measure(source: str, destination: str, data: Path, workers: int, raw: bool) -> None:
    """Migrate, then (if ``raw``) upload the same bytes with plain boto3; print JSON numbers.
    The RSS baseline is taken once both registries are open (their SDKs imported), and
    the peak right after the migration, before the raw upload buffers anything."""
    import modelport as mp

    src, dst = mp.connect(source), mp.connect(destination)
    list(src.models())
    list(dst.models())
    numbers: dict[str, Any] = {"rss_opened_mb": _peak_rss_mb()}
    started = time.perf_counter()
    report = mp.migrate(src, dst, workers=workers, progress=False)
    numbers["seconds"] = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(report.summary())
    numbers |= {
        "versions": report.counts["created"],
        "bytes": report.bytes_copied,
        "payload_bytes": _payload(data),
        "peak_rss_mb": _peak_rss_mb(),
    }
    if raw:
        numbers["raw_seconds"] = _raw_upload(destination, data)
    print(json.dumps(numbers), flush=True)


def _raw_upload(destination: str, data: Path) -> float:
    """Seconds for plain ``upload_file`` of every file under ``data``, one after the other,
    with boto3's default transfer settings, to the destination's bucket."""
    import boto3

    from modelport.urls import parse_url

    query = parse_url(destination).query
    s3 = boto3.client("s3", endpoint_url=query["s3_endpoint_url"], region_name=REGION)
    started = time.perf_counter()
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        key = f"raw/{path.relative_to(data).as_posix()}"
        s3.upload_file(str(path), query["bucket"], key)
    return time.perf_counter() - started


# -- orchestration ---------------------------------------------------------------------


def main() -> None:
    args = _arguments()
    if args.phase == "rig":
        serve_rig()
        return
    if args.phase == "populate":
        populate(args.source, Path(args.data), args.versions, args.models, args.size)
        return
    if args.phase == "measure":
        measure(args.source, args.destination, Path(args.data), args.workers, args.raw)
        return
    with tempfile.TemporaryDirectory(prefix="modelport-bench-") as tmp:
        rig = subprocess.Popen(
            [sys.executable, __file__, "--phase", "rig"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(Path(tmp) / "rig.log").open("w"),  # moto logs every request
            text=True,
            env=_env(),
        )
        try:
            assert rig.stdout is not None
            endpoints = json.loads(rig.stdout.readline())
            run_all(args, Path(tmp), endpoints)
        finally:
            if rig.stdin is not None:
                rig.stdin.close()
            rig.wait(timeout=30)


def run_all(args: argparse.Namespace, root: Path, endpoints: dict[str, str]) -> None:
    size = int(args.size_mb * MB)
    label = f"{args.versions} versions x {args.size_mb:g} MB, {args.models} model(s)"
    numbers = scenario(root / "many", endpoints, "many", args.versions, args.models, size, args)
    report(label, numbers, target=0.7)
    if not args.skip_big:
        big = int(args.big_mb * MB)
        numbers = scenario(root / "big", endpoints, "big", 1, 1, big, args)
        report(f"1 version x {args.big_mb:g} MB", numbers, target=0.8)
        added = numbers["peak_rss_mb"] - numbers["rss_opened_mb"]
        print(f"  target: the migration adds < 200 MB -> {'met' if added < 200 else 'MISSED'}")


def scenario(
    root: Path,
    endpoints: dict[str, str],
    prefix: str,
    versions: int,
    models: int,
    size: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    root.mkdir(parents=True)
    source = f"mlflow+sqlite:///{root / 'mlflow.db'}"
    destination = "sagemaker://{}?{}".format(
        REGION,
        urlencode(
            {
                "bucket": endpoints["bucket"],
                "prefix": prefix,
                "image": IMAGE,
                "endpoint_url": endpoints["endpoint_url"],
                "s3_endpoint_url": endpoints["s3_endpoint_url"],
            }
        ),
    )
    data = root / "data"
    common = ["--source", source, "--data", str(data)]
    _phase(
        [
            "populate",
            *common,
            "--versions",
            str(versions),
            "--models",
            str(models),
            "--size",
            str(size),
        ],
        cwd=root,
    )
    measured = ["measure", *common, "--destination", destination, "--workers", str(args.workers)]
    output = _phase([*measured, "--raw"], cwd=root)
    return dict(json.loads(output.strip().splitlines()[-1]))


def report(label: str, n: dict[str, Any], *, target: float) -> None:
    megabytes = n["payload_bytes"] / MB
    rate = megabytes / n["seconds"]
    print(f"{label}:")
    print(
        f"  migration: {n['versions'] / n['seconds']:.2f} versions/s, {rate:.1f} MB/s "
        f"({megabytes:.0f} MB in {n['seconds']:.1f} s)"
    )
    growth = n["peak_rss_mb"] - n["rss_opened_mb"]
    print(
        f"  peak RSS: {n['peak_rss_mb']:.0f} MB; {n['rss_opened_mb']:.0f} MB with both "
        f"registries open (SDKs imported), so the migration added {growth:.0f} MB"
    )
    raw_rate = megabytes / n["raw_seconds"]
    ratio = rate / raw_rate
    print(
        f"  boto3 upload_file of the same bytes: {raw_rate:.1f} MB/s; migration/raw = "
        f"{ratio:.0%} (target >= {target:.0%}: {'met' if ratio >= target else 'MISSED'})"
    )


# -- helpers -----------------------------------------------------------------------------


def _phase(arguments: list[str], *, cwd: Path) -> str:
    command = [sys.executable, __file__, "--phase", *arguments]
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"phase {arguments[0]} failed:\n{done.stderr[-4000:]}{done.stdout}")
    return done.stdout


def _env() -> dict[str, str]:
    return {**os.environ, **DUMMY_AWS}


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as sink:
        left = size
        while left > 0:
            step = min(CHUNK, left)
            sink.write(os.urandom(step))
            left -= step


def _payload(data: Path) -> int:
    return sum(p.stat().st_size for p in data.rglob("*") if p.is_file())


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--size-mb", type=float, default=20)
    parser.add_argument("--models", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--big-mb", type=float, default=1000)
    parser.add_argument("--skip-big", action="store_true")
    # internal: the phases run in child processes
    parser.add_argument("--phase", choices=["rig", "populate", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--destination", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    main()
