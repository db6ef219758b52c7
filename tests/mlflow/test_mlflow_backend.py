"""MLflow-specific behaviour: interplay with plain MLflow code, stage modes, tags, HTTP."""

from __future__ import annotations

import base64
import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import mlflow.pyfunc
import pandas as pd  # type: ignore[import-untyped]
import pytest
from mlflow.data.pandas_dataset import from_pandas
from mlflow.pyfunc.model import PythonModel
from mlflow.tracking import MlflowClient

import modelport as mp
from modelport.backends.mlflow import tags as T
from modelport.backends.mlflow import transport
from modelport.backends.mlflow.backend import PROCESS_TAG, MlflowBackend
from modelport.testing.conformance import FAST_RETRY
from tests.backends.mlflow_fixtures import MlflowServer, copy_db

SHADOW_EU = mp.Policy(custom_stages={"shadow-eu"})


class Doubler(PythonModel):
    def predict(self, context: Any, model_input: list[int], params: Any = None) -> list[int]:
        return [x * 2 for x in model_input]


@pytest.fixture
def db(mlflow_template_db: Path, tmp_path: Path) -> Path:
    return copy_db(mlflow_template_db, tmp_path / "mlflow.db")


@pytest.fixture
def url(db: Path) -> str:
    return f"mlflow+sqlite:///{db}"


@pytest.fixture
def registry(url: str) -> Iterator[mp.Registry]:
    with mp.connect(url, retry=FAST_RETRY) as reg:
        yield reg


@pytest.fixture
def global_mlflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Plain MLflow code in this process, pointed at a registry by MLFLOW_TRACKING_URI;
    run in a temporary folder, where MLflow's default ./mlruns then lands."""
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


def _client(reg: mp.Registry) -> Any:
    backend = reg.backend
    assert isinstance(backend, MlflowBackend)
    return backend.client


def _mlflow_uri(reg: mp.Registry) -> str:
    backend = reg.backend
    assert isinstance(backend, MlflowBackend)
    return backend.tracking_uri


def _server_registry(server: MlflowServer, query: str = "") -> mp.Registry:
    return mp.connect(f"mlflow+http://{urlsplit(server.url).netloc}{query}", retry=FAST_RETRY)


# -- with plain MLflow ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["sqlite", "server"])
def test_a_version_promoted_by_modelport_loads_in_plain_mlflow_by_alias(
    where: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    global_mlflow: None,
) -> None:
    reg = (
        _server_registry(request.getfixturevalue("mlflow_server"))
        if where == "server"
        else mp.connect(request.getfixturevalue("url"), retry=FAST_RETRY)
    )
    mlflow.pyfunc.save_model(str(tmp_path / "pyfunc"), python_model=Doubler(), pip_requirements=[])
    mv = reg.register(name, tmp_path / "pyfunc", metrics={"acc": 0.9})
    reg.approve(mv.ref, reason="ok", actor="qa")
    reg.transition(mv.ref, "production", actor="ci")

    monkeypatch.setenv("MLFLOW_TRACKING_URI", _mlflow_uri(reg))
    # dst_path: without it MLflow downloads into a temp folder of its own and leaves it there
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@production", dst_path=str(tmp_path))
    assert loaded.predict([1, 2]) == [2, 4]
    raw = MlflowClient().get_model_version(name, mv.version)
    assert raw.run_id
    assert MlflowClient().get_run(raw.run_id).data.metrics == {"acc": 0.9}
    reg.close()


