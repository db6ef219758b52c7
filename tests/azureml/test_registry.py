"""azureml://registry/NAME on the rig: versions a plain ``MLClient(registry_name=...)``
made, what modelport writes as that client sees it, refused URLs, and a migration
workspace -> registry -> MLflow (SQLite) -> workspace."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import Model

import modelport as mp
from modelport.cli.app import main
from modelport.migration import diff, migrate
from modelport.testing.azureml import (
    LOCATION,
    REPLICA,
    SUBSCRIPTION,
    AzureMLService,
    BlobProxy,
    Fault,
)
from tests.migration.conftest import populate, snapshot

NAME = "fraud"
FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.001, max_wait=0.01, deadline=20)


@pytest.fixture
def shared(rig: AzureMLService) -> Iterator[mp.Registry]:
    """modelport on the rig's registry."""
    reg = mp.connect(rig.registry_url(page_size="3"), retry=FAST_RETRY)
    yield reg
    reg.close()


@pytest.fixture
def plain(rig: AzureMLService) -> Any:
    """A plain MLClient(registry_name=...) of the rig: what a pipeline or a notebook uses."""
    return rig.registry_client(show_progress=False)


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "conf").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"weights-1")
    (folder / "conf" / "params.json").write_text('{"depth": 3}')
    return folder


