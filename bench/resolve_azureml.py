"""modelport resolve vs the raw MLClient, against the offline Azure ML rig.

Usage: python bench/resolve_azureml.py [--calls N] [--versions N] [--rtt MS]

Starts the rig (``modelport.testing.azureml``: the workspace API and Azurite) in a child
process, so that the server does not compete with the timed client for the GIL. Two
models: ``one`` with 1 version and ``many`` with ``--versions`` (the first 3 registered
through modelport, the rest created with ``ml_client.models.create_or_update`` as a
pipeline would); the last modelport version of each is promoted to production. Then it
times, interleaved call by call so that every row sees the same machine, on each model:

- raw ``ml_client.models.get(name, version)``: one call, through a plain ``MLClient`` made
  as a user's test makes it (azure-core's own transport, routed to the rig);
- ``reg.resolve("name/VERSION")``: the model's pointer blobs (one listing) and the version;
- raw ``ml_client.models.list(name, stage="production")``, first item: the MLClient's own
  way to find a stage (a filtered listing);
- ``reg.resolve("name@production")``: the ``production`` pointer blob's metadata names
  the version (one blob listing), then one version GET: no version listing, whatever the
  number of versions.

A resolve makes its two reads side by side (`modelport.backends.kit.pool`); on the rig,
127.0.0.1 answers in well under a millisecond, so a call costs what the client's CPU
costs, and the GIL serialises the two reads. modelport keeps that CPU down: its transport
reads the environment's proxy settings once per host (requests reads them on every
request), the version is read from its JSON (no generated model built), and the pointer
listing is one signed GET. ``--rtt MS`` adds a network round trip to every request (a
sleep, which frees the GIL as a socket wait does), to show the cost as it is against the
real service, where the wait dominates. ``--same-transport`` sends the raw calls through
modelport's transport as well, leaving only what modelport's own logic costs.

The cache is off (``cache_ttl=0``). Targets: the calls per resolve do not grow with the
number of versions; overhead at most 10 % at p50 over the raw call.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import modelport as mp
from modelport.backends.azureml.listing import SasListing
from modelport.backends.azureml.transport import ClientTransport, RoutingTransport
from modelport.testing.azureml import AzureMLService, Azurite
from modelport.testing.azureml.service import workspace_client
from timing import interleaved, percentile  # bench/timing.py

TARGET_OVERHEAD = 0.10
MODELPORT_VERSIONS = 3  # of the large model; the rest are plain MLClient versions
PLAIN_PATH = "azureml://datastores/workspaceblobstore/paths/plain/model.pkl"


def serve(connection: Connection) -> None:
    """The child process: run the rig until the parent says stop (or sends SIGTERM)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds the ``with``: no orphan
    with Azurite() as azurite, AzureMLService(azurite=azurite) as service:
        connection.send((service.url(), service.routes(), service.scope))
        while connection.recv() == "calls":  # anything else: stop
            connection.send(dict(service.calls))


