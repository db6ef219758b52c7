"""The Model Registry's state and the semantics of each call, on the real proto messages.

Pure Python over ``google.cloud.aiplatform_v1.types``: no transport here. Every method
takes a request message and returns a response message or raises `RpcError` with
the code and wording the service uses. Callers hold one lock around each call.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import grpc
from google.cloud.aiplatform_v1 import types
from google.longrunning import operations_pb2
from google.protobuf import field_mask_pb2

from .rules import (
    DEFAULT_ALIAS,
    MAX_DISPLAY_NAME,
    MODEL_NAME,
    PARENT,
    RpcError,
    check_alias,
    check_labels,
    check_model_id,
    invalid,
)

MAX_PAGE_SIZE = 100  # larger requests get 100 (the service's cap for these lists)
VERSION_PATHS = frozenset({"version_description", "labels"})
MODEL_PATHS = frozenset({"display_name", "description", "labels"})
_LABEL_TERM = re.compile(r'labels\.([a-z][a-z0-9_-]*)\s*(=\s*"?([a-z0-9_-]*)"?|:\s*\*)')
_LABEL_EXISTS = re.compile(r"labels\s*:\s*([a-z][a-z0-9_-]*)")
_DISPLAY_NAME_TERM = re.compile(r'display_name\s*=\s*"([^"]*)"')
_ORDERS = {"create_time", "update_time"}


@dataclass
class _Model:
    model_id: str
    display_name: str
    description: str
    versions: dict[str, types.Model] = field(default_factory=dict)  # by version id, in order
    next_version: int = 1

    def default_version(self) -> types.Model:
        return next(v for v in self.versions.values() if DEFAULT_ALIAS in v.version_aliases)


@dataclass
class _PendingOperation:
    operation: operations_pb2.Operation
    polls_left: int
    finish: Callable[[], types.UploadModelResponse]


class ModelRegistryState:
    """Models and their versions for one project and location."""

    def __init__(self, project: str, location: str) -> None:
        self.project = project
        self.location = location
        self.lro_polls = 0  # GetOperation polls an upload takes before it is done
        # The metadata store's artifact for a new version (its metadata_artifact), if any.
        self.make_artifact: Callable[[types.Model], str] | None = None
        self._models: dict[str, _Model] = {}
        self._operations: dict[str, _PendingOperation | operations_pb2.Operation] = {}
        self._ids = itertools.count(1_000_000_001)
        self._clock = datetime(2025, 1, 1, tzinfo=timezone.utc)
        self._etags = itertools.count(1)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    # -- ModelService ---------------------------------------------------------

    def upload_model(self, request: types.UploadModelRequest) -> operations_pb2.Operation:
        self._check_parent(request.parent)
        model = request.model
        if not model.display_name:
            raise invalid("model.display_name is required.")
        if len(model.display_name) > MAX_DISPLAY_NAME:
            raise invalid(f"model.display_name is longer than {MAX_DISPLAY_NAME} characters.")
        check_labels(model.labels)
        for alias in model.version_aliases:
            check_alias(alias)
        target: _Model | str = (
            self._parent_model(request)
            if request.parent_model
            else self._new_model_id(request.model_id)
        )
        operation = self._new_operation()
        finish = self._upload_finisher(target, copy.deepcopy(model))
        if self.lro_polls <= 0:
            self._complete(operation, finish)
            self._operations[operation.name] = operation
        else:
            self._operations[operation.name] = _PendingOperation(operation, self.lro_polls, finish)
        return operation

    def get_model(self, request: types.GetModelRequest) -> types.Model:
        model, version = self._version(request.name)
        return self._shown(model, version)

    def list_models(self, request: types.ListModelsRequest) -> types.ListModelsResponse:
        self._check_parent(request.parent)
        if request.order_by:
            raise invalid(f"Unsupported order_by: {request.order_by!r}.")
        matches = self._model_filter(request.filter)
        shown = [self._shown(m, m.default_version()) for m in self._models.values()]
        items = [m for m in shown if matches(m)]
        page, token = _page(items, request.page_size, request.page_token, request.filter)
        return types.ListModelsResponse(models=page, next_page_token=token)

    def list_model_versions(
        self, request: types.ListModelVersionsRequest
    ) -> types.ListModelVersionsResponse:
        model = self._model(request.name, versioned=False)
        matches = _label_filter(request.filter)
        items = [self._shown(model, v) for v in model.versions.values()]
        items = _ordered([m for m in items if matches(m)], request.order_by)
        query = f"{request.filter}\n{request.order_by}"
        page, token = _page(items, request.page_size, request.page_token, query)
        masked = [_masked(m, request.read_mask) for m in page]
        return types.ListModelVersionsResponse(models=masked, next_page_token=token)

    def update_model(self, request: types.UpdateModelRequest) -> types.Model:
        paths = list(request.update_mask.paths)
        if not paths:
            raise invalid("update_mask is required.")
        model, version = self._version(request.model.name)
        versioned = "@" in request.model.name
        allowed = VERSION_PATHS if versioned else MODEL_PATHS
        unknown = [p for p in paths if p not in allowed]
        if unknown:
            where = "a model version (name@version)" if versioned else "a model"
            raise invalid(f"Update of {', '.join(unknown)} is not supported for {where}.")
        if request.model.etag and request.model.etag != version.etag:
            raise RpcError(
                grpc.StatusCode.ABORTED,
                f"The etag {request.model.etag!r} does not match the current one: the model "
                "was changed since it was read.",
            )
        if "labels" in paths:
            check_labels(request.model.labels)
            version.labels.clear()
            version.labels.update(dict(request.model.labels))
        if "version_description" in paths:
            version.version_description = request.model.version_description
        if "display_name" in paths:
            if not request.model.display_name:
                raise invalid("model.display_name cannot be empty.")
            model.display_name = request.model.display_name
        if "description" in paths:
            model.description = request.model.description
        self._touch(version)
        return self._shown(model, version)

    def merge_version_aliases(self, request: types.MergeVersionAliasesRequest) -> types.Model:
        model, version = self._version(request.name)
        resource_version = request.name.rpartition("@")[2]
        if not resource_version.isdigit():
            raise invalid(
                f"{request.name} must name a version by its id (models/MODEL@VERSION_ID)."
            )
        if not request.version_aliases:
            raise invalid("version_aliases must not be empty.")
        adds, removes = _alias_changes(request.version_aliases)
        if DEFAULT_ALIAS in removes:
            raise invalid("The 'default' alias cannot be removed: assign it to another version.")
        for alias in adds:
            for other in model.versions.values():
                if other is not version and alias in other.version_aliases:
                    other.version_aliases.remove(alias)  # an alias names one version: it moves
                    self._touch(other)
        kept = [a for a in version.version_aliases if a not in removes]
        version.version_aliases[:] = kept + [a for a in adds if a not in kept]
        self._touch(version)
        return self._shown(model, version)

    def delete_model_version(
        self, request: types.DeleteModelVersionRequest
    ) -> operations_pb2.Operation:
        model, version = self._version(request.name)
        if "@" not in request.name:
            raise invalid(f"{request.name} must name a version (models/MODEL@VERSION).")
        if DEFAULT_ALIAS in version.version_aliases:
            raise RpcError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "The default version of a model cannot be deleted: move the 'default' alias "
                "first, or delete the model.",
            )
        del model.versions[version.version_id]
        operation = self._new_operation()
        operation.done = True
        self._operations[operation.name] = operation
        return operation

    # -- Operations -------------------------------------------------------------

    def get_operation(
        self, request: operations_pb2.GetOperationRequest
    ) -> operations_pb2.Operation:
        found = self._operations.get(request.name)
        if found is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Operation {request.name} not found.")
        if isinstance(found, operations_pb2.Operation):
            return found
        found.polls_left -= 1
        if found.polls_left > 0:
            return found.operation
        self._complete(found.operation, found.finish)
        self._operations[request.name] = found.operation
        return found.operation

    # -- helpers --------------------------------------------------------------

    def _check_parent(self, parent: str) -> None:
        match = PARENT.fullmatch(parent)
        if match is None:
            raise invalid(f"Invalid parent resource name {parent!r}.")
        self._check_place(match.group(1), match.group(2))

    def _check_place(self, project: str, location: str) -> None:
        if project != self.project:
            raise RpcError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"Permission denied on project {project} (or it may not exist).",
            )
        if location != self.location:
            raise invalid(f"Location {location} is not served by this endpoint.")

    def _model(self, name: str, *, versioned: bool = True) -> _Model:
        match = MODEL_NAME.fullmatch(name)
        if match is None or (not versioned and match.group(4)):
            raise invalid(f"Invalid Model resource name {name!r}.")
        self._check_place(match.group(1), match.group(2))
        model = self._models.get(match.group(3))
        if model is None:
            raise RpcError(
                grpc.StatusCode.NOT_FOUND,
                f'The Model "{self.parent}/models/{match.group(3)}" does not exist.',
            )
        return model

    def _version(self, name: str) -> tuple[_Model, types.Model]:
        model = self._model(name)
        _, _, which = name.partition("@")
        if not which:
            return model, model.default_version()
        found = model.versions.get(which) if which.isdigit() else None
        if found is None and not which.isdigit():
            found = next((v for v in model.versions.values() if which in v.version_aliases), None)
        if found is None:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f'The Model "{name}" does not exist.')
        return model, found

    def _parent_model(self, request: types.UploadModelRequest) -> _Model:
        if "@" in request.parent_model:
            raise invalid(
                f"parent_model {request.parent_model!r} must name a model, not a version (no '@')."
            )
        if request.model_id:
            raise invalid("model_id cannot be set together with parent_model.")
        return self._model(request.parent_model, versioned=False)

    def _new_model_id(self, model_id: str) -> str:
        if not model_id:
            return str(next(self._ids))
        check_model_id(model_id)
        if model_id in self._models:
            raise RpcError(
                grpc.StatusCode.ALREADY_EXISTS,
                f'The Model "{self.parent}/models/{model_id}" already exists.',
            )
        return model_id

    def _upload_finisher(
        self, target: _Model | str, model: types.Model
    ) -> Callable[[], types.UploadModelResponse]:
        def finish() -> types.UploadModelResponse:
            if isinstance(target, str):
                if target in self._models:  # another upload took the id meanwhile
                    raise RpcError(
                        grpc.StatusCode.ALREADY_EXISTS,
                        f'The Model "{self.parent}/models/{target}" already exists.',
                    )
                owner = self._models[target] = _Model(target, model.display_name, model.description)
            else:
                owner = target
            version = self._new_version(owner, model)
            return types.UploadModelResponse(
                model=f"{self.parent}/models/{owner.model_id}", model_version_id=version
            )

        return finish

    def _new_version(self, owner: _Model, model: types.Model) -> str:
        version_id = str(owner.next_version)
        owner.next_version += 1
        now = self._now()
        stored = types.Model(
            name=f"{self.parent}/models/{owner.model_id}",
            version_id=version_id,
            version_description=model.version_description,
            artifact_uri=model.artifact_uri,
            container_spec=model.container_spec,
            labels=dict(model.labels),
            metadata_schema_uri=model.metadata_schema_uri,
            pipeline_job=model.pipeline_job,
            version_create_time=now,
            version_update_time=now,
            create_time=now,
            update_time=now,
            etag=self._etag(),
        )
        if "metadata" in model:
            stored.metadata = model.metadata
        if self.make_artifact is not None:
            stored.metadata_artifact = self.make_artifact(stored)
        aliases = list(dict.fromkeys(model.version_aliases))
        if not owner.versions and DEFAULT_ALIAS not in aliases:
            aliases.append(DEFAULT_ALIAS)  # the first version is the default
        for alias in aliases:
            for other in owner.versions.values():
                if alias in other.version_aliases:
                    other.version_aliases.remove(alias)
        stored.version_aliases.extend(aliases)
        owner.versions[version_id] = stored
        return version_id

    def _complete(
        self, operation: operations_pb2.Operation, finish: Callable[[], types.UploadModelResponse]
    ) -> None:
        operation.done = True
        try:
            response = finish()
        except RpcError as error:
            operation.error.code = error.code.value[0]
            operation.error.message = error.message
            return
        operation.response.Pack(types.UploadModelResponse.pb(response))

    def _new_operation(self) -> operations_pb2.Operation:
        operation = operations_pb2.Operation(
            name=f"{self.parent}/operations/{next(self._ids)}", done=False
        )
        metadata = types.UploadModelOperationMetadata()
        metadata.generic_metadata.create_time = self._now()
        operation.metadata.Pack(types.UploadModelOperationMetadata.pb(metadata))
        return operation

    def _shown(self, model: _Model, version: types.Model) -> types.Model:
        shown = copy.deepcopy(version)
        shown.display_name = model.display_name
        shown.description = model.description
        shown.create_time = next(iter(model.versions.values())).create_time
        return shown

    def _model_filter(self, text: str) -> Callable[[types.Model], bool]:
        display = _DISPLAY_NAME_TERM.fullmatch(text.strip())
        if display is not None:
            return lambda m: m.display_name == display.group(1)
        return _label_filter(text)

    def _touch(self, version: types.Model) -> None:
        now = self._now()
        version.version_update_time = now
        version.update_time = now
        version.etag = self._etag()

    def _now(self) -> datetime:
        """Time that always moves forward, so ordering by time is ordering by change."""
        self._clock = max(self._clock + timedelta(microseconds=1), datetime.now(timezone.utc))
        return self._clock

    def _etag(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(str(next(self._etags)).encode()).digest())[
            :16
        ].decode()


def _alias_changes(requested: Iterable[str]) -> tuple[list[str], set[str]]:
    adds: list[str] = []
    removes: set[str] = set()
    for entry in requested:
        alias = entry[1:] if entry.startswith("-") else entry
        check_alias(alias)
        (removes.add(alias) if entry.startswith("-") else adds.append(alias))
    both = removes.intersection(adds)
    if both:
        raise invalid(f"Alias {sorted(both)[0]!r} is both added and removed in one request.")
    return list(dict.fromkeys(adds)), removes


def _label_filter(text: str) -> Callable[[types.Model], bool]:
    """``labels.k=v``, ``labels.k:*`` and ``labels:k`` terms joined by AND; anything else
    is refused, as the service refuses what it cannot parse."""
    terms = [_label_term(t.strip()) for t in re.split(r"\s+AND\s+", text.strip()) if t.strip()]

    def matches(model: types.Model) -> bool:
        labels = dict(model.labels)
        return all(
            key in labels and (value is None or labels[key] == value) for key, value in terms
        )

    return matches


def _label_term(term: str) -> tuple[str, str | None]:
    """(key, wanted value), None for "any value"."""
    exists = _LABEL_EXISTS.fullmatch(term)
    if exists is not None:
        return exists.group(1), None
    match = _LABEL_TERM.fullmatch(term)
    if match is None:
        raise invalid(f"Unsupported filter expression: {term!r}.")
    return match.group(1), match.group(3)


def _ordered(items: list[types.Model], order_by: str) -> list[types.Model]:
    if not order_by:
        return sorted(items, key=lambda m: int(m.version_id))
    for clause in reversed([c.strip() for c in order_by.split(",")]):
        parts = clause.split()
        if not parts or parts[0] not in _ORDERS or parts[1:] not in ([], ["desc"], ["asc"]):
            raise invalid(f"Unsupported order_by: {order_by!r}.")
        field_name = "version_create_time" if parts[0] == "create_time" else "version_update_time"
        items = sorted(items, key=_by(field_name), reverse=parts[1:] == ["desc"])
    return items


def _by(field_name: str) -> Callable[[types.Model], datetime]:
    def key(model: types.Model) -> datetime:
        value: datetime = getattr(model, field_name)
        return value

    return key


def _page(
    items: list[types.Model], size: int, token: str, query: str
) -> tuple[list[types.Model], str]:
    if size < 0:
        raise invalid("page_size must not be negative.")
    size = min(size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    start = _offset(token, query)
    end = start + size
    return items[start:end], _token(end, query) if end < len(items) else ""


def _token(offset: int, query: str) -> str:
    check = hashlib.sha256(query.encode()).hexdigest()[:8]
    return base64.urlsafe_b64encode(f"{offset}:{check}".encode()).decode()


def _offset(token: str, query: str) -> int:
    if not token:
        return 0
    try:
        offset, check = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        valid = check == hashlib.sha256(query.encode()).hexdigest()[:8] and offset.isdigit()
    except ValueError:
        valid = False
    if not valid:
        raise invalid("Invalid page_token: it does not belong to this request.")
    return int(offset)


def _masked(model: types.Model, mask: field_mask_pb2.FieldMask) -> types.Model:
    if not mask.paths:
        return model
    shown = types.Model()
    for path in mask.paths:
        if path not in types.Model.meta.fields:
            raise invalid(f"read_mask names an unknown field {path!r}.")
        setattr(shown, path, getattr(model, path))
    return shown
