"""Neutral <-> Vertex AI model versions: pure functions over plain values (no SDK).

| neutral | Vertex AI |
|---|---|
| model | a `Model` (id: see `naming`), `display_name` = the neutral name |
| version | its `version_id` (`1`, `2`, ...) |
| native | `projects/P/locations/L/models/ID@VERSION` |
| exclusive stage holder, alias | a version alias (`production`, `champion`): one atomic move |
| stage field | label `mp-stage` (`development`, `archived`, custom stages) |
| approval | label `mp-approval` (`pending`, `approved`, `rejected`) |
| artifact | `artifact_uri`: a GCS folder of the artifact's files |
| description | `version_description` (the exact text is in the record) |
| lineage.run | `pipeline_job` / `training_pipeline` when Vertex knows it |
| the whole record | labels `mp-r0`...: zlib + lowercase base32 (see the kit's codec) |
| history, stage log | GCS objects beside the artifacts (see `events`) |

Other modelport labels: `mp-format` (marks a version modelport wrote), `mp-key` (the
register's idempotency token, found again by a label filter) and `mp-held` (set before a
version first takes an alias, so every pointer is found with one filtered listing).

Versions modelport did not write (console, ``aiplatform.Model.upload``, pipelines) are
read as: stage ``development`` (unless labelled; a stage alias it holds is its stage),
approval ``pending`` unless labelled ``mp-approval``, artifact from ``artifact_uri``, no
digest, its other labels as tags, history a ``registered`` event at its creation time.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from modelport.backends.kit import records
from modelport.backends.kit.codec import Budget, Encoding, encode
from modelport.backends.kit.records import StoredRecord, record_of
from modelport.backends.vertex.naming import DEFAULT_ALIAS
from modelport.errors import InvalidInputError
from modelport.models import Approval, Event, Lineage, ModelVersion, Stage, VersionDraft

log = logging.getLogger("modelport.vertex")
token = records.registration_token  # the mp-key label of a register

FORMAT_LABEL = "mp-format"
FORMAT = "1"
KEY_LABEL = "mp-key"
STAGE_LABEL = "mp-stage"
APPROVAL_LABEL = "mp-approval"
HELD_LABEL = "mp-held"
HELD = "yes"
OWN_PREFIX = "mp-"
RECORD_MAX_KEYS = 48  # of the 64 labels a version may hold: room for others' labels
MAX_DESCRIPTION = 5000
_LABEL_TEXT = string.ascii_lowercase + string.digits + "-_"
BUDGET = Budget(
    where="Vertex AI version labels",
    prefix="mp-r",
    encoding=Encoding.ZLIB_BASE32,
    max_value_length=63,
    max_keys=RECORD_MAX_KEYS,
    max_key_length=63,
    key_chars=_LABEL_TEXT,
    value_chars=_LABEL_TEXT,
)


def check_draft(draft: VersionDraft, bucket: str | None) -> None:
    """Everything Vertex would refuse in ``draft``, raised before any call."""
    check_bucket(bucket, draft.name)
    if not draft.source_is_local and not draft.source.startswith("gs://"):
        raise InvalidInputError(
            f"Vertex AI registers local artifacts or gs:// URIs, not {draft.source[:100]!r}",
            field="source",
            model=draft.name,
        )
    records.check_record_fits(
        draft, BUDGET, max_description=MAX_DESCRIPTION, kept_in="a Vertex version"
    )


def check_bucket(bucket: str | None, name: str | None = None) -> None:
    if bucket is None:
        raise InvalidInputError(
            "modelport keeps each version's artifact and audit trail in GCS: add "
            "bucket=gs://BUCKET/PREFIX to the vertex:// URL",
            field="bucket",
            model=name,
        )


def check_stage(stage: str) -> None:
    """Every neutral stage name fits a label value; checked so a change of rule shows."""
    if len(stage) > 63 or not set(stage) <= set(_LABEL_TEXT):
        raise InvalidInputError(f"stage {stage!r} cannot be a Vertex label value", field="stage")


def upload_labels(draft: VersionDraft) -> dict[str, str]:
    labels = {
        FORMAT_LABEL: FORMAT,
        KEY_LABEL: token(draft.name, draft.idempotency_key),
        STAGE_LABEL: Stage.DEVELOPMENT.value,
        APPROVAL_LABEL: draft.approval.value,
    }
    return labels | encode(record_of(draft), BUDGET)


def version_description(draft: VersionDraft) -> str:
    return draft.description or ""


def with_label(labels: Mapping[str, str], key: str, value: str) -> dict[str, str]:
    return {**labels, key: value}


# -- Vertex -> neutral ---------------------------------------------------------------------


def written_by_modelport(labels: Mapping[str, str]) -> bool:
    return FORMAT_LABEL in labels


def aliases_of(version_aliases: list[str]) -> tuple[str, ...]:
    """The pointers a version holds: its aliases but Vertex's own ``default``."""
    return tuple(sorted(a for a in version_aliases if a != DEFAULT_ALIAS))


def stage_of(labels: Mapping[str, str]) -> str:
    return labels.get(STAGE_LABEL) or Stage.DEVELOPMENT.value


def approval_of(labels: Mapping[str, str]) -> Approval:
    return records.labelled_approval(labels.get(APPROVAL_LABEL))


def version_from_model(model: Mapping[str, Any], name: str, registry: str) -> ModelVersion:
    """A Vertex model version (as a plain dict of its fields) as a neutral record."""
    labels: dict[str, str] = dict(model.get("labels") or {})
    record = _record(model, labels) or _foreign_record(model)
    return records.model_version(
        record,
        name=name,
        version=str(model["version_id"]),
        stage=stage_of(labels),
        approval=approval_of(labels),
        artifact_uri=str(model.get("artifact_uri") or ""),
        native_tags=records.foreign_tags(labels, OWN_PREFIX),
        aliases=aliases_of(list(model.get("version_aliases") or [])),
        created_at=_utc(model.get("version_create_time")),
        updated_at=_utc(model.get("version_update_time")),
        registry=registry,
        native=_native(model),
    )


def foreign_registration(model: Mapping[str, Any], name: str) -> Event:
    """The ``registered`` event of a version modelport never wrote (its id comes from the
    resource name, so every client derives the same one)."""
    return records.foreign_registration(
        "vertex",
        _native(model),
        name=name,
        version=str(model["version_id"]),
        created_at=_utc(model.get("version_create_time")),
    )


def _native(model: Mapping[str, Any]) -> str:
    return f"{model['name']}@{model['version_id']}"


def _record(model: Mapping[str, Any], labels: Mapping[str, str]) -> StoredRecord | None:
    where = f"{model.get('name')}@{model.get('version_id')}"
    return records.read_stored_record(labels, BUDGET, log=log, where=where)


def _foreign_record(model: Mapping[str, Any]) -> StoredRecord:
    run = model.get("pipeline_job") or model.get("training_pipeline") or None
    description = model.get("version_description") or model.get("description")
    return records.foreign_record(Lineage(run=run), description)


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
