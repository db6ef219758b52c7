"""Model references: ``name/3``, ``name@production``, ``name@latest``, ``name@alias``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum

from modelport.errors import InvalidReferenceError
from modelport.models import WELL_KNOWN_STAGES
from modelport.validation import MODEL_NAME, STAGE, VERSION

LATEST = "latest"
# Words a reference gives a meaning of its own after '@': never a stage or an alias name.
REFERENCE_WORDS = frozenset({LATEST})


class RefKind(str, Enum):
    VERSION = "version"
    STAGE = "stage"
    LATEST = "latest"
    LABEL = "label"  # a custom stage or a backend alias: the facade tries the stage first


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference to one model version."""

    name: str
    kind: RefKind
    value: str = ""

    def __str__(self) -> str:
        if self.kind is RefKind.VERSION:
            return f"{self.name}/{self.value}"
        if self.kind is RefKind.LATEST:
            return f"{self.name}@latest"
        return f"{self.name}@{self.value}"


def parse_ref(ref: object, field: str = "ref") -> ModelRef:
    """Parse a reference, raising `InvalidReferenceError` naming what is wrong."""
    if isinstance(ref, ModelRef):
        return ref
    if not isinstance(ref, str):
        raise InvalidReferenceError(
            f"{field} must be a string like 'name/3' or 'name@production', "
            f"got {type(ref).__name__}",
            field=field,
        )
    return _parse_text(str(ref), field)  # str(): a str subclass may not hash as text


@functools.lru_cache(maxsize=4096)
def _parse_text(ref: str, field: str) -> ModelRef:
    """Remembered: a serving process resolves the same few references over and over (the
    result is immutable; a refusal raises each time, it is not remembered)."""
    name, sep, rest = _split(ref)
    if not MODEL_NAME.fullmatch(name):
        raise InvalidReferenceError(
            f"{field} {ref[:80]!r}: model name {name[:80]!r} is not valid (1-128 letters, "
            "digits, '.', '_' or '-', starting with a letter or digit)",
            field=field,
        )
    if not sep:
        raise InvalidReferenceError(
            f"{field} {ref!r} names no version: use '{name}/<version>', '{name}@<stage>' "
            f"or '{name}@latest'",
            field=field,
            model=name,
        )
    if sep == "/":
        if not VERSION.fullmatch(rest):
            raise InvalidReferenceError(
                f"{field} {ref[:80]!r}: version {rest[:40]!r} is not valid", field=field, model=name
            )
        return ModelRef(name, RefKind.VERSION, rest)
    if rest == LATEST:
        return ModelRef(name, RefKind.LATEST)
    if not STAGE.fullmatch(rest):
        raise InvalidReferenceError(
            f"{field} {ref[:80]!r}: {rest[:40]!r} is not a valid stage or alias "
            "(lowercase letters, digits and '-', starting with a letter, at most 31 characters)",
            field=field,
            model=name,
        )
    kind = RefKind.STAGE if rest in WELL_KNOWN_STAGES else RefKind.LABEL
    return ModelRef(name, kind, rest)


def _split(ref: str) -> tuple[str, str, str]:
    at, slash = ref.find("@"), ref.find("/")
    positions = [p for p in (at, slash) if p >= 0]
    if not positions:
        return ref, "", ""
    cut = min(positions)
    return ref[:cut], ref[cut], ref[cut + 1 :]
