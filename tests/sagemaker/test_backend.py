"""The SageMaker backend against the offline rig: what lands in SageMaker's own fields, in
group tags and in S3, what each write sends, packages other tools created, input refused
before any call, and paging."""

from __future__ import annotations

import io
import json
import random
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.backends.sagemaker.backend import SageMakerBackend
from tests.backends.sagemaker_fixtures import IMAGE, SageMakerRig
from tests.sagemaker.conftest import FAST_RETRY, noise, total_calls

TRAINING_JOB = "arn:aws:sagemaker:us-east-1:123456789012:training-job/fraud-train-7"


def _describe(sm: Any, name: str, version: str) -> dict[str, Any]:
    return dict(sm.describe_model_package(ModelPackageName=f"{name}/{version}"))


def _group_tags(sm: Any, name: str) -> dict[str, str]:
    arn = sm.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"]
    return {tag["Key"]: tag["Value"] for tag in sm.list_tags(ResourceArn=arn)["Tags"]}


def _keys(rig: SageMakerRig, prefix: str) -> list[str]:
    answer = rig.s3.client().list_objects_v2(Bucket=rig.bucket, Prefix=prefix)
    return [str(item["Key"])[len(prefix) :] for item in answer.get("Contents", [])]


def _backend(reg: mp.Registry) -> SageMakerBackend:
    assert isinstance(reg.backend, SageMakerBackend)
    return reg.backend


def _declaring(reg: mp.Registry, *stages: str) -> mp.Registry:
    """A client of the same registry whose policy declares the custom ``stages``."""
    return mp.Registry(
        reg.backend, policy=mp.Policy(custom_stages=frozenset(stages)), retry=FAST_RETRY
    )


@contextmanager
def _sent(reg: mp.Registry) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every SageMaker request the registry's client sends: (operation, parameters)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((model.name, dict(params)))

    events = _backend(reg)._client("sagemaker").meta.events
    events.register("before-parameter-build", record)
    try:
        yield sent
    finally:
        events.unregister("before-parameter-build", record)


def _tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in files.items():
            member = tarfile.TarInfo(path)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


# -- what modelport writes into SageMaker's own fields -----------------------------------------


