"""Neutral <-> SageMaker translation: pure functions, checked against botocore's own model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest

import modelport as mp
from modelport.backends.sagemaker import metadata, translate
from modelport.models import VersionDraft
from modelport.testing.sagemaker import ShapeChecker
from tests.sagemaker.conftest import noise

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/3"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def checker() -> ShapeChecker:
    return ShapeChecker(botocore.session.get_session().get_service_model("sagemaker"))


def _problems(checker: ShapeChecker, operation: str, request: dict[str, Any]) -> list[str]:
    shape = checker.model.operation_model(operation).input_shape
    return checker.problems(request, shape)


def _draft(**fields: Any) -> VersionDraft:
    event = mp.Event(kind=mp.EventKind.REGISTERED, name="fraud", version="", to="development")
    values: dict[str, Any] = {
        "name": "fraud",
        "source": "/tmp/model",
        "source_is_local": True,
        "digest": "sha256:" + "ab" * 32,
        "history": (event,),
        "idempotency_key": "key-1",
    }
    return VersionDraft(**(values | fields))


def _created(request: dict[str, Any], version: int = 3) -> dict[str, Any]:
    """What DescribeModelPackage would answer for a package created with ``request``."""
    package = {k: v for k, v in request.items() if k not in ("ClientToken",)}
    return package | {
        "ModelPackageVersion": version,
        "ModelPackageArn": ARN,
        "CreationTime": CREATED,
        "LastModifiedTime": CREATED,
        "ModelPackageStatus": "Completed",
    }


def _request(draft: VersionDraft) -> dict[str, Any]:
    return translate.create_request(
        draft, image="img:1", artifact_uri="s3://b/k/model.tar.gz", token="t-1"
    )


# -- stages and approval -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("neutral", "native"),
    [
        ("development", "Development"),
        ("staging", "Staging"),
        ("production", "Production"),
        ("archived", "Archived"),
        ("shadow-eu", "shadow-eu"),
    ],
)
def test_stages_map_to_model_life_cycle_and_back(neutral: str, native: str) -> None:
    cycle = translate.life_cycle(neutral, "why\nnot")
    assert cycle == {"Stage": native, "StageStatus": "Active", "StageDescription": "why not"}
    assert translate.stage_of({"ModelLifeCycle": cycle}) == neutral


@pytest.mark.parametrize(
    ("approval", "native"),
    [
        (mp.Approval.PENDING, "PendingManualApproval"),
        (mp.Approval.APPROVED, "Approved"),
        (mp.Approval.REJECTED, "Rejected"),
    ],
)
def test_approval_maps_to_model_approval_status_and_back(
    approval: mp.Approval, native: str
) -> None:
    assert translate.APPROVAL_TO_NATIVE[approval] == native
    assert translate.approval_of({"ModelApprovalStatus": native}) is approval


@pytest.mark.parametrize(
    ("package", "stage"),
    [
        ({"ModelApprovalStatus": "Approved"}, "production"),
        ({"ModelApprovalStatus": "Rejected"}, "archived"),
        ({"ModelApprovalStatus": "PendingManualApproval"}, "development"),
        ({}, "development"),
        ({"ModelApprovalStatus": "Approved", "ModelLifeCycle": {"Stage": "QA"}}, "qa"),
        ({"ModelApprovalStatus": "Approved", "ModelLifeCycle": {"Stage": "Staging"}}, "staging"),
        # not a neutral stage (starts with a digit, too long): fall back to the approval
        ({"ModelApprovalStatus": "Rejected", "ModelLifeCycle": {"Stage": "2nd"}}, "archived"),
        ({"ModelLifeCycle": {"Stage": "x" * 40}}, "development"),
    ],
)
def test_foreign_stage_comes_from_life_cycle_else_from_approval(
    package: dict[str, Any], stage: str
) -> None:
    assert translate.stage_of(package) == stage


@pytest.mark.parametrize("stage", ["shadow-", "a--"])
def test_stages_sagemaker_cannot_hold_are_refused(stage: str) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        translate.check_stage(stage)
    assert caught.value.field == "stage"


def test_custom_stages_sagemaker_can_hold_pass() -> None:
    for stage in ("shadow-eu", "canary", "a-b-c", "x" * 31):
        translate.check_stage(stage)


# -- checks of a draft ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["my_model", "my.model", "-model", "model-", "m" * 64, "a__b"])
def test_group_names_outside_sagemakers_pattern_are_refused(name: str) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        translate.check_draft(_draft(name=name), image="img", bucket="b")
    assert caught.value.field == "name"
    assert "Model Package Group" in str(caught.value)


def test_group_names_inside_the_pattern_pass() -> None:
    for name in ("a", "fraud-v2", "A--b", "m" * 63):
        translate.check_draft(_draft(name=name), image="img", bucket="b")


@pytest.mark.parametrize(
    ("fields", "image", "bucket", "field"),
    [
        ({}, None, "b", "image"),
        ({}, "img", None, "bucket"),
        ({"source": "gs://b/model", "source_is_local": False}, "img", None, "source"),
        ({"description": "d" * 1025}, "img", "b", "description"),
        ({"lineage": mp.Lineage(code=mp.CodeRef(commit="c" * 1025))}, "img", "b", "lineage"),
        ({"params": {f"p{i}": noise(4000 + i) for i in range(5)}}, "img", "b", "params"),
        (
            {"tags": {f"t{i}": noise(4000 + i) for i in range(4)}, "params": {"p": "1"}},
            "img",
            "b",
            "tags",
        ),
    ],
)
def test_drafts_sagemaker_would_refuse_fail_naming_the_field(
    fields: dict[str, Any], image: str | None, bucket: str | None, field: str
) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        translate.check_draft(_draft(**fields), image=image, bucket=bucket)
    assert caught.value.field == field


def test_an_s3_uri_needs_no_bucket() -> None:
    draft = _draft(source="s3://data/model.tar.gz", source_is_local=False)
    translate.check_draft(draft, image="img", bucket=None)


# -- create and update requests ---------------------------------------------------------------


def test_create_request_satisfies_the_service_model(checker: ShapeChecker) -> None:
    lineage = mp.Lineage(
        run="arn:aws:sagemaker:us-east-1:123456789012:training-job/train-7",
        code=mp.CodeRef(repo="https://git.example/fraud.git", commit="a" * 40),
        datasets=(mp.DatasetRef(uri="s3://data/train.parquet"),),
    )
    draft = _draft(
        metrics={"f1": 0.81},
        params={"depth": "6"},
        tags={"note": "ünïcødé ✓ {json}"},
        description="line one\nline two\ttabbed",
        lineage=lineage,
    )
    request = _request(draft)
    assert _problems(checker, "CreateModelPackage", request) == []
    assert request["ModelPackageDescription"] == "line one line two tabbed"
    assert request["MetadataProperties"] == {
        "Repository": "https://git.example/fraud.git",
        "CommitId": "a" * 40,
        "GeneratedBy": "arn:aws:sagemaker:us-east-1:123456789012:training-job/train-7",
    }
    assert request["ModelLifeCycle"]["Stage"] == "Development"
    assert request["ModelApprovalStatus"] == "PendingManualApproval"


def test_a_run_that_is_not_a_sagemaker_arn_stays_out_of_generated_by() -> None:
    request = _request(_draft(lineage=mp.Lineage(run="mlflow-run-123")))
    assert "MetadataProperties" not in request


def test_the_record_reads_back_exactly(checker: ShapeChecker) -> None:
    draft = _draft(
        metrics={"f1": 0.81, "auc": 1e-9},
        params={"p": "x" * 3000},  # spread over many keys
        tags={"team": "fraud", "emoji": "✓"},
        description="exact\ntext",
        lineage=mp.Lineage(parents=(mp.VersionRef(name="base", version="2"),)),
    )
    request = _request(draft)
    assert _problems(checker, "CreateModelPackage", request) == []
    mv = translate.version_from_package(_created(request), registry="sagemaker://us-east-1")
    assert (mv.name, mv.version, mv.native) == ("fraud", "3", ARN)
    assert (mv.metrics, mv.params, mv.tags) == (draft.metrics, draft.params, draft.tags)
    assert (mv.description, mv.lineage, mv.digest) == (
        draft.description,
        draft.lineage,
        draft.digest,
    )
    assert mv.artifact_uri == "s3://b/k/model.tar.gz"
    assert (mv.stage, mv.approval) == ("development", mp.Approval.PENDING)


def test_update_re_sends_stage_and_metadata_and_approval_only_when_it_changes(
    checker: ShapeChecker,
) -> None:
    package = _created(_request(_draft()))
    event = mp.Event(
        kind=mp.EventKind.TRANSITIONED,
        name="fraud",
        version="3",
        from_="development",
        to="staging",
        reason="smoke",
        actor="ci",
    )
    request = translate.update_request(
        package, stage="staging", approval=None, event=event, name="fraud", version="3"
    )
    assert _problems(checker, "UpdateModelPackage", request) == []
    assert request["ModelLifeCycle"] == {
        "Stage": "Staging",
        "StageStatus": "Active",
        "StageDescription": "smoke",
    }
    assert "ModelApprovalStatus" not in request
    assert set(package["CustomerMetadataProperties"]) <= set(request["CustomerMetadataProperties"])
    approval_event = event.model_copy(update={"kind": mp.EventKind.APPROVED, "reason": "QA"})
    approving = translate.update_request(
        package,
        stage=None,
        approval=mp.Approval.APPROVED,
        event=approval_event,
        name="fraud",
        version="3",
    )
    assert approving["ModelApprovalStatus"] == "Approved"
    assert approving["ApprovalDescription"] == "QA"
    assert approving["ModelLifeCycle"] == package["ModelLifeCycle"]  # re-sent as it was


def test_an_update_retried_after_its_answer_was_lost_records_the_event_once() -> None:
    package = _created(_request(_draft()))
    event = mp.Event(kind=mp.EventKind.TRANSITIONED, name="fraud", version="3", to="staging")
    first = translate.update_request(
        package, stage="staging", approval=None, event=event, name="fraud", version="3"
    )
    applied = package | {"CustomerMetadataProperties": first["CustomerMetadataProperties"]}
    again = translate.update_request(
        applied, stage="staging", approval=None, event=event, name="fraud", version="3"
    )
    events = translate.read_history(
        applied | {"CustomerMetadataProperties": again["CustomerMetadataProperties"]}, "fraud", "3"
    )
    assert [e.kind for e in events] == [mp.EventKind.REGISTERED, mp.EventKind.TRANSITIONED]


# -- the metadata budget ------------------------------------------------------------------------


def test_spread_values_fit_sagemakers_limits_and_alphabet(checker: ShapeChecker) -> None:
    text = metadata.encode({"blob": 'ü{}"[],\n' + noise(2000)})
    spread = metadata.spread("modelport.r.", text)
    assert len(spread) > 1
    assert all(1 <= len(v) <= metadata.VALUE_CHARS for v in spread.values())
    shape = checker.model.shape_for("CustomerMetadataMap")
    assert checker.problems(spread, shape) == []
    assert metadata.gather(spread, "modelport.r.") == text


def test_a_long_history_is_compacted_into_the_keys_left() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    events = [
        mp.Event(
            kind=mp.EventKind.TRANSITIONED,
            name="m",
            version="1",
            to=f"stage-{i}",
            reason=f"unique reason number {i} " + "x" * (i % 50),
            at=start + timedelta(seconds=i),
        )
        for i in range(3000)
    ]
    spread = metadata.events_properties(events, budget=10)
    assert len(spread) <= 10
    kept = metadata.read_events(spread, "m", "1")
    assert kept is not None
    assert kept[0] == events[0]
    assert kept[-1] == events[-1]
    assert metadata.dropped_events(spread) == len(events) - len(kept) > 0


def test_a_package_with_hand_edited_modelport_keys_is_reported_not_misread() -> None:
    package = _created(_request(_draft()))
    package["CustomerMetadataProperties"]["modelport.r.0"] = "not base64!"
    with pytest.raises(metadata.CorruptMetadataError):
        translate.version_from_package(package, registry="")
