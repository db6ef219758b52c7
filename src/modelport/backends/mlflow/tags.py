"""How the neutral fields MLflow lacks live in model version tags, losslessly.

Every key starts with ``modelport.`` (user tags may not):

- ``modelport.stage``, ``modelport.approval``, ``modelport.digest``: one value each.
- ``modelport.idempotency``: a hash of the register call's idempotency key.
- ``modelport.record.000``, ``.001``, ...: the JSON of metrics, params and lineage, in
  the shared codec's plain JSON layout (`modelport.backends.kit.codec`, so people
  read it in MLflow's UI), cut into pieces of at most `CHUNK` characters (older
  MLflow servers and some SQL columns hold 5000).
- ``modelport.event.<id>``: one audit event each, under the event's own id: appending
  never rewrites another event, and a retried write lands on the same key.
- ``modelport.log.<stage>``: ``1`` on every version that ever entered ``stage``, so the
  stage's history is one tag search (rollback), not a read of every version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from modelport.backends.kit.codec import (
    Budget,
    CorruptMetadataError,
    Encoding,
    canonical_json,
    decode,
    encode,
    holds_record,
)
from modelport.models import Event, EventKind, Lineage, VersionDraft

PREFIX = "modelport."
STAGE = "modelport.stage"
APPROVAL = "modelport.approval"
DIGEST = "modelport.digest"
IDEMPOTENCY = "modelport.idempotency"
RECORD = "modelport.record."
EVENT = "modelport.event."
STAGE_LOG = "modelport.log."
CHUNK = 5000
RECORD_BUDGET = Budget(
    where="MLflow model version tags",
    prefix=RECORD,
    encoding=Encoding.JSON,
    max_value_length=CHUNK,
    max_key_length=250,
    index_width=3,
)
log = logging.getLogger("modelport.mlflow")


@dataclass(frozen=True)
class Record:
    """The neutral fields kept as JSON: what the version was registered with."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    lineage: Lineage = field(default_factory=Lineage)


def draft_tags(draft: VersionDraft, lineage: Lineage) -> dict[str, str]:
    """Every tag a new version starts with: the user's tags and modelport's own."""
    tags = dict(draft.tags)
    tags[APPROVAL] = draft.approval.value
    tags[IDEMPOTENCY] = idempotency_value(draft.idempotency_key)
    if draft.digest is not None:
        tags[DIGEST] = draft.digest
    tags.update(encode_record(Record(draft.metrics, draft.params, lineage)))
    for event in draft.history:
        tags.update(event_tags(event))
    return tags


def idempotency_value(key: str) -> str:
    """A filter-safe stand-in for the caller's key (any text) in a tag search."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def encode_record(record: Record) -> dict[str, str]:
    data = {
        "metrics": record.metrics,
        "params": record.params,
        "lineage": record.lineage.model_dump(mode="json", exclude_defaults=True),
    }
    return encode(data, RECORD_BUDGET)


def decode_record(tags: Mapping[str, str]) -> Record | None:
    """The record, or None for a version modelport did not register (or whose record
    does not decode: that is logged, and the version is read without it)."""
    try:
        return decode(tags, RECORD_BUDGET, _record)
    except CorruptMetadataError as exc:  # edited by hand, or cut short
        log.warning("modelport.record tags do not decode (%s); read without them", exc)
        return None


def _record(data: dict[str, Any]) -> Record:
    return Record(
        metrics={k: float(v) for k, v in data.get("metrics", {}).items()},
        params={k: str(v) for k, v in data.get("params", {}).items()},
        lineage=Lineage.model_validate(data.get("lineage", {})),
    )


def event_tags(event: Event) -> dict[str, str]:
    """The tags one event adds: itself, and for a transition the mark of the stage it
    enters (a version leaves only a stage it entered, so that mark is there already)."""
    data = event.model_dump(mode="json", by_alias=True, exclude={"name", "version"})
    tags = {f"{EVENT}{event.id}": canonical_json(data)}
    if event.kind is EventKind.TRANSITIONED and event.to:
        tags[stage_log_key(event.to)] = "1"
    return tags


def stage_log_key(stage: str) -> str:
    return f"{STAGE_LOG}{stage}"


def decode_events(tags: Mapping[str, str], name: str, version: str) -> list[Event]:
    """The version's events, oldest first (ties in time broken by id, as every reader does)."""
    events = []
    for key, value in tags.items():
        if key.startswith(EVENT):
            try:
                events.append(_event(json.loads(value), name, version))
            except (ValueError, TypeError) as exc:  # one bad entry costs that entry only
                log.warning("%s of %s/%s does not decode (%s); skipped", key, name, version, exc)
    return sorted(events, key=lambda e: (e.at, e.id))


def last_event_at(tags: Mapping[str, str]) -> datetime | None:
    """When the newest event happened."""
    times = [_event_time(v) for k, v in tags.items() if k.startswith(EVENT)]
    return max((t for t in times if t is not None), default=None)


def _event_time(value: str) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(str(json.loads(value)["at"]).replace("Z", "+00:00")))
    except (ValueError, KeyError, TypeError):
        return None


def has_record(tags: Iterable[str]) -> bool:
    """Whether modelport registered the version (it then carries its record)."""
    return holds_record(tags, RECORD_BUDGET)


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith(PREFIX)}


def _event(data: dict[str, Any], name: str, version: str) -> Event:
    return Event.model_validate({**data, "name": name, "version": version})


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
