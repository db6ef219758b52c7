"""Neutral <-> SageMaker model packages: pure functions, no boto3.

| neutral | SageMaker |
|---|---|
| model | Model Package Group (created on the first register) |
| version | `ModelPackageVersion` of a versioned model package, as a string |
| native | the model package ARN |
| approval `pending` | `ModelApprovalStatus=PendingManualApproval` |
| approval `approved` | `ModelApprovalStatus=Approved` |
| approval `rejected` | `ModelApprovalStatus=Rejected` |
| approval reason | `ApprovalDescription` |
| stage `development` | `ModelLifeCycle={Stage: Development, StageStatus: Active}` |
| stage `staging` | `ModelLifeCycle.Stage=Staging` |
| stage `production` | `ModelLifeCycle.Stage=Production` |
| stage `archived` | `ModelLifeCycle.Stage=Archived` |
| custom stage (`shadow-eu`) | `ModelLifeCycle.Stage` as it is (`shadow-eu`) |
| transition reason | `ModelLifeCycle.StageDescription` |
| exclusive stage holder | group tag `modelport:pointer:<stage>` = version (see `pointers`) |
| artifact | `InferenceSpecification.Containers[0].ModelDataUrl` (a `model.tar.gz`) |
| inference image | `InferenceSpecification.Containers[0].Image` (the URL's `image=`) |
| description | `ModelPackageDescription` (control characters shown as spaces) |
| lineage.code | `MetadataProperties.Repository` / `CommitId` |
| lineage.run | `MetadataProperties.GeneratedBy` when it is a SageMaker ARN (training job) |
| created_at / updated_at | `CreationTime` / `LastModifiedTime` |
| the whole record, exactly | `CustomerMetadataProperties` `modelport.r.*` (see `metadata`) |
| history | one S3 object per event (see `events`) |

``ModelLifeCycle`` is the projection SageMaker's console shows; who holds an exclusive
stage is the group's pointer tag, and the facade trusts the tag where the two disagree.
Each update request carries one field: the stage (``ModelLifeCycle``) or the approval.

Metrics are not written to ``ModelMetrics``: it only references JSON reports in S3 in
formats of SageMaker's own tools; they are kept in the lossless record.

Packages modelport did not write (SageMaker Pipelines, the console; no ``modelport.*``
keys) are read like this: approval from ``ModelApprovalStatus``; stage from
``ModelLifeCycle.Stage`` when set (lower-cased), else from approval (Approved ->
``production``, Rejected -> ``archived``, pending -> ``development``); artifact from the
inference specification; lineage from ``MetadataProperties``; tags from their
``CustomerMetadataProperties``; digest None; history a single ``registered`` event at
``CreationTime`` (with an id derived from the ARN), followed by the events modelport
appended since. SageMaker's own convention says the newest approved package is the one
deployed, so while a group has no ``production`` pointer tag, the newest ``Approved``
package holds ``production`` if it is such a package whose ``ModelLifeCycle`` is unset or
``Production`` (one ``ListModelPackages`` call finds it). Any other foreign package whose
stage reads ``production`` is shown as replaced (``archived``), so the convention can
never make two holders.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from modelport.backends.kit import records
from modelport.backends.kit.records import StoredRecord, record_of
from modelport.backends.sagemaker import metadata
from modelport.errors import InvalidInputError
from modelport.models import Approval, CodeRef, Event, Lineage, ModelVersion, Stage, VersionDraft
from modelport.validation import STAGE

JsonDict = dict[str, Any]
log = logging.getLogger("modelport.sagemaker")

GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
NATIVE_STAGE = GROUP_NAME  # ModelLifeCycle.Stage is an EntityName too
SAGEMAKER_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:[a-z-]+/\S+")
MODEL_DATA_URL = re.compile(r"(https|s3)://([^/]+)/?(.*)")
MAX_DESCRIPTION = 1024
MAX_METADATA_PROPERTY = 1024
STAGE_STATUS = "Active"

APPROVAL_TO_NATIVE = {
    Approval.PENDING: "PendingManualApproval",
    Approval.APPROVED: "Approved",
    Approval.REJECTED: "Rejected",
}
APPROVAL_FROM_NATIVE = {native: neutral for neutral, native in APPROVAL_TO_NATIVE.items()}
STAGE_TO_NATIVE = {stage.value: stage.value.capitalize() for stage in Stage}
STAGE_FROM_APPROVAL = {
    Approval.APPROVED: Stage.PRODUCTION.value,
    Approval.REJECTED: Stage.ARCHIVED.value,
    Approval.PENDING: Stage.DEVELOPMENT.value,
}


# -- checks (before any call) ------------------------------------------------------------


def check_group_name(name: str) -> None:
    rule = (
        "cannot name a SageMaker Model Package Group: 1-63 letters, digits and hyphens, "
        "starting and ending with a letter or digit (no '.' or '_')"
    )
    records.check_name(name, GROUP_NAME, rule, shown=80)


def stage_to_native(stage: str) -> str:
    return STAGE_TO_NATIVE.get(stage, stage)


def check_stage(stage: str) -> None:
    if not NATIVE_STAGE.fullmatch(stage_to_native(stage)):
        raise InvalidInputError(
            f"stage {stage!r} cannot be a SageMaker ModelLifeCycle.Stage: letters, digits "
            "and hyphens, ending with a letter or digit",
            field="stage",
        )


def check_bucket(bucket: str | None, name: str | None = None) -> None:
    """Writes need the bucket: it holds the audit trail (and uploaded artifacts)."""
    if bucket is None:
        raise InvalidInputError(
            "modelport keeps each version's audit trail (and uploads local artifacts) in "
            "S3: add bucket=<name> to the sagemaker:// URL",
            field="bucket",
            model=name,
        )


def check_draft(draft: VersionDraft, *, image: str | None, bucket: str | None) -> None:
    """Everything SageMaker would refuse in ``draft``, raised before any call."""
    check_group_name(draft.name)
    if image is None:
        raise InvalidInputError(
            "SageMaker needs an inference image for every model package: add "
            "image=<ECR image URI> to the sagemaker:// URL",
            field="image",
            model=draft.name,
        )
    check_bucket(bucket, draft.name)
    if not draft.source_is_local:
        _check_source_uri(draft)
    if draft.description is not None and len(draft.description) > MAX_DESCRIPTION:
        raise InvalidInputError(
            f"description is {len(draft.description)} characters; SageMaker's "
            f"ModelPackageDescription holds at most {MAX_DESCRIPTION}",
            field="description",
            model=draft.name,
        )
    for field, value in metadata_properties(draft.lineage).items():
        if len(value) > MAX_METADATA_PROPERTY:
            raise InvalidInputError(
                f"lineage ({field}) is {len(value)} characters; SageMaker's MetadataProperties "
                f"hold at most {MAX_METADATA_PROPERTY}",
                field="lineage",
                model=draft.name,
            )
    metadata.record_properties(record_of(draft))


def _check_source_uri(draft: VersionDraft) -> None:
    if not draft.source.startswith("s3://") or not MODEL_DATA_URL.fullmatch(draft.source):
        raise InvalidInputError(
            f"SageMaker registers local artifacts or s3:// URIs, not {draft.source[:100]!r}",
            field="source",
            model=draft.name,
        )
    if len(draft.source) > MAX_METADATA_PROPERTY:
        raise InvalidInputError(
            f"source URI is longer than {MAX_METADATA_PROPERTY} characters",
            field="source",
            model=draft.name,
        )


# -- neutral -> SageMaker ------------------------------------------------------------------


def metadata_properties(lineage: Lineage) -> dict[str, str]:
    properties: dict[str, str] = {}
    if lineage.code is not None and lineage.code.repo:
        properties["Repository"] = lineage.code.repo
    if lineage.code is not None and lineage.code.commit:
        properties["CommitId"] = lineage.code.commit
    if lineage.run and SAGEMAKER_ARN.fullmatch(lineage.run):
        properties["GeneratedBy"] = lineage.run
    return properties


def native_description(text: str) -> str:
    """``text`` within ``ModelPackageDescription``'s pattern: control characters -> spaces."""
    shown = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return shown[:MAX_DESCRIPTION]


