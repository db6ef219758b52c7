"""MLflow rigs: an empty SQLite store made once, and a real ``mlflow server`` on 127.0.0.1.

A fresh MLflow database runs ~100 schema migrations (about 10 s here), so each pytest
process builds one empty database and tests copy it. The server is one per pytest
process (xdist workers each get their own), started in its own process group so that
uvicorn's children die with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_START_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def mlflow_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated MLflow SQLite database to copy."""
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    create_empty_db(path)
    return path


def create_empty_db(path: Path) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()
    client.search_registered_models()


def copy_db(template: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, dest)
    return dest


@dataclass(frozen=True)
class MlflowServer:
    url: str  # http://127.0.0.1:PORT
    artifacts: Path  # the server's --artifacts-destination

    def local_path(self, artifact_uri: str) -> Path:
        """Where a ``mlflow-artifacts:/...`` URI of this server lives on disk."""
        prefix = "mlflow-artifacts:"
        assert artifact_uri.startswith(prefix), artifact_uri
        return self.artifacts / artifact_uri[len(prefix) :].lstrip("/")


@pytest.fixture(scope="session")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template_db: Path
) -> Iterator[MlflowServer]:
    root = tmp_path_factory.mktemp("mlflow-server")
    db = copy_db(mlflow_template_db, root / "mlflow.db")
    with running_server(db, root / "artifacts", root / "server.log") as server:
        yield server


@pytest.fixture(scope="session")
def mlflow_server_url(mlflow_server: MlflowServer) -> str:
    return mlflow_server.url


@contextlib.contextmanager
def running_server(
    db: Path, artifacts: Path, log: Path, workers: int = 1
) -> Iterator[MlflowServer]:
    """``mlflow server`` on a free 127.0.0.1 port until the block ends, then killed."""
    with running_mlflow(f"sqlite:///{db}", str(artifacts), log, workers) as url:
        yield MlflowServer(url, artifacts)


@contextlib.contextmanager
def running_mlflow(
    store_uri: str, destination: str, log: Path, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``mlflow server`` on ``store_uri`` serving artifacts from ``destination``, with
    ``env`` added to ours; yields its URL until the block ends, then kills it."""
    port = free_port()
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", store_uri,
        "--artifacts-destination", destination,
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    full_env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(env or {})}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        stop(process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, health: str = "/health"
) -> None:
    """Until ``url + health`` answers 200 (bounded); fails with the log's tail."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}{health}", timeout=1) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"{process.args!r} did not start in {SERVER_START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's whole process group (uvicorn runs in a child), then kill."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived the parent
