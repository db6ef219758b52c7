"""SDK exceptions -> `modelport.errors`, the same way for every backend.

A backend contributes two things: a table of its SDK's error codes by `Failure`
(`error_table`), and a ``diagnose`` function that pulls the code, the HTTP status
and a readable detail out of its SDK's exceptions (handling what only a message tells).
The rest is shared: a code the table does not know is classified by its HTTP status, each
failure becomes one error class, and each message names the URL, model, version and field.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from modelport.errors import (
    AuthenticationError,
    BackendError,
    BackendTimeoutError,
    BackendUnreachableError,
    ConflictError,
    InvalidInputError,
    InvalidURLError,
    ModelNotFoundError,
    ModelportError,
    NotFoundError,
    TransientBackendError,
    VersionNotFoundError,
    exception_chain,
)

MAX_DETAIL_CHARS = 500
# Credentials of any URL an SDK message quotes ("API request to https://u:p@host failed").
_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")


class Failure(Enum):
    """What kind of failure an SDK error is, whatever the SDK."""

    NOT_FOUND = "not found"  # what the call names: its version (or field) if any, else its model
    MODEL_NOT_FOUND = "model not found"  # the SDK says it is the model that is missing
    STORE_NOT_FOUND = "store not found"  # the backend's own storage (a bucket), not a model
    CONFLICT = "conflict"
    INVALID_INPUT = "invalid input"
    INVALID_URL = "invalid url"  # the configuration the URL gives is unusable (no region)
    AUTH = "auth"
    TRANSIENT = "transient"  # throttled, a server fault or a dropped connection: retry
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # connection refused: nothing listens at that address
    OTHER = "other"


# What an HTTP status means when the SDK's error code is not in the backend's table.
HTTP_STATUSES: Mapping[int, Failure] = {
    400: Failure.INVALID_INPUT,
    401: Failure.AUTH,
    403: Failure.AUTH,
    404: Failure.NOT_FOUND,
    408: Failure.TIMEOUT,
    409: Failure.CONFLICT,
    429: Failure.TRANSIENT,
    504: Failure.TIMEOUT,
}

_ERROR_CLASSES: Mapping[Failure, type[ModelportError]] = {
    Failure.MODEL_NOT_FOUND: ModelNotFoundError,
    Failure.CONFLICT: ConflictError,
    Failure.INVALID_INPUT: InvalidInputError,
    Failure.INVALID_URL: InvalidURLError,
    Failure.AUTH: AuthenticationError,
    Failure.TRANSIENT: TransientBackendError,
    Failure.TIMEOUT: BackendTimeoutError,
    Failure.UNREACHABLE: BackendUnreachableError,
    Failure.OTHER: BackendError,
}


def error_table(codes: Mapping[Failure, Iterable[str]]) -> Mapping[str, Failure]:
    """``{failure: codes}`` as written by a backend, turned into ``{code: failure}``."""
    table: dict[str, Failure] = {}
    for failure, names in codes.items():
        for code in names:
            if code in table:
                raise ValueError(f"error code {code!r} is listed as {table[code]} and {failure}")
            table[code] = failure
    return table


def classify(table: Mapping[str, Failure], code: str, status: int | None = None) -> Failure:
    """The SDK's code decides when the table knows it (it is the more precise); else the
    HTTP status; else it is `Failure.OTHER`."""
    if code in table:
        return table[code]
    if status is None:
        return Failure.OTHER
    if status in HTTP_STATUSES:
        return HTTP_STATUSES[status]
    return Failure.TRANSIENT if status >= 500 else Failure.OTHER


@dataclass(frozen=True)
class Diagnosis:
    """A backend's reading of one SDK exception."""

    failure: Failure
    detail: str  # what went wrong, in the SDK's words
    field: str | None = None  # the field at fault, when the SDK's error says (a region)