def one_line(text: str, limit: int = 1024) -> str:
    """For fields whose pattern is ``.*`` (no line breaks)."""
    return " ".join(text.splitlines())[:limit]


def life_cycle(stage: str, reason: str | None = None) -> JsonDict:
    cycle: JsonDict = {"Stage": stage_to_native(stage), "StageStatus": STAGE_STATUS}
    if reason:
        cycle["StageDescription"] = one_line(reason)
    return cycle


def create_request(draft: VersionDraft, *, image: str, artifact_uri: str, token: str) -> JsonDict:
    """``CreateModelPackage`` arguments for ``draft``; ``check_draft`` has passed."""
    properties = {metadata.FORMAT_KEY: metadata.FORMAT, metadata.TOKEN_KEY: token}
    properties |= metadata.record_properties(record_of(draft))
    request: JsonDict = {
        "ModelPackageGroupName": draft.name,
        "ClientToken": token,
        "ModelApprovalStatus": APPROVAL_TO_NATIVE[draft.approval],
        "ModelLifeCycle": life_cycle(Stage.DEVELOPMENT.value),
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": artifact_uri}],
        },
        "CustomerMetadataProperties": properties,
    }
    if draft.description:
        request["ModelPackageDescription"] = native_description(draft.description)
    lineage_properties = metadata_properties(draft.lineage)
    if lineage_properties:
        request["MetadataProperties"] = lineage_properties
    return request


