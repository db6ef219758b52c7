"""``connect()``: from a registry URL to a `Registry`."""

from __future__ import annotations

import os

from modelport.backends import backend_class
from modelport.errors import ModelportError
from modelport.policy import Policy
from modelport.registry import Registry
from modelport.retry import RetryPolicy
from modelport.secrets import Scrubber
from modelport.urls import RegistryURL, parse_url

ENV_VAR = "MODELPORT_REGISTRY"
EMBEDDED_DEFAULT = "mlflow+sqlite:///mlflow.db"


def default_url() -> str:
    """``$MODELPORT_REGISTRY``, else the embedded default: MLflow on ./mlflow.db."""
    return os.environ.get(ENV_VAR) or EMBEDDED_DEFAULT


def connect(
    url: str | RegistryURL | None = None,
    *,
    policy: Policy | None = None,
    retry: RetryPolicy | None = None,
    cache_ttl: float = 0.0,
) -> Registry:
    """Open the registry at ``url`` (see the URL table in the docs).

    The URL is checked completely before any network call. ``cache_ttl`` keeps
    resolved references for that many seconds (deployment code); the registry's
    own writes evict them. Without ``policy``, the default policy declares the
    custom stages of ``$MODELPORT_CUSTOM_STAGES`` (``shadow,canary``).
    """
    parsed = parse_url(default_url() if url is None else url)
    chosen = policy if policy is not None else Policy.from_env()
    try:
        backend = backend_class(parsed).from_url(parsed)
    except ModelportError as exc:  # a URL check may quote what it refuses
        raise Scrubber.from_texts([parsed.raw]).clean(exc)  # noqa: B904 - its own chain
    return Registry(backend, policy=chosen, retry=retry, cache_ttl=cache_ttl)
