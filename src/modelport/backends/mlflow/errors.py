"""How to read MLflow's exceptions; `modelport.backends.kit.errors` does the rest.

MLflow raises ``MlflowException`` with an ``error_code`` name for store and REST
errors, and wraps connection failures of its HTTP client in a plain
``MlflowException`` whose cause (or context) is the ``requests`` exception.
"""

from __future__ import annotations

import re

from modelport.backends.kit.errors import Diagnosis, ErrorTranslator, Failure, classify, error_table
from modelport.errors import exception_chain

CODES = error_table(
    {
        Failure.NOT_FOUND: {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"},
        Failure.INVALID_INPUT: {
            "INVALID_PARAMETER_VALUE",
            "BAD_REQUEST",
            "MALFORMED_REQUEST",
            "INVALID_STATE",
        },
        Failure.CONFLICT: {"RESOURCE_ALREADY_EXISTS"},
        Failure.AUTH: {"UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"},
        Failure.TIMEOUT: {"DEADLINE_EXCEEDED"},
        Failure.TRANSIENT: {
            "REQUEST_LIMIT_EXCEEDED",
            "TEMPORARILY_UNAVAILABLE",
            "SERVICE_UNDER_MAINTENANCE",
            "ABORTED",
        },
    }
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
_OLD_SERVER_HINT = " (is this an MLflow tracking server, 2.9 or newer?)"
# The reason urllib3 buries in "Max retries exceeded ... (Caused by NewConnectionError(...
# [Errno 111] Connection refused"))": the OS's words.
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()]+)")


def diagnose(exc: Exception) -> Diagnosis:
    code = _code(exc)
    hint = _OLD_SERVER_HINT if code == "ENDPOINT_NOT_FOUND" else ""
    return Diagnosis(_failure(exc, code), _detail(exc) + hint)


def _detail(exc: Exception) -> str:
    """MLflow's text, except where it is a page of urllib3's pool internals (a server that
    does not answer) or a bare module name (a database driver that is not installed)."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return (
            f"MLflow's SQL store needs the database driver {exc.name!r}, which is not "
            "installed (pip install it, or name an installed driver in the URL, e.g. "
            "postgresql+psycopg2://)"
        )
    if _caused_by(exc, "ConnectionError"):
        errno = _ERRNO.search(str(exc))
        because = errno[1].strip() if errno else str(exception_chain(exc)[-1])[:200]
        return f"cannot reach the MLflow server ({because})"
    return str(exc)


ERRORS = ErrorTranslator(diagnose)


def is_missing_alias(exc: BaseException) -> bool:
    """MLflow answers a lookup of an unset alias with INVALID_PARAMETER_VALUE, not 404."""
    text = str(exc)
    return _code(exc) == "INVALID_PARAMETER_VALUE" and "alias" in text and "not found" in text


def _failure(exc: Exception, code: str) -> Failure:
    text = str(exc)
    if isinstance(exc, FileNotFoundError):
        return Failure.NOT_FOUND
    if any(lost in text for lost in _LOST_UPSERT):
        return Failure.TRANSIENT
    failure = classify(CODES, code)  # MLflow's exceptions carry no HTTP status
    if failure is Failure.NOT_FOUND and "Registered Model" in text:
        return Failure.MODEL_NOT_FOUND
    if failure is not Failure.OTHER:
        return failure
    if _caused_by(exc, "Timeout", "TimeoutError"):
        return Failure.TIMEOUT
    return Failure.TRANSIENT if _is_transient(exc, code) else Failure.OTHER


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


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", "") or "")
