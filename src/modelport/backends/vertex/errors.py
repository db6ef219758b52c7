"""How to read google-api-core (and google-auth, storage) exceptions; the kit does the rest.

GAPIC calls are made with ``retry=None`` and storage calls with ``retry=None``, so every
throttle, 5xx and deadline reaches this module once and leaves it as a
`TransientBackendError` or `BackendTimeoutError`: the facade's retry
policy is the only layer that retries. gRPC raises the precise classes
(``ResourceExhausted``), REST the HTTP ones (``TooManyRequests``); both are listed.
"""

from __future__ import annotations

import concurrent.futures

import requests
from google.api_core import exceptions as api
from google.auth import exceptions as auth

from modelport.backends.kit.errors import Diagnosis, ErrorTranslator, Failure, classify, error_table

CODES = error_table(
    {
        Failure.TRANSIENT: {
            "ResourceExhausted",
            "TooManyRequests",
            "ServiceUnavailable",
            "InternalServerError",
            "BadGateway",
            "Unknown",
        },
        Failure.TIMEOUT: {"DeadlineExceeded", "GatewayTimeout", "RequestTimeout"},
        Failure.AUTH: {"PermissionDenied", "Forbidden", "Unauthenticated", "Unauthorized"},
        Failure.NOT_FOUND: {"NotFound"},
        Failure.CONFLICT: {"AlreadyExists", "Conflict", "Aborted", "FailedPrecondition"},
        Failure.INVALID_INPUT: {"InvalidArgument", "BadRequest", "OutOfRange"},
    }
)


def diagnose(exc: Exception) -> Diagnosis:
    """What a GAPIC, storage or google-auth exception means."""
    if isinstance(exc, api.GoogleAPICallError):
        status = exc.code if isinstance(exc.code, int) else None
        failure = classify(CODES, type(exc).__name__, status)
        return Diagnosis(failure, f"{type(exc).__name__}: {exc.message}")
    if isinstance(exc, api.RetryError | concurrent.futures.TimeoutError | TimeoutError):
        return Diagnosis(Failure.TIMEOUT, f"timed out: {exc}")
    if isinstance(exc, auth.DefaultCredentialsError | auth.RefreshError):
        return Diagnosis(
            Failure.AUTH, f"no usable Google credentials in google.auth's chain: {exc}"
        )
    if isinstance(exc, auth.TransportError | ConnectionError | requests.RequestException):
        return Diagnosis(Failure.TRANSIENT, f"connection failed: {exc}")
    return Diagnosis(Failure.OTHER, f"{type(exc).__name__}: {exc}")


ERRORS = ErrorTranslator(
    diagnose,
    catches=(
        api.GoogleAPIError,
        auth.GoogleAuthError,
        concurrent.futures.TimeoutError,
        requests.RequestException,
    ),
)


def is_missing(exc: BaseException) -> bool:
    return isinstance(exc, api.NotFound)


def is_stale(exc: BaseException) -> bool:
    """An update refused because the etag it sent is no longer the current one."""
    return isinstance(exc, api.Aborted | api.FailedPrecondition | api.Conflict) and (
        "etag" in str(exc).lower()
    )
