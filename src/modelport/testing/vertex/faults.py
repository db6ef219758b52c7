"""Seeded, deterministic fault injection for the Vertex rig: throttling, unavailability,
internal errors and answers lost after the effect."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from modelport.testing.faults import CallFilter, TransientFaults

TRANSIENT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)
_MESSAGES = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: "Quota exceeded for aiplatform.googleapis.com.",
    grpc.StatusCode.UNAVAILABLE: "The service is currently unavailable.",
    grpc.StatusCode.INTERNAL: "Internal error encountered.",
    grpc.StatusCode.DEADLINE_EXCEEDED: "Deadline exceeded.",
}


@dataclass(frozen=True)
class Fault:
    code: grpc.StatusCode
    message: str
    after_effect: bool  # True: the call ran, but its answer is lost


class FaultInjector(TransientFaults[Fault, grpc.StatusCode]):
    """Faults as gRPC statuses: ``fail_next`` takes a ``grpc.StatusCode``; ``injected``
    counts by status name. ``methods`` limits them to some method names (``UploadModel``,
    ``GetOperation``, ...)."""

    methods = CallFilter()
    throttling = grpc.StatusCode.RESOURCE_EXHAUSTED
    server_errors = TRANSIENT_CODES

    def reset(self) -> None:
        """No more faults, and the seeded draws start over from ``seed``."""
        super().reset()
        self.rng.seed(self.seed)

    def _fault(self, code: grpc.StatusCode, after_effect: bool) -> Fault:
        return Fault(code, _MESSAGES.get(code, code.name), after_effect)

    def _kind(self, fault: Fault) -> str:
        return str(fault.code.name)
