"""SageMaker Model Package Groups (``sagemaker://``) on plain boto3.

``SageMakerBackend`` is imported on first use, so :mod:`.config`, :mod:`.metadata` and
:mod:`.translate` stay importable without boto3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelport.backends.sagemaker.backend import SageMakerBackend

__all__ = ["SageMakerBackend"]


def __getattr__(name: str) -> Any:
    if name == "SageMakerBackend":
        from modelport.backends.sagemaker.backend import SageMakerBackend

        return SageMakerBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
