"""Request bodies checked against the SDK's own generated REST models.

``azure.ai.ml._restclient.arm_ml_service`` is generated from the service's TypeSpec: each
model class lists its JSON names, their types and their visibility. A body key the model
does not name, or one the service only ever sends (read-only), is refused with the JSON
path of the key, as the real service refuses it (400 ``UserError``).
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from azure.ai.ml._restclient.arm_ml_service import models as arm_models
from azure.ai.ml._restclient.arm_ml_service._utils.model_base import Model, _RestField

# Keys the SDK sends that its own models do not declare (known quirks), by model class.
# Each one is sent by azure-ai-ml 1.35 and accepted by the service.
_SDK_QUIRKS: dict[str, frozenset[str]] = {
    # DatastoreOperations.get(include_secrets=True) posts {"expireAfterHours": ...}
    "SecretExpiry": frozenset({"expireAfterHours"}),
    # ModelOperations.create_or_update in a registry (model_dataplane's
    # begin_create_or_update_model_with_system_metadata) adds the snake_case
    # "system_metadata" to the camelCase body, as its legacy msrest client did.
    "ModelVersionProperties": frozenset({"system_metadata"}),
}

_WRITABLE = frozenset({"create", "update"})


class BodyError(ValueError):
    """A request body the service would refuse; the message names the JSON path."""


def model_class(name: str) -> type[Model]:
    """The generated model class called ``name`` (e.g. ``"ModelVersion"``)."""
    cls = getattr(arm_models, name)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError(f"{name} is not a generated REST model")
    return cls


def check_body(body: object, model: str) -> None:
    """Raise `BodyError` when ``body`` is not a valid create/update ``model``."""
    _check(body, model_class(model), "$")


@cache
def _fields(cls: type[Model]) -> dict[str, tuple[_RestField, Any]]:
    cls.__new__(cls)  # the generated base computes its field table on first construction
    namespace = {**vars(sys.modules[cls.__module__]), "_models": arm_models}
    hints = typing.get_type_hints(cls, globalns=namespace)
    return {
        rf._rest_name: (rf, hints.get(attr, Any))
        for attr, rf in cls._attr_to_rest_field.items()  # type: ignore[misc]
    }


def _concrete(cls: type[Model], body: Mapping[str, Any]) -> type[Model]:
    """The subclass a discriminator value selects (``cls`` when there is none)."""
    mapping = getattr(cls, "__mapping__", None)
    if not mapping:
        return cls
    for name, (rf, _) in _fields(cls).items():
        if rf._is_discriminator and name in body:
            return typing.cast(type[Model], mapping.get(body[name], cls))
    return cls


def _check(value: object, annotation: Any, path: str) -> None:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, Model)]
        if models:
            _check(value, models[0], path)
        return
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(annotation) or (Any,)
        for index, element in enumerate(value):
            _check(element, item, f"{path}[{index}]")
        return
    if origin is dict and isinstance(value, dict):
        _, item = typing.get_args(annotation) or (str, Any)
        for key, element in value.items():
            _check(element, item, f"{path}.{key}")
        return
    if isinstance(annotation, type) and issubclass(annotation, Model):
        _check_model(value, annotation, path)


def _check_model(value: object, cls: type[Model], path: str) -> None:
    if not isinstance(value, dict):
        raise BodyError(f"{path}: expected an object for {cls.__name__}")
    cls = _concrete(cls, value)
    fields = _fields(cls)
    allowed = _SDK_QUIRKS.get(cls.__name__, frozenset())
    for key, element in value.items():
        if key in allowed:
            continue
        if key not in fields:
            raise BodyError(f"{path}.{key}: unknown member of {cls.__name__}")
        rest_field, annotation = fields[key]
        visibility = rest_field._visibility
        if visibility is not None and not _WRITABLE & set(visibility):
            raise BodyError(f"{path}.{key}: read-only member of {cls.__name__}")
        _check(element, annotation, f"{path}.{key}")