def add_round_trip(seconds: float) -> None:
    """Every request to the rig waits ``seconds`` first, as over a real network: the SDK's
    (its transport) and modelport's signed pointer listing alike."""
    send, page = RoutingTransport.send, SasListing._page

    def delayed_send(self: RoutingTransport, request: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return send(self, request, **kwargs)

    def delayed_page(self: SasListing, *args: Any) -> Any:
        time.sleep(seconds)
        return page(self, *args)

    RoutingTransport.send = delayed_send  # type: ignore[method-assign]
    SasListing._page = delayed_page  # type: ignore[method-assign]


def calls_per(server: Connection, call: Callable[[], object]) -> dict[str, int]:
    """The routes one ``call`` hits, as the rig counted them."""
    server.send("calls")
    before: dict[str, int] = server.recv()
    call()
    server.send("calls")
    after: dict[str, int] = server.recv()
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def populate(reg: mp.Registry, ml: Any, name: str, versions: int, artifact: Path) -> str:
    """``versions`` versions of ``name``; returns the version promoted to production."""
    from azure.ai.ml.entities import Model

    for i in range(min(versions, MODELPORT_VERSIONS)):
        reg.register(name, artifact, metrics={"f1": 0.7 + i / 100}, params={"depth": i})
    for number in range(MODELPORT_VERSIONS + 1, versions + 1):
        ml.models.create_or_update(Model(name=name, version=str(number), path=PLAIN_PATH))
    promoted = str(min(versions, MODELPORT_VERSIONS))
    reg.approve(f"{name}/{promoted}", reason="bench", actor="bench")
    reg.transition(f"{name}/{promoted}", "production", reason="bench", actor="bench")
    return promoted


def model_calls(
    reg: mp.Registry, ml: Any, name: str, version: str
) -> dict[str, Callable[[], object]]:
    return {
        f"raw models.get({name}, {version})": lambda: ml.models.get(name, version),
        f"resolve({name}/{version})": lambda: reg.resolve(f"{name}/{version}"),
        f"raw models.list({name}, stage)": lambda: next(
            iter(ml.models.list(name, stage="production"))
        ),
        f"resolve({name}@production)": lambda: reg.resolve(f"{name}@production"),
    }


def measure(
    server: Connection, rounds: int, versions: int, transport: type[RoutingTransport]
) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    url, routes, scope = server.recv()
    reg = mp.connect(url, cache_ttl=0)
    ml = workspace_client(scope, transport(routes))  # as AzureMLService.client makes it
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "model.bin"
        artifact.write_bytes(b"weights" * 1000)
        calls: dict[str, Callable[[], object]] = {}
        for name, count in (("one", 1), ("many", versions)):
            promoted = populate(reg, ml, name, count, artifact)
            calls |= model_calls(reg, ml, name, promoted)
    interleaved(calls, max(20, rounds // 10))  # warm-up: connections, imports
    counts = {label: calls_per(server, call) for label, call in calls.items()}
    samples = interleaved(calls, rounds)
    reg.close()
    return samples, counts


def report(
    samples: dict[str, list[int]], counts: dict[str, dict[str, int]], rounds: int, versions: int
) -> int:
    print(f"{rounds} interleaved calls each; models of 1 and {versions} versions; rig over")
    print("HTTP on 127.0.0.1 (own process)")
    print(f"{'call':34} {'p50 ms':>8} {'p95 ms':>8} {'x raw':>7}  service calls")
    labels = list(samples)
    worst = -1.0
    resolves = labels[1::2]
    constant = all(counts[label] == counts[resolves[i % 2]] for i, label in enumerate(resolves))
    for raw, resolved in zip(labels[::2], labels[1::2], strict=True):
        ratio = percentile(samples[resolved], 50) / percentile(samples[raw], 50)
        worst = max(worst, ratio - 1)
        for label, shown_ratio in ((raw, 1.0), (resolved, ratio)):
            values = samples[label]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            shown = ", ".join(f"{n} {op}" for op, n in sorted(counts[label].items()))
            print(f"{label:34} {p50:8.3f} {p95:8.3f} {shown_ratio:7.3f}  {shown}")
    print(f"worst overhead at p50: {worst:+.1%} (target <= {TARGET_OVERHEAD:.0%})")
    print(f"same calls per resolve at 1 and {versions} versions: {'yes' if constant else 'NO'}")
    return 0 if constant and worst <= TARGET_OVERHEAD else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls of each kind")
    parser.add_argument("--versions", type=int, default=200, help="versions of the large model")
    parser.add_argument("--rtt", type=float, default=0.0, help="ms of round trip per request")
    parser.add_argument(
        "--same-transport",
        action="store_true",
        help="raw calls through modelport's own transport too: what modelport's logic costs",
    )
    args = parser.parse_args()
    if args.versions < MODELPORT_VERSIONS:
        parser.error(f"--versions must be at least {MODELPORT_VERSIONS}")

    if args.rtt:
        add_round_trip(args.rtt / 1000)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=False)
    server.start()
    try:
        transport = ClientTransport if args.same_transport else RoutingTransport
        samples, counts = measure(parent, args.calls, args.versions, transport)
        parent.send("stop")
        server.join(timeout=60)
    finally:
        stop(server)
    return report(samples, counts, args.calls, args.versions)


def stop(server: multiprocessing.process.BaseProcess) -> None:
    """Stop the rig's process by its PID: SIGTERM first, which the child turns into its
    normal exit (Azurite stopped by its own PID on the way out), SIGKILL if it hangs."""
    if server.is_alive():
        server.terminate()
        server.join(timeout=30)
    if server.is_alive():
        server.kill()
        server.join(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
