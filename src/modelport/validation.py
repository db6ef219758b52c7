"""Checks of user input against modelport's neutral naming rules.

Each check raises `InvalidInputError` naming the field before any backend
is called. Backends add their own, stricter rules through ``Backend.validate_draft``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from modelport.errors import InvalidInputError

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STAGE = re.compile(r"[a-z][a-z0-9-]{0,30}")
KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/ -]{0,249}")
MAX_VALUE_CHARS = 5000
MAX_DESCRIPTION_CHARS = 5000
MAX_REASON_CHARS = 1000  # the reason of a transition, approval or alias change
MAX_ACTOR_CHARS = 256
MAX_ENTRIES = 200


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_model_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str):
        raise InvalidInputError(f"{field} must be a string, got {type(name).__name__}", field=field)
    if not MODEL_NAME.fullmatch(name):
        raise InvalidInputError(
            f"{field} {_shown(name)} is not a valid model name: 1-128 characters, "
            "letters, digits, '.', '_' or '-', starting with a letter or digit",
            field=field,
            model=name if len(name) < 200 else None,
        )
    return name


def check_version(version: object, field: str = "version") -> str:
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise InvalidInputError(
            f"{field} {_shown(version)} is not a valid version: letters, digits, '.', '_', '-'",
            field=field,
        )
    return version


def check_stage(stage: object, field: str = "stage") -> str:
    if not isinstance(stage, str):
        raise InvalidInputError(
            f"{field} must be a string, got {type(stage).__name__}", field=field
        )
    if not STAGE.fullmatch(stage):
        raise InvalidInputError(
            f"{field} {_shown(stage)} is not a valid stage: it must match [a-z][a-z0-9-]{{0,30}} "
            "(development, staging, production, archived or a custom stage)",
            field=field,
        )
    return stage


def check_text(value: object, field: str, max_chars: int = MAX_VALUE_CHARS) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{field} must be a string, got {type(value).__name__}", field=field
        )
    if len(value) > max_chars:
        raise InvalidInputError(
            f"{field} is {len(value)} characters long; at most {max_chars} are allowed",
            field=field,
        )
    if "\x00" in value:
        raise InvalidInputError(f"{field} contains a NUL character", field=field)
    return check_encodable(value, field)


def check_encodable(value: str, field: str) -> str:
    """Refuse text that has no UTF-8 form (lone surrogates, from undecodable bytes on a
    command line or file name): every backend stores UTF-8, and would fail half-way."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{field} holds {value[exc.start : exc.end]!r} at character {exc.start}, "
            "which is not valid Unicode text (undecodable bytes?)",
            field=field,
        ) from None
    return value


def _check_mapping(value: object, field: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"{field} must be a mapping, got {type(value).__name__}", field=field
        )
    if len(value) > MAX_ENTRIES:
        raise InvalidInputError(
            f"{field} has {len(value)} entries; at most {MAX_ENTRIES} are allowed", field=field
        )
    return value


def _check_key(key: object, field: str) -> str:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise InvalidInputError(
            f"{field} key {_shown(key)} is not valid: 1-250 characters of letters, digits, "
            "'_', '.', ':', '/', '-' or space, starting with a letter, digit or '_'",
            field=field,
        )
    if key.startswith("modelport."):
        raise InvalidInputError(
            f"{field} key {key!r} uses the reserved prefix 'modelport.'", field=field
        )
    return key


def check_metrics(metrics: object, field: str = "metrics") -> dict[str, float]:
    result: dict[str, float] = {}
    for key, value in _check_mapping(metrics, field).items():
        name = _check_key(key, field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(
                f"{field}[{name!r}] must be a number, got {type(value).__name__}",
                field=f"{field}.{name}",
            )
        number = _as_float(value)
        if number is None or not math.isfinite(number):
            raise InvalidInputError(
                f"{field}[{name!r}] must be a finite number, got {_shown_number(value)}",
                field=f"{field}.{name}",
            )
        result[name] = number
    return result


def _as_float(value: float) -> float | None:
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        return None


def _shown_number(value: float) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _number_text(value: float, field: str) -> str:
    try:
        return check_text(str(value), field)
    except ValueError:  # an int past Python's 4300-digit str() limit
        raise InvalidInputError(
            f"{field} is an integer of {int(value).bit_length()} bits; "
            f"at most {MAX_VALUE_CHARS} characters are allowed",
            field=field,
        ) from None


def check_strings(values: object, field: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in _check_mapping(values, field).items():
        name = _check_key(key, field)
        if isinstance(value, (bool, int, float)):
            value = _number_text(value, f"{field}.{name}")  # flags and numbers: their text
        result[name] = check_text(value, f"{field}.{name}")
    return result
