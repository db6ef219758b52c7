"""A neutral record kept losslessly in a registry's key-value metadata, within its limits.

Every backend keeps what its registry has no native field for (metrics, params, lineage,
...) as one JSON object in the string-to-string metadata the registry offers: MLflow's
version tags, SageMaker's ``CustomerMetadataProperties``, Vertex AI's labels, Azure ML's
properties. Those differ only in their limits, so a backend states them once as a
`Budget` and calls `encode` and `decode`.

**Layout.** The record is written as canonical JSON (sorted keys, no spaces), turned into
value text by the budget's `Encoding`, and cut into values of at most
``max_value_length`` characters under the keys ``PREFIX0``, ``PREFIX1``, ... (the number
zero-padded to ``index_width`` digits):

| encoding | value text | for |
|---|---|---|
| ``JSON`` | the JSON itself | values humans read (MLflow tags) |
| ``ZLIB_BASE64`` | zlib, then base64 | few keys, no JSON punctuation (SageMaker) |
| ``ZLIB_BASE32`` | zlib, then unpadded lowercase base32 | lowercase values (Vertex labels) |

The same record always gives the same entries, so a retried write rewrites the same values.

**Integrity.** `decode` joins the values in number order. The numbers must run from
0 without a gap; a missing last value leaves JSON without its closing brace, or a zlib
stream without its end and checksum (trailing data is refused too). Whatever does not
decode into the record raises `CorruptMetadataError`, the one error backends catch
for it: they log it and read the version from its native fields, so a hand edit never
makes a version unreadable.

**What does not fit.** `encode` raises `RecordTooLargeError`, an
`InvalidInputError` naming the record's largest top-level field,
before the backend makes any call. This is the one rule for overflow: a backend whose
budget is too small for the records its users write keeps the full record as an object
beside the artifact in its own storage (SageMaker: S3, under the model's ``.modelport/``
folder; Vertex AI: GCS; Azure ML: the workspace's blob store) and writes only a pointer
entry (the object's key) within the budget; reading follows the pointer. MLflow's tags
(5000 characters each, no limit on their number) never overflow. No backend stores an
overflow object yet: SageMaker refuses a record beyond its 40 values of 256 characters
(about 7.5 kB compressed), naming the field to shorten.
"""

from __future__ import annotations

import base64
import functools
import json
import string
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from modelport.errors import InvalidInputError

T = TypeVar("T")
DIGITS = string.digits


class CorruptMetadataError(ValueError):
    """Stored modelport metadata does not decode (edited by hand, cut short, a value lost)."""


class RecordTooLargeError(InvalidInputError):
    """The record needs more entries than its budget allows; ``field`` names its largest
    top-level field (the one to shorten)."""

    def __init__(self, message: str, *, field: str | None, needed: int, allowed: int) -> None:
        super().__init__(message, field=field)
        self.needed = needed
        self.allowed = allowed


class Encoding(Enum):
    """How the record's JSON becomes value text."""

    JSON = "json"
    ZLIB_BASE64 = "zlib+base64"
    ZLIB_BASE32 = "zlib+base32"

    @property
    def alphabet(self) -> str | None:
        """Every character a value may hold; None: any (JSON)."""
        return _ALPHABETS[self]

    def wrap(self, text: str) -> str:
        if self is Encoding.JSON:
            return text
        return self._text(zlib.compress(text.encode(), 9))

    def unwrap(self, value: str) -> str:
        """The JSON text back; ``ValueError`` if ``value`` is not what `wrap` wrote."""
        if self is Encoding.JSON:
            return value
        return _unwrapped(self, value)

    def _unwrap(self, value: str) -> str:
        if self is Encoding.ZLIB_BASE64:
            packed = base64.b64decode(value, validate=True)
        else:
            packed = base64.b32decode(value.upper() + "=" * (-len(value) % 8))
        if self._text(packed) != value:  # data after padding, stray bits: not ours
            raise ValueError(f"not the {self.value} text modelport writes")
        return _inflate(packed).decode()

    def _text(self, packed: bytes) -> str:
        if self is Encoding.ZLIB_BASE64:
            return base64.b64encode(packed).decode("ascii")
        return base64.b32encode(packed).decode("ascii").rstrip("=").lower()


@functools.lru_cache(maxsize=1024)
def _unwrapped(encoding: Encoding, value: str) -> str:
    """Remembered, because a serving process resolves the same few versions over and over
    and decoding (base32/base64, zlib, the strictness check) was most of a resolve's own
    time on Vertex AI. A pure function of its arguments; errors are not remembered."""
    return encoding._unwrap(value)


_ALPHABETS: dict[Encoding, str | None] = {
    Encoding.JSON: None,
    Encoding.ZLIB_BASE64: string.ascii_letters + DIGITS + "+/=",
    Encoding.ZLIB_BASE32: string.ascii_lowercase + "234567",
}