@pytest.fixture
def sdk_upload_route(rig: AzureMLService, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The SDK uploads a local folder with a blob client of its own (outside
    ``transport=``): it reaches Azurite through the rig's CONNECT proxy."""
    with BlobProxy(rig.azurite_port) as proxy:
        for key, value in proxy.environment().items():
            monkeypatch.setitem(os.environ, key, value)
        yield


def _files(root: Path) -> dict[str, bytes]:
    """The model's files (not the provenance note ``download`` adds)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != ".modelport.json"
    }


@pytest.mark.usefixtures("sdk_upload_route")
def test_a_version_a_plain_registry_client_uploaded_resolves_and_downloads(
    shared: mp.Registry, plain: Any, artifact: Path, tmp_path: Path
) -> None:
    made = plain.models.create_or_update(
        Model(name=NAME, version="1", path=str(artifact), tags={"team": "risk"})
    )

    mv = shared.resolve(f"{NAME}@latest")
    out = shared.download(mv.ref, tmp_path / "out")

    assert (mv.version, mv.stage, mv.approval, mv.digest) == (
        "1",
        "development",
        mp.Approval.PENDING,
        None,
    )
    assert (mv.tags, mv.artifact_uri) == ({"team": "risk"}, made.path)
    assert (
        mv.native == f"azureml://registries/{plain.models._registry_name}/models/{NAME}/versions/1"
    )
    assert _files(out) == _files(artifact)
    assert [e.kind for e in shared.history(mv.ref)] == [mp.EventKind.REGISTERED]


@pytest.mark.usefixtures("sdk_upload_route")  # the SDK's download: its own blob client
def test_what_modelport_writes_reads_back_through_the_plain_registry_client(
    shared: mp.Registry, plain: Any, artifact: Path, tmp_path: Path
) -> None:
    shared.register(NAME, artifact)
    second = shared.register(NAME, artifact)
    shared.approve(second.ref)
    shared.transition(second.ref, "production")
    shared.transition(f"{NAME}/1", "archived")

    seen = plain.models.get(NAME, "2")
    plain.models.download(NAME, "2", download_path=str(tmp_path / "dl"))

    assert (seen.stage, seen.tags["mp-approval"]) == ("production", "approved")
    assert plain.models.get(NAME, "1").stage == "archived"
    assert [m.version for m in plain.models.list(NAME)] == ["2"]  # archived ones hidden
    (downloaded,) = (tmp_path / "dl" / NAME).iterdir()
    assert _files(downloaded) == _files(artifact)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("azureml://registry/", "registry"),
        ("azureml://registry/ab", "registry"),
        ("azureml://registry/shared/extra", "registry"),
        ("azureml://registry/-shared", "registry"),
        ("azureml://registry/shared?datastore=workspaceblobstore", "datastore"),
        ("azureml://registry/shared?timeout=0", "timeout"),
        ("azureml://registry/shared?page_size=500", "page_size"),
        ("azureml://registry/shared?endpoint=ftp://x", "endpoint"),
        ("azureml://registry/shared?location=West%20Europe", "location"),
        ("azureml://registry/shared?location=cert-x.evil.net/", "location"),
        ("azureml://registry/shared?location=", "location"),
        (f"azureml://{SUBSCRIPTION}/rg/dev-ws?location=westeurope", "location"),
    ],
)
def test_bad_registry_urls_are_refused_naming_the_field(url: str, field: str) -> None:
    with pytest.raises(mp.InvalidURLError) as refused:
        mp.connect(url)
    assert refused.value.field == field


def test_a_registry_takes_local_artifacts_only(shared: mp.Registry, rig: AzureMLService) -> None:
    with pytest.raises(mp.UnsupportedOperation):
        shared.register(NAME, "azureml://datastores/workspaceblobstore/paths/model")
    assert rig.calls == {}  # refused before any call


def test_workspace_registry_mlflow_workspace_keeps_records_and_digests(
    rig: AzureMLService, registry: mp.Registry, shared: mp.Registry, tmp_path: Path
) -> None:
    models = {"fraud": 4}  # two production holders in turn: one archived, one rejected
    populate(registry, tmp_path / "artifacts", models)
    names = list(models)
    before = snapshot(registry, names)
    mlflow = mp.connect(f"mlflow+sqlite:///{tmp_path / 'mlflow.db'}", retry=FAST_RETRY)
    try:
        for src, dst in ((registry, shared), (shared, mlflow)):
            assert migrate(src, dst, models=names, workers=2).ok
            assert diff(src, dst, models=names).ok
            assert snapshot(dst, names) == before
        rig.reset()  # the workspace (and the registry) empty again: the copy comes home
        back = mp.connect(rig.url(), retry=FAST_RETRY)
        assert migrate(mlflow, back, models=names, workers=2).ok
        assert snapshot(back, names) == before
    finally:
        mlflow.close()


def test_the_cli_promotes_a_workspace_into_the_registry(
    rig: AzureMLService, registry: mp.Registry, shared: mp.Registry, artifact: Path
) -> None:
    registry.register(NAME, artifact, metrics={"auc": 0.9})
    out, err = io.StringIO(), io.StringIO()

    code = main(
        ["--json", "migrate", "--from", rig.url(), "--to", rig.registry_url()],
        stdout=out,
        stderr=err,
    )

    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["counts"]["created"] == 1
    assert shared.resolve(f"{NAME}/1").neutral() == registry.resolve(f"{NAME}/1").neutral()


def test_transient_faults_on_the_data_plane_lose_and_duplicate_nothing(
    rig: AzureMLService, artifact: Path
) -> None:
    retry = mp.RetryPolicy(attempts=30, initial_wait=0.001, max_wait=0.01, deadline=60)
    reg = mp.connect(rig.registry_url(), retry=retry)
    for fault in (Fault.THROTTLE, Fault.UNAVAILABLE, Fault.LOST_ANSWER):
        rig.faults.at_rate(fault, 0.1, seed=11)
    try:
        made = [reg.register(NAME, artifact, idempotency_key=f"k{i}") for i in range(3)]
        injected = sum(rig.faults.injected.values())
    finally:
        rig.faults.clear()
        reg.close()

    assert injected > 0
    assert [mv.version for mv in made] == ["1", "2", "3"]
    again = mp.connect(rig.registry_url(), retry=retry)
    assert [mv.version for mv in again.versions(NAME)] == ["1", "2", "3"]
    assert {mv.digest for mv in made} == {again.resolve(f"{NAME}/1").digest}
    again.close()


def test_location_sends_every_data_plane_call_to_that_replica(
    rig: AzureMLService, artifact: Path, tmp_path: Path
) -> None:
    replica = mp.connect(rig.registry_url(location=REPLICA, page_size="1"), retry=FAST_RETRY)
    first = replica.register(NAME, artifact)
    second = replica.register(NAME, artifact)
    replica.approve(second.ref)
    replica.transition(second.ref, "production")
    listed = [mv.version for mv in replica.versions(NAME)]  # paged: nextLink stays there
    replica.download(first.ref, tmp_path / "out")
    replica.close()

    assert rig.calls["registry.discovery"] == 1
    assert set(rig.region_calls) == {REPLICA}, rig.region_calls
    assert listed == ["1", "2"]
    assert _files(tmp_path / "out") == _files(artifact)
    primary = mp.connect(rig.registry_url(), retry=FAST_RETRY)
    assert primary.resolve(f"{NAME}@production").neutral() == replica.resolve(second.ref).neutral()
    assert set(rig.region_calls) == {REPLICA, LOCATION}  # no location: the primary's
    primary.close()


def test_a_location_the_registry_is_not_in_is_refused_naming_it(rig: AzureMLService) -> None:
    reg = mp.connect(rig.registry_url(location="northeurope"), retry=FAST_RETRY)
    with pytest.raises(mp.InvalidInputError) as refused:
        list(reg.versions(NAME))

    assert refused.value.field == "location"
    assert all(region in str(refused.value) for region in ("northeurope", LOCATION, REPLICA))
    assert rig.calls == {"registry.discovery": 1}  # no data-plane call


def test_upload_storage_a_killed_register_left_is_taken_by_the_next_one(
    rig: AzureMLService, shared: mp.Registry, artifact: Path
) -> None:
    backend: Any = shared.backend
    assert backend._registry().upload_sas(NAME, "1") is not None  # as if killed after it
    assert rig.unclaimed_uploads(NAME) == ["1"]

    mv = shared.register(NAME, artifact)

    assert mv.version == "1"
    assert rig.unclaimed_uploads(NAME) == []
