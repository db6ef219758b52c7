"""modelport resolve vs raw GAPIC get_model, against the offline Vertex AI rig.

Usage: python bench/resolve_vertex.py [--calls N] [--versions N]

Starts the rig (``modelport.testing.vertex``: the ModelService over gRPC and
gcp-storage-emulator) on 127.0.0.1 in a child process, so that the servers do not compete
with the timed client for the GIL. Two models: ``one`` with 1 version and ``many`` with
``--versions`` (the first 3 registered through modelport, the rest uploaded with the plain
GAPIC client, as a pipeline would); version 1 of ``one`` and version 3 of ``many`` are
promoted to production. Then it times, interleaved call by call so that every row sees
the same machine, on each model:

- raw ``get_model(name="ID@VERSION")``: one call, the floor;
- ``reg.resolve("name/VERSION")``: the same call plus decoding the record from labels;
- raw ``get_model(name="ID@production")``: the alias names the version;
- ``reg.resolve("name@production")``: the same call plus decoding.

The cache is off (``cache_ttl=0``), so every resolve goes to the service. Targets: one
``GetModel`` per resolve of a stage or a version, whatever the number of versions, and an
overhead of at most 10 % at p50 over raw ``get_model``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
from google.cloud.aiplatform_v1 import ModelServiceClient, types
from google.cloud.aiplatform_v1.services.model_service.transports.grpc import (
    ModelServiceGrpcTransport,
)

import modelport as mp
from modelport.testing.vertex import LOCATION, PROJECT, GcsEmulator, VertexRegistryService
from timing import interleaved, percentile  # bench/timing.py

TARGET_OVERHEAD = 0.10
BUCKET = "bench-artifacts"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
MODELPORT_VERSIONS = 3  # of the large model; the rest are plain uploads


def serve(connection: Connection) -> None:
    """The child process: run the rig and GCS until the parent says stop."""
    with VertexRegistryService() as service, GcsEmulator() as gcs:
        gcs.create_bucket(BUCKET)
        connection.send((service.target, service.url(f"gs://{BUCKET}/models", gcs.endpoint)))
        while connection.recv() == "calls":  # anything else: stop
            connection.send(dict(service.calls))


def rig_calls(server: Connection) -> dict[str, int]:
    server.send("calls")
    counts: dict[str, int] = server.recv()
    return counts


def calls_per(server: Connection, call: Callable[[], object]) -> dict[str, int]:
    """The service methods one ``call`` makes, as the rig counted them."""
    before = rig_calls(server)
    call()
    after = rig_calls(server)
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def populate(reg: mp.Registry, client: Any, name: str, versions: int, artifact: Path) -> str:
    """``versions`` versions of ``name``; returns the version promoted to production."""
    for i in range(min(versions, MODELPORT_VERSIONS)):
        reg.register(name, artifact, metrics={"f1": 0.7 + i / 100}, params={"depth": i})
    model = f"{PARENT}/models/{name}"
    for i in range(MODELPORT_VERSIONS, versions):
        request = types.UploadModelRequest(
            parent=PARENT,
            parent_model=model,
            model=types.Model(display_name=name, artifact_uri=f"gs://{BUCKET}/plain/{i}"),
        )
        client.upload_model(request=request).result()
    promoted = str(min(versions, MODELPORT_VERSIONS))
    reg.approve(f"{name}/{promoted}", reason="bench", actor="bench")
    reg.transition(f"{name}/{promoted}", "production", reason="bench", actor="bench")
    return promoted


def model_calls(
    reg: mp.Registry, client: Any, name: str, version: str
) -> dict[str, Callable[[], object]]:
    model = f"{PARENT}/models/{name}"
    return {
        f"raw get_model({name}@{version})": lambda: client.get_model(
            name=f"{model}@{version}", retry=None, timeout=60
        ),
        f"resolve({name}/{version})": lambda: reg.resolve(f"{name}/{version}"),
        f"raw get_model({name}@production)": lambda: client.get_model(
            name=f"{model}@production", retry=None, timeout=60
        ),
        f"resolve({name}@production)": lambda: reg.resolve(f"{name}@production"),
    }


def measure(
    server: Connection, rounds: int, versions: int
) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    target, url = server.recv()
    client = ModelServiceClient(
        transport=ModelServiceGrpcTransport(channel=grpc.insecure_channel(target))
    )
    reg = mp.connect(url, cache_ttl=0)
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model.bin"
        artifact.write_bytes(b"weights" * 1000)
        calls: dict[str, Callable[[], object]] = {}
        for name, count in (("one", 1), ("many", versions)):
            promoted = populate(reg, client, name, count, artifact)
            calls |= model_calls(reg, client, name, promoted)
    interleaved(calls, max(20, rounds // 10))  # warm-up: channels, the facade's imports
    counts = {label: calls_per(server, call) for label, call in calls.items()}
    samples = interleaved(calls, rounds)
    reg.close()
    client.transport.close()  # type: ignore[no-untyped-call]
    return samples, counts


def report(
    samples: dict[str, list[int]], counts: dict[str, dict[str, int]], rounds: int, versions: int
) -> int:
    print(f"{rounds} interleaved calls each; models of 1 and {versions} versions; rig over gRPC")
    print("on 127.0.0.1 (own process)")
    print(f"{'call':34} {'p50 ms':>8} {'p95 ms':>8} {'x raw':>7}  service calls")
    labels = list(samples)
    worst = 0.0
    ok = True
    for raw, resolved in zip(labels[::2], labels[1::2], strict=True):
        ratio = percentile(samples[resolved], 50) / percentile(samples[raw], 50)
        worst = max(worst, ratio - 1)
        ok = ok and counts[resolved] == {"GetModel": 1}
        for label, shown_ratio in ((raw, 1.0), (resolved, ratio)):
            values = samples[label]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            shown = ", ".join(f"{n} {op}" for op, n in sorted(counts[label].items()))
            print(f"{label:34} {p50:8.3f} {p95:8.3f} {shown_ratio:7.3f}  {shown}")
    print(f"worst overhead at p50: {worst:+.1%} (target <= {TARGET_OVERHEAD:.0%})")
    print(f"one GetModel per resolve at 1 and {versions} versions: {'yes' if ok else 'NO'}")
    return 0 if ok and worst <= TARGET_OVERHEAD else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed calls of each kind")
    parser.add_argument("--versions", type=int, default=500, help="versions of the large model")
    args = parser.parse_args()
    if args.versions < MODELPORT_VERSIONS:
        parser.error(f"--versions must be at least {MODELPORT_VERSIONS}")

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        samples, counts = measure(parent, args.calls, args.versions)
        parent.send("stop")
        server.join(timeout=10)
    finally:
        server.kill()
    return report(samples, counts, args.calls, args.versions)


if __name__ == "__main__":
    sys.exit(main())
