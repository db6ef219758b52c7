"""modelport: one provider-neutral API over ML model registries.

``import modelport`` is cheap: names are imported on first use, and no backend
SDK is imported until a URL needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "connect": "modelport.connection",
    "default_url": "modelport.connection",
    "Registry": "modelport.registry",
    "ModelHandle": "modelport.watch",
    "migrate": "modelport.migration",
    "diff": "modelport.migration",
    "ModelVersion": "modelport.models",
    "Stage": "modelport.models",
    "Approval": "modelport.models",
    "Event": "modelport.models",
    "EventKind": "modelport.models",
    "Lineage": "modelport.models",
    "DatasetRef": "modelport.models",
    "CodeRef": "modelport.models",
    "CIRun": "modelport.models",
    "VersionRef": "modelport.models",
    "MigratedFrom": "modelport.models",
    "Policy": "modelport.policy",
    "MetricGate": "modelport.policy",
    "RetryPolicy": "modelport.retry",
    "ModelRef": "modelport.refs",
    "parse_ref": "modelport.refs",
    "RegistryURL": "modelport.urls",
    "parse_url": "modelport.urls",
    "Capability": "modelport.backends.base",
    "Backend": "modelport.backends.base",
    "ModelportError": "modelport.errors",
    "InvalidInputError": "modelport.errors",
    "InvalidReferenceError": "modelport.errors",
    "InvalidURLError": "modelport.errors",
    "NotFoundError": "modelport.errors",
    "ModelNotFoundError": "modelport.errors",
    "VersionNotFoundError": "modelport.errors",
    "PolicyViolationError": "modelport.errors",
    "ConflictError": "modelport.errors",
    "IntegrityError": "modelport.errors",
    "UnsupportedOperation": "modelport.errors",
    "BackendNotInstalledError": "modelport.errors",
    "BackendError": "modelport.errors",
    "AuthenticationError": "modelport.errors",
    "TransientBackendError": "modelport.errors",
    "BackendTimeoutError": "modelport.errors",
    "BackendUnreachableError": "modelport.errors",
}

# A literal list, so that type checkers see the lazily imported names as exported
# (mypy --strict: no implicit re-export); tests check it matches _EXPORTS.
__all__ = [
    "Approval",
    "AuthenticationError",
    "Backend",
    "BackendError",
    "BackendNotInstalledError",
    "BackendTimeoutError",
    "BackendUnreachableError",
    "CIRun",
    "Capability",
    "CodeRef",
    "ConflictError",
    "DatasetRef",
    "Event",
    "EventKind",
    "IntegrityError",
    "InvalidInputError",
    "InvalidReferenceError",
    "InvalidURLError",
    "Lineage",
    "MetricGate",
    "MigratedFrom",
    "ModelHandle",
    "ModelNotFoundError",
    "ModelRef",
    "ModelVersion",
    "ModelportError",
    "NotFoundError",
    "Policy",
    "PolicyViolationError",
    "Registry",
    "RegistryURL",
    "RetryPolicy",
    "Stage",
    "TransientBackendError",
    "UnsupportedOperation",
    "VersionNotFoundError",
    "VersionRef",
    "connect",
    "default_url",
    "diff",
    "migrate",
    "parse_ref",
    "parse_url",
]

if TYPE_CHECKING:
    from modelport.backends.base import Backend, Capability
    from modelport.connection import connect, default_url
    from modelport.errors import (
        AuthenticationError,
        BackendError,
        BackendNotInstalledError,
        BackendTimeoutError,
        BackendUnreachableError,
        ConflictError,
        IntegrityError,
        InvalidInputError,
        InvalidReferenceError,
        InvalidURLError,
        ModelNotFoundError,
        ModelportError,
        NotFoundError,
        PolicyViolationError,
        TransientBackendError,
        UnsupportedOperation,
        VersionNotFoundError,
    )
    from modelport.migration import diff, migrate
    from modelport.models import (
        Approval,
        CIRun,
        CodeRef,
        DatasetRef,
        Event,
        EventKind,
        Lineage,
        MigratedFrom,
        ModelVersion,
        Stage,
        VersionRef,
    )
    from modelport.policy import MetricGate, Policy
    from modelport.refs import ModelRef, parse_ref
    from modelport.registry import Registry
    from modelport.retry import RetryPolicy
    from modelport.urls import RegistryURL, parse_url
    from modelport.watch import ModelHandle


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
