"""How to read azure-core (and azure-identity, azure-ai-ml) exceptions; the kit does the rest.

Every client is built with ``retry_total=0``: each 408, 429, 5xx and connection error
reaches this module once and leaves it as a `TransientBackendError` (or a
timeout): the facade's retry policy is the only layer that retries.
"""

from __future__ import annotations

from azure.core import exceptions as core

from modelport.backends.kit.errors import Diagnosis, ErrorTranslator, Failure, classify, error_table

CODES = error_table(
    {
        Failure.TRANSIENT: {"TooManyRequests", "ServiceUnavailable", "InternalServerError"},
        Failure.TIMEOUT: {"RequestTimeout", "GatewayTimeout"},
        Failure.AUTH: {"AuthorizationFailed", "AuthenticationFailed", "Forbidden"},
        Failure.NOT_FOUND: {"ResourceNotFound", "NotFound", "BlobNotFound"},
        Failure.CONFLICT: {"Conflict", "BlobAlreadyExists"},
        Failure.INVALID_INPUT: {"BadRequest", "InvalidApiVersionParameter"},
    }
)


def diagnose(exc: Exception) -> Diagnosis:
    """What an azure-core exception means, from its HTTP status first."""
    if isinstance(exc, core.ClientAuthenticationError):
        return Diagnosis(Failure.AUTH, f"no usable Azure credentials: {exc.message}")
    if isinstance(exc, core.ResourceNotFoundError):
        return Diagnosis(Failure.NOT_FOUND, str(exc.message))
    if isinstance(exc, core.ResourceExistsError):
        return Diagnosis(Failure.CONFLICT, str(exc.message))
    if isinstance(exc, core.HttpResponseError):
        code = str(getattr(exc.error, "code", "") or type(exc).__name__)
        return Diagnosis(classify(CODES, code, exc.status_code), f"{code}: {exc.message}")
    if isinstance(exc, core.ServiceRequestTimeoutError | core.ServiceResponseTimeoutError):
        return Diagnosis(Failure.TIMEOUT, f"timed out: {exc}")
    if isinstance(exc, core.ServiceRequestError | core.ServiceResponseError):
        return Diagnosis(Failure.TRANSIENT, f"connection failed: {exc}")
    return Diagnosis(Failure.OTHER, f"{type(exc).__name__}: {exc}")


ERRORS = ErrorTranslator(diagnose, catches=(core.AzureError,))