def stage_request(arn: str, stage: str, reason: str | None) -> JsonDict:
    """``UpdateModelPackage`` arguments that set the stage (``ModelLifeCycle``) only."""
    return {"ModelPackageArn": arn, "ModelLifeCycle": life_cycle(stage, reason)}


def approval_request(
    arn: str, approval: Approval, reason: str | None, immutable: Mapping[str, str]
) -> JsonDict:
    """``UpdateModelPackage`` arguments that set the approval (and its reason) only.

    ``immutable`` (modelport's own ``CustomerMetadataProperties``: format, token, record,
    written once at register and never changed) is re-sent as it is. On SageMaker that
    merges the same values again, a no-op; on moto, whose UpdateModelPackage wipes every
    field not sent, it keeps the record. No mutable value is re-sent."""
    request: JsonDict = {
        "ModelPackageArn": arn,
        "ModelApprovalStatus": APPROVAL_TO_NATIVE[approval],
    }
    if reason:
        request["ApprovalDescription"] = one_line(reason)
    if immutable:
        request["CustomerMetadataProperties"] = dict(immutable)
    return request


# -- SageMaker -> neutral ------------------------------------------------------------------


def approval_of(package: Mapping[str, Any]) -> Approval:
    return APPROVAL_FROM_NATIVE.get(str(package.get("ModelApprovalStatus")), Approval.PENDING)


def is_foreign(package: Mapping[str, Any]) -> bool:
    """Whether modelport did not write this package (a pipeline, the console did)."""
    return not metadata.written_by_modelport(package.get("CustomerMetadataProperties"))


def native_stage(package: Mapping[str, Any]) -> str | None:
    """``ModelLifeCycle.Stage`` as a neutral stage; None when unset or not one."""
    native = str((package.get("ModelLifeCycle") or {}).get("Stage") or "")
    lowered = native.lower()
    return lowered if lowered in STAGE_TO_NATIVE or STAGE.fullmatch(lowered) else None


def stage_of(package: Mapping[str, Any], *, foreign: bool) -> str:
    """The stage field of a package: its ``ModelLifeCycle``; without one, a foreign
    package's approval (SageMaker's convention), a modelport package's ``development``
    (a service that keeps no ``ModelLifeCycle``, such as moto)."""
    native = native_stage(package)
    if native is not None:
        return native
    return STAGE_FROM_APPROVAL[approval_of(package)] if foreign else Stage.DEVELOPMENT.value


