"""How to read botocore/boto3 exceptions; `modelport.backends.kit.errors` does the rest.

botocore's own retries are off (``total_max_attempts=1``), so every throttle, 5xx and
timeout reaches this module once and leaves it as a `TransientBackendError`;
the facade's retry policy is the only layer that retries.
"""

from __future__ import annotations

from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
)

from modelport.backends.kit.errors import Diagnosis, ErrorTranslator, Failure, classify, error_table

CODES = error_table(
    {
        Failure.TRANSIENT: {
            "ThrottlingException",
            "Throttling",
            "ThrottledException",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "RequestThrottled",
            "RequestThrottledException",
            "SlowDown",
            "ProvisionedThroughputExceededException",
            "BandwidthLimitExceeded",
            "PriorRequestNotComplete",
            "InternalFailure",
            "InternalError",
            "InternalServerError",
            "ServiceUnavailable",
        },
        Failure.TIMEOUT: {"RequestTimeout", "RequestTimeoutException"},
        Failure.AUTH: {
            "AccessDenied",
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidToken",
            "MissingAuthenticationToken",
            "AuthFailure",
        },
        Failure.NOT_FOUND: {"ResourceNotFound", "NoSuchKey", "NotFound", "404"},
        Failure.STORE_NOT_FOUND: {"NoSuchBucket"},  # the artifact store, not a model
        Failure.CONFLICT: {"ConflictException", "ResourceInUse"},
        Failure.INVALID_INPUT: {"ValidationException"},
    }
)
_CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
)


def diagnose(exc: Exception) -> Diagnosis:
    """What a boto3 call's exception means."""
    if isinstance(exc, ClientError):
        failure = Failure.NOT_FOUND if is_missing(exc) else classify(CODES, *_code_and_status(exc))
        text = exc.response.get("Error", {}).get("Message") or exc
        return Diagnosis(failure, f"{error_code(exc)}: {text}")
    if isinstance(exc, S3UploadFailedError | S3TransferFailedError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, Exception) and cause is not exc:
            return diagnose(cause)
        return Diagnosis(Failure.TRANSIENT, f"S3 transfer failed: {exc}")
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return Diagnosis(Failure.TIMEOUT, f"timed out: {exc}")
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | HTTPClientError):
        return Diagnosis(Failure.TRANSIENT, f"connection failed: {exc}")
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return Diagnosis(Failure.AUTH, f"no usable AWS credentials in boto3's chain: {exc}")
    if isinstance(exc, NoRegionError | ProfileNotFound):
        return Diagnosis(
            Failure.INVALID_URL,
            f"{exc}; name the region (or profile) in the sagemaker:// URL",
            field="region" if isinstance(exc, NoRegionError) else "profile",
        )
    if isinstance(exc, BotoCoreError):
        return Diagnosis(Failure.OTHER, str(exc))
    return Diagnosis(Failure.OTHER, f"{type(exc).__name__}: {exc}")


ERRORS = ErrorTranslator(
    diagnose, catches=(BotoCoreError, ClientError, S3UploadFailedError, S3TransferFailedError)
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_missing(exc: ClientError) -> bool:
    """SageMaker answers a missing group or package with a ValidationException ("does not
    exist"; moto says "not found" of a package)."""
    code = error_code(exc)
    text = str(exc)
    return CODES.get(code) is Failure.NOT_FOUND or (
        code == "ValidationException" and ("does not exist" in text or "not found" in text)
    )


def is_already_existing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationException" and "already exists" in str(exc)


def _code_and_status(exc: ClientError) -> tuple[str, int | None]:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc), int(status) if status else None
