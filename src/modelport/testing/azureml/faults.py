"""Fault injection: throttling, 503s and answers lost after the effect, for the next N calls
or at a seeded rate."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum


class Fault(Enum):
    THROTTLE = 429  # with Retry-After
    UNAVAILABLE = 503
    LOST_ANSWER = 0  # the call takes effect, then the connection drops


@dataclass(frozen=True)
class PlannedFault:
    fault: Fault
    method: str | None  # HTTP method it applies to; None: any


class FaultInjector:
    """Queues faults for the next calls; thread-safe, empty after :meth:`clear`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[PlannedFault] = []
        self._rates: list[tuple[Fault, float]] = []
        self._random = random.Random(0)
        self.injected: Counter[Fault] = Counter()  # faults answered so far, by kind

    def next(self, fault: Fault, *, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` matching calls with ``fault``."""
        with self._lock:
            self._planned.extend(PlannedFault(fault, method) for _ in range(times))

    def at_rate(self, fault: Fault, rate: float, *, seed: int = 0) -> None:
        """Answer a share ``rate`` (0 to 1) of all later calls with ``fault``, drawn from a
        generator seeded with ``seed`` (the last seed given wins)."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        with self._lock:
            self._rates.append((fault, rate))
            self._random.seed(seed)

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if one is planned or drawn."""
        with self._lock:
            fault = self._draw(method)
            if fault is not None:
                self.injected[fault] += 1
            return fault

    def _draw(self, method: str) -> Fault | None:
        for index, planned in enumerate(self._planned):
            if planned.method in (None, method):
                del self._planned[index]
                return planned.fault
        for fault, rate in self._rates:
            if self._random.random() < rate:
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
            self._rates.clear()
            self.injected.clear()
