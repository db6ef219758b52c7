"""The one retry layer: transient faults are retried, everything else is not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import modelport as mp
from modelport.errors import (
    BackendError,
    BackendTimeoutError,
    ModelportError,
    TransientBackendError,
    VersionNotFoundError,
)

NO_WAIT = mp.RetryPolicy(attempts=5, initial_wait=0, max_wait=0, deadline=10)


class Flaky:
    """A callable that raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_two_transient_failures_then_success_is_three_calls() -> None:
    flaky = Flaky(TransientBackendError("throttled"), BackendTimeoutError("timed out"))
    assert NO_WAIT.call(flaky) == "ok"
    assert flaky.calls == 3


@pytest.mark.parametrize(
    "error",
    [
        VersionNotFoundError("no such version"),
        BackendError("unclassified"),
        mp.PolicyViolationError("not approved"),
        ValueError("a bug"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_non_transient_error_is_raised_at_once(error: Exception) -> None:
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        NO_WAIT.call(flaky)
    assert flaky.calls == 1


def test_attempts_limit_the_calls_and_the_last_error_is_raised() -> None:
    policy = mp.RetryPolicy(attempts=4, initial_wait=0, max_wait=0)
    flaky = Flaky(*(TransientBackendError(f"fault {i}") for i in range(10)))
    with pytest.raises(TransientBackendError, match="fault 3"):
        policy.call(flaky)
    assert flaky.calls == 4


def test_one_attempt_means_no_retry() -> None:
    flaky = Flaky(TransientBackendError("throttled"))
    with pytest.raises(TransientBackendError):
        mp.RetryPolicy(attempts=1).call(flaky)
    assert flaky.calls == 1


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"attempts": 51}, {"initial_wait": -1}, {"deadline": 0}]
)
def test_retry_settings_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        mp.RetryPolicy(**kwargs)


def wrap(
    target: object, method: str, flaky: Flaky, *, after: bool = False
) -> Callable[..., object]:
    """Make ``target.method`` run ``flaky`` before each real call (``after``: once the real
    call has done its work, as when the response is lost)."""
    real = getattr(target, method)

    def wrapped(*args: object, **kwargs: object) -> object:
        if not after:
            flaky()
        result = real(*args, **kwargs)
        if after:
            flaky()
        return result

    setattr(target, method, wrapped)
    return wrapped


def test_the_registry_retries_a_flaky_backend_read(registry: mp.Registry) -> None:
    registry.retry = NO_WAIT
    flaky = Flaky(TransientBackendError("429"), TransientBackendError("503"))
    wrap(registry.backend, "get_version", flaky)
    assert registry.resolve("fraud/1").version == "1"
    assert flaky.calls == 3


def test_the_registry_retries_a_flaky_write_without_duplicating_it(
    registry: mp.Registry, model_dir: Path
) -> None:
    registry.retry = NO_WAIT
    flaky = Flaky(TransientBackendError("response lost"))
    wrap(registry.backend, "create_version", flaky, after=True)
    mv = registry.register("fraud", model_dir)
    assert flaky.calls == 2
    assert [v.version for v in registry.versions("fraud")] == ["1", mv.version]


def test_the_registry_does_not_retry_a_missing_version(registry: mp.Registry) -> None:
    registry.retry = NO_WAIT
    calls = Flaky()
    wrap(registry.backend, "get_version", calls)
    with pytest.raises(VersionNotFoundError) as caught:
        registry.resolve("fraud/9")
    assert calls.calls == 1
    assert isinstance(caught.value, ModelportError)