def test_a_version_logged_by_plain_mlflow_resolves_with_its_run_lineage(
    registry: mp.Registry,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    global_mlflow: None,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", _mlflow_uri(registry))
    mlflow.set_experiment(f"plain-{name}")
    with mlflow.start_run() as run:
        mlflow.set_tags(
            {
                "mlflow.source.git.commit": "c0ffee" * 6 + "abcd",
                "mlflow.source.git.repoURL": "https://git.example/fraud.git",
            }
        )
        mlflow.log_params({"depth": 6})
        mlflow.log_metric("f1", 0.83)
        frame = pd.DataFrame({"x": [1, 2], "y": [0, 1]})
        train = from_pandas(frame, source="s3://data/train.parquet", name="train")
        mlflow.log_input(train, context="training")
        mlflow.pyfunc.log_model(
            name="model", python_model=Doubler(), registered_model_name=name, pip_requirements=[]
        )
    MlflowClient().set_registered_model_alias(name, "production", "1")

    mv = registry.resolve(f"{name}@production")
    assert (mv.version, mv.stage, mv.approval) == ("1", "production", mp.Approval.PENDING)
    assert mv.metrics == {"f1": 0.83}
    assert mv.params == {"depth": "6"}
    assert mv.digest is None
    assert mv.artifact_uri.startswith("models:/m-")
    lineage = registry.lineage(mv.ref)
    assert lineage.run == run.info.run_id
    assert lineage.code == mp.CodeRef(
        repo="https://git.example/fraud.git", commit="c0ffee" * 6 + "abcd"
    )
    assert [(d.uri, d.role) for d in lineage.datasets] == [("s3://data/train.parquet", "training")]
    history = registry.history(mv.ref)
    assert [e.kind for e in history] == [mp.EventKind.REGISTERED]
    out = registry.download(mv.ref, tmp_path / "deploy")
    assert (out / "MLmodel").is_file()


def test_a_lineage_naming_an_mlflow_run_is_filled_from_that_run(
    registry: mp.Registry,
    name: str,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    global_mlflow: None,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", _mlflow_uri(registry))
    mlflow.set_experiment(f"training-{name}")
    with mlflow.start_run() as training:
        mlflow.set_tag("mlflow.source.git.commit", "ab" * 20)
        holdout = from_pandas(pd.DataFrame({"x": [1]}), source="s3://data/eval.parquet")
        mlflow.log_input(holdout, context="eval")
    run_id = training.info.run_id
    mv = registry.register(name, model_dir, lineage=mp.Lineage(run=run_id))
    assert mv.lineage.run == run_id
    assert mv.lineage.code == mp.CodeRef(commit="ab" * 20)
    assert [(d.uri, d.role) for d in mv.lineage.datasets] == [("s3://data/eval.parquet", "eval")]
    registration_run = _client(registry).get_model_version(name, mv.version).run_id
    assert registration_run != run_id  # the files live in a run of their own, linked back
    tags = _client(registry).get_run(registration_run).data.tags
    assert tags["modelport.training_run"] == run_id


def test_plain_versions_read_their_stage_from_aliases_or_legacy_stages(
    url: str, name: str, model_dir: Path
) -> None:
    with mp.connect(url) as reg:
        client = _client(reg)
        client.create_registered_model(name)
        for _ in range(3):
            client.create_model_version(name, "s3://bucket/model", await_creation_for=0)
        client.set_registered_model_alias(name, "staging", "2")
        client.set_registered_model_alias(name, "champion", "3")
        stages = {mv.version: (mv.stage, mv.approval, mv.aliases) for mv in reg.versions(name)}
        assert stages == {
            "1": ("development", mp.Approval.PENDING, ()),
            "2": ("staging", mp.Approval.PENDING, ()),
            "3": ("development", mp.Approval.PENDING, ("champion",)),
        }
        assert reg.resolve(f"{name}@champion").version == "3"
        with pytest.warns(FutureWarning):
            client.transition_model_version_stage(name, "1", "Production")
    with mp.connect(url + "?stage_mode=legacy") as legacy:
        assert legacy.resolve(f"{name}@production").version == "1"  # no alias: the stage
        assert legacy.resolve(f"{name}/2").stage == "staging"  # aliases are pointers in both modes


def test_an_alias_moved_in_plain_mlflow_moves_the_stage(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    v1, v2 = (registry.register(name, model_dir).version for _ in range(2))
    registry.transition(f"{name}/{v1}", "staging")
    _client(registry).set_registered_model_alias(name, "staging", v2)  # as in MLflow's UI
    assert registry.resolve(f"{name}@staging").version == v2
    assert registry.resolve(f"{name}/{v1}").stage == "archived"  # it was replaced


def test_stage_aliases_are_what_plain_mlflow_sees(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    v1, v2 = (registry.register(name, model_dir).version for _ in range(2))
    client = _client(registry)
    registry.transition(f"{name}/{v1}", "staging")
    registry.transition(f"{name}/{v2}", "staging")  # the alias moves, v1 is archived
    declaring = mp.Registry(registry.backend, policy=SHADOW_EU, retry=FAST_RETRY)
    declaring.transition(f"{name}/{v2}", "shadow-eu")  # a custom stage is a tag only
    assert client.get_registered_model(name).aliases == {}
    assert client.get_model_version(name, v1).tags[T.STAGE] == "archived"
    registry.approve(f"{name}/{v1}")
    registry.transition(f"{name}/{v1}", "production")
    assert client.get_registered_model(name).aliases == {"production": int(v1)}


# -- legacy stages ---------------------------------------------------------------------


def test_legacy_stage_mode_uses_mlflow_stages(url: str, name: str, model_dir: Path) -> None:
    with mp.connect(url + "?stage_mode=legacy", policy=SHADOW_EU, retry=FAST_RETRY) as reg:
        client = _client(reg)
        v1, v2 = (reg.register(name, model_dir).version for _ in range(2))
        reg.transition(f"{name}/{v1}", "staging")
        assert client.get_model_version(name, v1).current_stage == "Staging"
        for version in (v1, v2):
            reg.approve(f"{name}/{version}")
            reg.transition(f"{name}/{version}", "production")
        assert client.get_model_version(name, v1).current_stage == "Archived"
        assert client.get_model_version(name, v2).current_stage == "Production"
        pointers = client.get_registered_model(name).aliases  # the pointer is an alias still
        assert {k: str(v) for k, v in pointers.items()} == {"production": v2}
        assert reg.resolve(f"{name}@production").version == v2
        assert reg.rollback(name).version == v1
        assert client.get_model_version(name, v1).current_stage == "Production"

        before = reg.history(f"{name}/{v2}")
        with pytest.raises(mp.InvalidInputError, match="legacy"):
            reg.transition(f"{name}/{v2}", "shadow-eu")
        assert reg.history(f"{name}/{v2}") == before


# -- normalisation and bad input -----------------------------------------------------


@pytest.mark.parametrize("where", ["sqlite", "server"])
def test_versions_are_strings_whatever_mlflow_returns(
    where: str, request: pytest.FixtureRequest, name: str, model_dir: Path
) -> None:
    reg = (
        _server_registry(request.getfixturevalue("mlflow_server"))
        if where == "server"
        else mp.connect(request.getfixturevalue("url"), retry=FAST_RETRY)
    )
    mv = reg.register(name, model_dir)
    raw_type = type(_client(reg).get_model_version(name, "1").version)
    assert raw_type is (int if where == "sqlite" else str)  # MLflow's own difference
    assert mv.version == "1"
    assert [v.version for v in reg.versions(name)] == ["1"]
    assert reg.resolve(f"{name}@latest").version == "1"
    with pytest.raises(mp.VersionNotFoundError):
        reg.resolve(f"{name}/one")
    reg.close()


@pytest.mark.parametrize("stage", ["v3", "v12"])  # "latest" cannot even be declared
def test_stage_names_mlflow_reserves_are_refused_before_any_write(
    registry: mp.Registry, name: str, model_dir: Path, stage: str
) -> None:
    mv = registry.register(name, model_dir)
    before = _client(registry).get_model_version(name, mv.version).tags
    policy = mp.Policy(custom_stages=frozenset({stage}))
    declaring = mp.Registry(registry.backend, policy=policy, retry=FAST_RETRY)
    with pytest.raises(mp.InvalidInputError, match="reserved"):
        declaring.transition(mv.ref, stage)
    assert _client(registry).get_model_version(name, mv.version).tags == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("alias_stages=production", "url"),
        ("stage_mode=stages", "stage_mode"),
        ("page_size=0", "page_size"),
        ("colour=blue", "url"),
    ],
)
def test_bad_urls_are_refused_naming_the_option(url: str, query: str, field: str) -> None:
    with pytest.raises(mp.InvalidURLError) as caught:
        mp.connect(f"{url}?{query}")
    assert caught.value.field == field


def test_credentials_in_the_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(mp.InvalidURLError) as caught:
        mp.connect("mlflow+https://alice:s3cret@mlflow.example")
    assert "s3cret" not in str(caught.value)
    assert "MLFLOW_TRACKING_USERNAME" in str(caught.value)


def test_keys_mlflow_would_refuse_are_refused_before_any_write(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    with pytest.raises(mp.InvalidInputError, match="MLflow") as caught:
        registry.register(name, model_dir, metrics={"eval//f1": 0.5})
    assert caught.value.field == "metrics"
    assert list(registry.models()) == []


def test_sqlite_paths_are_made_absolute_and_artifacts_kept_beside_the_db(
    db: Path, name: str, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(db.parent)
    with mp.connect("mlflow+sqlite:///mlflow.db") as reg:
        mv = reg.register(name, model_dir)
        assert mv.artifact_uri.startswith((db.parent / "mlartifacts").as_uri())
    monkeypatch.chdir(model_dir)
    with mp.connect(f"mlflow+sqlite:///{db}") as again:
        assert again.resolve(mv.ref).digest == mv.digest


def test_mlflow_url_means_mlflows_own_default(
    db: Path, name: str, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    monkeypatch.chdir(db.parent)  # MLflow's default artifact root is ./mlruns
    with mp.connect("mlflow://") as reg:
        mv = reg.register(name, model_dir)
    assert str(MlflowClient(f"sqlite:///{db}").get_model_version(name, mv.version).version) == "1"


# -- tags ----------------------------------------------------------------------------


def test_long_lineage_is_split_over_tags_and_read_back_whole(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    datasets = tuple(
        mp.DatasetRef(uri=f"s3://data/part-{i:04d}.parquet", digest=f"sha256:{i:064x}")
        for i in range(120)
    )
    mv = registry.register(name, model_dir, lineage=mp.Lineage(datasets=datasets))
    assert registry.lineage(mv.ref).datasets == datasets
    tags = _client(registry).get_model_version(name, mv.version).tags
    pieces = [k for k in tags if k.startswith(T.RECORD)]
    assert len(pieces) > 1
    assert all(len(value) <= T.CHUNK for value in tags.values())


def test_a_retried_register_returns_the_first_version(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir, idempotency_key="job-7 attempt's key")
    again = registry.register(name, model_dir, idempotency_key="job-7 attempt's key")
    assert again.version == first.version
    assert len(_client(registry).search_model_versions(f"name='{name}'")) == 1


def test_register_uri_keeps_the_run_and_lineage_of_a_run(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir)
    run_id = first.lineage.run
    assert run_id is not None
    client = _client(registry)
    client.log_artifacts(run_id, str(model_dir), "extra")
    mv = registry.register(name, f"runs:/{run_id}/extra")
    assert mv.lineage.run == run_id
    assert mv.digest == first.digest
    assert client.get_model_version(name, mv.version).run_id == run_id


# -- HTTP: one retry layer, credentials still MLflow's ---------------------------------


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """Answers every request with 503 and remembers what it was sent."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "down for a bit"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_server() -> Iterator[str]:
    _Unavailable.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_mlflow_does_not_retry_under_modelport_and_credentials_still_flow(
    unavailable_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    quick_acks: list[socket.socket | None] = []
    real_quickack = transport._quickack

    def counted(sock: socket.socket | None) -> None:
        quick_acks.append(sock)
        real_quickack(sock)

    monkeypatch.setattr(transport, "_quickack", counted)
    retry = mp.RetryPolicy(attempts=3, initial_wait=0, max_wait=0)
    with (
        mp.connect(f"mlflow+http://{unavailable_server}", retry=retry) as reg,
        pytest.raises(mp.TransientBackendError, match="down for a bit"),
    ):
        reg.resolve("fraud@production")
    assert len(_Unavailable.seen) == 3  # the facade's attempts only, none of MLflow's
    if transport.QUICKACK is not None:  # Linux: each response was read with a quick ACK
        assert len(quick_acks) == 3
    expected = "Basic " + base64.b64encode(b"alice:pw").decode()
    assert {h.get("Authorization") for h in _Unavailable.seen} == {expected}

    _Unavailable.seen = []
    with pytest.raises(Exception, match=r"503|TEMPORARILY_UNAVAILABLE|too many"):
        MlflowClient(f"http://{unavailable_server}").get_registered_model("fraud")
    assert len(_Unavailable.seen) == 3  # the user's own MLflow client keeps its retries


def test_a_server_that_is_down_is_a_transient_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.backends.mlflow_fixtures import free_port

    retry = mp.RetryPolicy(attempts=2, initial_wait=0, max_wait=0)
    with (
        mp.connect(f"mlflow+http://127.0.0.1:{free_port()}", retry=retry) as reg,
        pytest.raises(mp.TransientBackendError),
    ):
        reg.resolve("fraud/1")


def _dead_pid() -> int:
    """The PID of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_a_register_fails_the_runs_a_killed_register_left_running(
    registry: mp.Registry, model_dir: Path
) -> None:
    registry.register("reclaim", model_dir)  # the experiment exists from here on
    client = _client(registry)
    (experiment,) = [e for e in client.search_experiments() if e.name == "reclaim"]
    host = socket.gethostname()
    killed = client.create_run(
        experiment.experiment_id, tags={PROCESS_TAG: f"{host}:{_dead_pid()}"}
    ).info.run_id
    alive = client.create_run(
        experiment.experiment_id, tags={PROCESS_TAG: f"{host}:{os.getpid()}"}
    ).info.run_id
    elsewhere = client.create_run(
        experiment.experiment_id, tags={PROCESS_TAG: f"another-{host}:{_dead_pid()}"}
    ).info.run_id

    registry.register("reclaim", model_dir)

    status = {run: client.get_run(run).info.status for run in (killed, alive, elsewhere)}
    assert status == {killed: "FAILED", alive: "RUNNING", elsewhere: "RUNNING"}
