"""botocore exceptions -> modelport errors, one class per kind of failure."""

from __future__ import annotations

import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

import modelport as mp
from modelport.backends.kit.errors import Context
from modelport.backends.sagemaker.errors import ERRORS

CTX = Context("sagemaker://us-east-1", "fraud", "3")


def _client_error(code: str, message: str = "boom", status: int = 400) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeModelPackage")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (_client_error("ThrottlingException", "Rate exceeded"), mp.TransientBackendError),
        (_client_error("SlowDown", status=503), mp.TransientBackendError),
        (_client_error("Anything", status=429), mp.TransientBackendError),
        (_client_error("InternalFailure", status=500), mp.TransientBackendError),
        (_client_error("ServiceUnavailable", status=503), mp.TransientBackendError),
        (_client_error("RequestTimeout", status=408), mp.BackendTimeoutError),
        (_client_error("AccessDeniedException", status=400), mp.AuthenticationError),
        (_client_error("ExpiredTokenException", status=400), mp.AuthenticationError),
        (_client_error("Whatever", status=403), mp.AuthenticationError),
        (
            _client_error("ValidationException", "ModelPackage x/3 does not exist."),
            mp.VersionNotFoundError,
        ),
        (_client_error("ValidationException", "1 validation error detected"), mp.InvalidInputError),
        (_client_error("ConflictException"), mp.ConflictError),
        (_client_error("NoSuchKey", status=404), mp.VersionNotFoundError),
        (ReadTimeoutError(endpoint_url="http://x"), mp.BackendTimeoutError),
        (ConnectTimeoutError(endpoint_url="http://x"), mp.BackendTimeoutError),
        (EndpointConnectionError(endpoint_url="http://x"), mp.TransientBackendError),
        (NoCredentialsError(), mp.AuthenticationError),
        (NoRegionError(), mp.InvalidURLError),
    ],
)
def test_each_failure_becomes_its_modelport_error(exc: Exception, error: type[Exception]) -> None:
    translated = ERRORS.error_for(exc, CTX)
    assert type(translated) is error
    assert (translated.model, translated.version) == ("fraud", "3")
    assert "sagemaker://us-east-1" in str(translated)


def test_does_not_exist_without_a_version_is_a_missing_model() -> None:
    exc = _client_error("ValidationException", "Model Package Group fraud does not exist.")
    assert type(ERRORS.error_for(exc, Context("u", "fraud"))) is mp.ModelNotFoundError


def test_an_s3_upload_failure_is_classified_by_its_cause() -> None:
    upload_failure = S3UploadFailedError("Failed to upload: AccessDenied")
    upload_failure.__cause__ = _client_error("AccessDenied", status=403)
    assert type(ERRORS.error_for(upload_failure, CTX)) is mp.AuthenticationError
    assert type(ERRORS.error_for(S3UploadFailedError("no cause"), CTX)) is mp.TransientBackendError
