"""The one layer of retries: transient backend faults, exponential backoff with jitter."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import Field
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from modelport.errors import TransientBackendError
from modelport.models import UserInput

T = TypeVar("T")


class RetryPolicy(UserInput):
    """How often and how patiently transient faults are retried. Backends turn their
    SDK's own retries down, so this is the only layer."""

    attempts: int = Field(default=6, ge=1, le=50)
    initial_wait: float = Field(default=0.2, ge=0)
    max_wait: float = Field(default=10.0, ge=0)
    deadline: float = Field(default=120.0, gt=0)

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``, retried on transient faults. The first attempt runs outside tenacity
        (tenacity's bookkeeping is a noticeable share of a resolve's own time); a transient failure
        is handed to tenacity as the first failed attempt, so waits and stops are its own."""
        try:
            return fn()
        except TransientBackendError as exc:
            first_failure: TransientBackendError | None = exc

        def attempt() -> T:
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            return fn()

        return self._retrying()(attempt)

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception_type(TransientBackendError),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.deadline),
            wait=wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait),
            reraise=True,
        )
