"""Finding a backend by URL scheme: built-ins, entry points, and missing extras."""

from __future__ import annotations

import importlib.util
from importlib.machinery import ModuleSpec
from importlib.metadata import EntryPoint

import pytest

import modelport as mp
import modelport.backends as backends
from modelport.backends.memory import MemoryBackend
from modelport.errors import BackendNotInstalledError, InvalidURLError
from modelport.urls import parse_url


def fake_entry_points(*points: EntryPoint) -> object:
    def entry_points(*, group: str) -> list[EntryPoint]:
        return [p for p in points if p.group == group]

    return entry_points


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InvalidURLError) as caught:
        mp.connect("nosuch://x")
    message = str(caught.value)
    assert "'nosuch'" in message
    for scheme in backends.BUILTIN:
        assert scheme in message
    assert caught.value.field == "url"


def test_an_entry_point_backend_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(
        name="acme", value="modelport.backends.memory:MemoryBackend", group="modelport.backends"
    )
    monkeypatch.setattr(backends, "entry_points", fake_entry_points(point))
    assert backends.backend_class(parse_url("acme://")) is MemoryBackend
    reg = mp.connect("acme://")
    assert isinstance(reg.backend, MemoryBackend)
    assert "acme" in backends.known_schemes()


def test_an_entry_point_of_another_group_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="acme", value="modelport.backends.memory:MemoryBackend", group="other")
    monkeypatch.setattr(backends, "entry_points", fake_entry_points(point))
    with pytest.raises(InvalidURLError, match="unknown registry scheme"):
        mp.connect("acme://")


def test_an_entry_point_that_is_not_a_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint(name="acme", value="pathlib:Path", group="modelport.backends")
    monkeypatch.setattr(backends, "entry_points", fake_entry_points(point))
    with pytest.raises(InvalidURLError, match="not a modelport Backend"):
        mp.connect("acme://")


@pytest.mark.parametrize(
    ("url", "sdk", "extra"),
    [("sagemaker://us-east-1?bucket=b", "boto3", "sagemaker"), ("mlflow://", "mlflow", "mlflow")],
)
def test_a_backend_whose_sdk_is_missing_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, sdk: str, extra: str
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == sdk else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(BackendNotInstalledError) as caught:
        mp.connect(url)
    assert f"pip install 'modelport[{extra}]'" in str(caught.value)
    assert caught.value.extra == extra
    assert isinstance(caught.value, ImportError)