def test_stage_approval_and_lineage_live_in_sagemakers_own_fields(
    registry: mp.Registry, sm: Any, name: str, model_dir: Path
) -> None:
    lineage = mp.Lineage(
        run=TRAINING_JOB, code=mp.CodeRef(repo="https://git.example/fraud.git", commit="c" * 40)
    )
    mv = registry.register(name, model_dir, description="fraud model", lineage=lineage)
    registry.approve(mv.ref, reason="QA passed", actor="alice")
    registry.transition(mv.ref, "production", reason="release 7")
    native = _describe(sm, name, mv.version)
    assert native["ModelApprovalStatus"] == "Approved"
    assert native["ApprovalDescription"] == "QA passed"
    assert native["ModelLifeCycle"]["Stage"] == "Production"
    assert native["ModelLifeCycle"]["StageStatus"] == "Active"
    assert native["MetadataProperties"] == {
        "Repository": "https://git.example/fraud.git",
        "CommitId": "c" * 40,
        "GeneratedBy": TRAINING_JOB,
    }
    assert native["ModelPackageDescription"] == "fraud model"
    container = native["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == IMAGE
    assert container["ModelDataUrl"] == mv.artifact_uri
    assert mv.artifact_uri.startswith("s3://")
    assert mv.artifact_uri.endswith("/model.tar.gz")
    assert mv.native == native["ModelPackageArn"]


def test_a_registered_uri_is_used_as_it_is(
    registry: mp.Registry, rig: SageMakerRig, sm: Any, name: str, tmp_path: Path
) -> None:
    key = f"external/{name}/model.tar.gz"
    rig.s3.client().put_object(Bucket=rig.bucket, Key=key, Body=_tar_gz({"m.bin": b"weights"}))
    uri = f"s3://{rig.bucket}/{key}"
    mv = registry.register(name, uri)
    assert mv.artifact_uri == uri
    assert (
        _describe(sm, name, mv.version)["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        == uri
    )
    assert mv.digest is not None
    assert registry.download(mv.ref, tmp_path / "out").joinpath("m.bin").read_bytes() == b"weights"


def test_a_retried_register_uploads_once_and_creates_one_package(
    registry: mp.Registry, rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir, idempotency_key="run-42")
    key = first.artifact_uri.split(f"s3://{rig.bucket}/", 1)[1]
    etag = rig.s3.client().head_object(Bucket=rig.bucket, Key=key)["LastModified"]
    again = registry.register(name, model_dir, idempotency_key="run-42")
    assert again.native == first.native
    assert rig.s3.client().head_object(Bucket=rig.bucket, Key=key)["LastModified"] == etag
    assert [mv.version for mv in registry.versions(name)] == ["1"]


def test_each_write_sends_one_field(registry: mp.Registry, name: str, model_dir: Path) -> None:
    mv = registry.register(name, model_dir)
    declaring = _declaring(registry, "shadow-eu")
    with _sent(registry) as sent:
        declaring.transition(mv.ref, "shadow-eu", reason="smoke")
        declaring.approve(mv.ref, reason="QA passed")
    updates = [params for operation, params in sent if operation == "UpdateModelPackage"]
    assert updates[0] == {
        "ModelPackageArn": mv.native,
        "ModelLifeCycle": {
            "Stage": "shadow-eu",
            "StageStatus": "Active",
            "StageDescription": "smoke",
        },
    }
    approval = updates[1]
    assert set(approval) == {
        "ModelPackageArn",
        "ModelApprovalStatus",
        "ApprovalDescription",
        "CustomerMetadataProperties",
    }
    assert approval["ModelApprovalStatus"] == "Approved"
    assert all(key.startswith("modelport.") for key in approval["CustomerMetadataProperties"])
    assert len(updates) == 2
    described = [p for op, p in sent if op == "DescribeModelPackage"]
    assert all(p["ModelPackageName"].startswith("arn:") for p in described)  # never GROUP/N


def test_exclusive_stages_are_group_tags(
    registry: mp.Registry, sm: Any, name: str, model_dir: Path
) -> None:
    first, second = (registry.register(name, model_dir) for _ in range(2))
    for mv in (first, second):
        registry.approve(mv.ref)
    registry.transition(first.ref, "production")
    assert _group_tags(sm, name) == {"modelport:pointer:production": "1"}
    registry.transition(second.ref, "production")
    assert _group_tags(sm, name) == {"modelport:pointer:production": "2"}
    assert _describe(sm, name, "1")["ModelLifeCycle"]["Stage"] == "Archived"
    registry.transition(second.ref, "staging")
    assert _group_tags(sm, name) == {"modelport:pointer:staging": "2"}
    with pytest.raises(mp.VersionNotFoundError):
        registry.resolve(f"{name}@production")


def test_each_event_is_its_own_s3_object_and_transitions_are_indexed_by_stage(
    registry: mp.Registry, rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir, actor="trainer")
    registry.transition(mv.ref, "staging", reason="smoke", actor="ci")
    root = f"models/{name}/.modelport/"
    trail = registry.history(mv.ref)
    assert sorted(_keys(rig, root + "events/1/")) == sorted(f"{e.id}.json" for e in trail)
    body = rig.s3.client().get_object(Bucket=rig.bucket, Key=f"{root}events/1/{trail[1].id}.json")
    assert json.loads(body["Body"].read())["reason"] == "smoke"
    (entry,) = _keys(rig, root + "stages/staging/")
    assert entry.endswith(f"~{trail[1].id}~1~development~staging~-")
    assert _keys(rig, root + "stages/development/") == [entry]


def test_reads_cost_a_fixed_number_of_calls(
    registry: mp.Registry, rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir)
    registry.approve(mv.ref)
    registry.transition(mv.ref, "production")
    expected = {
        f"{name}/1": {"DescribeModelPackage": 1, "ListTags": 1},
        f"{name}@production": {"DescribeModelPackage": 1, "ListTags": 1},
        f"{name}@latest": {"DescribeModelPackage": 1, "ListTags": 1, "ListModelPackages": 1},
    }
    for ref, calls in expected.items():
        before = dict(rig.service.calls)
        registry.resolve(ref)
        after = {op: n - before.get(op, 0) for op, n in rig.service.calls.items()}
        assert {op: n for op, n in after.items() if n} == calls, ref


def test_a_repeated_register_records_its_registration_once(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    registry.register(name, model_dir, idempotency_key="run-7")
    again = registry.register(name, model_dir, idempotency_key="run-7")
    assert [e.kind for e in registry.history(again.ref)] == [mp.EventKind.REGISTERED]


def test_an_imported_history_keeps_its_ids_and_times(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    source = mp.connect("memory://")
    mv = source.register(name, model_dir, actor="trainer")
    source.transition(mv.ref, "staging", reason="smoke", actor="ci")
    history = source.history(mv.ref)
    copied = registry.import_version(source.resolve(mv.ref), model_dir, history=history)
    assert registry.history(copied.ref) == [
        event.model_copy(update={"version": copied.version}) for event in history
    ]


def test_writes_without_a_bucket_fail_before_any_call(
    rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    registry = mp.connect(rig.url(), retry=FAST_RETRY)
    mv = registry.register(name, model_dir)
    bucketless = mp.connect(rig.url(bucket=None), retry=FAST_RETRY)
    before = total_calls(rig)
    with pytest.raises(mp.InvalidInputError) as caught:
        bucketless.transition(mv.ref, "staging")
    assert caught.value.field == "bucket"
    assert total_calls(rig) == before
    with pytest.raises(mp.InvalidInputError, match="bucket"):
        bucketless.history(mv.ref)  # modelport's own trail lives in S3
    assert bucketless.resolve(mv.ref).version == mv.version  # reads need none


# -- packages SageMaker Pipelines or the console created ----------------------------------------


def _foreign_group(sm: Any, rig: SageMakerRig, name: str) -> None:
    """Three packages as a pipeline registers them: no modelport metadata at all."""
    s3 = rig.s3.client()
    sm.create_model_package_group(ModelPackageGroupName=name)
    for version, status in enumerate(["Rejected", "Approved", "PendingManualApproval"], start=1):
        key = f"pipelines/{name}/{version}/model.tar.gz"
        s3.put_object(Bucket=rig.bucket, Key=key, Body=_tar_gz({"model.pkl": b"v%d" % version}))
        extra: dict[str, Any] = {}
        if version == 3:
            extra["ModelLifeCycle"] = {"Stage": "QA", "StageStatus": "InProgress"}
            extra["CustomerMetadataProperties"] = {"team": "risk"}
            extra["MetadataProperties"] = {"GeneratedBy": TRAINING_JOB, "CommitId": "abc123"}
        sm.create_model_package(
            ModelPackageGroupName=name,
            ModelApprovalStatus=status,
            ModelPackageDescription=f"pipeline build {version}",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{rig.bucket}/{key}"}]
            },
            **extra,
        )


def test_packages_without_modelport_metadata_are_read_sensibly(
    registry: mp.Registry, sm: Any, rig: SageMakerRig, name: str, tmp_path: Path
) -> None:
    _foreign_group(sm, rig, name)
    rejected, approved, in_qa = (registry.resolve(f"{name}/{v}") for v in ("1", "2", "3"))
    assert (rejected.approval, rejected.stage) == (mp.Approval.REJECTED, "archived")
    assert (approved.approval, approved.stage) == (mp.Approval.APPROVED, "production")
    assert (in_qa.approval, in_qa.stage) == (mp.Approval.PENDING, "qa")
    assert in_qa.tags == {"team": "risk"}
    assert in_qa.lineage.run == TRAINING_JOB
    assert in_qa.lineage.code == mp.CodeRef(commit="abc123")
    assert in_qa.description == "pipeline build 3"
    assert approved.digest is None
    assert approved.artifact_uri.endswith("/2/model.tar.gz")
    assert registry.resolve(f"{name}@production").version == "2"
    assert registry.resolve(f"{name}@qa").version == "3"
    assert registry.resolve(f"{name}@latest").version == "3"
    out = registry.download(f"{name}@production", tmp_path / "deploy")
    assert (out / "model.pkl").read_bytes() == b"v2"
    (registered,) = registry.history(f"{name}/2")
    assert registered.kind is mp.EventKind.REGISTERED
    assert registered.at == approved.created_at


def test_modelport_governs_a_pipelines_packages_without_losing_their_fields(
    registry: mp.Registry, sm: Any, rig: SageMakerRig, name: str
) -> None:
    _foreign_group(sm, rig, name)
    registry.approve(f"{name}/3", reason="looks good", actor="bob")
    promoted = registry.transition(f"{name}/3", "production", actor="ci")
    assert promoted.stage == "production"
    assert registry.resolve(f"{name}@production").version == "3"
    assert registry.resolve(f"{name}/2").stage == "archived"  # the old holder was retired
    native = _describe(sm, name, "3")
    assert native["CustomerMetadataProperties"]["team"] == "risk"
    assert native["MetadataProperties"]["GeneratedBy"] == TRAINING_JOB
    kinds = [(e.kind.value, e.to) for e in registry.history(f"{name}/3")]
    assert kinds == [
        ("registered", "development"),
        ("approved", "approved"),
        ("transitioned", "production"),
    ]


# -- SageMaker-specific bad input, refused before any call --------------------------------------


@pytest.mark.parametrize(
    ("model", "options", "field"),
    [
        ("fraud_model", {}, "name"),
        ("fraud.v2", {}, "name"),
        ("m" * 64, {}, "name"),
        ("fraud", {"image": None}, "image"),
        ("fraud", {"bucket": None}, "bucket"),
    ],
)
def test_bad_register_input_fails_before_any_call(
    rig: SageMakerRig, model: str, options: dict[str, str | None], field: str, model_dir: Path
) -> None:
    reg = mp.connect(rig.url(**options), retry=FAST_RETRY)
    before = total_calls(rig)
    with pytest.raises(mp.InvalidInputError) as caught:
        reg.register(model, model_dir)
    assert caught.value.field == field
    assert total_calls(rig) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"description": "d" * 1025}, "description"),
        ({"params": {f"p{i}": noise(4000 + i) for i in range(9)}}, "params"),
        ({"lineage": mp.Lineage(code=mp.CodeRef(repo="r" * 1100))}, "lineage"),
    ],
)
def test_oversized_metadata_fails_before_any_call(
    registry: mp.Registry,
    rig: SageMakerRig,
    name: str,
    model_dir: Path,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    before = total_calls(rig)
    with pytest.raises(mp.InvalidInputError) as caught:
        registry.register(name, model_dir, **kwargs)
    assert caught.value.field == field
    assert total_calls(rig) == before


def test_an_invalid_stage_string_fails_before_any_call(
    registry: mp.Registry, rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir)
    declaring = _declaring(registry, "shadow-")  # neutral rules allow it, SageMaker's do not
    before = total_calls(rig)
    with pytest.raises(mp.InvalidInputError) as caught:
        declaring.transition(mv.ref, "shadow-")
    assert caught.value.field == "stage"
    assert "ModelLifeCycle" in str(caught.value)
    assert total_calls(rig) == before


def test_names_sagemaker_cannot_hold_are_simply_not_found(
    registry: mp.Registry, rig: SageMakerRig
) -> None:
    before = total_calls(rig)
    with pytest.raises(mp.ModelNotFoundError):
        registry.resolve("fraud_model/1")
    with pytest.raises(mp.ModelNotFoundError):
        registry.resolve("fraud_model@production")
    assert total_calls(rig) == before


# -- paging ---------------------------------------------------------------------------------------


def test_listing_and_stage_lookup_page_through_more_than_one_list_page(
    registry: mp.Registry, sm: Any, rig: SageMakerRig, name: str
) -> None:
    sm.create_model_package_group(ModelPackageGroupName=name)
    spec = {"Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{rig.bucket}/x.tar.gz"}]}
    for number in range(1, 106):
        extra = (
            {"ModelLifeCycle": {"Stage": "Canary", "StageStatus": "Active"}}
            if number == 104
            else {}
        )
        sm.create_model_package(ModelPackageGroupName=name, InferenceSpecification=spec, **extra)
    before = dict(rig.service.calls)
    assert registry.resolve(f"{name}@canary").version == "104"
    assert rig.service.calls["ListModelPackages"] - before.get("ListModelPackages", 0) == 2
    assert rig.service.calls["DescribeModelPackage"] - before.get("DescribeModelPackage", 0) == 1
    versions = [mv.version for mv in registry.versions(name)]
    assert versions == [str(n) for n in range(1, 106)]


