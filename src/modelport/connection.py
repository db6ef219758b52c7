"""``connect()``: from a registry URL to a `Registry`."""

from __future__ import annotations

import os
from urllib.parse import urlencode

from modelport.backends import backend_class, registered
from modelport.errors import InvalidURLError, ModelportError
from modelport.policy import Policy
from modelport.registry import Registry
from modelport.retry import RetryPolicy
from modelport.secrets import Scrubber
from modelport.urls import RegistryURL, parse_url

ENV_VAR = "MODELPORT_REGISTRY"
MLFLOW_ENV_VAR = "MLFLOW_TRACKING_URI"
MLFLOW_REGISTRY_ENV_VAR = "MLFLOW_REGISTRY_URI"  # MLflow's, when the registry is elsewhere
EMBEDDED_DEFAULT = "mlflow+sqlite:///mlflow.db"
# MLflow's own tracking URI schemes: no built-in backend uses them, so such a URL means
# MLflow (``sqlite:///mlflow.db`` is ``mlflow+sqlite:///mlflow.db``), unless a backend
# installed under that scheme claims it.
MLFLOW_SCHEMES = frozenset({"sqlite", "http", "https", "postgresql", "mysql", "mssql", "file"})


def default_url() -> str:
    """``$MODELPORT_REGISTRY``, else ``$MLFLOW_TRACKING_URI`` as an MLflow URL, else the
    embedded default: MLflow on ./mlflow.db."""
    return default_source()[0]


def default_source() -> tuple[str, str]:
    """The default registry URL and where it comes from (for messages)."""
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR], f"${ENV_VAR}"
    tracking = os.environ.get(MLFLOW_ENV_VAR, "")
    if tracking:
        adopted = mlflow_url(tracking)
        if adopted is None:  # another kind (databricks, a bare folder): MLflow reads it
            return "mlflow://", f"${MLFLOW_ENV_VAR}"
        registry = os.environ.get(MLFLOW_REGISTRY_ENV_VAR, "")
        if registry and registry != tracking and "?" not in adopted:
            adopted += "?" + urlencode({"registry_uri": registry})
        return adopted, f"${MLFLOW_ENV_VAR}"
    return EMBEDDED_DEFAULT, "the embedded default"


def mlflow_url(uri: str) -> str | None:
    """``mlflow+URI`` for an MLflow tracking URI of a scheme in `MLFLOW_SCHEMES`, else None."""
    scheme, sep, _ = uri.partition("://")
    if sep and scheme.split("+", 1)[0] in MLFLOW_SCHEMES:
        return f"mlflow+{uri}"
    return None


def registry_url(url: str | RegistryURL) -> RegistryURL:
    """``url`` parsed; an MLflow tracking URI (``sqlite:///mlflow.db``) becomes the MLflow
    backend's URL for it, unless an installed backend takes that scheme."""
    parsed = parse_url(url)
    adopted = mlflow_url(parsed.raw)
    if adopted is None or parsed.base_scheme in registered():
        return parsed
    return parse_url(adopted)


def connect(
    url: str | RegistryURL | None = None,
    *,
    policy: Policy | None = None,
    retry: RetryPolicy | None = None,
    cache_ttl: float = 0.0,
) -> Registry:
    """Open the registry at ``url`` (see the URL table in the docs).

    Without ``url``: ``$MODELPORT_REGISTRY``, else ``$MLFLOW_TRACKING_URI``, else
    ``mlflow+sqlite:///mlflow.db``. MLflow's own tracking URIs (``sqlite:///mlflow.db``,
    ``http://host:5000``, ``postgresql://...``) mean the MLflow backend.
    The URL is checked completely before any network call (and before the backend's SDK
    is imported). ``cache_ttl`` keeps
    resolved references for that many seconds (deployment code); the registry's
    own writes evict them. Without ``policy``, the default policy declares the
    custom stages of ``$MODELPORT_CUSTOM_STAGES`` (``shadow,canary``).
    """
    given, origin = (url, "") if url is not None else default_source()
    scrub = Scrubber.from_texts([given.raw if isinstance(given, RegistryURL) else str(given)])
    chosen = policy if policy is not None else Policy.from_env()
    try:
        parsed = registry_url(given)
        backend = backend_class(parsed).from_url(parsed)
    except InvalidURLError as exc:
        if origin:  # the user gave no URL: say where this one came from
            exc.message += f" (the URL is {origin})"
            exc.args = (exc.message, *exc.args[1:])
        raise scrub.clean(exc)  # noqa: B904 - its own chain
    except ModelportError as exc:  # a URL check may quote what it refuses
        raise scrub.clean(exc)  # noqa: B904 - its own chain
    return Registry(backend, policy=chosen, retry=retry, cache_ttl=cache_ttl)
