"""A cloud model version as the neutral record, read the same way by every cloud backend.

SageMaker, Vertex AI and Azure ML keep a version in two parts: the fields the service has
natively (stage, approval, artifact, aliases, times) and the *stored record*
(`record_of`), the rest of the neutral record kept losslessly in the service's
metadata through `.codec`. Reading a version joins the two again
(`model_version`); the tags of both are merged, the stored record's winning.

A version modelport did not write (a pipeline's, the console's) has no stored record and
is read from its native fields (`foreign_record`): no digest, metrics or params, the
lineage and description the service knows, approval ``pending`` unless labelled
(`labelled_approval`), history a single ``registered`` event at its creation time
(`foreign_registration`). A stored record that does not decode is logged and the
version read the same way (`read_stored_record`), so a hand edit never makes a
version unreadable.

Before any call, `check_name` applies a service's own name rule (its pattern and
wording) and `check_record_fits` the description limit and the record's budget.
What stays in each backend is its own: where the native fields live, how its times and
stages read, and which names, stages and sources it accepts.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from modelport.backends.kit.codec import Budget, CorruptMetadataError, decode, encode
from modelport.errors import InvalidInputError
from modelport.models import (
    Approval,
    Event,
    EventKind,
    Lineage,
    ModelVersion,
    Stage,
    VersionDraft,
    derived_event_id,
    utc_now,
)

StoredRecord = dict[str, Any]


def record_of(draft: VersionDraft) -> StoredRecord:
    """The part of ``draft`` a cloud service has no exact field for; empty fields left out."""
    record: StoredRecord = {
        "digest": draft.digest,
        "metrics": draft.metrics,
        "params": draft.params,
        "tags": draft.tags,
        "description": draft.description,
        "lineage": draft.lineage.model_dump(mode="json", exclude_defaults=True),
    }
    return {key: value for key, value in record.items() if value not in (None, {}, "")}


def check_record_fits(
    draft: VersionDraft, budget: Budget, *, max_description: int, kept_in: str
) -> None:
    """Refuse, before any call, a draft whose description is longer than modelport keeps
    in a version (``kept_in``: "a Vertex version") or whose stored record overflows
    ``budget`` (`RecordTooLargeError` names the field to shorten)."""
    if draft.description is not None and len(draft.description) > max_description:
        raise InvalidInputError(
            f"description is {len(draft.description)} characters; modelport keeps at most "
            f"{max_description} in {kept_in}",
            field="description",
            model=draft.name,
        )
    encode(record_of(draft), budget)


def check_name(name: str, allowed: re.Pattern[str], rule: str, *, shown: int = 100) -> None:
    """Refuse a model name the service cannot hold, before any call: the error shows the
    name (its first ``shown`` characters) followed by ``rule``, the service's own."""
    if not allowed.fullmatch(name):
        raise InvalidInputError(f"{name[:shown]!r} {rule}", field="name", model=name)


def registration_token(name: str, idempotency_key: str) -> str:
    """The token a register stores to be found again: the same (model, key), the same token."""
    return hashlib.sha256(f"modelport\n{name}\n{idempotency_key}".encode()).hexdigest()[:40]


def read_stored_record(
    entries: Mapping[str, str], budget: Budget, *, log: logging.Logger, where: str
) -> StoredRecord | None:
    """The stored record among ``entries``, None if there is none. One that does not decode
    (edited by hand, cut short) is logged under ``where`` and read as None, so the version
    is read from its native fields and stays usable."""
    try:
        return decode(entries, budget, dict)
    except CorruptMetadataError as exc:
        log.warning("%s: %s; read from its native fields", where, exc)
        return None


def foreign_record(lineage: Lineage, description: str | None) -> StoredRecord:
    """The stored record of a version modelport did not write, from what the service knows."""
    record: StoredRecord = {"lineage": lineage.model_dump(mode="json", exclude_defaults=True)}
    if description:
        record["description"] = description
    return record


def labelled_approval(label: str | None) -> Approval:
    """The approval a label or tag holds; ``pending`` when there is none or it is no approval
    (a version modelport did not write, a hand edit)."""
    try:
        return Approval(label) if label else Approval.PENDING
    except ValueError:
        return Approval.PENDING


def foreign_tags(tags: Mapping[str, str], own_prefix: str) -> dict[str, str]:
    """The tags (labels, properties) someone other than modelport set."""
    return {key: value for key, value in tags.items() if not key.startswith(own_prefix)}


def model_version(
    record: Mapping[str, Any],
    *,
    name: str,
    version: str,
    stage: str,
    approval: Approval,
    artifact_uri: str,
    native_tags: Mapping[str, str],
    aliases: tuple[str, ...],
    created_at: datetime | None,
    updated_at: datetime | None,
    registry: str,
    native: str,
) -> ModelVersion:
    """The neutral record of a version: ``record`` (stored or foreign) joined with the
    fields the service keeps natively. ``native_tags`` are the tags others set; the stored
    record's tags win over them. Without an update time, the creation time stands in."""
    return ModelVersion(
        name=name,
        version=version,
        stage=stage,
        approval=approval,
        artifact_uri=artifact_uri,
        digest=record.get("digest"),
        metrics=record.get("metrics", {}),
        params=record.get("params", {}),
        tags=dict(native_tags) | record.get("tags", {}),
        description=record.get("description"),
        lineage=Lineage.model_validate(record.get("lineage", {})),
        aliases=aliases,
        created_at=created_at,
        updated_at=updated_at or created_at,
        registry=registry,
        native=native,
    )


def foreign_registration(
    service: str,
    native: str,
    *,
    name: str,
    version: str,
    created_at: datetime | None,
    actor: str | None = None,
) -> Event:
    """The ``registered`` event of a version modelport never wrote, at its creation time
    (now if the service gives none). Its id comes from ``service`` and the ``native`` id,
    so every client derives the same one."""
    return Event(
        id=derived_event_id(service, "registered", native),
        kind=EventKind.REGISTERED,
        name=name,
        version=version,
        to=Stage.DEVELOPMENT.value,
        actor=actor,
        at=created_at or utc_now(),
    )
