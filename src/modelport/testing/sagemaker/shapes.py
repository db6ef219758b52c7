"""Checks values against botocore's service model, and converts to and from the wire."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, cast

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.validate import ParamValidator

from .errors import JsonDict, validation_error
from .patterns import compile_model_pattern


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _violation(value: Any, shape: Shape, path: str, constraint: str) -> str:
    shown = "*** Sensitive Data Redacted ***" if shape.metadata.get("sensitive") else value
    return f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must {constraint}"


def _constraint_problems(value: Any, shape: Shape, path: str) -> Iterator[str]:
    """Constraints ParamValidator skips: max, pattern, enum, timestamps, bool-as-int."""
    if isinstance(shape, StructureShape):
        if not shape.is_document_type:
            for name, member in shape.members.items():
                if name in value:
                    yield from _constraint_problems(value[name], member, _join(path, _camel(name)))
    elif isinstance(shape, ListShape):
        yield from _max_problems(len(value), value, shape, path, "have length")
        for index, item in enumerate(value, start=1):
            yield from _constraint_problems(item, shape.member, _join(path, f"{index}.member"))
    elif isinstance(shape, MapShape):
        yield from _max_problems(len(value), value, shape, path, "have length")
        for key, item in value.items():
            yield from _constraint_problems(key, shape.key, _join(path, f"{key}.key"))
            yield from _constraint_problems(item, shape.value, _join(path, f"{key}.value"))
    else:
        yield from _scalar_problems(value, shape, path)


def _scalar_problems(value: Any, shape: Shape, path: str) -> Iterator[str]:
    kind = shape.type_name
    if kind == "string":
        yield from _string_problems(value, shape, path)
    elif kind in {"integer", "long"} and isinstance(value, bool):
        yield _violation(value, shape, path, "be a number, not a boolean")
    elif kind in {"integer", "long", "float", "double"}:
        yield from _max_problems(value, value, shape, path, "have value")
    elif kind == "timestamp" and not isinstance(value, datetime):
        yield _violation(value, shape, path, "be a timestamp in epoch seconds")


def _string_problems(value: str, shape: Shape, path: str) -> Iterator[str]:
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        yield _violation(value, shape, path, f"satisfy enum value set: [{', '.join(enum)}]")
    yield from _max_problems(len(value), value, shape, path, "have length")
    pattern = shape.metadata.get("pattern")
    compiled = compile_model_pattern(pattern) if pattern else None
    if compiled is not None and compiled.fullmatch(value) is None:
        yield _violation(value, shape, path, f"satisfy regular expression pattern: {pattern}")


def _max_problems(size: Any, value: Any, shape: Shape, path: str, what: str) -> Iterator[str]:
    limit = shape.metadata.get("max")
    if limit is not None and size > limit:
        yield _violation(value, shape, path, f"{what} less than or equal to {limit}")


def _from_wire(value: Any, shape: Shape) -> Any:
    """JSON wire values -> the Python types botocore's validator expects (datetime, bytes)."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        if shape.is_document_type:
            return value
        members = shape.members
        return {k: _from_wire(v, members[k]) if k in members else v for k, v in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_from_wire(item, shape.member) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _from_wire(item, shape.value) for key, item in value.items()}
    if shape.type_name == "timestamp" and type(value) in (int, float):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return value  # out of range: left as-is so the check reports it
    if shape.type_name == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return value  # left as-is so the check reports it
    return value


def to_wire(value: Any) -> Any:
    """json.dumps hook: timestamps go out as epoch seconds, blobs as base64 (JSON 1.1)."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serializable: {value!r}")


def _summarize(problems: Sequence[str]) -> str:
    noun = "error" if len(problems) == 1 else "errors"
    return f"{len(problems)} validation {noun} detected: " + "; ".join(problems)


class ShapeChecker:
    """Checks values against botocore's service model: ParamValidator plus the constraints
    (max, pattern, enum) it leaves out."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._validator = ParamValidator()

    def problems(self, value: Any, shape: StructureShape | None) -> list[str]:
        if shape is None:
            return [] if value in ({}, None) else ["operation has no output, but a body was made"]
        report = self._validator.validate(value, shape)
        if report.has_errors():
            return [line for line in report.generate_report().splitlines() if line]
        return list(_constraint_problems(value, shape, ""))

    def decode_input(self, operation: OperationModel, wire: JsonDict) -> JsonDict:
        """Wire JSON -> validated Python params; raises ValidationException like the service."""
        shape = operation.input_shape
        params = _from_wire(wire, shape) if shape is not None else wire
        problems = self.problems(params, shape)
        if problems:
            raise validation_error(_summarize(problems))
        return cast(JsonDict, params)

    def unsupported_patterns(self) -> list[str]:
        """Model patterns the translator cannot compile (these go unchecked)."""
        patterns = {
            self.model.shape_for(name).metadata.get("pattern") for name in self.model.shape_names
        }
        return sorted(p for p in patterns if p and compile_model_pattern(p) is None)
