"""Seeded, deterministic fault injection for the Vertex rig: throttling, unavailability,
internal errors and answers lost after the effect."""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, field

import grpc

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


@dataclass
class FaultInjector:
    """Faults are drawn before a call runs, so a failed call changes nothing, unless
    ``after_effect`` makes it run first and lose its answer. ``methods`` limits them to
    some method names (``UploadModel``, ``GetOperation``, ...)."""

    seed: int = 0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    after_effect: bool = False
    methods: set[str] | None = None
    injected: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(init=False)
    _queue: deque[Fault] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def fail_next(
        self,
        n: int = 1,
        code: grpc.StatusCode = grpc.StatusCode.RESOURCE_EXHAUSTED,
        *,
        after_effect: bool = False,
    ) -> None:
        """Fail the next ``n`` calls (of ``methods``, if set) with ``code``."""
        message = _MESSAGES.get(code, code.name)
        with self._lock:
            self._queue.extend(Fault(code, message, after_effect) for _ in range(n))

    def reset(self) -> None:
        with self._lock:
            self.throttle_rate = self.error_rate = 0.0
            self.after_effect = False
            self.methods = None
            self._queue.clear()
            self.injected.clear()
            self.rng = random.Random(self.seed)

    def draw(self, method: str) -> Fault | None:
        with self._lock:
            if self.methods is not None and method not in self.methods:
                return None
            fault = self._queue.popleft() if self._queue else self._random_fault()
            if fault is not None:
                self.injected[fault.code.name] += 1
            return fault

    def _random_fault(self) -> Fault | None:
        if self.rng.random() < self.throttle_rate:
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
        elif self.rng.random() < self.error_rate:
            code = self.rng.choice(TRANSIENT_CODES)
        else:
            return None
        return Fault(code, _MESSAGES[code], self.after_effect)
