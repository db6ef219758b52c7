"""What a backend module tells the conformance suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from modelport import ModelVersion, Registry
from modelport.backends.base import Backend
from tests.backends.counting import CallCounter, counting_methods

GapKind = Literal["notimpl", "notyet", "never"]


@dataclass(frozen=True)
class Gap:
    """A behaviour a backend does not pass, declared as a strict xfail.

    notimpl: modelport has not implemented it yet; notyet: waits on the service or SDK;
    never: the service cannot do it.
    """

    kind: GapKind
    reason: str


def notimpl(reason: str) -> Gap:
    return Gap("notimpl", reason)


def notyet(reason: str) -> Gap:
    return Gap("notyet", reason)


def never(reason: str) -> Gap:
    return Gap("never", reason)


Seeder = Callable[[Registry, str, int, Path], None]
Counting = Callable[[Registry], AbstractContextManager[CallCounter]]


@dataclass(frozen=True)
class BackendCase:
    """How to open a fresh registry on one backend, and the backend-native helpers the
    suite needs to set up what the neutral API cannot (aliases, tampering). ``reopen``
    opens a second client of the same registry (another machine). ``seed`` adds many
    plain versions quickly (the backend's own API where registering is slow);
    ``count_calls`` counts calls at the SDK boundary."""

    id: str
    open: Callable[[pytest.FixtureRequest], Registry]
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
    corrupt_metadata: Callable[[Registry, ModelVersion], None] = field(
        default=lambda reg, mv: _nothing_encoded(reg)
    )


def _nothing_encoded(reg: Registry) -> None:
    raise NotImplementedError(f"{reg.url} keeps typed records: there is no encoding to corrupt")


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
    import modelport as mp
    from tests.conformance.settings import FAST_RETRY

    return mp.connect(reg.backend.url.raw, retry=FAST_RETRY)
