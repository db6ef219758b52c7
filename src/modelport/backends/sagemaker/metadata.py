"""The lossless copy of a version's neutral record and history in ``CustomerMetadataProperties``.

SageMaker allows at most 50 keys per package, values of 1-256 characters drawn from
letters, digits, spaces and ``_.:/=+-@`` (no JSON punctuation). So each payload is JSON,
zlib-compressed, base64-encoded (whose alphabet is allowed) and spread over numbered keys:

| key | value |
|---|---|
| `modelport.format` | `1`: the layout version; marks a package modelport wrote |
| `modelport.key` | the register's ClientToken (derived from its idempotency key) |
| `modelport.r.0` ... `.N` | the record: digest, metrics, params, tags, description, lineage |
| `modelport.e.0` ... `.M` | the history: `{"d": dropped, "e": [events, no name/version]}` |

The record is written once, at register, and may use at most :data:`RECORD_MAX_KEYS`
keys (about 7.5 kB compressed); a draft that needs more is refused before any call,
naming its largest field. The history gets the keys left over; when it outgrows them
the oldest events after the first (the registration) are dropped and counted in ``d``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from modelport.errors import InvalidInputError
from modelport.models import Event

NAMESPACE = "modelport."
FORMAT_KEY = "modelport.format"
FORMAT = "1"
TOKEN_KEY = "modelport.key"
RECORD_PREFIX = "modelport.r."
EVENTS_PREFIX = "modelport.e."
MAX_KEYS = 50
VALUE_CHARS = 256
FIXED_KEYS = 2  # format and token
RECORD_MAX_KEYS = 40
_NUMBERED = re.compile(r"modelport\.[re]\.(\d+)")


class CorruptMetadataError(ValueError):
    """The modelport keys of a package do not decode (edited by hand, or truncated)."""


def encode(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")


def decode(text: str) -> Any:
    try:
        return json.loads(zlib.decompress(base64.b64decode(text, validate=True)))
    except (binascii.Error, zlib.error, ValueError) as exc:
        raise CorruptMetadataError(f"modelport metadata does not decode: {exc}") from None


def spread(prefix: str, text: str) -> dict[str, str]:
    """``text`` cut into values of at most 256 characters under ``prefix0``, ``prefix1``, ..."""
    cuts = range(0, len(text), VALUE_CHARS)
    return {f"{prefix}{i}": text[start : start + VALUE_CHARS] for i, start in enumerate(cuts)}


def gather(properties: Mapping[str, str], prefix: str) -> str | None:
    """The text :func:`spread` wrote under ``prefix``; None if there is none."""
    parts: dict[int, str] = {}
    for key, value in properties.items():
        match = _NUMBERED.fullmatch(key)
        if match and key.startswith(prefix):
            parts[int(match.group(1))] = value
    if not parts:
        return None
    if sorted(parts) != list(range(len(parts))):
        raise CorruptMetadataError(f"keys {prefix}N are not numbered 0..{len(parts) - 1}")
    return "".join(parts[i] for i in range(len(parts)))


def owned(key: str) -> bool:
    return key.startswith(NAMESPACE)


def foreign(properties: Mapping[str, str]) -> dict[str, str]:
    """The keys someone other than modelport set (SageMaker Pipelines, the console)."""
    return {k: v for k, v in properties.items() if not owned(k)}


# -- the record ------------------------------------------------------------------------


def record_properties(record: Mapping[str, Any]) -> dict[str, str]:
    """The record's keys; :class:`InvalidInputError` naming the largest field if too big."""
    spread_record = spread(RECORD_PREFIX, encode(dict(record)))
    if len(spread_record) > RECORD_MAX_KEYS:
        largest = max(record, key=lambda field: len(encode(record[field])))
        raise InvalidInputError(
            f"the version's metadata needs {len(spread_record)} SageMaker "
            f"CustomerMetadataProperties values of {VALUE_CHARS} characters, more than the "
            f"{RECORD_MAX_KEYS} modelport may use; shorten {largest} (its largest part)",
            field=largest,
        )
    return spread_record


def read_record(properties: Mapping[str, str]) -> dict[str, Any] | None:
    text = gather(properties, RECORD_PREFIX)
    if text is None:
        return None
    record = decode(text)
    if not isinstance(record, dict):
        raise CorruptMetadataError("the modelport record is not an object")
    return record


# -- the history -----------------------------------------------------------------------


def event_budget(properties: Mapping[str, str]) -> int:
    """How many keys the history may use next to the record and everyone else's keys."""
    others = [k for k in properties if not k.startswith(EVENTS_PREFIX)]
    return MAX_KEYS - len(set(others) | {FORMAT_KEY, TOKEN_KEY})


def events_properties(events: list[Event], budget: int, dropped: int = 0) -> dict[str, str]:
    """The history's keys within ``budget`` keys. When it does not fit, the first event (the
    registration) and as many of the newest as fit are kept; the rest are counted as dropped."""
    if budget < 1:
        raise InvalidInputError(
            f"no CustomerMetadataProperties key is left for the history ({MAX_KEYS} are used)",
            field="history",
        )
    whole = _events_spread(events, dropped)
    if len(whole) <= budget:
        return whole
    first, rest = events[:1], events[1:]
    fits, too_many = 0, len(rest)  # binary search: how many of the newest events fit
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        candidate = _events_spread(first + rest[-middle:], dropped + len(rest) - middle)
        fits, too_many = (middle, too_many) if len(candidate) <= budget else (fits, middle)
    kept = first + rest[len(rest) - fits :]
    spread_events = _events_spread(kept, dropped + len(rest) - fits)
    if len(spread_events) > budget:  # even the registration alone is too big: keep the newest
        spread_events = _events_spread(events[-1:], dropped + len(events) - 1)
    return spread_events


def _events_spread(events: list[Event], dropped: int) -> dict[str, str]:
    return spread(EVENTS_PREFIX, encode({"d": dropped, "e": _dump(events)}))


def read_events(properties: Mapping[str, str], name: str, version: str) -> list[Event] | None:
    """The stored history, or None when modelport never wrote one here."""
    text = gather(properties, EVENTS_PREFIX)
    if text is None:
        return None
    payload = decode(text)
    try:
        return [Event.model_validate({**e, "name": name, "version": version}) for e in payload["e"]]
    except (KeyError, TypeError, ValidationError) as exc:
        raise CorruptMetadataError(f"the modelport history does not decode: {exc}") from None


def dropped_events(properties: Mapping[str, str]) -> int:
    text = gather(properties, EVENTS_PREFIX)
    if text is None:
        return 0
    count = decode(text).get("d", 0)
    return count if isinstance(count, int) else 0


def _dump(events: list[Event]) -> list[dict[str, Any]]:
    return [
        e.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"name", "version"})
        for e in events
    ]
