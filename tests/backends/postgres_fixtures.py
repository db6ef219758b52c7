"""MLflow as teams run it: ``mlflow server`` on PostgreSQL, artifacts in S3 (moto's server).

A throwaway PostgreSQL cluster per pytest process:

``initdb`` into a temp folder, ``postgres`` on a free 127.0.0.1 port (no Unix socket,
trust authentication, no fsync: nothing here outlives the session), stopped by PID at
session end and the folder removed. PostgreSQL refuses to run as root, so under root the
server runs as ``nobody``. Missing binaries fail the tests that need them, with how to
install them: CI installs Debian's ``postgresql`` package (``.ci/run``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelport.testing.sagemaker.clients import DUMMY_CREDENTIALS, make_client
from modelport.testing.vertex import GcsEmulator
from tests.backends.mlflow_fixtures import free_port, running_mlflow, stop, wait_until_up

START_TIMEOUT = 30.0
REGION = "us-east-1"
SUPERUSER = "modelport"
UNPRIVILEGED_USER = "nobody"  # who runs initdb and postgres when the tests run as root


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URI (psycopg2 driver)."""
        with contextlib.closing(self.connect("postgres")) as connection:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg2://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def connect(self, database: str) -> Any:
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname=database, connect_timeout=5
        )


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    with running_cluster(postgres_bindir()) as cluster:
        yield cluster


def postgres_bindir() -> Path:
    """The folder of ``initdb`` and ``postgres``: pg_config's, Debian's newest, or PATH's."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            answer = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(answer.stdout.strip()))
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major_version, reverse=True)
    candidates += [Path(folder) for folder in debian]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    pytest.fail(
        "PostgreSQL's initdb and postgres were not found (pg_config --bindir, "
        "/usr/lib/postgresql/*/bin, PATH); install them, e.g. `apt-get install postgresql` "
        "(.ci/run does)",
        pytrace=False,
    )


def _major_version(folder: str) -> int:
    version = Path(folder).parent.name
    return int(version) if version.isdigit() else 0


@contextlib.contextmanager
def running_cluster(bindir: Path) -> Iterator[PostgresCluster]:
    root = Path(tempfile.mkdtemp(prefix="modelport-postgres-"))
    log = root / "postgres.log"
    data = root / "data"
    try:
        as_user = _server_user(root)
        _run([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"], as_user)  # fmt: skip
        port = free_port()
        command = [
            str(bindir / "postgres"), "-D", str(data), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ]  # fmt: skip
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, **as_user
            )
        try:
            cluster = PostgresCluster("127.0.0.1", port)
            _wait_until_ready(cluster, process, log)
            yield cluster
        finally:
            _stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _server_user(root: Path) -> dict[str, Any]:
    """Popen's arguments that drop root for PostgreSQL, after handing it ``root``."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(UNPRIVILEGED_USER)
    os.chown(root, account.pw_uid, account.pw_gid)
    return {
        "user": account.pw_uid,
        "group": account.pw_gid,
        "extra_groups": [],
        "env": {**os.environ, "HOME": str(root)},
        "cwd": root,
    }


def _run(command: list[str], as_user: dict[str, Any]) -> None:
    answer = subprocess.run(command, capture_output=True, text=True, timeout=120, **as_user)
    if answer.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{answer.stdout}\n{answer.stderr}")


def _wait_until_ready(
    cluster: PostgresCluster, process: subprocess.Popen[bytes], log: Path
) -> None:
    import psycopg2

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited early:\n{log.read_text()[-3000:]}")
        try:
            cluster.connect("postgres").close()
            return
        except psycopg2.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(
        f"postgres did not accept connections in {START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGQUIT is PostgreSQL's immediate shutdown (the data is thrown away); then SIGKILL."""
    for sig, grace in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class S3Store:
    """moto's server in a process of its own (its state is not shared with the in-process
    moto of other tests) and one bucket; MLflow servers reach it with dummy keys."""

    endpoint: str
    bucket: str

    def client(self) -> Any:
        return make_client("s3", self.endpoint, REGION, {})

    def server_env(self) -> dict[str, str]:
        """What an ``mlflow server`` process needs to write to this store."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


@dataclass(frozen=True)
class MlflowOnPostgres:
    """An ``mlflow server`` on a PostgreSQL database, its artifacts under ``s3://bucket/prefix``."""

    url: str
    store_uri: str
    s3: S3Store
    prefix: str

    def s3_prefix(self, artifact_uri: str) -> str:
        """The S3 key prefix a ``mlflow-artifacts:/...`` URI of this server maps to."""
        scheme = "mlflow-artifacts:"
        assert artifact_uri.startswith(scheme), artifact_uri
        return f"{self.prefix}/{artifact_uri[len(scheme) :].lstrip('/')}"


@pytest.fixture(scope="session")
def moto_s3_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Store]:
    with running_moto_s3(tmp_path_factory.mktemp("moto-s3") / "moto.log") as store:
        yield store


