"""The lossless copy of a version's neutral record in ``CustomerMetadataProperties``.

SageMaker allows at most 50 keys per package, values of 1-256 characters drawn from
letters, digits, spaces and ``_.:/=+-@`` (no JSON punctuation). So the record is JSON,
zlib-compressed, base64-encoded (whose alphabet is allowed) and spread over numbered keys:

| key | value |
|---|---|
| `modelport.format` | `2`: the layout version; marks a package modelport wrote |
| `modelport.key` | the register's ClientToken (derived from its idempotency key) |
| `modelport.r.0` ... `.N` | the record: digest, metrics, params, tags, description, lineage |

Every one of these keys is written once, at register, and never changes: that is what
lets a per-field update re-send them without undoing anyone's write. The record may use
at most :data:`RECORD_MAX_KEYS` keys (about 7.5 kB compressed), leaving the rest to other
tools; a draft that needs more is refused before any call, naming its largest field.
The history is not here: each event is its own S3 object (see :mod:`.events`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from modelport.errors import InvalidInputError

NAMESPACE = "modelport."
FORMAT_KEY = "modelport.format"
FORMAT = "2"
TOKEN_KEY = "modelport.key"
RECORD_PREFIX = "modelport.r."
MAX_KEYS = 50
VALUE_CHARS = 256
RECORD_MAX_KEYS = 40
_NUMBERED = re.compile(r"modelport\.r\.(\d+)")


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


def immutable(properties: Mapping[str, str]) -> dict[str, str]:
    """modelport's keys: written once at register, never changed afterwards."""
    return {k: v for k, v in properties.items() if owned(k)}


def written_by_modelport(properties: Mapping[str, str] | None) -> bool:
    return FORMAT_KEY in (properties or {})


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
