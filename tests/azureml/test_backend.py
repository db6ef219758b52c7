"""azureml:// on the rig: modelport's own round trip, versions made with a plain MLClient,
what modelport writes as the MLClient sees it, bad input and faults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import Model

import modelport as mp
from modelport.testing.azureml import AzureMLService, BlobProxy, Fault

NAME = "fraud"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"weights-1")
    (folder / "conf").mkdir()
    (folder / "conf" / "params.json").write_text('{"depth": 3}')
    return folder


def test_register_promote_and_download_round_trip(
    registry: mp.Registry, artifact: Path, tmp_path: Path
) -> None:
    first = registry.register(NAME, artifact, metrics={"auc": 0.9}, tags={"team": "risk"})
    second = registry.register(NAME, artifact, description="retrained")
    registry.approve(f"{NAME}/{second.version}")
    registry.transition(f"{NAME}/{second.version}", "production")

    resolved = registry.resolve(f"{NAME}@production")
    fetched = registry.download(f"{NAME}@production", tmp_path / "out")

    assert (first.version, second.version) == ("1", "2")
    assert (resolved.version, resolved.stage, resolved.approval) == (
        "2",
        "production",
        mp.Approval.APPROVED,
    )
    assert resolved.description == "retrained"
    assert registry.resolve(f"{NAME}/1").metrics == {"auc": 0.9}
    assert (fetched / "conf" / "params.json").read_text() == '{"depth": 3}'
    assert registry.history(f"{NAME}/2")[0].kind is mp.EventKind.REGISTERED


def test_a_version_made_with_a_plain_mlclient_resolves(registry: mp.Registry, ml: Any) -> None:
    ml.models.create_or_update(
        Model(
            name=NAME,
            version="1",
            path="azureml://datastores/workspaceblobstore/paths/elsewhere/model.pkl",
            tags={"team": "risk"},
            stage="Production",
            description="trained by a pipeline",
        )
    )

    mv = registry.resolve(f"{NAME}/1")
    history = registry.history(f"{NAME}/1")

    assert (mv.stage, mv.approval, mv.digest) == ("production", mp.Approval.PENDING, None)
    assert mv.tags == {"team": "risk"}
    assert mv.description == "trained by a pipeline"
    assert mv.artifact_uri.endswith("/paths/elsewhere/model.pkl")
    assert [e.kind for e in history] == [mp.EventKind.REGISTERED]


def test_a_local_folder_uploaded_by_a_plain_mlclient_downloads(
    rig: AzureMLService,
    registry: mp.Registry,
    ml: Any,
    artifact: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with BlobProxy(rig.azurite_port) as proxy:
        for variable, value in proxy.environment().items():
            monkeypatch.setenv(variable, value)
        ml.models.create_or_update(Model(name=NAME, version="1", path=str(artifact)))

    mv = registry.resolve(f"{NAME}/1")
    fetched = registry.fetch(mv, tmp_path / "out")

    assert "/LocalUpload/" in mv.artifact_uri
    assert (fetched / "weights.bin").read_bytes() == b"weights-1"
    assert (fetched / "conf" / "params.json").read_text() == '{"depth": 3}'


def test_what_modelport_writes_reads_back_through_the_mlclient(
    rig: AzureMLService, registry: mp.Registry, ml: Any, artifact: Path
) -> None:
    registry.register(NAME, artifact, tags={"team": "risk"})
    registry.approve(f"{NAME}/1")
    registry.transition(f"{NAME}/1", "archived")

    plain = ml.models.get(NAME, "1")

    assert plain.stage == "archived"
    assert plain.tags["mp-approval"] == "approved"
    assert plain.path.startswith("azureml://")
    assert plain.properties["mp-format"] == "1"
    scope = rig.scope
    archived = ml.models._model_versions_operation.get(
        scope.resource_group, scope.workspace, NAME, "1"
    )
    assert archived.properties.is_archived is True


def test_a_retried_register_makes_one_version(
    rig: AzureMLService, registry: mp.Registry, artifact: Path
) -> None:
    rig.faults.next(Fault.LOST_ANSWER, method="PUT")

    registered = registry.register(NAME, artifact, idempotency_key="build-42")

    assert registered.version == "1"
    assert [mv.version for mv in registry.versions(NAME)] == ["1"]


def test_transient_faults_are_retried(
    rig: AzureMLService, registry: mp.Registry, artifact: Path
) -> None:
    registry.register(NAME, artifact)
    rig.faults.next(Fault.THROTTLE, times=2)
    rig.faults.next(Fault.UNAVAILABLE)

    assert registry.resolve(f"{NAME}/1").version == "1"


def test_registers_under_30_percent_faults_lose_and_duplicate_nothing(
    rig: AzureMLService, registry: mp.Registry, artifact: Path
) -> None:
    rig.faults.at_rate(Fault.THROTTLE, 0.1, seed=7)
    rig.faults.at_rate(Fault.UNAVAILABLE, 0.1)
    rig.faults.at_rate(Fault.LOST_ANSWER, 0.1)

    made = [registry.register(NAME, artifact, idempotency_key=f"build-{n}") for n in range(5)]
    registry.approve(made[-1].ref)
    registry.transition(made[-1].ref, "production")
    injected = dict(rig.faults.injected)
    rig.faults.clear()

    assert set(injected) == {Fault.THROTTLE, Fault.UNAVAILABLE, Fault.LOST_ANSWER}

    assert [mv.version for mv in registry.versions(NAME)] == ["1", "2", "3", "4", "5"]
    assert registry.resolve(f"{NAME}@production").version == "5"
    assert [e.kind for e in registry.history(f"{NAME}/5")].count(mp.EventKind.REGISTERED) == 1


def test_listing_pages_through_every_version(registry: mp.Registry, artifact: Path) -> None:
    for _ in range(7):
        registry.register(NAME, artifact)

    assert [mv.version for mv in registry.versions(NAME)] == [str(n) for n in range(1, 8)]
    assert list(registry.models()) == [NAME]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("azureml://not-a-guid/rg/ws", "subscription"),
        ("azureml://00000000-0000-0000-0000-000000000000/rg/w", "workspace"),
        ("azureml://00000000-0000-0000-0000-000000000000/rg", "url"),
        ("azureml://00000000-0000-0000-0000-000000000000/rg/ws1?page_size=0", "page_size"),
    ],
)
def test_bad_urls_are_refused_naming_the_part(url: str, field: str) -> None:
    with pytest.raises(mp.InvalidURLError) as refused:
        mp.connect(url)

    assert refused.value.field == field


def test_a_name_azure_cannot_hold_is_refused_before_any_call(
    rig: AzureMLService, registry: mp.Registry, artifact: Path
) -> None:
    with pytest.raises(mp.InvalidInputError) as refused:
        registry.register("no spaces allowed", artifact)

    assert refused.value.field == "name"
    assert sum(rig.calls.values()) == 0


def test_concurrent_writes_of_one_client_lose_nothing(
    registry: mp.Registry, artifact: Path
) -> None:
    for _ in range(5):
        ref = registry.register(NAME, artifact).ref
        _all_at_once(
            lambda: registry.transition(ref, "staging"),  # noqa: B023 (joined in the loop)
            lambda: registry.approve(ref),  # noqa: B023
            lambda: registry.set_alias(ref, "candidate"),  # noqa: B023
        )

        after = registry.resolve(ref)
        assert (after.stage, after.approval) == ("staging", mp.Approval.APPROVED)
        assert "candidate" in after.aliases


def _all_at_once(*writes: Callable[[], object]) -> None:
    threads = [threading.Thread(target=write) for write in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
