"""Neutral <-> SageMaker translation, pointer tags and the S3 event layout: pure functions,
checked against botocore's own model."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import botocore.session
import pytest

import modelport as mp
from modelport.backends.kit import event_keys
from modelport.backends.kit.codec import CorruptMetadataError
from modelport.backends.sagemaker import metadata, pointers, translate
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
    for foreign in (True, False):
        assert translate.stage_of({"ModelLifeCycle": cycle}, foreign=foreign) == neutral


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
    assert translate.stage_of(package, foreign=True) == stage
    assert stage in translate.possible_stages(package)


@pytest.mark.parametrize("status", ["Approved", "Rejected", "PendingManualApproval"])
def test_a_modelport_package_without_life_cycle_is_in_development(status: str) -> None:
    """A service that keeps no ModelLifeCycle (moto): no convention applies to our own."""
    package = {
        "ModelApprovalStatus": status,
        "CustomerMetadataProperties": {"modelport.format": "2"},
    }
    assert translate.stage_of(package, foreign=translate.is_foreign(package)) == "development"
    assert "development" in translate.possible_stages(package)


@pytest.mark.parametrize(
    ("package", "holds"),
    [
        ({"ModelApprovalStatus": "Approved"}, True),
        ({"ModelApprovalStatus": "Approved", "ModelLifeCycle": {"Stage": "Production"}}, True),
        ({"ModelApprovalStatus": "Approved", "ModelLifeCycle": {"Stage": "Staging"}}, False),
        ({"ModelApprovalStatus": "PendingManualApproval"}, False),
        (
            {
                "ModelApprovalStatus": "Approved",
                "CustomerMetadataProperties": {"modelport.format": "2"},
            },
            False,
        ),
    ],
)
def test_only_approved_foreign_packages_reading_production_follow_the_convention(
    package: dict[str, Any], holds: bool
) -> None:
    assert translate.production_by_convention(package) is holds


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
        ({"source": "s3://data/model.tar.gz", "source_is_local": False}, "img", None, "bucket"),
        ({"source": "gs://b/model", "source_is_local": False}, "img", "b", "source"),
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


def test_an_s3_uri_is_registered_as_it_is() -> None:
    draft = _draft(source="s3://data/model.tar.gz", source_is_local=False)
    translate.check_draft(draft, image="img", bucket="b")


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


def test_the_create_request_holds_the_record_and_no_history() -> None:
    properties = _request(_draft())["CustomerMetadataProperties"]
    assert properties[metadata.FORMAT_KEY] == "2"
    assert properties[metadata.TOKEN_KEY] == "t-1"
    assert all(key.startswith("modelport.") for key in properties)
    assert not [key for key in properties if key.startswith("modelport.e.")]


def test_a_stage_update_carries_the_stage_only(checker: ShapeChecker) -> None:
    request = translate.stage_request(ARN, "staging", "smoke\ntests")
    assert _problems(checker, "UpdateModelPackage", request) == []
    assert request == {
        "ModelPackageArn": ARN,
        "ModelLifeCycle": {
            "Stage": "Staging",
            "StageStatus": "Active",
            "StageDescription": "smoke tests",
        },
    }


def test_an_approval_update_carries_the_approval_and_the_immutable_keys_only(
    checker: ShapeChecker,
) -> None:
    package = _created(_request(_draft()))
    package["CustomerMetadataProperties"]["team"] = "risk"  # someone else's: mutable
    immutable = metadata.immutable(package["CustomerMetadataProperties"])
    request = translate.approval_request(ARN, mp.Approval.APPROVED, "QA", immutable)
    assert _problems(checker, "UpdateModelPackage", request) == []
    assert set(request) == {
        "ModelPackageArn",
        "ModelApprovalStatus",
        "ApprovalDescription",
        "CustomerMetadataProperties",
    }
    assert request["ModelApprovalStatus"] == "Approved"
    assert request["CustomerMetadataProperties"] == _request(_draft())["CustomerMetadataProperties"]
    foreign = translate.approval_request(ARN, mp.Approval.REJECTED, None, {})
    assert foreign == {"ModelPackageArn": ARN, "ModelApprovalStatus": "Rejected"}


def test_a_foreign_package_reads_one_registration_every_client_derives_alike() -> None:
    package = {
        "ModelPackageGroupName": "fraud",
        "ModelPackageVersion": 3,
        "ModelPackageArn": ARN,
        "CreationTime": CREATED,
        "CreatedBy": {"UserProfileName": "pipeline"},
    }
    first, again = (translate.foreign_registration(package) for _ in range(2))
    assert first == again
    assert (first.kind, first.version, first.at, first.actor) == (
        mp.EventKind.REGISTERED,
        "3",
        CREATED,
        "pipeline",
    )


# -- pointer tags ---------------------------------------------------------------------------


def test_pointer_tags_satisfy_the_service_model_and_read_back(checker: ShapeChecker) -> None:
    group = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fraud"
    request = {"ResourceArn": group, "Tags": [pointers.tag("production", "12")]}
    assert _problems(checker, "AddTags", request) == []
    tags = [
        {"Key": "team", "Value": "risk"},  # someone else's tag
        pointers.tag("production", "3"),
        pointers.tag("staging", "4"),
        {"Key": "modelport:pointer:odd", "Value": "not-a-version"},
        pointers.tag("production", "5"),  # moto appends instead of upserting: the last wins
    ]
    assert pointers.from_tags(tags) == {"production": "5", "staging": "4"}


def test_a_pointer_no_tag_key_can_carry_is_refused() -> None:
    pointers.check_pointer("champion-eu")
    for bad in ("x" * 120, "a{b}"):
        with pytest.raises(mp.InvalidInputError) as caught:
            pointers.check_pointer(bad)
        assert caught.value.field == "alias"


@pytest.mark.parametrize(
    ("group_arn", "package_arn"),
    [
        (
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fraud",
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/7",
        ),
        (  # moto keeps the case in group ARNs, and lower-cases it in package ARNs
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/Fraud-EU",
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-eu/7",
        ),
    ],
)
def test_a_package_arn_is_derived_from_its_group_arn(group_arn: str, package_arn: str) -> None:
    assert pointers.package_arn(group_arn, "7") == package_arn


# -- events in S3 -----------------------------------------------------------------------------


def _transition(**fields: Any) -> mp.Event:
    values: dict[str, Any] = {
        "kind": mp.EventKind.TRANSITIONED,
        "name": "fraud",
        "version": "3",
        "from_": "staging",
        "to": "production",
        "actor": "ci",
        "reason": "release ~7",
        "at": CREATED,
    }
    return mp.Event(**(values | fields))


def test_an_event_object_reads_back_exactly() -> None:
    event = _transition(rolled_back="2")
    assert event_keys.decode_event(event_keys.encode_event(event), "fraud", "3") == event
    with pytest.raises(CorruptMetadataError):
        event_keys.decode_event(b"{not json", "fraud", "3")


def test_a_transition_is_indexed_under_both_stages_and_reads_back_from_the_key() -> None:
    root = event_keys.model_root("/models/", "fraud")
    assert root == "models/fraud/.modelport"
    event = _transition(rolled_back="2")
    keys = event_keys.stage_keys(root, event)
    assert [key.split("/")[4] for key in keys] == ["staging", "production"]
    for key in keys:
        entry = event_keys.stage_entry("fraud", key.rsplit("/", 1)[1])
        assert entry == event.model_copy(update={"actor": None, "reason": None})
    first = _transition(from_=None, rolled_back=None)
    (key,) = event_keys.stage_keys(root, first)
    assert key.rsplit("/", 1)[1].endswith("~3~-~production~-")
    assert event_keys.stage_keys(root, _transition(kind=mp.EventKind.APPROVED)) == []


def test_stage_entries_sort_by_time_and_odd_keys_are_skipped() -> None:
    root = event_keys.model_root("p", "fraud")
    times = [CREATED + timedelta(microseconds=n) for n in (10, 9, 1_000_000)]
    keys = [event_keys.stage_keys(root, _transition(at=at))[1] for at in times]
    assert sorted(keys) == [keys[1], keys[0], keys[2]]
    assert event_keys.stage_entry("fraud", "README") is None
    assert event_keys.stage_entry("fraud", "x~y~3~a~b~-") is None


# -- the metadata budget ------------------------------------------------------------------------


def test_record_values_fit_sagemakers_limits_and_alphabet(checker: ShapeChecker) -> None:
    record = {"blob": 'ü{}"[],\n' + noise(2000)}
    properties = metadata.record_properties(record)
    assert len(properties) > 1
    assert all(1 <= len(v) <= 256 for v in properties.values())
    shape = checker.model.shape_for("CustomerMetadataMap")
    assert checker.problems(properties, shape) == []
    assert metadata.read_record(properties) == record


def test_a_package_with_hand_edited_modelport_keys_is_logged_and_read_natively(
    caplog: pytest.LogCaptureFixture,
) -> None:
    package = _created(_request(_draft(description="kept natively")))
    package["CustomerMetadataProperties"]["modelport.r.0"] = "not base64!"
    with pytest.raises(CorruptMetadataError):
        metadata.read_record(package["CustomerMetadataProperties"])
    with caplog.at_level("WARNING", logger="modelport.sagemaker"):
        mv = translate.version_from_package(package, registry="")
    assert "does not decode" in caplog.text
    assert (mv.version, mv.digest, mv.metrics) == ("3", None, {})
    assert mv.description == "kept natively"  # from ModelPackageDescription
