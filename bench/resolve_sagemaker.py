"""modelport resolve vs the same requests in raw boto3, against the offline SageMaker rig.

Usage: python bench/resolve_sagemaker.py [--calls N] [--versions N]

Starts the rig (``modelport.testing.sagemaker``) and moto's S3 on 127.0.0.1 in a child
process (so that the servers do not compete with the timed client for the GIL), registers
``--versions`` versions and promotes version 3 to production, then times, interleaved
call by call so that both sides see the same machine:

- raw ``describe_model_package(ModelPackageName=ARN)``: one call, the floor;
- raw ``describe_model_package`` + ``list_tags`` of the group: what a caller needs to know
  a version and the stages it holds (the pointers are group tags);
- ``reg.resolve("name/3")``: the same two calls (side by side) plus decoding the record;
- raw ``list_tags`` + ``describe_model_package`` of the version the production tag names;
- ``reg.resolve("name@production")``: the same two calls plus decoding.

The cache is off (``cache_ttl=0``), so every resolve goes to the service. Target: the
``name/3`` overhead over raw describe + list_tags is at most 10 % at p50.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3

import modelport as mp
from modelport.testing.sagemaker import MotoS3Server, SageMakerRegistryService
from timing import interleaved, percentile  # bench/timing.py

TARGET_OVERHEAD = 0.10
RAW_DESCRIBE = "raw describe_model_package(arn)"
RAW_VERSION = "raw describe + list_tags"
RAW_STAGE = "raw list_tags + describe (stage)"
NAME = "fraud-detector"
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def populate(reg: mp.Registry, versions: int, artifact: Path) -> None:
    for i in range(versions):
        reg.register(NAME, artifact, metrics={"f1": 0.7 + i / 100}, params={"depth": i})
    reg.approve(f"{NAME}/3", reason="bench", actor="bench")
    reg.transition(f"{NAME}/3", "production", reason="bench", actor="bench")


def group_arn(sm: Any) -> str:
    return str(sm.describe_model_package_group(ModelPackageGroupName=NAME)["ModelPackageGroupArn"])


def raw_describe_and_tags(sm: Any, package: str, group: str) -> Callable[[], object]:
    def lookup() -> object:
        described = sm.describe_model_package(ModelPackageName=package)
        return described, sm.list_tags(ResourceArn=group, MaxResults=100)

    return lookup


def raw_stage_lookup(sm: Any, group: str) -> Callable[[], object]:
    def lookup() -> object:
        tags = sm.list_tags(ResourceArn=group, MaxResults=100)["Tags"]
        version = next(t["Value"] for t in tags if t["Key"] == "modelport:pointer:production")
        return sm.describe_model_package(ModelPackageName=f"{package_prefix(group)}/{version}")

    return lookup


def package_prefix(group: str) -> str:
    head, _, name = group.rpartition(":model-package-group/")
    return f"{head}:model-package/{name.lower()}"


def calls_per(server: Connection, call: Callable[[], object]) -> dict[str, int]:
    """The service operations one ``call`` makes, as the rig counted them."""
    before = rig_calls(server)
    call()
    after = rig_calls(server)
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def rig_calls(server: Connection) -> dict[str, int]:
    server.send("calls")
    counts: dict[str, int] = server.recv()
    return counts


def serve(connection: Connection) -> None:
    """The child process: run the rig and S3 until the parent says stop."""
    os.environ.update(DUMMY_ENV)
    with SageMakerRegistryService() as service, MotoS3Server() as s3:
        connection.send((service.endpoint_url, s3.endpoint_url))
        while connection.recv() == "calls":  # anything else: stop
            connection.send(dict(service.calls))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed calls of each kind")
    parser.add_argument("--versions", type=int, default=10, help="versions in the group")
    args = parser.parse_args()
    os.environ.update(DUMMY_ENV)

    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        samples, counts = measure(parent, args.calls, args.versions)
        parent.send("stop")
        server.join(timeout=10)
    finally:
        server.kill()
    return report(samples, counts, args.calls, args.versions)


def measure(
    server: Connection, rounds: int, versions: int
) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    sagemaker_url, s3_url = server.recv()
    boto = boto3.session.Session(region_name="us-east-1")
    boto.client("s3", endpoint_url=s3_url).create_bucket(Bucket="bench-artifacts")
    sm = boto.client("sagemaker", endpoint_url=sagemaker_url)
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model.bin"
        artifact.write_bytes(b"weights" * 1000)
        url = (
            f"sagemaker://us-east-1?bucket=bench-artifacts&image=bench:1"
            f"&endpoint_url={sagemaker_url}&s3_endpoint_url={s3_url}"
        )
        reg = mp.connect(url, cache_ttl=0)
        populate(reg, versions, artifact)
        group = group_arn(sm)
        package = f"{package_prefix(group)}/3"
        calls: dict[str, Callable[[], object]] = {
            RAW_DESCRIBE: lambda: sm.describe_model_package(ModelPackageName=package),
            RAW_VERSION: raw_describe_and_tags(sm, package, group),
            "modelport resolve(name/3)": lambda: reg.resolve(f"{NAME}/3"),
            RAW_STAGE: raw_stage_lookup(sm, group),
            "modelport resolve(name@production)": lambda: reg.resolve(f"{NAME}@production"),
        }
        interleaved(calls, max(20, rounds // 10))  # warm-up: connections, caches
        counts = {label: calls_per(server, call) for label, call in calls.items()}
        samples = interleaved(calls, rounds)
        reg.close()
    return samples, counts


def report(
    samples: dict[str, list[int]], counts: dict[str, dict[str, int]], rounds: int, versions: int
) -> int:
    baseline = percentile(samples[RAW_DESCRIBE], 50)
    print(f"{rounds} interleaved calls each, {versions} versions, rig on 127.0.0.1 (own process)")
    print(f"{'call':40} {'p50 ms':>8} {'p95 ms':>8} {'x raw describe':>15}  service calls")
    for label, values in samples.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        shown = ", ".join(f"{n} {op}" for op, n in counts[label].items())
        print(f"{label:40} {p50:8.3f} {p95:8.3f} {p50 / baseline:15.3f}  {shown}")
    by_id = overhead(samples, "modelport resolve(name/3)", RAW_VERSION)
    by_stage = overhead(samples, "modelport resolve(name@production)", RAW_STAGE)
    print(f"overhead name/3 vs {RAW_VERSION} (p50): {by_id:+.1%} (target <= {TARGET_OVERHEAD:.0%})")
    print(f"overhead name@production vs {RAW_STAGE} (p50): {by_stage:+.1%}")
    return 0 if by_id <= TARGET_OVERHEAD else 1


def overhead(samples: dict[str, list[int]], label: str, baseline: str) -> float:
    return percentile(samples[label], 50) / percentile(samples[baseline], 50) - 1


if __name__ == "__main__":
    sys.exit(main())
