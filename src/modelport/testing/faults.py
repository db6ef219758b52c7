"""Seeded, deterministic fault injection, shared by the rigs.

A `FaultPlan` decides *when* a call fails: faults planned for the next calls come
first, then a draw from a generator seeded with ``seed``, so a run fails the same way
every time. It is thread-safe and counts every fault it hands out in ``injected``. Each
rig's own ``faults`` module says *what* a fault is (a botocore-shaped error, a gRPC
status, an HTTP answer) and the rig raises it.
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

Fault = TypeVar("Fault")  # one fault, in the rig's terms
Kind = TypeVar("Kind", bound=Hashable)  # what ``injected`` counts a fault as
Code = TypeVar("Code")  # a status code of the rig's protocol


@dataclass(eq=False)
class FaultPlan(ABC, Generic[Fault, Kind]):
    """Planned faults, then seeded random ones, for the calls named in ``only`` (None: all)."""

    seed: int = 0
    only: set[str] | None = None
    injected: Counter[Kind] = field(default_factory=Counter)
    rng: random.Random = field(init=False)
    _planned: list[tuple[Fault, str | None]] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, call: str) -> Fault | None:
        """The fault for this call, if any: the first one planned for it, else a random one."""
        with self._lock:
            if self.only is not None and call not in self.only:
                return None
            fault = self._next_planned(call)
            if fault is None:
                fault = self._random_fault()
            if fault is not None:
                self.injected[self._kind(fault)] += 1
            return fault

    def _plan(self, faults: Iterable[Fault], call: str | None = None) -> None:
        """Queue ``faults`` for the next calls named ``call`` (None: any call)."""
        with self._lock:
            self._planned.extend((fault, call) for fault in faults)

    def _next_planned(self, call: str) -> Fault | None:
        for index, (fault, planned_for) in enumerate(self._planned):
            if planned_for in (None, call):
                del self._planned[index]
                return fault
        return None

    def _forget(self) -> None:
        """Drop the call filter, the planned faults and the counts; the caller holds the lock."""
        self.only = None
        self._planned.clear()
        self.injected.clear()

    @abstractmethod
    def _random_fault(self) -> Fault | None:
        """A fault drawn from ``rng`` (called under the lock), or None."""

    @abstractmethod
    def _kind(self, fault: Fault) -> Kind:
        """What ``injected`` counts ``fault`` as."""


@dataclass(eq=False)
class TransientFaults(FaultPlan[Fault, str], Generic[Fault, Code]):
    """Throttling and transient server errors of a cloud API. Each call (of ``only``)
    draws throttling at ``throttle_rate``, else a server error at ``error_rate``. Faults
    are drawn before the call runs, so a failed call changes nothing, unless
    ``after_effect`` makes it run first and lose its answer.

    A rig names its codes (``throttling``, ``server_errors``) and builds its faults
    (``_fault``); ``injected`` counts them by code name."""

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    after_effect: bool = False

    @property
    @abstractmethod
    def throttling(self) -> Code:
        """The code of a throttled call, also what `fail_next` fails with by default."""

    @property
    @abstractmethod
    def server_errors(self) -> Sequence[Code]:
        """The codes of transient server errors, drawn with equal chances."""

    def fail_next(
        self, n: int = 1, code: Code | None = None, *, after_effect: bool = False
    ) -> None:
        """Fail the next ``n`` calls (of ``only``, if set) with ``code`` (None: throttling)."""
        failing = self.throttling if code is None else code
        self._plan(self._fault(failing, after_effect) for _ in range(n))

    def reset(self) -> None:
        """No more faults: rates back to 0, nothing planned, no filter, counts cleared."""
        with self._lock:
            self.throttle_rate = self.error_rate = 0.0
            self.after_effect = False
            self._forget()

    def _random_fault(self) -> Fault | None:
        if self.rng.random() < self.throttle_rate:
            code = self.throttling
        elif self.rng.random() < self.error_rate:
            code = self.rng.choice(self.server_errors)
        else:
            return None
        return self._fault(code, self.after_effect)

    @abstractmethod
    def _fault(self, code: Code, after_effect: bool) -> Fault:
        """The fault that answers with ``code``, before or after the call's effect."""


class CallFilter:
    """A rig's own name for `FaultPlan.only` (``operations``, ``methods``): reading
    or setting it reads or sets ``only``."""

    @overload
    def __get__(self, plan: None, owner: type[Any]) -> CallFilter: ...

    @overload
    def __get__(self, plan: FaultPlan[Any, Any], owner: type[Any]) -> set[str] | None: ...

    def __get__(
        self, plan: FaultPlan[Any, Any] | None, owner: type[Any]
    ) -> CallFilter | set[str] | None:
        return self if plan is None else plan.only

    def __set__(self, plan: FaultPlan[Any, Any], names: set[str] | None) -> None:
        plan.only = names
