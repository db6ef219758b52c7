"""Where modelport's audit trail lives in an object store (S3, GCS, Azure Blob): one object
per event and a stage log of empty objects, the same key layout for every backend that
keeps its events beside its artifacts.

Under ``PREFIX/NAME/.modelport/``:

| key | content |
|---|---|
| `events/VERSION/ID.json` | one event, as JSON |
| `stages/STAGE/AT~ID~VERSION~FROM~TO~ROLLED_BACK` | nothing: the key is the entry |
| `pointers/POINTER` | the version it names, also in the blob's metadata `version`; none: deleted |
| `pointers/.adopted` | nothing: the model's pointers live here (Azure ML, see below) |

An event is appended under its own id, never merged into a shared value, so concurrent
appends cannot lose one and a retried append rewrites the same keys. Each ``transitioned``
event is also indexed under its ``from`` and its ``to`` stage (``-`` marks a missing
part); ``AT`` (UTC, ``%Y%m%dT%H%M%S%fZ``) leads the key so that a listing's order is time
order, and the stage log is read from listings alone.

Pointers (an exclusive stage's holder, an alias) are kept this way by Azure ML, whose model
API offers no conditional write: each is one object, moved by one unconditional write of
that object alone (atomic, the last writer wins), and all of a model's pointers are read
from one listing that carries each object's metadata. A deleted pointer stays as an object
without a version (a tombstone), so adopting pointers kept elsewhere before (copying only
where no object exists) cannot bring back one a newer client moved or deleted. The
``.adopted`` marker (no pointer name starts with a dot) says that adoption happened.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pydantic import ValidationError

from modelport.backends.kit.codec import CorruptMetadataError
from modelport.models import Event, EventKind

TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
MISSING = "-"  # no stage or version name starts with it
SEPARATOR = "~"
ROOT = ".modelport"  # artifact folders start with a letter or digit: no clash
ADOPTED_MARKER = ".adopted"  # under pointers/: pointer names start with a letter
POINTER_METADATA = "version"  # the metadata key of a pointer object


def model_root(prefix: str, name: str) -> str:
    return "/".join(part for part in (prefix.strip("/"), name, ROOT) if part)


def event_key(root: str, version: str, event_id: str) -> str:
    return f"{root}/events/{version}/{event_id}.json"


def events_prefix(root: str, version: str) -> str:
    return f"{root}/events/{version}/"


def stage_prefix(root: str, stage: str) -> str:
    return f"{root}/stages/{stage}/"


def pointers_prefix(root: str) -> str:
    return f"{root}/pointers/"


def pointer_key(root: str, pointer: str) -> str:
    return pointers_prefix(root) + pointer


def adopted_marker_key(root: str) -> str:
    return pointers_prefix(root) + ADOPTED_MARKER


def stage_entry_key(root: str, stage: str, event: Event) -> str:
    parts = (
        event.at.astimezone(timezone.utc).strftime(TIME_FORMAT),
        event.id,
        event.version,
        event.from_ or MISSING,
        event.to or MISSING,
        event.rolled_back or MISSING,
    )
    return stage_prefix(root, stage) + SEPARATOR.join(parts)


def stage_entry(name: str, entry: str) -> Event | None:
    """The stage-log event a key (without its prefix) names; None for a key that is not an
    entry (a folder marker, a file someone put there)."""
    parts = entry.split(SEPARATOR)
    if len(parts) != 6:
        return None
    at, event_id, version, from_, to, rolled_back = parts
    try:
        return Event(
            id=event_id,
            kind=EventKind.TRANSITIONED,
            name=name,
            version=version,
            from_=None if from_ == MISSING else from_,
            to=None if to == MISSING else to,
            at=datetime.strptime(at, TIME_FORMAT).replace(tzinfo=timezone.utc),
            rolled_back=None if rolled_back == MISSING else rolled_back,
        )
    except (ValueError, ValidationError):
        return None


def encode_event(event: Event) -> bytes:
    payload = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def decode_event(body: bytes, name: str, version: str) -> Event:
    try:
        payload = json.loads(body)
        return Event.model_validate({**payload, "name": name, "version": version})
    except (ValueError, TypeError, ValidationError) as exc:
        raise CorruptMetadataError(f"a stored modelport event does not decode: {exc}") from None


def stage_keys(root: str, event: Event) -> list[str]:
    """The stage-log entries of one event: none unless it is a transition."""
    if event.kind is not EventKind.TRANSITIONED:
        return []
    stages = dict.fromkeys(s for s in (event.from_, event.to) if s)  # ordered, no repeats
    return [stage_entry_key(root, stage, event) for stage in stages]