@dataclass(frozen=True)
class Budget:
    """The part of a registry's metadata the record may use, and that metadata's rules.

    ``where`` names the metadata in error messages. ``key_chars``/``value_chars`` list the
    characters keys and values may hold (None: any); a subset of what the registry allows
    is enough, as long as the prefix, the digits and the encoding's alphabet are in it.
    ``max_keys`` and ``max_key_length`` None: no limit.
    """

    where: str
    prefix: str
    encoding: Encoding
    max_value_length: int
    max_keys: int | None = None
    max_key_length: int | None = None
    key_chars: str | None = None
    value_chars: str | None = None
    index_width: int = 1

    def __post_init__(self) -> None:
        problem = _budget_problem(self)
        if problem:
            raise ValueError(f"budget for {self.where}: {problem}")

    def key(self, index: int) -> str:
        return f"{self.prefix}{index:0{self.index_width}d}"

    def index_of(self, key: str) -> int | None:
        """The number of a record key (``PREFIX`` and digits), or None for any other key."""
        number = key.removeprefix(self.prefix)
        if number == key or not number.isascii() or not number.isdigit():
            return None
        return int(number)

    @property
    def max_entries(self) -> int | None:
        """How many values the record may take: ``max_keys``, or fewer if longer numbers
        would not fit ``max_key_length``."""
        limits = [self.max_keys] if self.max_keys is not None else []
        if self.max_key_length is not None:
            limits.append(10 ** (self.max_key_length - len(self.prefix)))
        return min(limits, default=None)


def _budget_problem(budget: Budget) -> str | None:
    """What makes ``budget`` unable to hold any record (a programming error)."""
    entries = budget.max_entries
    if budget.max_value_length < 1 or (entries is not None and entries < 1):
        return "it allows no value"
    if budget.key_chars is not None and not set(budget.prefix + DIGITS) <= set(budget.key_chars):
        return f"keys may not hold the prefix {budget.prefix!r} and digits"
    if budget.max_key_length is not None and len(budget.key(0)) > budget.max_key_length:
        return f"{budget.key(0)!r} is longer than {budget.max_key_length} characters"
    alphabet = budget.encoding.alphabet
    if budget.value_chars is not None and (
        alphabet is None or not set(alphabet) <= set(budget.value_chars)
    ):
        return f"values may not hold the characters {budget.encoding.value} writes"
    return None


def canonical_json(data: object) -> str:
    """One text per value: sorted keys, no spaces, unicode kept (fewer characters)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def encode(record: Mapping[str, Any], budget: Budget) -> dict[str, str]:
    """``record``'s entries under ``budget``; `RecordTooLargeError` if it needs more."""
    text = budget.encoding.wrap(canonical_json(dict(record)))
    size = budget.max_value_length
    pieces = [text[start : start + size] for start in range(0, len(text), size)]
    allowed = budget.max_entries
    if allowed is not None and len(pieces) > allowed:
        raise _too_large(record, budget, len(pieces), allowed)
    return {budget.key(index): piece for index, piece in enumerate(pieces)}


def decode(
    entries: Mapping[str, str], budget: Budget, build: Callable[[dict[str, Any]], T]
) -> T | None:
    """The record `encode` wrote among ``entries`` (other keys are ignored), made
    by ``build`` from its JSON object; None if there is none. `CorruptMetadataError`
    if the entries do not decode or ``build`` refuses what they hold."""
    pieces = _pieces(entries, budget)
    if not pieces:
        return None
    try:
        record = json.loads(budget.encoding.unwrap("".join(pieces)))
    except ValueError as exc:  # binascii, zlib, unicode and JSON errors alike
        raise CorruptMetadataError(f"{budget.prefix}N does not decode: {exc}") from None
    if not isinstance(record, dict):
        raise CorruptMetadataError(f"{budget.prefix}N holds {type(record).__name__}, not a record")
    try:
        return build(record)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CorruptMetadataError(f"{budget.prefix}N is not a valid record: {exc}") from None


def holds_record(keys: Iterable[str], budget: Budget) -> bool:
    """Whether any of ``keys`` is one of the record's (modelport wrote the version)."""
    return any(budget.index_of(key) is not None for key in keys)


def _pieces(entries: Mapping[str, str], budget: Budget) -> list[str]:
    """The record's values in number order; `CorruptMetadataError` on a gap."""
    numbered: dict[int, str] = {}
    for key, value in entries.items():
        index = budget.index_of(key)
        if index is None:
            continue
        if key != budget.key(index):  # e.g. "r.01" beside "r.1": which one is meant?
            raise CorruptMetadataError(f"{key!r} is not a key modelport writes")
        numbered[index] = value
    if sorted(numbered) != list(range(len(numbered))):
        missing = sorted(set(range(max(numbered, default=0))) - set(numbered))
        raise CorruptMetadataError(f"{budget.prefix}N lacks the numbers {missing}")
    return [numbered[index] for index in range(len(numbered))]


def _inflate(packed: bytes) -> bytes:
    """zlib's ``decompress`` accepts trailing data (a stale extra value): refuse it."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(packed)
    except zlib.error as exc:
        raise ValueError(f"not zlib: {exc}") from None
    if not inflater.eof:
        raise ValueError("the zlib stream is cut short")
    if inflater.unused_data:
        raise ValueError("data follows the zlib stream")
    return text


def _too_large(
    record: Mapping[str, Any], budget: Budget, needed: int, allowed: int
) -> RecordTooLargeError:
    def size(field: str) -> int:
        return len(budget.encoding.wrap(canonical_json(record[field])))

    largest = max(record, key=size, default=None)
    return RecordTooLargeError(
        f"the version's metadata needs {needed} {budget.where} values of "
        f"{budget.max_value_length} characters, more than the {allowed} modelport may use"
        + (f"; shorten {largest} (its largest part)" if largest else ""),
        field=largest,
        needed=needed,
        allowed=allowed,
    )