def possible_stages(summary: Mapping[str, Any]) -> set[str]:
    """The stages a package summary may turn out to be in once described (summaries do
    not say whether modelport wrote the package, nor which pointers name it)."""
    stages = {stage_of(summary, foreign=True), stage_of(summary, foreign=False)}
    if Stage.PRODUCTION.value in stages:
        stages.add(Stage.ARCHIVED.value)  # a foreign one replaced (see version_from_package)
    return stages


def production_by_convention(package: Mapping[str, Any]) -> bool:
    """A foreign ``Approved`` package whose stage reads ``production``: it holds production
    while it is the group's newest approved package and no pointer says otherwise."""
    return (
        is_foreign(package)
        and approval_of(package) is Approval.APPROVED
        and stage_of(package, foreign=True) == Stage.PRODUCTION.value
    )


def artifact_uri_of(package: Mapping[str, Any]) -> str:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    first = containers[0]
    source = (first.get("ModelDataSource") or {}).get("S3DataSource") or {}
    return str(first.get("ModelDataUrl") or source.get("S3Uri") or package.get("SourceUri") or "")


def version_from_package(
    package: Mapping[str, Any], registry: str, aliases: tuple[str, ...] = ()
) -> ModelVersion:
    """A described model package as a neutral record (modelport's or anyone's);
    ``aliases`` are the pointers naming it."""
    properties = package.get("CustomerMetadataProperties") or {}
    record = _record(package, properties) or _foreign_record(package)
    return records.model_version(
        record,
        name=str(package["ModelPackageGroupName"]),
        version=str(package["ModelPackageVersion"]),
        stage=_shown_stage(package, aliases),
        approval=approval_of(package),
        artifact_uri=artifact_uri_of(package),
        native_tags=metadata.foreign(properties),
        aliases=aliases,
        created_at=_time(package.get("CreationTime")),
        updated_at=_time(package.get("LastModifiedTime")),
        registry=registry,
        native=str(package["ModelPackageArn"]),
    )


def _shown_stage(package: Mapping[str, Any], aliases: tuple[str, ...]) -> str:
    """The stage field; a foreign package that reads ``production`` but holds it through
    no pointer (tag or convention) was replaced: ``archived``. So however many approved
    packages a pipeline left, one at most reads ``production``."""
    foreign = is_foreign(package)
    stage = stage_of(package, foreign=foreign)
    if foreign and stage == Stage.PRODUCTION.value and stage not in aliases:
        return Stage.ARCHIVED.value
    return stage


def foreign_registration(package: Mapping[str, Any]) -> Event:
    """The ``registered`` event of a package modelport never wrote: every client derives
    the same one (its id comes from the ARN)."""
    return records.foreign_registration(
        "sagemaker",
        str(package["ModelPackageArn"]),
        name=str(package["ModelPackageGroupName"]),
        version=str(package["ModelPackageVersion"]),
        created_at=_time(package["CreationTime"]),
        actor=_creator(package),
    )


def _record(package: Mapping[str, Any], properties: Mapping[str, str]) -> StoredRecord | None:
    """modelport's record, or None (also when it does not decode: see the kit)."""
    where = str(package.get("ModelPackageArn"))
    return records.read_stored_record(properties, metadata.BUDGET, log=log, where=where)


def _foreign_record(package: Mapping[str, Any]) -> StoredRecord:
    properties = package.get("MetadataProperties") or {}
    repo, commit = properties.get("Repository"), properties.get("CommitId")
    lineage = Lineage(
        run=properties.get("GeneratedBy") or None,
        code=CodeRef(repo=repo, commit=commit) if repo or commit else None,
    )
    return records.foreign_record(lineage, package.get("ModelPackageDescription"))


def _creator(package: Mapping[str, Any]) -> str | None:
    created_by = package.get("CreatedBy") or {}
    name = created_by.get("UserProfileName") or (created_by.get("IamIdentity") or {}).get("Arn")
    return str(name) if name else None


def _time(value: Any) -> datetime | None:
    """botocore's timestamps are in local time: modelport's are UTC."""
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else None
