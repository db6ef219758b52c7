"""A strict local fake of the SageMaker Model Registry API, served over HTTP for boto3.

Unlike a mock, every request is checked against botocore's own service model (types,
required members, lengths, patterns, enums, list/map sizes) and every response the fake
produces is checked against the operation's output shape before it is sent. A fake that
drifts from the real wire contract therefore fails loudly instead of hiding bugs.

Layout: ``ShapeChecker`` (the model's constraints), ``ModelRegistry`` (state and operation
semantics), ``FaultInjector`` (throttling, 5xx, lost responses), ``SageMakerRegistryService``
(AWS JSON 1.1 over ``ThreadingHTTPServer``) and ``MotoS3Server`` (moto's S3 on localhost).
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import random
import re
import sys
import threading
import unicodedata
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast

import boto3
import botocore.session
from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.validate import ParamValidator

JsonDict = dict[str, Any]
_RecordT = TypeVar("_RecordT", bound="_Record")

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_TARGET_PREFIX = "SageMaker."
_METADATA_LIMIT = 50  # CustomerMetadataProperties keys, also after an update merges them
_ADDITIONAL_SPECS_LIMIT = 15
_TAG_LIMIT = 50


class ServiceError(Exception):
    """An error answered in the AWS JSON 1.1 format: ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


# --- Java regex patterns -------------------------------------------------------------------
# The model's patterns are Java regexes, matched against the whole value. Python's ``re`` has
# no \p{..} classes, so they are expanded from unicodedata once per process.

_POSIX_CLASSES = {"Alnum": "a-zA-Z0-9", "Alpha": "a-zA-Z", "Digit": "0-9", "Upper": "A-Z"}
_JAVA_END_REPEAT = re.compile(r"\$\{\d+(,\d*)?\}$")  # Java accepts "$" with a quantifier
_JAVA_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = (int(group, 16) for group in match.groups())
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


@functools.cache
def _unicode_runs() -> tuple[tuple[int, int, str], ...]:
    """Runs of consecutive code points sharing a general category: (first, last, category)."""
    runs: list[tuple[int, int, str]] = []
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if runs and runs[-1][2] == category:
            runs[-1] = (runs[-1][0], code, category)
        else:
            runs.append((code, code, category))
    return tuple(runs)


@functools.cache
def _class_body(name: str) -> str:
    if name in _POSIX_CLASSES:
        return _POSIX_CLASSES[name]
    if len(name) > 2:
        raise ValueError(f"unsupported character class \\p{{{name}}}")
    spans: list[tuple[int, int]] = []
    for first, last, category in _unicode_runs():
        if not category.startswith(name):
            continue
        if spans and spans[-1][1] == first - 1:  # merge e.g. adjacent Lu and Ll runs
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
    if not spans:
        raise ValueError(f"unknown Unicode category \\p{{{name}}}")
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in spans)


def _translate_java_pattern(pattern: str) -> str:
    pattern = _JAVA_SURROGATE_PAIR.sub(_join_surrogates, _JAVA_END_REPEAT.sub("$", pattern))
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        if pattern.startswith("\\p{", i):
            end = pattern.index("}", i)
            body = _class_body(pattern[i + 3 : end])
            out.append(body if in_class else f"[{body}]")
            i = end + 1
            continue
        step = 2 if pattern[i] == "\\" else 1
        in_class = {"[": True, "]": False}.get(pattern[i], in_class)
        out.append(pattern[i : i + step])
        i += step
    return "".join(out)


