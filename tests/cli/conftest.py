"""CLI fixtures: every command runs in-process against one shared memory registry.

``memory://`` keeps its state per instance, so ``connect`` is replaced by a function
that hands every invocation the same registry (and records the URLs it was asked for).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.cli import main
from modelport.urls import parse_url


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class FakeConnect:
    registries: dict[str, mp.Registry]
    default: mp.Registry
    asked: list[str | None] = field(default_factory=list)

    def __call__(self, url: str | None = None, **_: object) -> mp.Registry:
        self.asked.append(url)
        return self.registries.get(url or "", self.default)


def memory_registry() -> mp.Registry:
    return mp.Registry(MemoryBackend.from_url(parse_url("memory://")))


REAL_CONNECT = importlib.import_module("modelport.connection").connect


@pytest.fixture(autouse=True)
def connect(monkeypatch: pytest.MonkeyPatch) -> FakeConnect:
    fake = FakeConnect(registries={}, default=memory_registry())
    monkeypatch.setattr(importlib.import_module("modelport.connection"), "connect", fake)
    monkeypatch.delenv("MODELPORT_REGISTRY", raising=False)
    monkeypatch.setenv("MODELPORT_ACTOR", "cli-test")
    return fake


@pytest.fixture
def real_connect(connect: FakeConnect, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``connect``: for tests of what it says about the URLs it refuses."""
    monkeypatch.setattr(importlib.import_module("modelport.connection"), "connect", REAL_CONNECT)


@pytest.fixture
def registry(connect: FakeConnect) -> mp.Registry:
    return connect.default


@pytest.fixture
def cli() -> Callable[..., Result]:
    def run(*argv: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err)
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    path = tmp_path / "model"
    path.mkdir()
    (path / "weights.bin").write_bytes(b"\x00\x01" * 512)
    (path / "config.json").write_text('{"layers": 2}')
    return path
