"""What a backend tells the conformance suite: how to open it, and the gaps it declares."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

import pytest

from modelport.backends.base import Backend
from modelport.models import ModelVersion
from modelport.registry import Registry
from modelport.testing.conformance.counting import CallCounter, counting_methods
from modelport.testing.conformance.settings import FAST_RETRY

GapKind = Literal["notimpl", "notyet", "never"]
Expected: TypeAlias = type[BaseException] | tuple[type[BaseException], ...]


@dataclass(frozen=True)
class Gap:
    """A behaviour a backend does not show, declared as a strict xfail that must fail with
    ``raises`` (so a gap cannot pass by failing for another reason).

    notimpl: modelport has not implemented it yet; notyet: waits on the service or SDK;
    never: the service cannot do it.
    """

    kind: GapKind
    reason: str
    raises: Expected

    def __post_init__(self) -> None:
        expected = self.raises if isinstance(self.raises, tuple) else (self.raises,)
        if not expected or not all(_is_exception(e) for e in expected):
            raise TypeError(
                f"gap {self.reason!r}: raises must name the exception class(es) the test "
                f"fails with, got {self.raises!r}"
            )

    def mark(self) -> pytest.MarkDecorator:
        """The strict xfail this gap becomes on the test it is declared for."""
        return pytest.mark.xfail(
            strict=True, raises=self.raises, reason=f"{self.kind}: {self.reason}"
        )


def _is_exception(candidate: object) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseException)


def notimpl(reason: str, *, raises: Expected) -> Gap:
    """modelport has not implemented it for this backend yet."""
    return Gap("notimpl", reason, raises)


def notyet(reason: str, *, raises: Expected) -> Gap:
    """It waits on the service, its SDK or its emulator."""
    return Gap("notyet", reason, raises)


def never(reason: str, *, raises: Expected) -> Gap:
    """The service cannot do it."""
    return Gap("never", reason, raises)


Opener = Callable[[pytest.FixtureRequest], Registry]
Seeder = Callable[[Registry, str, int, Path], None]
Counting = Callable[[Registry], AbstractContextManager[CallCounter]]


def _nothing_encoded(reg: Registry) -> None:
    raise NotImplementedError(f"{reg.url} keeps typed records: there is no encoding to corrupt")


def _no_placing(reg: Registry, source: Path) -> str:
    raise NotImplementedError(
        f"{reg.url}: the case gives no place_artifact hook to store a model with the "
        "backend's own SDK"
    )


def _register_many(reg: Registry, name: str, count: int, source: Path) -> None:
    for _ in range(count):
        reg.register(name, source)


@contextmanager
def _count_primitives(reg: Registry) -> Iterator[CallCounter]:
    """For a backend with no SDK under it: count the contract's primitives."""
    primitives = sorted(Backend.__abstractmethods__ | {"pointed_version"})
    with counting_methods(reg.backend, primitives) as counter:
        yield counter


def _reconnect(reg: Registry) -> Registry:
    """A second client of the same registry, as another machine would open it."""
    from modelport.connection import connect

    return connect(reg.backend.url.raw, retry=FAST_RETRY)


@dataclass(frozen=True)
class RoundsCap:
    """Fewer promotion rounds in the race test, for a test double whose own cost grows with
    every write (not for a backend that is slow: the rounds are what the promise is about).
    ``reason`` says what in the double grows."""

    rounds: int
    reason: str

    def __post_init__(self) -> None:
        if self.rounds < 1 or not self.reason.strip():
            raise ValueError("a rounds cap needs at least one round and its reason")


@dataclass(frozen=True, kw_only=True)
class BackendCase:
    """How to open a fresh registry on one backend, and the backend-native helpers the
    suite needs to set up what the neutral API cannot.

    ``id`` names the case in test ids and in the results report; ``scheme`` is the scheme
    its backend is registered under (``mlflow`` for ``mlflow+sqlite://`` URLs). ``open``
    returns a fresh registry (it may ask ``request`` for fixtures); ``reopen`` opens a
    second client of the same registry (another machine). ``set_alias`` points an alias
    with the backend's own API, ``tamper`` changes a stored artifact behind modelport's
    back, ``corrupt_metadata`` garbles what modelport encoded into the backend's fields,
    ``place_artifact`` stores a model folder's files with the backend's own SDK, as a
    pipeline would, and returns the URI a user registers (for ``register_uri``).
    ``seed`` adds many plain versions quickly (the backend's own API where registering is
    slow); ``count_calls`` counts calls at the SDK boundary. ``gaps`` maps a test's name
    to its declared `Gap`; ``shared_across_processes=False`` makes the race tests
    use threads only (the backend's state lives in one process); ``race_rounds`` caps
    the race test's promotion rounds, with its reason (see `RoundsCap`).
    """

    id: str
    scheme: str
    open: Opener
    set_alias: Callable[[Registry, str, str, str], None]
    tamper: Callable[[Registry, ModelVersion], None]
    reopen: Callable[[Registry], Registry] = field(default=lambda reg: _reconnect(reg))
    gaps: Mapping[str, Gap] = field(default_factory=dict)
    marks: tuple[pytest.MarkDecorator, ...] = ()
    seed: Seeder = field(
        default=lambda reg, name, count, source: _register_many(reg, name, count, source)
    )
    count_calls: Counting = field(default=lambda reg: _count_primitives(reg))
    shared_across_processes: bool = True  # False: the race tests use threads only
    race_rounds: RoundsCap | None = None
    corrupt_metadata: Callable[[Registry, ModelVersion], None] = field(
        default=lambda reg, mv: _nothing_encoded(reg)
    )
    place_artifact: Callable[[Registry, Path], str] = field(
        default=lambda reg, source: _no_placing(reg, source)
    )

    def __post_init__(self) -> None:
        for test, gap in self.gaps.items():
            if not isinstance(gap, Gap):
                raise TypeError(
                    f"case {self.id!r}: the gap for {test} must be declared with "
                    f"notimpl(), notyet() or never(), got {gap!r}"
                )
