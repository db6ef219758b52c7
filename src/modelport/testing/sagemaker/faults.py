"""Seeded, deterministic fault injection: throttling, 5xx and lost responses."""

from __future__ import annotations

from dataclasses import dataclass

from modelport.testing.faults import CallFilter, TransientFaults

from .errors import ServiceError

_FAULTS = {
    "ThrottlingException": (400, "Rate exceeded"),
    "InternalFailure": (500, "An internal error occurred. Try again."),
    "ServiceUnavailable": (503, "Service is unavailable. Try again later."),
}


@dataclass(frozen=True)
class Fault:
    error: ServiceError
    after_effect: bool  # True: the operation ran, but its response is "lost"


class FaultInjector(TransientFaults[Fault, str]):
    """Seeded, deterministic failures, as AWS answers them: ``fail_next`` takes an error
    code (``ThrottlingException``, ``InternalFailure``, ...); ``injected`` counts by code."""

    operations = CallFilter()  # the operation names that may fail; None: every operation
    throttling = "ThrottlingException"
    server_errors = ("InternalFailure", "ServiceUnavailable")

    def _fault(self, code: str, after_effect: bool) -> Fault:
        status, message = _FAULTS.get(code, (400, code))
        return Fault(ServiceError(code, message, status), after_effect)

    def _kind(self, fault: Fault) -> str:
        return fault.error.code
