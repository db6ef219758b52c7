"""MLflow's exceptions translated into modelport's hierarchy.

MLflow raises ``MlflowException`` with an ``error_code`` name for store and REST
errors, and wraps connection failures of its HTTP client in a plain
``MlflowException`` whose cause (or context) is the ``requests`` exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from modelport.errors import (
    AuthenticationError,
    BackendError,
    BackendTimeoutError,
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    ModelportError,
    TransientBackendError,
    VersionNotFoundError,
)

NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
BAD_INPUT = frozenset(
    {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST", "INVALID_STATE"}
)
DENIED = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"})
THROTTLED_OR_DOWN = frozenset(
    {"REQUEST_LIMIT_EXCEEDED", "TEMPORARILY_UNAVAILABLE", "SERVICE_UNDER_MAINTENANCE", "ABORTED"}
)
_HTTP_FAILURE = "API request to"  # how MLflow's HTTP client words a failed request
_SQLITE_BUSY = ("database is locked", "database table is locked")
# MLflow's SQL store upserts a tag by reading, then inserting: two clients writing the same
# key at once make one insert fail on the unique key. Writing it again updates it.
_LOST_UPSERT = (
    "UNIQUE constraint failed",  # SQLite
    "duplicate key value violates unique constraint",  # PostgreSQL
    "Duplicate entry",  # MySQL
)


@contextmanager
def translated(
    url: str, *, model: str | None = None, version: str | None = None, field: str | None = None
) -> Iterator[None]:
    """Run an SDK call, raising any non-modelport exception as its modelport counterpart."""
    try:
        yield
    except ModelportError:
        raise
    except Exception as exc:
        raise translate(exc, url, model=model, version=version, field=field) from exc


def translate(
    exc: BaseException,
    url: str,
    *,
    model: str | None = None,
    version: str | None = None,
    field: str | None = None,
) -> ModelportError:
    code = str(getattr(exc, "error_code", "") or "")
    message = f"{url}: {_message(exc)}"
    context = {"model": model, "version": version, "url": url, "field": field}
    if isinstance(exc, FileNotFoundError):
        return VersionNotFoundError(message, **context)
    if any(lost in str(exc) for lost in _LOST_UPSERT):
        return TransientBackendError(message, **context)
    if code in NOT_FOUND:
        if "Registered Model" in message or (version is None and field is None):
            return ModelNotFoundError(message, **context)
        return VersionNotFoundError(message, **context)
    if code in BAD_INPUT:
        return InvalidInputError(message, **context)
    if code == "RESOURCE_ALREADY_EXISTS":
        return ConflictError(message, **context)
    if code in DENIED:
        return AuthenticationError(message, **context)
    if code == "DEADLINE_EXCEEDED" or _caused_by(exc, "Timeout", "TimeoutError"):
        return BackendTimeoutError(message, **context)
    if code in THROTTLED_OR_DOWN or _is_transient(exc, code):
        return TransientBackendError(message, **context)
    if code == "ENDPOINT_NOT_FOUND":
        return BackendError(
            f"{message} (is this an MLflow tracking server, 2.9 or newer?)", **context
        )
    return BackendError(message, **context)


def is_missing_alias(exc: BaseException) -> bool:
    """MLflow answers a lookup of an unset alias with INVALID_PARAMETER_VALUE, not 404."""
    code = str(getattr(exc, "error_code", "") or "")
    return code == "INVALID_PARAMETER_VALUE" and "alias" in str(exc) and "not found" in str(exc)


def _is_transient(exc: BaseException, code: str) -> bool:
    """A dropped connection, a 5xx from a server, or SQLite busy with another writer."""
    text = str(exc)
    if _caused_by(exc, "ConnectionError"):
        return True
    if any(busy in text for busy in _SQLITE_BUSY):
        return True
    over_http = type(exc).__name__ == "RestException" or text.startswith(_HTTP_FAILURE)
    return over_http and code in ("INTERNAL_ERROR", "")


def _caused_by(exc: BaseException, *class_names: str) -> bool:
    """Whether ``exc`` or what it wraps is a ``requests``/builtin error of one of these class
    names (matched by name: ``requests`` need not be importable here)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if any(cls.__name__ in class_names for cls in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 500 else text[:497] + "..."