@contextlib.contextmanager
def running_moto_s3(log: Path) -> Iterator[S3Store]:
    """moto's S3 server on a free 127.0.0.1 port with one bucket, stopped by its PID."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_up(endpoint, process, log, health="/moto-api/")
        store = S3Store(endpoint, f"modelport-{uuid.uuid4().hex[:12]}")
        store.client().create_bucket(Bucket=store.bucket)
        yield store
    finally:
        stop(process)


@contextlib.contextmanager
def mlflow_on_postgres(
    store_uri: str, s3: S3Store, log: Path, prefix: str | None = None
) -> Iterator[MlflowOnPostgres]:
    """``mlflow server`` on ``store_uri``, artifacts under ``s3://BUCKET/prefix`` (replicas
    of one service share it; by default a fresh one)."""
    prefix = prefix or f"mlflow-{uuid.uuid4().hex[:8]}"
    destination = f"s3://{s3.bucket}/{prefix}"
    with running_mlflow(store_uri, destination, log, env=s3.server_env()) as url:
        yield MlflowOnPostgres(url, store_uri, s3, prefix)


@pytest.fixture(scope="session")
def mlflow_postgres_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: PostgresCluster,
    moto_s3_process: S3Store,
) -> Iterator[MlflowOnPostgres]:  # fmt: skip
    store_uri = postgres_cluster.create_database("mlflow_conformance")
    log = tmp_path_factory.mktemp("mlflow-postgres") / "server.log"
    with mlflow_on_postgres(store_uri, moto_s3_process, log) as server:
        yield server


@dataclass(frozen=True)
class MlflowOnGcs:
    """An ``mlflow server`` on a PostgreSQL database, its artifacts under ``gs://bucket/prefix``
    on gcp-storage-emulator (the server's google-cloud-storage reaches it through
    ``STORAGE_EMULATOR_HOST``)."""

    url: str
    store_uri: str  # the server's database: postgresql+psycopg2://USER@HOST:PORT/DB
    gcs: GcsEmulator
    bucket: str
    prefix: str

    def objects(self) -> list[str]:
        """The names of every object under the server's artifact prefix."""
        blobs = self.gcs.client().list_blobs(self.bucket, prefix=f"{self.prefix}/")
        return [str(blob.name) for blob in blobs]

    def object_name(self, artifact_uri: str) -> str:
        """The object prefix a ``mlflow-artifacts:/...`` URI of this server maps to."""
        scheme = "mlflow-artifacts:"
        assert artifact_uri.startswith(scheme), artifact_uri
        return f"{self.prefix}/{artifact_uri[len(scheme) :].lstrip('/')}"


@pytest.fixture(scope="session")
def mlflow_gcs_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_cluster: PostgresCluster
) -> Iterator[MlflowOnGcs]:
    store_uri = postgres_cluster.create_database(f"mlflow_gcs_{uuid.uuid4().hex[:8]}")
    log = tmp_path_factory.mktemp("mlflow-gcs") / "server.log"
    bucket, prefix = f"modelport-{uuid.uuid4().hex[:12]}", "mlflow"
    with GcsEmulator() as gcs:
        gcs.create_bucket(bucket)
        env = {"STORAGE_EMULATOR_HOST": gcs.endpoint, "GOOGLE_CLOUD_PROJECT": "modelport-rig"}
        with running_mlflow(store_uri, f"gs://{bucket}/{prefix}", log, env=env) as url:
            yield MlflowOnGcs(url, store_uri, gcs, bucket, prefix)
