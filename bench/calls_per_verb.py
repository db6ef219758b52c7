"""SDK calls per verb on a model with few versions vs many, per backend.

Usage: python bench/calls_per_verb.py [--versions N] [--backends memory,mlflow,sagemaker]

For each backend a model gets ``--versions`` plain versions (made with the backend's own
API where registering is slow), then versions 1, 2 and 3 are approved and promoted to
production in turn. Counted, each on its own: ``resolve`` of ``name@production``,
``name@latest`` and ``name/2``; the first 10 items of ``versions()``; ``rollback``; a
``transition`` of version 4 to production over the holder. Calls are counted where
modelport meets the SDK: MLflow's registry client (each store or HTTP call once),
botocore API calls (SageMaker and S3), and for ``memory://`` (no SDK) the backend's own
methods. The same model with 4 versions is the baseline column: a read whose count
differs between the two grows with the model.

Uses only the public API, so it also runs against earlier commits (the before/after
numbers of the concurrency issue were measured that way).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import modelport as mp

SMALL = 4  # versions 1-3 are promoted in turn, 4 over them
VERBS = ("name@production", "name@latest", "name/2", "versions()[:10]", "rollback", "transition")
REGION = "us-east-1"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.on = False
        self._lock = threading.Lock()

    def hit(self, *_: Any, **__: Any) -> None:
        if self.on:
            with self._lock:
                self.calls += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.calls, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


def wrap_methods(target: Any, counter: Counter, skip: frozenset[str] = frozenset()) -> None:
    """Count every public method call of one object (its class is left alone)."""
    for attr in dir(type(target)):
        method = getattr(type(target), attr, None)
        if attr.startswith("_") or attr in skip or not callable(method):
            continue
        bound = getattr(target, attr)

        def counted(*args: Any, __bound: Any = bound, **kwargs: Any) -> Any:
            counter.hit()
            return __bound(*args, **kwargs)

        setattr(target, attr, counted)


# -- backends -----------------------------------------------------------------------------


def memory_setup(root: Path, name: str, count: int, model: Path) -> tuple[mp.Registry, Counter]:
    reg = mp.connect("memory://")
    for _ in range(count):
        reg.register(name, model)
    counter = Counter()
    wrap_methods(reg.backend, counter, skip=frozenset({"from_url", "close"}))
    return reg, counter


def mlflow_setup(root: Path, name: str, count: int, model: Path) -> tuple[mp.Registry, Counter]:
    reg = mp.connect(f"mlflow+sqlite:///{root}/{name}.db")
    client = reg.backend.open_client(create=True)  # type: ignore[attr-defined]
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(name, "s3://modelport-seed/model")
    counter = Counter()
    wrap_methods(client._get_registry_client(), counter)  # every registry call passes here
    return reg, counter


_SAGEMAKER: dict[str, Any] = {}


def sagemaker_setup(root: Path, name: str, count: int, model: Path) -> tuple[mp.Registry, Counter]:
    import boto3

    from modelport.testing.sagemaker import MotoS3Server, SageMakerRegistryService

    if not _SAGEMAKER:
        os.environ.update(DUMMY_ENV)
        service = SageMakerRegistryService(region=REGION).start()
        s3 = MotoS3Server(REGION).start()
        s3.client().create_bucket(Bucket="bench")
        _SAGEMAKER.update(service=service, s3=s3)
    service, s3 = _SAGEMAKER["service"], _SAGEMAKER["s3"]
    raw = boto3.client("sagemaker", region_name=REGION, endpoint_url=service.endpoint_url)
    raw.create_model_package_group(ModelPackageGroupName=name)
    spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://bench/seed/model.tar.gz"}]}
    for _ in range(count):
        raw.create_model_package(ModelPackageGroupName=name, InferenceSpecification=spec)
    url = (
        f"sagemaker://{REGION}?bucket=bench&prefix=models&image={IMAGE}"
        f"&endpoint_url={service.endpoint_url}&s3_endpoint_url={s3.endpoint_url}"
    )
    reg = mp.connect(url)
    counter = Counter()
    original = reg.backend._client  # type: ignore[attr-defined]

    def client(service_name: str) -> Any:
        made = original(service_name)
        if not getattr(made, "_bench_counted", False):
            made.meta.events.register("before-call.*.*", counter.hit)
            made._bench_counted = True
        return made

    reg.backend._client = client  # type: ignore[attr-defined]
    return reg, counter


def sagemaker_teardown() -> None:
    for server in _SAGEMAKER.values():
        server.stop()


SETUPS: dict[str, Callable[[Path, str, int, Path], tuple[mp.Registry, Counter]]] = {
    "memory": memory_setup,
    "mlflow-sqlite": mlflow_setup,
    "sagemaker-rig": sagemaker_setup,
}


# -- measuring ----------------------------------------------------------------------------


def measure(reg: mp.Registry, counter: Counter, name: str) -> dict[str, tuple[int, float]]:
    for version in ("1", "2", "3", "4"):
        reg.approve(f"{name}/{version}")
    for version in ("1", "2", "3"):
        reg.transition(f"{name}/{version}", "production")
    verbs: dict[str, Callable[[], object]] = {
        "name@production": lambda: reg.resolve(f"{name}@production"),
        "name@latest": lambda: reg.resolve(f"{name}@latest"),
        "name/2": lambda: reg.resolve(f"{name}/2"),
        "versions()[:10]": lambda: list(islice(reg.versions(name), 10)),
        "rollback": lambda: reg.rollback(name),
        "transition": lambda: reg.transition(f"{name}/4", "production"),
    }
    results: dict[str, tuple[int, float]] = {}
    for verb, call in verbs.items():
        with counter.counting():
            started = time.perf_counter()
            call()
            results[verb] = (counter.calls, time.perf_counter() - started)
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--backends", default=",".join(SETUPS))
    args = parser.parse_args()
    print(f"SDK calls per verb (and seconds), a model of {SMALL} vs {args.versions} versions")
    width = f"calls@{args.versions}"
    print(f"{'backend':<15} {'verb':<17} {f'calls@{SMALL}':>9} {width:>11} {'s':>8}")
    with tempfile.TemporaryDirectory(prefix="modelport-bench-") as tmp:
        root = Path(tmp)
        model = root / "model"
        model.mkdir()
        (model / "w.bin").write_bytes(b"weights" * 100)
        try:
            for backend in args.backends.split(","):
                rows = []
                for count in (SMALL, args.versions):
                    name = f"calls-{backend.split('-')[0]}-{count}"
                    reg, counter = SETUPS[backend](root, name, count, model)
                    rows.append(measure(reg, counter, name))
                    reg.close()
                for verb in VERBS:
                    (small, _), (large, seconds) = rows[0][verb], rows[1][verb]
                    print(f"{backend:<15} {verb:<17} {small:>9} {large:>11} {seconds:>8.3f}")
        finally:
            sagemaker_teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
