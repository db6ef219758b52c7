"""Model package groups, packages and tags: state and operation semantics."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar, cast

from botocore.model import ServiceModel, StructureShape

from .errors import JsonDict, ServiceError, validation_error

_RecordT = TypeVar("_RecordT", bound="_Record")

_METADATA_LIMIT = 50  # CustomerMetadataProperties keys, also after an update merges them
_ADDITIONAL_SPECS_LIMIT = 15
_TAG_LIMIT = 50


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
    raise validation_error(f"Invalid pagination token: {token}")


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
        raise validation_error(f"A resource can have at most {_TAG_LIMIT} tags.")
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
            raise validation_error(f"Model Package Group {ref} does not exist.")
        return group

    def _package(self, ref: str) -> _Package:
        package = self.packages.get(_resource_key(ref, "model-package"))
        if package is None or (ref.startswith("arn:") and ref.lower() != package.arn):
            raise validation_error(f"ModelPackage {ref} does not exist.")
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
            raise validation_error(f"Model Package Group already exists: {arn}")
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
            raise validation_error(
                "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
                "Cannot determine which one to use."
            )
        if not group_ref and not name:
            raise validation_error("Missing ARN.")
        fields = {k: v for k, v in params.items() if k not in _NOT_STORED}
        if group_ref:
            return {"ModelPackageArn": self._create_versioned(group_ref, fields, params)}
        return {"ModelPackageArn": self._create_unversioned(str(name), fields, params)}

    def _create_versioned(self, group_ref: str, fields: JsonDict, params: JsonDict) -> str:
        group = self._group(group_ref)
        if "Tags" in params:
            raise validation_error(
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
            raise validation_error(f"ModelPackage already exists: {arn}")
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
            raise validation_error(
                f"CustomerMetadataProperties can have at most {_METADATA_LIMIT} keys."
            )
        extra = package.fields.get("AdditionalInferenceSpecifications", []) + params.get(
            "AdditionalInferenceSpecificationsToAdd", []
        )
        if len(extra) > _ADDITIONAL_SPECS_LIMIT:
            raise validation_error(
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
            raise validation_error(
                "Tags of a versioned model package belong to its Model Package Group."
            )
        raise validation_error(f"Resource {arn} does not exist.")

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
