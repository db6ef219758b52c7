"""Neutral <-> Azure ML model versions: pure functions over plain values (no SDK).

| neutral | Azure ML (workspace) |
|---|---|
| model | a model container (its name is the neutral name; see ``check_name``) |
| version | the container's version (`1`, `2`, ...: the container's `nextVersion`) |
| native | the version's ARM id |
| exclusive stage holder, alias | a blob per pointer in the datastore (see ``storage``) |
| stage field | the version's `stage` (`archived` also sets Azure's own `isArchived`) |
| approval | version tag `mp-approval` (`pending`, `approved`, `rejected`) |
| artifact | `path`: a datastore folder `azureml://datastores/D/paths/...` |
| description | `description` |
| lineage.run | `jobName` when Azure knows it |
| the whole record | properties `mp-r0`...: zlib + base64 (immutable, as the record is) |
| history, stage log | blobs in the datastore (see ``storage``) |

Other modelport properties: `mp-format` (marks a version modelport wrote) and `mp-key`
(the register's idempotency token, found again by a properties filter). Before pointers
were blobs they were container tags `mp-pointer.NAME` = version, still read on a model
not adopted yet.

Versions modelport did not write (studio, ``ml_client.models.create_or_update``,
pipelines) read as: stage from `stage` (lowercased; `development` when empty, `archived`
when Azure archived it), approval `pending` unless tagged `mp-approval`, artifact from
`path`, no digest, their tags as tags, history a `registered` event at creation time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import isodate

from modelport.backends.kit import records
from modelport.backends.kit.codec import Budget, Encoding, encode
from modelport.backends.kit.records import StoredRecord, record_of
from modelport.errors import InvalidInputError
from modelport.models import Approval, Event, Lineage, ModelVersion, Stage, VersionDraft

log = logging.getLogger("modelport.azureml")
token = records.registration_token  # the mp-key property of a register

FORMAT_PROPERTY = "mp-format"
FORMAT = "1"
KEY_PROPERTY = "mp-key"
APPROVAL_TAG = "mp-approval"
POINTER_TAG = "mp-pointer."
OWN_PREFIX = "mp-"
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
STAGE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
MAX_DESCRIPTION = 5000
# A modelport choice: Azure ML documents no property limits; 32 values of 1 kB keep a
# version's ARM body far below the 4 MB request limit.
BUDGET = Budget(
    where="Azure ML version properties",
    prefix="mp-r",
    encoding=Encoding.ZLIB_BASE64,
    max_value_length=1024,
    max_keys=32,
)


@dataclass(frozen=True)
class AzureVersion:
    """The fields modelport reads of a model version, as plain values."""

    arm_id: str
    version: str
    path: str
    tags: dict[str, str]
    properties: dict[str, str]
    description: str | None
    stage: str | None
    archived: bool
    job_name: str | None
    created_at: datetime | None
    updated_at: datetime | None


def version_of_body(body: Mapping[str, Any]) -> AzureVersion:
    """The fields modelport reads of a model version, from the service's JSON (camelCase,
    as both scopes send it and as ``ModelVersion.as_dict()`` gives it back)."""
    properties = body.get("properties") or {}
    system = body.get("systemData") or {}
    return AzureVersion(
        arm_id=str(body.get("id") or ""),
        version=str(body.get("name")),
        path=str(properties.get("modelUri") or ""),
        tags=dict(properties.get("tags") or {}),
        properties=dict(properties.get("properties") or {}),
        description=properties.get("description"),
        stage=properties.get("stage"),
        archived=bool(properties.get("isArchived")),
        job_name=properties.get("jobName"),
        created_at=_timestamp(system.get("createdAt")),
        updated_at=_timestamp(system.get("lastModifiedAt")),
    )


def _timestamp(text: object) -> datetime | None:
    """An ISO 8601 time of the service (``...Z``, up to 7 fraction digits) in UTC; None when
    absent or unreadable (a creation time is not worth failing a read)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value: datetime = isodate.parse_datetime(text)
    except ValueError:
        log.warning("unreadable time %r in a model version: left out", text)
        return None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def check_name(name: str) -> None:
    rule = (
        "cannot be an Azure ML model name (letters, digits, '_', '.', '-'; 255 at most, "
        "starting with a letter or digit)"
    )
    records.check_name(name, MODEL_NAME, rule)


def check_draft(draft: VersionDraft) -> None:
    """Everything Azure ML would refuse in ``draft``, raised before any call."""
    check_name(draft.name)
    if not draft.source_is_local and not draft.source.startswith("azureml://"):
        raise InvalidInputError(
            f"Azure ML registers local artifacts or azureml:// paths, not {draft.source[:100]!r}",
            field="source",
            model=draft.name,
        )
    records.check_record_fits(
        draft, BUDGET, max_description=MAX_DESCRIPTION, kept_in="an Azure ML version"
    )


def check_stage(stage: str) -> None:
    if not STAGE_NAME.fullmatch(stage):
        raise InvalidInputError(f"stage {stage!r} cannot be an Azure ML stage", field="stage")


def new_version_fields(draft: VersionDraft) -> tuple[dict[str, str], dict[str, str]]:
    """(tags, properties) of a version modelport creates."""
    properties = {
        FORMAT_PROPERTY: FORMAT,
        KEY_PROPERTY: token(draft.name, draft.idempotency_key),
    } | encode(record_of(draft), BUDGET)
    return {APPROVAL_TAG: draft.approval.value}, properties


# Container tags held the pointers before they were blobs: read until a model is adopted.
def pointer_tag(pointer: str) -> str:
    return f"{POINTER_TAG}{pointer}"


def pointers_of(container_tags: Mapping[str, str]) -> dict[str, str]:
    return {
        key[len(POINTER_TAG) :]: value
        for key, value in container_tags.items()
        if key.startswith(POINTER_TAG)
    }


# -- Azure -> neutral ---------------------------------------------------------------------


def written_by_modelport(version: AzureVersion) -> bool:
    return FORMAT_PROPERTY in version.properties


def stage_of(version: AzureVersion) -> str:
    if version.archived:
        return Stage.ARCHIVED.value
    return (version.stage or "").lower() or Stage.DEVELOPMENT.value


def approval_of(tags: Mapping[str, str]) -> Approval:
    return records.labelled_approval(tags.get(APPROVAL_TAG))


def version_record(
    name: str, version: AzureVersion, pointers: Mapping[str, str], registry: str
) -> ModelVersion:
    record = _record(name, version) or _foreign_record(version)
    return records.model_version(
        record,
        name=name,
        version=version.version,
        stage=stage_of(version),
        approval=approval_of(version.tags),
        artifact_uri=version.path,
        native_tags=records.foreign_tags(version.tags, OWN_PREFIX),
        aliases=tuple(sorted(p for p, v in pointers.items() if v == version.version)),
        created_at=version.created_at,
        updated_at=version.updated_at,
        registry=registry,
        native=version.arm_id,
    )


def foreign_registration(name: str, version: AzureVersion) -> Event:
    """The ``registered`` event of a version modelport never wrote (its id comes from the
    ARM id, so every client derives the same one)."""
    return records.foreign_registration(
        "azureml",
        version.arm_id,
        name=name,
        version=version.version,
        created_at=version.created_at,
    )


def _record(name: str, version: AzureVersion) -> StoredRecord | None:
    where = f"{name}/{version.version}"
    return records.read_stored_record(version.properties, BUDGET, log=log, where=where)


def _foreign_record(version: AzureVersion) -> StoredRecord:
    return records.foreign_record(Lineage(run=version.job_name or None), version.description)