@functools.cache
def compile_model_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a service-model (Java) pattern for full matching; None if unsupported."""
    try:
        return re.compile(_translate_java_pattern(pattern), re.ASCII)  # Java's \d \s \w: ASCII
    except (ValueError, re.error):
        return None


# --- Shape checking ----------------------------------------------------------------------


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


def _to_wire(value: Any) -> Any:
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
            raise _validation(_summarize(problems))
        return cast(JsonDict, params)

    def unsupported_patterns(self) -> list[str]:
        """Model patterns the translator cannot compile (these go unchecked)."""
        patterns = {
            self.model.shape_for(name).metadata.get("pattern") for name in self.model.shape_names
        }
        return sorted(p for p in patterns if p and compile_model_pattern(p) is None)


# --- Registry state and operations ---------------------------------------------------------


@dataclass
class _Record:
    name: str
    arn: str
    created: datetime
    seq: int  # creation order; breaks ties between equal timestamps
    fields: JsonDict = field(default_factory=dict)


@dataclass
class _Group(_Record):
    next_version: int = 1


@dataclass
class _Package(_Record):
    group: str | None = None  # lower-cased group name; None for an unversioned package
    version: int | None = None
    modified: datetime | None = None


def _resource_key(ref: str, resource: str) -> str:
    """Name, ARN or "group/version" -> the lower-cased path the fake keys resources by."""
    if ref.startswith("arn:"):
        marker = f":{resource}/"
        return ref.split(marker, 1)[1].lower() if marker in ref else ""
    return ref.lower()


def _encode_token(scope: str, offset: int) -> str:
    raw = json.dumps({"scope": scope, "offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_token(token: str | None, scope: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if data["scope"] == scope and isinstance(data["offset"], int) and data["offset"] >= 0:
            return int(data["offset"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        pass
    raise _validation(f"Invalid pagination token: {token}")


def _paginate(
    items: list[JsonDict], params: JsonDict, scope: str
) -> tuple[list[JsonDict], JsonDict]:
    start = _decode_token(params.get("NextToken"), scope)
    stop = start + int(params.get("MaxResults", 10))
    more = {"NextToken": _encode_token(scope, stop)} if stop < len(items) else {}
    return items[start:stop], more


def _in_window(created: datetime, params: JsonDict) -> bool:
    after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
    return (after is None or created > after) and (before is None or created < before)


def _sort(records: list[_RecordT], params: JsonDict) -> list[_RecordT]:
    def by_name(r: _RecordT) -> tuple[str, int]:
        return (r.name, r.seq)

    def by_time(r: _RecordT) -> tuple[datetime, int]:
        return (r.created, r.seq)

    descending = params.get("SortOrder") == "Descending"
    if params.get("SortBy") == "Name":
        return sorted(records, key=by_name, reverse=descending)
    return sorted(records, key=by_time, reverse=descending)


def _merge_tags(current: list[JsonDict], added: list[JsonDict]) -> list[JsonDict]:
    merged = {tag["Key"]: tag for tag in current} | {tag["Key"]: tag for tag in added}
    if len(merged) > _TAG_LIMIT:
        raise _validation(f"A resource can have at most {_TAG_LIMIT} tags.")
    return list(merged.values())


_NOT_STORED = {"ModelPackageGroupName", "ModelPackageName", "ClientToken", "Tags"}
_REPLACED_BY_UPDATE = (
    "ModelApprovalStatus",
    "ApprovalDescription",
    "ModelPackageRegistrationType",
    "InferenceSpecification",
    "SourceUri",
    "ModelCard",
    "ModelLifeCycle",
)


IMPLEMENTED_OPERATIONS = frozenset(
    [
        "CreateModelPackageGroup",
        "DescribeModelPackageGroup",
        "ListModelPackageGroups",
        "DeleteModelPackageGroup",
        "CreateModelPackage",
        "DescribeModelPackage",
        "BatchDescribeModelPackage",
        "ListModelPackages",
        "UpdateModelPackage",
        "DeleteModelPackage",
        "AddTags",
        "ListTags",
        "DeleteTags",
    ]
)


class ModelRegistry:
    """Model package groups, packages and tags with the service's semantics. Not thread-safe:
    the service calls it under one lock."""

    def __init__(self, model: ServiceModel, region: str, account: str) -> None:
        self._model = model
        self._arn_prefix = f"arn:aws:sagemaker:{region}:{account}"
        self._account = account
        self.groups: dict[str, _Group] = {}
        self.packages: dict[str, _Package] = {}
        self.tags: dict[str, list[JsonDict]] = {}
        self.tokens: dict[tuple[str, str], str] = {}  # (group key, ClientToken) -> package key
        self._seq = 0

    def dispatch(self, operation: str, params: JsonDict) -> JsonDict:
        if operation not in IMPLEMENTED_OPERATIONS:
            raise ServiceError("UnknownOperationException", f"{operation} is not implemented")
        return cast(JsonDict, getattr(self, _snake(operation))(params))

    # helpers
    def _now(self) -> datetime:
        now = datetime.now(timezone.utc)  # the service reports milliseconds
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _project(self, values: JsonDict, shape_name: str) -> JsonDict:
        members = cast(StructureShape, self._model.shape_for(shape_name)).members
        return {key: value for key, value in values.items() if key in members}

    def _group(self, ref: str) -> _Group:
        group = self.groups.get(_resource_key(ref, "model-package-group"))
        if group is None or (ref.startswith("arn:") and ref.lower() != group.arn):
            raise _validation(f"Model Package Group {ref} does not exist.")
        return group

    def _package(self, ref: str) -> _Package:
        package = self.packages.get(_resource_key(ref, "model-package"))
        if package is None or (ref.startswith("arn:") and ref.lower() != package.arn):
            raise _validation(f"ModelPackage {ref} does not exist.")
        return package

    def _describe_group(self, group: _Group) -> JsonDict:
        user = {"IamIdentity": {"Arn": f"arn:aws:iam::{self._account}:user/testing"}}
        return {
            "ModelPackageGroupName": group.name,
            "ModelPackageGroupArn": group.arn,
            **group.fields,
            "CreationTime": group.created,
            "CreatedBy": user,
            "ModelPackageGroupStatus": "Completed",
        }

    def _describe_package(self, package: _Package) -> JsonDict:
        described: JsonDict = {"ModelPackageName": package.name}
        if package.group is not None:
            described["ModelPackageGroupName"] = self.groups[package.group].name
            described["ModelPackageVersion"] = package.version
        return described | {
            "ModelPackageArn": package.arn,
            **self._project(package.fields, "DescribeModelPackageOutput"),
            "CreationTime": package.created,
            "LastModifiedTime": package.modified,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
        }

    def _summarize_package(self, package: _Package) -> JsonDict:
        summary = self._project(self._describe_package(package), "ModelPackageSummary")
        if package.group is not None:
            del summary["ModelPackageName"]  # the service omits it for versioned packages
        return summary

    # model package groups
    def create_model_package_group(self, params: JsonDict) -> JsonDict:
        name = params["ModelPackageGroupName"]
        arn = f"{self._arn_prefix}:model-package-group/{name.lower()}"
        if name.lower() in self.groups:
            raise _validation(f"Model Package Group already exists: {arn}")
        kept = ("ModelPackageGroupDescription", "ManagedConfiguration")
        fields: JsonDict = {key: params[key] for key in kept if key in params}
        self.tags[arn] = _merge_tags([], params.get("Tags", []))
        self.groups[name.lower()] = _Group(name, arn, self._now(), self._next_seq(), fields)
        return {"ModelPackageGroupArn": arn}

    def describe_model_package_group(self, params: JsonDict) -> JsonDict:
        return self._describe_group(self._group(params["ModelPackageGroupName"]))

    def list_model_package_groups(self, params: JsonDict) -> JsonDict:
        needle = params.get("NameContains", "").lower()
        groups = [
            group
            for group in self.groups.values()
            if needle in group.name.lower() and _in_window(group.created, params)
        ]
        summaries = [
            self._project(self._describe_group(group), "ModelPackageGroupSummary")
            for group in _sort(groups, params)
        ]
        page, more = _paginate(summaries, params, "ListModelPackageGroups")
        return {"ModelPackageGroupSummaryList": page, **more}

    def delete_model_package_group(self, params: JsonDict) -> JsonDict:
        group = self._group(params["ModelPackageGroupName"])
        key = group.name.lower()
        if any(package.group == key for package in self.packages.values()):
            raise ServiceError(
                "ConflictException",
                f"Model Package Group {group.name} still has model packages; delete them first.",
            )
        del self.groups[key]
        self.tags.pop(group.arn, None)
        return {}

    # model packages
    def create_model_package(self, params: JsonDict) -> JsonDict:
        group_ref, name = params.get("ModelPackageGroupName"), params.get("ModelPackageName")
        if group_ref and name:
            raise _validation(
                "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
                "Cannot determine which one to use."
            )
        if not group_ref and not name:
            raise _validation("Missing ARN.")
        fields = {k: v for k, v in params.items() if k not in _NOT_STORED}
        if group_ref:
            return {"ModelPackageArn": self._create_versioned(group_ref, fields, params)}
        return {"ModelPackageArn": self._create_unversioned(str(name), fields, params)}

    def _create_versioned(self, group_ref: str, fields: JsonDict, params: JsonDict) -> str:
        group = self._group(group_ref)
        if "Tags" in params:
            raise _validation(
                "Tags cannot be set on a versioned model package; it uses its "
                "Model Package Group's tags."
            )
        token_key = (group.name.lower(), params.get("ClientToken", ""))
        if token_key[1] and token_key in self.tokens:
            return self.packages[self.tokens[token_key]].arn  # idempotent retry
        version, group.next_version = group.next_version, group.next_version + 1
        key = f"{group.name.lower()}/{version}"
        fields.setdefault("ModelApprovalStatus", "PendingManualApproval")
        self._store(
            _Package(
                group.name,
                f"{self._arn_prefix}:model-package/{key}",
                self._now(),
                self._next_seq(),
                fields,
                group.name.lower(),
                version,
            ),
            key,
        )
        if token_key[1]:
            self.tokens[token_key] = key
        return self.packages[key].arn

    def _create_unversioned(self, name: str, fields: JsonDict, params: JsonDict) -> str:
        arn = f"{self._arn_prefix}:model-package/{name.lower()}"
        if name.lower() in self.packages:
            raise _validation(f"ModelPackage already exists: {arn}")
        self.tags[arn] = _merge_tags([], params.get("Tags", []))
        self._store(_Package(name, arn, self._now(), self._next_seq(), fields), name.lower())
        return arn

    def _store(self, package: _Package, key: str) -> None:
        package.modified = package.created
        self.packages[key] = package

    def describe_model_package(self, params: JsonDict) -> JsonDict:
        return self._describe_package(self._package(params["ModelPackageName"]))

    def batch_describe_model_package(self, params: JsonDict) -> JsonDict:
        found: JsonDict = {}
        errors: JsonDict = {}
        for arn in params["ModelPackageArnList"]:
            try:
                described = self._describe_package(self._package(arn))
            except ServiceError as error:
                errors[arn] = {"ErrorCode": error.code, "ErrorResponse": error.message}
                continue
            if (
                "InferenceSpecification" not in described
                or "ModelPackageGroupName" not in described
            ):
                problem = "Model package has no InferenceSpecification or is unversioned."
                errors[arn] = {"ErrorCode": "ValidationException", "ErrorResponse": problem}
                continue
            found[arn] = self._project(described, "BatchDescribeModelPackageSummary")
        return {"ModelPackageSummaries": found, "BatchDescribeModelPackageErrorMap": errors}

    def list_model_packages(self, params: JsonDict) -> JsonDict:
        group_ref = params.get("ModelPackageGroupName")
        group_key = _resource_key(group_ref, "model-package-group") if group_ref else None
        # The model's documentation: Unversioned is the default, unless a group is named.
        kind = params.get("ModelPackageType") or ("Versioned" if group_ref else "Unversioned")
        needle = params.get("NameContains", "").lower()

        def wanted(package: _Package) -> bool:
            return (
                (group_key is None or package.group == group_key)
                and (kind == "Both" or (package.group is None) == (kind == "Unversioned"))
                and params.get("ModelApprovalStatus")
                in (None, package.fields.get("ModelApprovalStatus"))
                and needle in package.name.lower()
                and _in_window(package.created, params)
            )

        packages = _sort([p for p in self.packages.values() if wanted(p)], params)
        summaries = [self._summarize_package(package) for package in packages]
        page, more = _paginate(summaries, params, "ListModelPackages")
        return {"ModelPackageSummaryList": page, **more}

    def update_model_package(self, params: JsonDict) -> JsonDict:
        package = self._package(params["ModelPackageArn"])
        changes = {key: params[key] for key in _REPLACED_BY_UPDATE if key in params}
        metadata = package.fields.get("CustomerMetadataProperties", {}) | params.get(
            "CustomerMetadataProperties", {}
        )
        for key in params.get("CustomerMetadataPropertiesToRemove", []):
            metadata.pop(key, None)
        if len(metadata) > _METADATA_LIMIT:
            raise _validation(
                f"CustomerMetadataProperties can have at most {_METADATA_LIMIT} keys."
            )
        extra = package.fields.get("AdditionalInferenceSpecifications", []) + params.get(
            "AdditionalInferenceSpecificationsToAdd", []
        )
        if len(extra) > _ADDITIONAL_SPECS_LIMIT:
            raise _validation(
                f"At most {_ADDITIONAL_SPECS_LIMIT} AdditionalInferenceSpecifications."
            )
        # Only now, with every check passed, touch the stored package: updates are all-or-nothing.
        package.fields.pop("CustomerMetadataProperties", None)
        package.fields |= changes | ({"CustomerMetadataProperties": metadata} if metadata else {})
        if extra:
            package.fields["AdditionalInferenceSpecifications"] = extra
        package.modified = self._now()
        return {"ModelPackageArn": package.arn}

    def delete_model_package(self, params: JsonDict) -> JsonDict:
        package = self._package(params["ModelPackageName"])
        key = _resource_key(package.arn, "model-package")
        del self.packages[key]
        self.tags.pop(package.arn, None)
        self.tokens = {token: kept for token, kept in self.tokens.items() if kept != key}
        return {}

    # tags
    def _taggable(self, arn: str) -> str:
        if arn in self.tags:
            return arn
        if ":model-package/" in arn:
            self._package(arn)
            raise _validation(
                "Tags of a versioned model package belong to its Model Package Group."
            )
        raise _validation(f"Resource {arn} does not exist.")

    def add_tags(self, params: JsonDict) -> JsonDict:
        arn = self._taggable(params["ResourceArn"])
        self.tags[arn] = _merge_tags(self.tags[arn], params["Tags"])
        return {"Tags": self.tags[arn]}

    def delete_tags(self, params: JsonDict) -> JsonDict:
        arn = self._taggable(params["ResourceArn"])
        self.tags[arn] = [tag for tag in self.tags[arn] if tag["Key"] not in params["TagKeys"]]
        return {}

    def list_tags(self, params: JsonDict) -> JsonDict:
        arn = params["ResourceArn"]
        if arn not in self.tags and ":model-package/" in arn:
            package = self._package(arn)  # versioned packages show their group's tags
            arn = self.groups[package.group or ""].arn
        tags = self.tags[self._taggable(arn)]
        page, more = _paginate(
            tags, params | {"MaxResults": params.get("MaxResults", 50)}, "ListTags"
        )
        return {"Tags": page, **more}


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


# --- Fault injection -----------------------------------------------------------------------

_FAULTS = {
    "ThrottlingException": (400, "Rate exceeded"),
    "InternalFailure": (500, "An internal error occurred. Try again."),
    "ServiceUnavailable": (503, "Service is unavailable. Try again later."),
}


@dataclass(frozen=True)
class Fault:
    error: ServiceError
    after_effect: bool  # True: the operation ran, but its response is "lost"


@dataclass
class FaultInjector:
    """Seeded, deterministic failures. Faults are drawn before the operation runs, so a failed
    call changes nothing, unless ``after_effect`` makes it run first and lose its response."""

    seed: int = 0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    after_effect: bool = False
    operations: set[str] | None = None  # None: every operation may fail
    injected: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(init=False)
    _queue: deque[Fault] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def fail_next(
        self, n: int = 1, code: str = "ThrottlingException", *, after_effect: bool = False
    ) -> None:
        """Fail the next ``n`` calls (of ``operations``, if set) with ``code``."""
        status, message = _FAULTS.get(code, (400, code))
        with self._lock:
            self._queue.extend(
                Fault(ServiceError(code, message, status), after_effect) for _ in range(n)
            )

    def reset(self) -> None:
        with self._lock:
            self.throttle_rate = self.error_rate = 0.0
            self.after_effect = False
            self.operations = None
            self._queue.clear()
            self.injected.clear()

    def draw(self, operation: str) -> Fault | None:
        with self._lock:
            if self.operations is not None and operation not in self.operations:
                return None
            fault = self._queue.popleft() if self._queue else self._random_fault()
            if fault is not None:
                self.injected[fault.error.code] += 1
            return fault

    def _random_fault(self) -> Fault | None:
        if self.rng.random() < self.throttle_rate:
            code = "ThrottlingException"
        elif self.rng.random() < self.error_rate:
            code = self.rng.choice(["InternalFailure", "ServiceUnavailable"])
        else:
            return None
        status, message = _FAULTS[code]
        return Fault(ServiceError(code, message, status), self.after_effect)


# --- HTTP service ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    error_code: str | None = None


def _error_reply(error: ServiceError) -> _Reply:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    return _Reply(error.status, body, error.code)


def _parse_body(body: bytes) -> JsonDict:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError as exc:
        raise ServiceError("SerializationException", f"Request body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ServiceError("SerializationException", "Request body must be a JSON object")
    return parsed


@functools.cache
def _shared_loader() -> Loader:
    """One botocore data loader per process: it caches the service JSON (a cold client
    costs ~0.2 s, a warm one ~10 ms). Sessions themselves stay per instance."""
    return cast(Loader, botocore.session.get_session().get_component("data_loader"))


def _botocore_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())
    return session


def _client(service_name: str, endpoint_url: str, region: str, overrides: JsonDict) -> Any:
    options: JsonDict = {"endpoint_url": endpoint_url, "region_name": region, **DUMMY_CREDENTIALS}
    session: Any = boto3.session.Session(botocore_session=_botocore_session())  # stubs: Literal
    return session.client(service_name, **(options | overrides))


@functools.cache
def _sagemaker_model() -> ServiceModel:
    return _botocore_session().get_service_model("sagemaker")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: Callable[[str | None, bytes], _Reply]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = cast(_HttpServer, self.server).app(self.headers.get("X-Amz-Target"), body)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if reply.error_code:
            self.send_header("x-amzn-ErrorType", reply.error_code)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is for test failures."""


