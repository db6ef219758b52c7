"""The lossless copy of a version's neutral record in ``CustomerMetadataProperties``.

SageMaker allows at most 50 keys per package, values of 1-256 characters drawn from
letters, digits, spaces and ``_.:/=+-@`` (no JSON punctuation). So the record goes through
the shared codec (`modelport.backends.kit.codec`) as zlib+base64 over numbered keys:

| key | value |
|---|---|
| `modelport.format` | `2`: the layout version; marks a package modelport wrote |
| `modelport.key` | the register's ClientToken (derived from its idempotency key) |
| `modelport.r.0` ... `.N` | the record: digest, metrics, params, tags, description, lineage |

Every one of these keys is written once, at register, and never changes: that is what
lets a per-field update re-send them without undoing anyone's write. The record may use
at most `RECORD_MAX_KEYS` keys (about 7.5 kB compressed), leaving the rest to other
tools; a draft that needs more is refused before any call, naming its largest field (the
codec's overflow rule, an object in S3, is not implemented).
The history is not here: each event is its own S3 object (see `.events`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from modelport.backends.kit.codec import Budget, Encoding, decode, encode
from modelport.backends.kit.records import foreign_tags

NAMESPACE = "modelport."
FORMAT_KEY = "modelport.format"
FORMAT = "2"
TOKEN_KEY = "modelport.key"
RECORD_MAX_KEYS = 40
BUDGET = Budget(
    where="SageMaker CustomerMetadataProperties",
    prefix="modelport.r.",
    encoding=Encoding.ZLIB_BASE64,
    max_value_length=256,
    max_keys=RECORD_MAX_KEYS,
    max_key_length=128,
    key_chars=string.ascii_letters + string.digits + " _.:/=+-@",
    value_chars=string.ascii_letters + string.digits + " _.:/=+-@",
)


def owned(key: str) -> bool:
    return key.startswith(NAMESPACE)


def foreign(properties: Mapping[str, str]) -> dict[str, str]:
    """The keys someone other than modelport set (SageMaker Pipelines, the console)."""
    return foreign_tags(properties, NAMESPACE)


def immutable(properties: Mapping[str, str]) -> dict[str, str]:
    """modelport's keys: written once at register, never changed afterwards."""
    return {k: v for k, v in properties.items() if owned(k)}


def written_by_modelport(properties: Mapping[str, str] | None) -> bool:
    return FORMAT_KEY in (properties or {})


def record_properties(record: Mapping[str, Any]) -> dict[str, str]:
    """The record's keys; an `InvalidInputError` naming the largest field if too big."""
    return encode(record, BUDGET)


def read_record(properties: Mapping[str, str]) -> dict[str, Any] | None:
    """The record, None if modelport wrote none; ``CorruptMetadataError`` if it does not decode."""
    return decode(properties, BUDGET, dict)
