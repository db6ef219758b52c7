"""Secrets an SDK echoes back (a raw URL in its exception) never reach the caller."""

from __future__ import annotations

import traceback

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.errors import BackendError, InvalidURLError, ModelportError
from modelport.registry import Registry
from modelport.retry import RetryPolicy
from modelport.secrets import ScrubbedCause, Scrubber, secrets_in
from modelport.urls import parse_url

SECRET = "Zq9-s3cr3t-Xy"
RAW = f"memory://alice:{SECRET}@h?registry_uri=http://bob:{SECRET}2@127.0.0.1:1"


class SdkFailure(Exception):
    """What an SDK raises, quoting the URL it was given."""


def _failing_registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    backend = MemoryBackend(parse_url(RAW))

    def read_pointers(name: str) -> dict[str, str]:
        try:
            raise SdkFailure(f"API request to {RAW} failed")
        except SdkFailure as exc:
            raise BackendError(f"failed: {exc}", url=str(backend.url)) from exc

    monkeypatch.setattr(backend, "read_pointers", read_pointers)
    return Registry(backend, retry=RetryPolicy(attempts=1))


def test_an_sdk_exception_quoting_the_raw_url_is_scrubbed_from_the_whole_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = _failing_registry(monkeypatch)
    with pytest.raises(BackendError) as caught:
        registry.resolve("m@production")
    shown = "".join(traceback.format_exception(caught.value))
    assert SECRET not in shown
    assert "***" in shown
    cause = caught.value.__cause__
    assert isinstance(cause, ScrubbedCause)
    assert "SdkFailure" in str(cause)
    assert "API request to memory://***@h" in str(cause)
    assert cause.__traceback__ is not None  # where it failed is kept


def test_a_cause_without_secrets_is_kept_as_it_is() -> None:
    error = ModelportError("boom")
    original = KeyError("no secret here")
    error.__cause__ = original
    assert Scrubber.from_texts([RAW]).clean(error).__cause__ is original


def test_a_refused_url_check_does_not_quote_a_secret() -> None:
    with pytest.raises(InvalidURLError) as caught:
        mp.connect(f"memory://u:{SECRET}@h/path?page_size=nope&token={SECRET}")
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_secrets_are_listed_raw_and_decoded() -> None:
    found = secrets_in(f"x://h?endpoint_url=http%3A%2F%2Fu%3A{SECRET}%40h&sig=a%2Bb")
    assert {f"u:{SECRET}", SECRET, "a%2Bb", "a+b"} <= set(found)
