"""What a backend module tells the conformance suite."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import pytest

from modelport import ModelVersion, Registry

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


@dataclass(frozen=True)
class BackendCase:
    """How to open a fresh registry on one backend, and the backend-native helpers the
    suite needs to set up what the neutral API cannot (aliases, tampering). ``reopen``
    opens a second client of the same registry (another machine)."""

    id: str
    open: Callable[[pytest.FixtureRequest], Registry]
    set_alias: Callable[[Registry, str, str, str], None]
    tamper: Callable[[Registry, ModelVersion], None]
    reopen: Callable[[Registry], Registry] = field(default=lambda reg: _reconnect(reg))
    gaps: Mapping[str, Gap] = field(default_factory=dict)
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _reconnect(reg: Registry) -> Registry:
    """A second client of the same registry, as another machine would open it."""
    import modelport as mp
    from tests.conformance.settings import FAST_RETRY

    return mp.connect(reg.backend.url.raw, retry=FAST_RETRY)
