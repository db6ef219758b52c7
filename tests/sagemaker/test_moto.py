"""The SageMaker backend against moto's server, where users' own tests often run: package
ARNs derived the way moto names them, no stage writes where ModelLifeCycle is not kept,
and the record kept although moto's UpdateModelPackage wipes the fields it is not sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.backends.sagemaker.backend import SageMakerBackend
from tests.backends.sagemaker_fixtures import IMAGE, SageMakerMoto, SageMakerRig
from tests.sagemaker.conftest import FAST_RETRY


@pytest.fixture
def moto_registry(sagemaker_moto: SageMakerMoto) -> Iterator[mp.Registry]:
    reg = mp.connect(sagemaker_moto.url(), retry=FAST_RETRY)
    yield reg
    reg.close()


def _updates(reg: mp.Registry) -> tuple[list[dict[str, Any]], Any]:
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    backend = reg.backend
    assert isinstance(backend, SageMakerBackend)
    events = backend._client("sagemaker").meta.events
    events.register("before-parameter-build.sagemaker.UpdateModelPackage", record)
    return sent, record


@pytest.mark.parametrize("served", ["sagemaker_moto", "sagemaker_rig"])
def test_a_mixed_case_model_resolves_by_version_on_moto_and_the_rig(
    served: str, request: pytest.FixtureRequest, model_dir: Path, name: str
) -> None:
    fixture: SageMakerMoto | SageMakerRig = request.getfixturevalue(served)
    reg = mp.connect(fixture.url(), retry=FAST_RETRY)
    mixed = name.replace("tm-", "Tm-Mixed-")
    registered = reg.register(mixed, model_dir)
    assert reg.resolve(f"{mixed}/1").native == registered.native
    assert reg.resolve(f"{mixed}/1").native.endswith(f"/{mixed.lower()}/1")
    with pytest.raises(mp.VersionNotFoundError):
        reg.resolve(f"{mixed}/2")
    reg.close()


def test_moto_keeps_the_record_through_approval_and_no_stage_write_is_sent(
    moto_registry: mp.Registry, sagemaker_moto: SageMakerMoto, model_dir: Path, name: str
) -> None:
    mv = moto_registry.register(name, model_dir, metrics={"f1": 0.8}, tags={"team": "risk"})
    sent, _ = _updates(moto_registry)
    moto_registry.approve(mv.ref, reason="QA passed")
    promoted = moto_registry.transition(mv.ref, "production", reason="release")
    assert [set(update) for update in sent] == [
        {
            "ModelPackageArn",
            "ModelApprovalStatus",
            "ApprovalDescription",
            "CustomerMetadataProperties",
        }
    ]
    assert (promoted.stage, promoted.approval) == ("production", mp.Approval.APPROVED)
    again = mp.connect(sagemaker_moto.url(), retry=FAST_RETRY).resolve(f"{name}@production")
    assert (again.metrics, again.tags, again.digest) == (mv.metrics, mv.tags, mv.digest)
    kinds = [e.kind.value for e in moto_registry.history(mv.ref)]
    assert kinds == ["registered", "approved", "transitioned"]


def test_moto_reads_a_pipelines_newest_approved_package_as_production(
    moto_registry: mp.Registry, sagemaker_moto: SageMakerMoto, name: str
) -> None:
    sm = sagemaker_moto.sagemaker()
    sm.create_model_package_group(ModelPackageGroupName=name)
    spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"}]}
    for status in ("Approved", "Approved", "PendingManualApproval"):
        sm.create_model_package(
            ModelPackageGroupName=name, InferenceSpecification=spec, ModelApprovalStatus=status
        )
    assert moto_registry.resolve(f"{name}@production").version == "2"
    assert moto_registry.resolve(f"{name}/2").stage == "production"
    assert moto_registry.resolve(f"{name}/1").stage == "archived"  # replaced by 2
    assert moto_registry.resolve(f"{name}/3").stage == "development"
