"""Fault injection: throttling, 503s and answers lost after the effect, for the next N calls."""

from __future__ import annotations

import threading
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

    def next(self, fault: Fault, *, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` matching calls with ``fault``."""
        with self._lock:
            self._planned.extend(PlannedFault(fault, method) for _ in range(times))

    def take(self, method: str) -> Fault | None:
        """The fault for this call, if one is planned."""
        with self._lock:
            for index, planned in enumerate(self._planned):
                if planned.method in (None, method):
                    del self._planned[index]
                    return planned.fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
