"""botocore/boto3 exceptions -> :mod:`modelport.errors`.

botocore's own retries are off (``total_max_attempts=1``), so every throttle, 5xx and
timeout reaches this module once and leaves it as a :class:`TransientBackendError`;
the facade's retry policy is the only layer that retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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

from modelport.errors import (
    AuthenticationError,
    BackendError,
    BackendTimeoutError,
    ConflictError,
    InvalidInputError,
    InvalidURLError,
    ModelNotFoundError,
    ModelportError,
    NotFoundError,
    TransientBackendError,
    VersionNotFoundError,
)

THROTTLING = frozenset(
    {
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
    }
)
SERVER_FAULTS = frozenset(
    {"InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable"}
)
TIMEOUTS = frozenset({"RequestTimeout", "RequestTimeoutException"})
DENIED = frozenset(
    {
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
    }
)
NOT_FOUND = frozenset({"ResourceNotFound", "NoSuchKey", "NotFound", "404"})
CONFLICTS = frozenset({"ConflictException", "ResourceInUse"})


@dataclass(frozen=True)
class Context:
    """What a call was about, for the translated error's message and attributes."""

    url: str
    model: str | None = None
    version: str | None = None
    subject: str | None = None  # what else the call was about, e.g. an artifact URI

    def names(self) -> str:
        about = f"{self.model}/{self.version}" if self.model and self.version else self.model
        return " ".join(part for part in (about, self.subject) if part)


def translate(exc: Exception, ctx: Context) -> ModelportError:
    """The modelport error for an exception a boto3 call raised."""
    if isinstance(exc, ClientError):
        return _client_error(exc, ctx)
    if isinstance(exc, S3UploadFailedError | S3TransferFailedError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, Exception) and cause is not exc:
            return translate(cause, ctx)
        return TransientBackendError(_message(ctx, f"S3 transfer failed: {exc}"), **_attrs(ctx))
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return BackendTimeoutError(_message(ctx, f"timed out: {exc}"), **_attrs(ctx))
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | HTTPClientError):
        return TransientBackendError(_message(ctx, f"connection failed: {exc}"), **_attrs(ctx))
    if isinstance(
        exc,
        NoCredentialsError
        | PartialCredentialsError
        | CredentialRetrievalError
        | TokenRetrievalError,
    ):
        return AuthenticationError(
            _message(ctx, f"no usable AWS credentials in boto3's chain: {exc}"), **_attrs(ctx)
        )
    if isinstance(exc, NoRegionError | ProfileNotFound):
        return InvalidURLError(
            _message(ctx, f"{exc}; name the region (or profile) in the sagemaker:// URL"),
            field="region" if isinstance(exc, NoRegionError) else "profile",
            **_attrs(ctx),
        )
    if isinstance(exc, BotoCoreError):
        return BackendError(_message(ctx, str(exc)), **_attrs(ctx))
    return BackendError(_message(ctx, f"{type(exc).__name__}: {exc}"), **_attrs(ctx))


@contextmanager
def translating(ctx: Context) -> Iterator[None]:
    """Re-raise boto3/botocore exceptions inside the block as modelport errors."""
    try:
        yield
    except ModelportError:
        raise
    except (BotoCoreError, ClientError, S3UploadFailedError, S3TransferFailedError) as exc:
        raise translate(exc, ctx) from exc


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_missing(exc: ClientError) -> bool:
    """SageMaker answers a missing group or package with a ValidationException ("does not
    exist"; moto says "not found" of a package)."""
    code = error_code(exc)
    text = str(exc)
    return code in NOT_FOUND or (
        code == "ValidationException" and ("does not exist" in text or "not found" in text)
    )


def is_already_existing(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationException" and "already exists" in str(exc)


def _client_error(exc: ClientError, ctx: Context) -> ModelportError:
    code = error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    text = str(exc.response.get("Error", {}).get("Message") or exc)
    shown = _message(ctx, f"{code}: {text}")
    if code in THROTTLING or status == 429:
        return TransientBackendError(shown, **_attrs(ctx))
    if code in TIMEOUTS or status in (408, 504):
        return BackendTimeoutError(shown, **_attrs(ctx))
    if code in SERVER_FAULTS or status >= 500:
        return TransientBackendError(shown, **_attrs(ctx))
    if code in DENIED or status in (401, 403):
        return AuthenticationError(shown, **_attrs(ctx))
    if code == "NoSuchBucket":  # the artifact store itself is missing, not a model
        return NotFoundError(shown, url=ctx.url)
    if is_missing(exc):
        return _not_found(shown, ctx)
    if code in CONFLICTS:
        return ConflictError(shown, **_attrs(ctx))
    if code == "ValidationException" or status == 400:
        return InvalidInputError(shown, model=ctx.model, version=ctx.version, url=ctx.url)
    return BackendError(shown, **_attrs(ctx))


def _not_found(message: str, ctx: Context) -> NotFoundError:
    if ctx.version is not None:
        return VersionNotFoundError(message, **_attrs(ctx))
    if ctx.model is not None:
        return ModelNotFoundError(message, **_attrs(ctx))
    return NotFoundError(message, url=ctx.url)


def _message(ctx: Context, problem: str) -> str:
    about = ctx.names()
    return f"{ctx.url}: {about}: {problem}" if about else f"{ctx.url}: {problem}"


def _attrs(ctx: Context) -> dict[str, str | None]:
    return {"model": ctx.model, "version": ctx.version, "url": ctx.url}
