"""Seeded, deterministic fault injection: throttling, 5xx and lost responses."""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass, field

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


@dataclass
class FaultInjector:
    """Seeded, deterministic failures. Faults are drawn before the operation runs, so a failed
    call changes nothing, unless ``after_effect`` makes it run first and lose its response."""

    seed: int = 0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    after_effect: bool = False
    operations: set[str] | None = None  # None: every operation may fail
    injected: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(init=False)
    _queue: deque[Fault] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def fail_next(
        self, n: int = 1, code: str = "ThrottlingException", *, after_effect: bool = False
    ) -> None:
        """Fail the next ``n`` calls (of ``operations``, if set) with ``code``."""
        status, message = _FAULTS.get(code, (400, code))
        with self._lock:
            self._queue.extend(
                Fault(ServiceError(code, message, status), after_effect) for _ in range(n)
            )

    def reset(self) -> None:
        with self._lock:
            self.throttle_rate = self.error_rate = 0.0
            self.after_effect = False
            self.operations = None
            self._queue.clear()
            self.injected.clear()

    def draw(self, operation: str) -> Fault | None:
        with self._lock:
            if self.operations is not None and operation not in self.operations:
                return None
            fault = self._queue.popleft() if self._queue else self._random_fault()
            if fault is not None:
                self.injected[fault.error.code] += 1
            return fault

    def _random_fault(self) -> Fault | None:
        if self.rng.random() < self.throttle_rate:
            code = "ThrottlingException"
        elif self.rng.random() < self.error_rate:
            code = self.rng.choice(["InternalFailure", "ServiceUnavailable"])
        else:
            return None
        status, message = _FAULTS[code]
        return Fault(ServiceError(code, message, status), self.after_effect)