# -- artifacts ------------------------------------------------------------------------------------


def test_a_large_artifact_goes_up_in_parts_and_comes_back_whole(
    registry: mp.Registry, rig: SageMakerRig, name: str, tmp_path: Path
) -> None:
    source = tmp_path / "big"
    source.mkdir()
    (source / "weights.bin").write_bytes(random.Random(7).randbytes(17 * 1024 * 1024))
    mv = registry.register(name, source)
    key = mv.artifact_uri.split(f"s3://{rig.bucket}/", 1)[1]
    head = rig.s3.client().head_object(Bucket=rig.bucket, Key=key)
    parts = head["ETag"].strip('"').rpartition("-")[2]
    assert int(parts) > 1  # S3 marks a multipart upload's ETag with its part count
    out = registry.download(mv.ref, tmp_path / "deploy")
    assert (out / "weights.bin").read_bytes() == (source / "weights.bin").read_bytes()


def test_a_missing_bucket_is_named_not_mistaken_for_a_missing_model(
    rig: SageMakerRig, name: str, model_dir: Path
) -> None:
    reg = mp.connect(rig.url(bucket="no-such-bucket-here"), retry=FAST_RETRY)
    with pytest.raises(mp.NotFoundError) as caught:
        reg.register(name, model_dir)
    assert not isinstance(caught.value, mp.ModelNotFoundError)
    assert "no-such-bucket-here" in str(caught.value)


def test_an_idempotency_key_reused_for_other_content_is_a_conflict(
    registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    first = registry.register(name, model_dir, idempotency_key="nightly-1")
    other = tmp_path / "other"
    other.mkdir()
    (other / "w.bin").write_bytes(b"different weights")
    with pytest.raises(mp.ConflictError) as caught:
        registry.register(name, other, idempotency_key="nightly-1")
    assert caught.value.field == "idempotency_key"
    out = registry.download(first.ref, tmp_path / "deploy")  # the first artifact is intact
    assert (out / "weights" / "w.bin").read_bytes() == (
        model_dir / "weights" / "w.bin"
    ).read_bytes()
