"""Two ``mlflow server`` replicas on one PostgreSQL database (artifacts in one S3 prefix),
as a team runs MLflow behind a load balancer, with a modelport client on each: promotions
racing through different servers keep one production holder, and each client sees the
history the other wrote. MLflow's database has no conditional writes on tags or aliases,
so this is modelport's convergence at work, across processes that share only the database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelport as mp
from modelport.testing.conformance import FAST_RETRY
from tests.backends.postgres_fixtures import (
    MlflowOnPostgres,
    S3Store,
    mlflow_on_postgres,
)

ROUNDS = 6
WAIT = 120.0  # seconds a round's barrier or thread may take before the test fails


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    mlflow_postgres_server: MlflowOnPostgres,
    moto_s3_process: S3Store,
) -> Iterator[list[MlflowOnPostgres]]:
    """The conformance rig's server and a second one on its database and S3 prefix (started
    after the first has created MLflow's tables, so the two never race to migrate)."""
    first = mlflow_postgres_server
    log = tmp_path_factory.mktemp("mlflow-replica") / "server.log"
    with mlflow_on_postgres(first.store_uri, moto_s3_process, log, prefix=first.prefix) as second:
        yield [first, second]


@pytest.fixture
def clients(replicas: list[MlflowOnPostgres]) -> Iterator[list[mp.Registry]]:
    registries = [mp.connect(f"mlflow+{server.url}", retry=FAST_RETRY) for server in replicas]
    yield registries
    for registry in registries:
        registry.close()


def test_promotions_through_two_servers_keep_one_holder(
    clients: list[mp.Registry], name: str, model_dir: Path
) -> None:
    first, second = clients
    versions = [first.register(name, model_dir).version for _ in range(len(clients) + 1)]
    for version in versions:
        second.approve(f"{name}/{version}", actor="qa")
    first.transition(f"{name}/{versions[-1]}", "production")
    for round_ in range(ROUNDS):
        mine = versions[round_ % 3 :] + versions[: round_ % 3]
        errors = _race(clients, name, mine[: len(clients)])
        assert errors == [], f"round {round_}: {errors}"
        holders = [
            [mv.version for mv in client.versions(name, stage="production")] for client in clients
        ]
        assert len(holders[0]) == 1, f"round {round_}: production holders {holders[0]}"
        assert holders[1] == holders[0], f"round {round_}: clients disagree: {holders}"
        assert {c.resolve(f"{name}@production").version for c in clients} == set(holders[0])
    for version in versions:
        histories = [_summary(client.history(f"{name}/{version}")) for client in clients]
        assert histories[0] == histories[1]
        assert ("approved", "qa") in histories[0]  # written through the second server
    promoters = {
        actor for version in versions for _, actor in _summary(first.history(f"{name}/{version}"))
    }
    assert {"client-0", "client-1"} <= promoters


def _race(clients: list[mp.Registry], name: str, versions: list[str]) -> list[str]:
    """Each client promotes its own version at the same moment; returns the errors met."""
    start = threading.Barrier(len(clients))
    errors: list[str] = []

    def promote(index: int) -> None:
        start.wait(WAIT)
        try:
            clients[index].transition(
                f"{name}/{versions[index]}", "production", actor=f"client-{index}"
            )
        except Exception as exc:
            errors.append(f"client-{index}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=promote, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a promotion did not return"
    return errors


def _summary(events: list[mp.Event]) -> list[tuple[str, str | None]]:
    return [(str(event.kind), event.actor) for event in events]
