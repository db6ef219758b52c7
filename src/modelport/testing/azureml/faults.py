"""Fault injection: throttling, 503s and answers lost after the effect, for the next N calls
or at a seeded rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from modelport.testing.faults import FaultPlan


class Fault(Enum):
    THROTTLE = 429  # with Retry-After
    UNAVAILABLE = 503
    LOST_ANSWER = 0  # the call takes effect, then the connection drops


@dataclass(eq=False)
class FaultInjector(FaultPlan[Fault, Fault]):
    """Queues faults for the next calls, or draws them at seeded rates; thread-safe, empty
    after `clear`. ``injected`` counts the faults answered so far, by kind."""

    _rates: list[tuple[Fault, float]] = field(default_factory=list, init=False)

    def next(self, fault: Fault, *, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` calls (of HTTP ``method``, if given) with ``fault``."""
        self._plan((fault for _ in range(times)), call=method)

    def at_rate(self, fault: Fault, rate: float, *, seed: int = 0) -> None:
        """Answer a share ``rate`` (0 to 1) of all later calls with ``fault``, drawn from a
        generator seeded with ``seed`` (the last seed given wins)."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        with self._lock:
            self._rates.append((fault, rate))
            self.rng.seed(seed)

    def take(self, method: str) -> Fault | None:
        """The fault for this call (by its HTTP method), if one is planned or drawn."""
        return self.draw(method)

    def clear(self) -> None:
        with self._lock:
            self._rates.clear()
            self._forget()

    def _random_fault(self) -> Fault | None:
        for fault, rate in self._rates:
            if self.rng.random() < rate:
                return fault
        return None

    def _kind(self, fault: Fault) -> Fault:
        return fault