@dataclass(frozen=True)
class Context:
    """What a call was about, for the translated error's message and attributes."""

    url: str  # redacted: it is printed
    model: str | None = None
    version: str | None = None
    subject: str | None = None  # what else the call was about, e.g. an artifact URI
    field: str | None = None

    def describe(self, problem: str) -> str:
        """``URL: MODEL/VERSION SUBJECT (FIELD): problem``, with what is unknown left out."""
        about = f"{self.model}/{self.version}" if self.model and self.version else self.model
        parts = [part for part in (about, self.subject) if part]
        if self.field:
            parts.append(f"({self.field})")
        return f"{self.url}: {' '.join(parts)}: {problem}" if parts else f"{self.url}: {problem}"


def error_for(diagnosis: Diagnosis, ctx: Context) -> ModelportError:
    """The modelport error a diagnosed SDK exception becomes."""
    message = ctx.describe(_shown(diagnosis.detail))
    if diagnosis.failure is Failure.STORE_NOT_FOUND:
        return NotFoundError(message, url=ctx.url)  # about the store: no model to name
    error_class: type[ModelportError]
    if diagnosis.failure is Failure.NOT_FOUND:
        error_class = _missing(ctx)
    else:
        error_class = _ERROR_CLASSES[diagnosis.failure]
    return error_class(
        message,
        model=ctx.model,
        version=ctx.version,
        field=diagnosis.field or ctx.field,
        url=ctx.url,
    )


@dataclass(frozen=True)
class ErrorTranslator:
    """One backend's way of reading its SDK's exceptions."""

    diagnose: Callable[[Exception], Diagnosis]
    catches: tuple[type[Exception], ...] = (Exception,)  # what the SDK raises

    def error_for(self, exc: Exception, ctx: Context) -> ModelportError:
        diagnosis = self.diagnose(exc)
        if diagnosis.failure is not Failure.UNREACHABLE and refused(exc):
            # Every SDK wraps a refused connection its own way (urllib3 even as a timeout).
            diagnosis = Diagnosis(Failure.UNREACHABLE, "connection refused: " + diagnosis.detail)
        elif diagnosis.failure is Failure.OTHER and dropped(exc):
            # A connection lost mid-transfer (a download cut short): the facade fetches again.
            diagnosis = Diagnosis(Failure.TRANSIENT, "connection lost: " + diagnosis.detail)
        return error_for(diagnosis, ctx)

    @contextmanager
    def translating(self, ctx: Context) -> Iterator[None]:
        """Re-raise the SDK's exceptions inside the block as modelport errors."""
        try:
            yield
        except ModelportError:
            raise
        except self.catches as exc:
            raise self.error_for(exc, ctx) from exc


def refused(exc: BaseException) -> bool:
    """Whether ``exc`` or an exception chained to it is a refused connection."""
    return any(
        isinstance(link, ConnectionRefusedError) or _REFUSED.search(str(link))
        for link in exception_chain(exc)
    )


def dropped(exc: BaseException) -> bool:
    """Whether ``exc`` or an exception chained to it is a connection lost mid-way: reset,
    closed early, a body cut short (each SDK names its own, hence the names)."""
    return any(
        isinstance(link, (ConnectionError, http.client.IncompleteRead))
        or type(link).__name__ in _DROPPED_NAMES
        for link in exception_chain(exc)
    )


_DROPPED_NAMES = frozenset(
    {
        "ProtocolError",  # urllib3: connection aborted, response ended prematurely
        "ChunkedEncodingError",  # requests
        "IncompleteReadError",  # botocore: fewer bytes than Content-Length
        "ConnectionClosedError",  # botocore
        "ResponseStreamingError",  # botocore, reading a body
        "RetriesExceededError",  # s3transfer, after its own attempts at a read
    }
)


_REFUSED = re.compile(r"Connection refused|ECONNREFUSED|actively refused", re.IGNORECASE)


def _missing(ctx: Context) -> type[NotFoundError]:
    """A call about a version (or a field of one) misses the version, else the model."""
    if ctx.version is not None or ctx.field is not None:
        return VersionNotFoundError
    return ModelNotFoundError if ctx.model is not None else NotFoundError


def _shown(detail: str) -> str:
    text = _USERINFO.sub("***@", " ".join(detail.split()))
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 3] + "..."
