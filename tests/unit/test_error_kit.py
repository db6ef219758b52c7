"""The shared SDK-error classifier: tables, HTTP statuses, and the errors it raises."""

from __future__ import annotations

import http.client
import socket

import pytest

import modelport as mp
from modelport.backends.kit.errors import (
    Context,
    Diagnosis,
    ErrorTranslator,
    Failure,
    classify,
    error_for,
    error_table,
)
from modelport.retry import RetryPolicy

TABLE = error_table({Failure.AUTH: {"Denied"}, Failure.INVALID_INPUT: {"Bad"}})
URL = "demo://host"


@pytest.mark.parametrize(
    ("code", "status", "failure"),
    [
        ("Denied", 400, Failure.AUTH),  # the code is more precise than the status
        ("Unknown", 403, Failure.AUTH),
        ("Unknown", 404, Failure.NOT_FOUND),
        ("Unknown", 429, Failure.TRANSIENT),
        ("Unknown", 503, Failure.TRANSIENT),
        ("Unknown", 504, Failure.TIMEOUT),
        ("Unknown", 418, Failure.OTHER),
        ("Unknown", None, Failure.OTHER),
    ],
)
def test_the_code_decides_then_the_status(code: str, status: int | None, failure: Failure) -> None:
    assert classify(TABLE, code, status) is failure


def test_a_code_listed_under_two_failures_is_refused() -> None:
    with pytest.raises(ValueError, match="'Bad'"):
        error_table({Failure.AUTH: {"Bad"}, Failure.CONFLICT: {"Bad"}})


@pytest.mark.parametrize(
    ("ctx", "error"),
    [
        (Context(URL, "fraud", "3"), mp.VersionNotFoundError),
        (Context(URL, "fraud", field="alias"), mp.VersionNotFoundError),
        (Context(URL, "fraud"), mp.ModelNotFoundError),
        (Context(URL, subject="s3://bucket/key"), mp.NotFoundError),
    ],
)
def test_not_found_means_what_the_call_names(ctx: Context, error: type[Exception]) -> None:
    assert type(error_for(Diagnosis(Failure.NOT_FOUND, "gone"), ctx)) is error


def test_a_missing_store_is_not_a_missing_model() -> None:
    error = error_for(Diagnosis(Failure.STORE_NOT_FOUND, "NoSuchBucket"), Context(URL, "fraud"))
    assert type(error) is mp.NotFoundError
    assert error.model is None


def test_the_message_names_the_call_and_hides_credentials() -> None:
    detail = "API request to https://alice:s3cret@mlflow.example/api failed\n" + "x" * 900
    error = error_for(
        Diagnosis(Failure.TRANSIENT, detail), Context(URL, "fraud", "3", field="alias")
    )
    assert str(error).startswith(f"{URL}: fraud/3 (alias): API request to https://***@")
    assert "s3cret" not in str(error)
    assert "alice" not in str(error)
    assert len(str(error)) < 600
    assert (error.model, error.version, error.field, error.url) == ("fraud", "3", "alias", URL)


def test_a_field_the_sdk_names_wins() -> None:
    error = error_for(Diagnosis(Failure.INVALID_URL, "no region", field="region"), Context(URL))
    assert type(error) is mp.InvalidURLError
    assert error.field == "region"


class SdkError(Exception):
    pass


def test_translating_converts_only_the_sdks_exceptions() -> None:
    translator = ErrorTranslator(lambda exc: Diagnosis(Failure.CONFLICT, str(exc)), (SdkError,))
    with pytest.raises(mp.ConflictError) as caught, translator.translating(Context(URL)):
        raise SdkError("taken")
    assert isinstance(caught.value.__cause__, SdkError)
    with pytest.raises(KeyError), translator.translating(Context(URL)):
        raise KeyError("a bug, not the SDK")
    already = mp.InvalidInputError("checked before the call", field="name")
    with pytest.raises(mp.InvalidInputError) as passed, translator.translating(Context(URL)):
        raise already
    assert passed.value is already


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed when the block ends: nothing listens


def test_a_refused_connection_is_unreachable_whatever_the_sdk_calls_it() -> None:
    def as_timeout(exc: Exception) -> Diagnosis:  # urllib3 words it as a connect timeout
        return Diagnosis(Failure.TIMEOUT, str(exc))

    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused_error:
            raise TimeoutError("pool: failed to establish a new connection") from refused_error
    except TimeoutError as wrapped:
        error = ErrorTranslator(as_timeout).error_for(wrapped, Context("x://h"))
    assert type(error) is mp.BackendUnreachableError
    assert isinstance(error, mp.TransientBackendError)  # retried: a server may be restarting
    assert "connection refused" in str(error)


def test_a_closed_port_is_reported_unreachable_not_timed_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    url = f"sagemaker://us-east-1?bucket=models&endpoint_url={endpoint}&s3_endpoint_url={endpoint}"
    with (
        mp.connect(url, retry=RetryPolicy(attempts=1)) as reg,
        pytest.raises(mp.BackendUnreachableError) as caught,
    ):
        reg.resolve("m@production")
    assert caught.value.url is not None


@pytest.mark.parametrize(
    "lost",
    [
        http.client.IncompleteRead(b"partial", 100),
        ConnectionResetError(104, "Connection reset by peer"),
        type("RetriesExceededError", (Exception,), {})("max retries exceeded on a read"),
    ],
    ids=["incomplete-read", "reset", "s3transfer-retries"],
)
def test_a_connection_lost_mid_transfer_is_transient(lost: Exception) -> None:
    def unknown(exc: Exception) -> Diagnosis:
        return Diagnosis(Failure.OTHER, str(exc))

    try:
        try:
            raise lost
        except Exception as cause:
            raise RuntimeError("download failed") from cause
    except RuntimeError as wrapped:
        error = ErrorTranslator(unknown).error_for(wrapped, Context("x://h"))
    assert type(error) is mp.TransientBackendError
    assert "connection lost" in str(error)


def test_a_known_failure_is_not_turned_transient_by_a_lost_connection() -> None:
    def missing(exc: Exception) -> Diagnosis:
        return Diagnosis(Failure.NOT_FOUND, str(exc))

    error = ErrorTranslator(missing).error_for(ConnectionResetError(), Context("x://h", "m"))
    assert isinstance(error, mp.ModelNotFoundError)
