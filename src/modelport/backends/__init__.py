"""Finding the backend for a URL scheme, lazily.

Built-in backends are named in `BUILTIN` as ``"package.module:Class"`` and
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
    example: str = ""  # a complete URL of this scheme, for docs and option checks


BUILTIN: dict[str, BackendEntry] = {
    "memory": BackendEntry("modelport.backends.memory:MemoryBackend", example="memory://"),
    "mlflow": BackendEntry(
        "modelport.backends.mlflow.backend:MlflowBackend",
        "mlflow",
        ("mlflow",),
        "mlflow+http://127.0.0.1:5000",
    ),
    "sagemaker": BackendEntry(
        "modelport.backends.sagemaker.backend:SageMakerBackend",
        "sagemaker",
        ("boto3",),
        "sagemaker://us-east-1?bucket=models",
    ),
    "vertex": BackendEntry(
        "modelport.backends.vertex.backend:VertexBackend",
        "vertex",
        ("google.cloud.aiplatform_v1", "google.cloud.storage"),
        "vertex://my-project/us-central1?bucket=gs://models",
    ),
    "azureml": BackendEntry(
        "modelport.backends.azureml.backend:AzureMLBackend",
        "azure",
        ("azure.ai.ml", "azure.storage.blob"),
        "azureml://00000000-0000-0000-0000-000000000000/my-group/my-workspace",
    ),
}

PLANNED: dict[str, str] = {}  # scheme -> title of a backend announced but not shipped


def backend_class(url: RegistryURL) -> type[Backend]:
    """The backend class for ``url``'s scheme, importing it (and its SDK) now."""
    entry = _entry_for(url)
    missing = missing_modules(entry)
    if missing:
        raise BackendNotInstalledError(
            f"{url.scheme}:// needs {', '.join(missing)}: pip install 'modelport[{entry.extra}]'",
            extra=entry.extra or "",
            url=str(url),
        )
    try:
        return import_backend(entry)
    except TypeError as error:
        raise InvalidURLError(f"{error} (for {url.scheme}://)", url=str(url)) from None


def registered() -> dict[str, BackendEntry]:
    """Every backend a URL can name, by scheme: the built-in ones, then the entry-point
    group's (a built-in scheme wins)."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, BackendEntry(ep.value))
    return found


def missing_modules(entry: BackendEntry) -> list[str]:
    """The modules ``entry``'s extra provides that are not installed."""
    return [module for module in entry.requires if not _installed(module)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is absent
        return False


def import_backend(entry: BackendEntry) -> type[Backend]:
    """Import ``entry``'s class; ``TypeError`` if it is not a `Backend`."""
    module_name, _, class_name = entry.target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"{entry.target} is not a modelport Backend")
    return cls


def known_schemes() -> list[str]:
    return sorted(registered())


def _entry_for(url: RegistryURL) -> BackendEntry:
    scheme = url.base_scheme
    entry = registered().get(scheme)
    if entry is not None:
        return entry
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
