"""How the neutral fields MLflow lacks live in model version tags, losslessly.

Every key starts with ``modelport.`` (user tags may not):

- ``modelport.stage``, ``modelport.approval``, ``modelport.digest``: one value each.
- ``modelport.idempotency``: a hash of the register call's idempotency key.
- ``modelport.record.000``, ``.001``, ...: the JSON of metrics, params and lineage, cut
  into pieces of at most :data:`CHUNK` characters (older MLflow servers and some SQL
  columns hold 5000) and joined again in key order.
- ``modelport.event.<UTC time>.<hash>``: one audit event each. The key sorts by time, and
  the hash of the content makes a retried write land on the same key, not a second event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from modelport.models import Event, Lineage, VersionDraft

PREFIX = "modelport."
STAGE = "modelport.stage"
APPROVAL = "modelport.approval"
DIGEST = "modelport.digest"
IDEMPOTENCY = "modelport.idempotency"
RECORD = "modelport.record."
EVENT = "modelport.event."
CHUNK = 5000
_TIME = "%Y%m%dT%H%M%S%fZ"


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
    tags.update(encode_event(event) for event in draft.history)
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
    text = _dumps(data)
    pieces = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    return {f"{RECORD}{index:03d}": piece for index, piece in enumerate(pieces)}


def decode_record(tags: Mapping[str, str]) -> Record | None:
    """The record, or None for a version modelport did not register."""
    keys = sorted(k for k in tags if k.startswith(RECORD))
    if not keys:
        return None
    data = json.loads("".join(tags[k] for k in keys))
    return Record(
        metrics={k: float(v) for k, v in data.get("metrics", {}).items()},
        params={k: str(v) for k, v in data.get("params", {}).items()},
        lineage=Lineage.model_validate(data.get("lineage", {})),
    )


def encode_event(event: Event) -> tuple[str, str]:
    """The tag of one event; name and version are implied by the version holding it."""
    data = event.model_dump(mode="json", by_alias=True, exclude={"name", "version"})
    value = _dumps(data)
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{EVENT}{_utc(event.at).strftime(_TIME)}.{digest}", value


def decode_events(tags: Mapping[str, str], name: str, version: str) -> list[Event]:
    """The version's events, oldest first."""
    keys = sorted(k for k in tags if k.startswith(EVENT))
    events = [_event(json.loads(tags[k]), name, version) for k in keys]
    return sorted(events, key=lambda e: e.at)


def last_event_at(tags: Iterable[str]) -> datetime | None:
    """When the newest event was written, read from the keys alone (no JSON parsing)."""
    newest = max((k for k in tags if k.startswith(EVENT)), default=None)
    if newest is None:
        return None
    s = newest[len(EVENT) :]  # YYYYmmddTHHMMSSffffffZ, parsed by hand: strptime is slow
    try:
        return datetime(
            int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[9:11]), int(s[11:13]),
            int(s[13:15]), int(s[15:21]), tzinfo=timezone.utc,
        )  # fmt: skip
    except ValueError:
        return None


def has_record(tags: Iterable[str]) -> bool:
    """Whether modelport registered the version (it then carries its record)."""
    return any(k.startswith(RECORD) for k in tags)


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if not k.startswith(PREFIX)}


def _event(data: dict[str, Any], name: str, version: str) -> Event:
    return Event.model_validate({**data, "name": name, "version": version})


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
