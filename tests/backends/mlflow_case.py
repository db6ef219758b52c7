"""MLflow in the conformance suite: the SQLite store in-process, a real ``mlflow server``
on SQLite with artifacts on disk, and as teams run it: on PostgreSQL, artifacts in S3, and
(when ``$MODELPORT_EXTRA_CASES`` names ``mlflow-postgres-gcs``: ``.ci/run`` runs it after
the README's command, which it would take past 15 minutes) artifacts in GCS."""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

import modelport as mp
from modelport.backends.mlflow.backend import MlflowBackend
from modelport.testing.conformance import (
    FAST_RETRY,
    PAGE_SIZE,
    BackendCase,
    CallCounter,
    counting_methods,
    public_methods,
)
from modelport.testing.conformance.case import Opener
from tests.backends import extra_case_requested
from tests.backends.mlflow_fixtures import MlflowServer, copy_db
from tests.backends.postgres_fixtures import MlflowOnGcs, MlflowOnPostgres


def _backend(reg: mp.Registry) -> MlflowBackend:
    assert isinstance(reg.backend, MlflowBackend)
    return reg.backend


def _open_sqlite(request: pytest.FixtureRequest) -> mp.Registry:
    template = request.getfixturevalue("mlflow_template_db")
    tmp_path = request.getfixturevalue("tmp_path")
    db = copy_db(template, tmp_path / f"mlflow-{uuid.uuid4().hex[:8]}.db")
    return mp.connect(f"mlflow+sqlite:///{db}?page_size={PAGE_SIZE}", retry=FAST_RETRY)


_servers: dict[str, MlflowServer] = {}  # tracking URI -> the rig serving it


def _open_server(request: pytest.FixtureRequest) -> mp.Registry:
    server: MlflowServer = request.getfixturevalue("mlflow_server")
    _servers[server.url] = server
    return _connect_http(server.url)


_s3_servers: dict[str, MlflowOnPostgres] = {}  # tracking URI -> the rig serving it


def _open_postgres(request: pytest.FixtureRequest) -> mp.Registry:
    server: MlflowOnPostgres = request.getfixturevalue("mlflow_postgres_server")
    _s3_servers[server.url] = server
    return _connect_http(server.url)


_gcs_servers: dict[str, MlflowOnGcs] = {}  # tracking URI -> the rig serving it


def _open_postgres_gcs(request: pytest.FixtureRequest) -> mp.Registry:
    server: MlflowOnGcs = request.getfixturevalue("mlflow_gcs_server")
    _gcs_servers[server.url] = server
    return _connect_http(server.url)


def _connect_http(url: str) -> mp.Registry:
    address = urlsplit(url).netloc
    return mp.connect(f"mlflow+http://{address}?page_size={PAGE_SIZE}", retry=FAST_RETRY)


def _seed(reg: mp.Registry, name: str, count: int, source: Path) -> None:
    """Plain MLflow versions, made with MLflow's own client (registering is much slower)."""
    client = _backend(reg).client
    client.create_registered_model(name)
    for _ in range(count):
        client.create_model_version(name, "s3://modelport-seed/model")


@contextmanager
def _count_calls(reg: mp.Registry) -> Iterator[CallCounter]:
    """Counted at MLflow's registry client, which every registry call goes through (the
    public client's methods delegate to it), so each store or HTTP call counts once."""
    registry_client = _backend(reg).client._get_registry_client()
    with counting_methods(registry_client, public_methods(registry_client)) as counter:
        yield counter


def _corrupt_metadata(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Cut the record short and garble one event, as a hand edit in MLflow's UI might."""
    client = _backend(reg).client
    tags = client.get_model_version(mv.name, mv.version).tags
    client.set_model_version_tag(mv.name, mv.version, "modelport.record.000", '{"metrics": {')
    event = next(key for key in tags if key.startswith("modelport.event."))
    client.set_model_version_tag(mv.name, mv.version, event, "not json")


def _place_artifact(reg: mp.Registry, source: Path) -> str:
    """Log the folder as a run's artifacts with MLflow's client, as a training script
    would, in an experiment of its own under the registry's artifact root."""
    backend = _backend(reg)
    client = backend.client
    experiment = f"placed-{uuid.uuid4().hex[:10]}"
    root = backend.config.artifact_root
    location = None if root is None else posixpath.join(root.rstrip("/"), experiment)
    run = client.create_run(client.create_experiment(experiment, artifact_location=location))
    client.log_artifacts(run.info.run_id, str(source), "model")
    client.set_terminated(run.info.run_id)
    return f"runs:/{run.info.run_id}/model"


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    _backend(reg).client.set_registered_model_alias(name, alias, version)


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Append bytes to one stored file, behind MLflow's back."""
    if (s3_server := _s3_servers.get(_backend(reg).tracking_uri)) is not None:
        _tamper_s3(s3_server, mv.artifact_uri)
        return
    if (gcs_server := _gcs_servers.get(_backend(reg).tracking_uri)) is not None:
        _tamper_gcs(gcs_server, mv.artifact_uri)
        return
    root = _artifact_dir(reg, mv.artifact_uri)
    first = sorted(p for p in root.rglob("*") if p.is_file())[0]
    first.write_bytes(first.read_bytes() + b"tampered")


def _tamper_s3(server: MlflowOnPostgres, artifact_uri: str) -> None:
    s3 = server.s3.client()
    listing = s3.list_objects_v2(Bucket=server.s3.bucket, Prefix=server.s3_prefix(artifact_uri))
    first = sorted(item["Key"] for item in listing["Contents"])[0]
    body = s3.get_object(Bucket=server.s3.bucket, Key=first)["Body"].read()
    s3.put_object(Bucket=server.s3.bucket, Key=first, Body=body + b"tampered")


def _tamper_gcs(server: MlflowOnGcs, artifact_uri: str) -> None:
    bucket = server.gcs.client().bucket(server.bucket)
    prefix = server.object_name(artifact_uri).rstrip("/") + "/"
    first = sorted(blob.name for blob in bucket.list_blobs(prefix=prefix))[0]
    blob = bucket.blob(first)
    blob.upload_from_string(blob.download_as_bytes() + b"tampered")


def _artifact_dir(reg: mp.Registry, artifact_uri: str) -> Path:
    if artifact_uri.startswith("mlflow-artifacts:"):
        return _servers[_backend(reg).tracking_uri].local_path(artifact_uri)
    return Path(url2pathname(urlsplit(artifact_uri).path))


def _case(case_id: str, open_registry: Opener) -> BackendCase:
    return BackendCase(
        id=case_id,
        scheme="mlflow",
        open=open_registry,
        set_alias=_set_alias,
        tamper=_tamper,
        seed=_seed,
        count_calls=_count_calls,
        corrupt_metadata=_corrupt_metadata,
        place_artifact=_place_artifact,
    )


CASES = [
    _case("mlflow-sqlite", _open_sqlite),
    _case("mlflow-server", _open_server),
    _case("mlflow-postgres", _open_postgres),
]
if extra_case_requested("mlflow-postgres-gcs"):
    CASES.append(_case("mlflow-postgres-gcs", _open_postgres_gcs))
