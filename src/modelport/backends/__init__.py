"""Finding the backend for a URL scheme, lazily.

Built-in backends are named in :data:`BUILTIN` as ``"package.module:Class"`` and
imported only when a URL uses them; third-party backends register in the
``modelport.backends`` entry-point group under their scheme.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from importlib.metadata import entry_points

from modelport.backends.base import Backend
from modelport.errors import BackendNotInstalledError, InvalidURLError
from modelport.urls import RegistryURL

ENTRY_POINT_GROUP = "modelport.backends"


@dataclass(frozen=True)
class BackendEntry:
    target: str  # "package.module:Class"
    extra: str | None = None  # the pip extra that installs its SDK
    requires: tuple[str, ...] = ()  # top-level modules that extra provides


BUILTIN: dict[str, BackendEntry] = {
    "memory": BackendEntry("modelport.backends.memory:MemoryBackend"),
    "mlflow": BackendEntry(
        "modelport.backends.mlflow.backend:MlflowBackend", "mlflow", ("mlflow",)
    ),
    "sagemaker": BackendEntry(
        "modelport.backends.sagemaker.backend:SageMakerBackend", "sagemaker", ("boto3",)
    ),
}

PLANNED = {"vertex": "Vertex AI", "azureml": "Azure ML"}


def backend_class(url: RegistryURL) -> type[Backend]:
    """The backend class for ``url``'s scheme, importing it (and its SDK) now."""
    entry = _entry_for(url)
    missing = [module for module in entry.requires if importlib.util.find_spec(module) is None]
    if missing:
        raise BackendNotInstalledError(
            f"{url.scheme}:// needs {', '.join(missing)}: pip install 'modelport[{entry.extra}]'",
            extra=entry.extra or "",
            url=str(url),
        )
    module_name, _, class_name = entry.target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise InvalidURLError(
            f"{entry.target} (for {url.scheme}://) is not a modelport Backend", url=str(url)
        )
    return cls


def known_schemes() -> list[str]:
    return sorted(set(BUILTIN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def _entry_for(url: RegistryURL) -> BackendEntry:
    scheme = url.base_scheme
    if scheme in BUILTIN:
        return BUILTIN[scheme]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == scheme:
            return BackendEntry(ep.value)
    if scheme in PLANNED:
        raise InvalidURLError(
            f"{url}: the {PLANNED[scheme]} backend ({scheme}://) is planned but not available "
            "in this release",
            field="url",
            url=str(url),
        )
    raise InvalidURLError(
        f"{url}: unknown registry scheme {url.scheme!r}; known: {', '.join(known_schemes())}",
        field="url",
        url=str(url),
    )