_ServerT = TypeVar("_ServerT", bound="_ThreadedServer")


class _ThreadedServer:
    """Start/stop/context-manager plumbing shared by the two servers."""

    def start(self) -> _ThreadedServer:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: _ServerT) -> _ServerT:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SageMakerRegistryService(_ThreadedServer):
    """A local SageMaker model-registry service boto3 can talk to over HTTP."""

    def __init__(
        self, region: str = "us-east-1", account: str = "123456789012", seed: int = 0
    ) -> None:
        self.region = region
        self.account = account
        self.faults = FaultInjector(seed=seed)
        self.calls: Counter[str] = Counter()  # every request, by operation, faulted or not
        self.call_log: list[str] = []
        self.shape_errors: list[str] = []  # responses the fake refused to send (output check)
        self.internal_errors: list[str] = []  # exceptions inside the fake
        # Rewrites each successful result before the output check; lets tests corrupt output.
        self.output_hook: Callable[[str, JsonDict], JsonDict] | None = None
        self.checker = ShapeChecker(_sagemaker_model())
        self.registry = ModelRegistry(self.checker.model, region, account)
        self._lock = threading.Lock()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SageMakerRegistryService:
        if self._server is None:
            self._server = _HttpServer(self.handle)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SageMakerRegistryService is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self, **kwargs: Any) -> Any:
        """A boto3 ``sagemaker`` client for this service (dummy credentials); ``kwargs`` win."""
        return _client("sagemaker", self.endpoint_url, self.region, kwargs)

    def reset(self) -> None:
        """Forget all resources, calls, faults and recorded errors."""
        with self._lock:
            self.registry = ModelRegistry(self.checker.model, self.region, self.account)
            self.calls.clear()
            self.call_log.clear()
            self.shape_errors.clear()
            self.internal_errors.clear()
        self.faults.reset()

    def handle(self, target: str | None, body: bytes) -> _Reply:
        """Serve one AWS JSON 1.1 request (the HTTP handler's entry point)."""
        operation = (target or "").removeprefix(_TARGET_PREFIX)
        with self._lock:
            self.calls[operation] += 1
            self.call_log.append(operation)
        fault = self.faults.draw(operation)
        if fault is not None and not fault.after_effect:
            return _error_reply(fault.error)
        reply = self._serve(target, operation, body)
        return _error_reply(fault.error) if fault is not None else reply

    def _serve(self, target: str | None, operation: str, body: bytes) -> _Reply:
        try:
            model = self._operation(target, operation)
            params = self.checker.decode_input(model, _parse_body(body))
            with self._lock:
                result = copy.deepcopy(self.registry.dispatch(operation, params))
            return self._respond(model, result)
        except ServiceError as error:
            return _error_reply(error)
        except Exception as exc:  # a bug in the fake must surface as a 500, not hang the client
            self.internal_errors.append(f"{operation}: {exc!r}")
            return _error_reply(ServiceError("InternalFailure", repr(exc), 500))

    def _operation(self, target: str | None, operation: str) -> OperationModel:
        model = self.checker.model
        if not (target or "").startswith(_TARGET_PREFIX) or operation not in model.operation_names:
            raise ServiceError("UnknownOperationException", f"Unknown operation: {target}")
        return model.operation_model(operation)

    def _respond(self, model: OperationModel, result: JsonDict) -> _Reply:
        if self.output_hook is not None:
            result = self.output_hook(model.name, result)
        problems = self.checker.problems(result, model.output_shape)
        if problems:
            self.shape_errors.extend(f"{model.name}: {problem}" for problem in problems)
            message = "The fake built a response its output shape forbids: " + "; ".join(problems)
            raise ServiceError("InternalFailure", message, 500)
        return _Reply(200, json.dumps(result, default=_to_wire).encode())


class MotoS3Server(_ThreadedServer):
    """moto's S3 on 127.0.0.1 and a free port. moto keeps its state in module globals, so
    every MotoS3Server in one process shares buckets; ``reset()`` clears them all."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._server: Any = None
        self._url: str | None = None

    def start(self) -> MotoS3Server:
        if self._server is None:
            from moto.server import ThreadedMotoServer  # heavy; import only when used

            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self._url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = self._url = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise RuntimeError("MotoS3Server is not started")
        return self._url

    def client(self, **kwargs: Any) -> Any:
        """A boto3 ``s3`` client for this server (dummy credentials); ``kwargs`` win."""
        return _client("s3", self.endpoint_url, self.region, kwargs)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
