"""MLflow on PostgreSQL with its artifacts in GCS (issue 13): a real ``mlflow server`` on the
session's PostgreSQL cluster with ``--artifacts-destination gs://BUCKET/PREFIX``, on
gcp-storage-emulator (the Vertex rig's GCS, in this process). The server's google-cloud-storage
client reaches the emulator through ``STORAGE_EMULATOR_HOST`` (anonymous credentials);
modelport talks HTTP to the server only, as with S3: nothing in the backend knows the store.

The conformance suite runs on this server too (case ``mlflow-postgres-gcs``), in ``.ci/run``
after the README's command: an eleventh case would take the README's suite past its 15
minutes on 2 cores. These focused tests run in the README's command."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import modelport as mp
from modelport.digest import digest_path
from modelport.testing.conformance import FAST_RETRY
from tests.backends.postgres_fixtures import MlflowOnGcs, PostgresCluster


def test_register_promote_resolve_and_download_through_gcs(
    mlflow_gcs_server: MlflowOnGcs, name: str, model_dir: Path, tmp_path: Path
) -> None:
    with mp.connect(mlflow_gcs_server.url, retry=FAST_RETRY) as reg:  # MLflow's own URI
        first = reg.register(name, model_dir, metrics={"f1": 0.9})
        second = reg.register(name, model_dir, metrics={"f1": 0.91})
        for mv in (first, second):
            reg.approve(mv.ref, actor="qa")
        reg.transition(first.ref, "production")
        reg.transition(second.ref, "production")  # the first is archived

        live = reg.resolve(f"{name}@production")
        assert (live.version, live.digest) == (second.version, digest_path(model_dir))
        assert reg.resolve(first.ref).stage == "archived"
        path = reg.download(f"{name}@production", tmp_path / "deploy")
        assert digest_path(path) == live.digest
        assert sorted(p.name for p in path.iterdir()) == sorted(
            [".modelport.json", *(p.name for p in model_dir.iterdir())]
        )

    stored = mlflow_gcs_server.objects()  # the bytes went to GCS, not the server's disk
    for file in model_dir.rglob("*"):
        if file.is_file():
            assert any(obj.endswith(f"/{file.relative_to(model_dir).as_posix()}") for obj in stored)


def test_a_database_url_reaches_the_servers_registry_directly(
    mlflow_gcs_server: MlflowOnGcs, name: str, model_dir: Path, tmp_path: Path
) -> None:
    """MLflow's own database URI works as a registry URL: what a client of the server wrote,
    a client of the database reads, and the other way round (artifacts of the direct
    client go where its ``artifact_root`` says: it has no server to proxy them)."""
    # Its own experiment: the server's keeps artifacts at mlflow-artifacts:/, a server's URI.
    root = (tmp_path / "art").as_uri()
    direct_url = f"{mlflow_gcs_server.store_uri}?experiment=direct-{name}&artifact_root={root}"
    with (
        mp.connect(mlflow_gcs_server.url, retry=FAST_RETRY) as served,
        mp.connect(direct_url, retry=FAST_RETRY) as direct,
    ):
        assert direct.url.startswith("mlflow+postgresql+psycopg2://***@")
        through_server = served.register(name, model_dir)
        assert direct.resolve(f"{name}@latest").digest == through_server.digest
        written_directly = direct.register(name, model_dir, metrics={"f1": 0.5})
        assert served.resolve(f"{name}@latest").version == written_directly.version
        assert served.resolve(f"{name}@latest").metrics == {"f1": 0.5}


def test_a_mistyped_database_name_is_one_clear_error(mlflow_gcs_server: MlflowOnGcs) -> None:
    """A server's database that does not exist: one attempt, not MLflow's ten (~100 s)."""
    missing = mlflow_gcs_server.store_uri.rsplit("/", 1)[0] + "/no_such_database"
    started = time.monotonic()
    with pytest.raises(mp.BackendError, match='database "no_such_database" does not exist'):
        list(mp.connect(missing, retry=FAST_RETRY).models())
    assert time.monotonic() - started < 20


READS: dict[str, Callable[[mp.Registry, str], object]] = {
    "resolve": lambda reg, name: reg.resolve(f"{name}@latest"),
    "versions": lambda reg, name: list(reg.versions(name)),
}


@pytest.mark.parametrize("read", list(READS))
def test_a_read_of_an_empty_database_fails_and_creates_no_tables(
    postgres_cluster: PostgresCluster, read: str, name: str
) -> None:
    """As for a missing SQLite file: MLflow would make its schema in whatever database the
    URL names, so a read refuses one without MLflow's tables and leaves it as it was."""
    database = f"empty_{uuid.uuid4().hex[:8]}"
    url = postgres_cluster.create_database(database)
    where = rf"postgresql\+psycopg2://{postgres_cluster.host}:{postgres_cluster.port}"  # no user
    with (
        mp.connect(url, retry=FAST_RETRY) as reg,
        pytest.raises(mp.ModelNotFoundError, match=rf"no MLflow database at {where}/{database} "),
    ):
        READS[read](reg, name)
    assert _tables(postgres_cluster, database) == []


def _tables(cluster: PostgresCluster, database: str) -> list[str]:
    with contextlib.closing(cluster.connect(database)) as connection, connection.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return [row[0] for row in cur.fetchall()]
