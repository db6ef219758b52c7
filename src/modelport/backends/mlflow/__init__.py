"""MLflow Model Registry (``mlflow+sqlite://``, ``mlflow+http(s)://``, ``mlflow://``).

``MlflowBackend`` is imported on first use, so :mod:`.config`, :mod:`.tags` and
:mod:`.errors` stay importable without MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelport.backends.mlflow.backend import MlflowBackend

__all__ = ["MlflowBackend"]


def __getattr__(name: str) -> Any:
    if name == "MlflowBackend":
        from modelport.backends.mlflow.backend import MlflowBackend

        return MlflowBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
