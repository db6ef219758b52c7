"""memory://: state per instance, and listings that page."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend


def test_two_connects_do_not_share_state(model_dir: Path) -> None:
    first = mp.connect("memory://")
    second = mp.connect("memory://")
    first.register("only-in-first", model_dir)
    assert list(first.models()) == ["only-in-first"]
    assert list(second.models()) == []
    with pytest.raises(mp.ModelNotFoundError) as caught:
        second.resolve("only-in-first/1")
    assert caught.value.model == "only-in-first"


def test_artifact_uris_are_distinct_per_instance(model_dir: Path) -> None:
    a = mp.connect("memory://").register("m", model_dir)
    b = mp.connect("memory://").register("m", model_dir)
    assert a.artifact_uri != b.artifact_uri
    assert a.digest == b.digest


def test_page_size_comes_from_the_url() -> None:
    backend = mp.connect("memory://?page_size=2").backend
    assert isinstance(backend, MemoryBackend)
    assert backend.page_size == 2
    default = mp.connect("memory://").backend
    assert isinstance(default, MemoryBackend)
    assert default.page_size == 50


def test_versions_page_lazily(model_dir: Path) -> None:
    reg = mp.connect("memory://?page_size=2")
    for _ in range(5):
        reg.register("m", model_dir)
    pages: list[str | None] = []
    real = reg.backend.list_versions

    def counted(name: str, token: str | None = None) -> object:
        pages.append(token)
        return real(name, token)

    reg.backend.list_versions = counted  # type: ignore[method-assign,assignment]
    listing = reg.versions("m")
    assert pages == []  # nothing fetched until iterated
    assert next(listing).version == "1"
    assert pages == [None]
    assert [mv.version for mv in listing] == ["2", "3", "4", "5"]
    assert pages == [None, "2", "4"]


def test_models_page_through_every_name(model_dir: Path) -> None:
    reg = mp.connect("memory://?page_size=2")
    names = [f"model-{i}" for i in range(5)]
    for name in reversed(names):
        reg.register(name, model_dir)
    assert list(reg.models()) == names


def test_a_page_boundary_at_the_end_gives_no_empty_page() -> None:
    backend = mp.connect("memory://?page_size=2").backend
    assert isinstance(backend, MemoryBackend)
    page = backend._page([1, 2, 3, 4], "2")
    assert list(page.items) == [3, 4]
    assert page.next_token is None


def test_reading_back_gives_the_registered_record(registry: mp.Registry) -> None:
    mv = registry.resolve("fraud/1")
    assert mv.metrics == {"f1": 0.8}
    assert mv.params == {"depth": "3"}
    assert mv.registry == "memory://"
    assert [e.kind for e in registry.history("fraud/1")] == [
        mp.EventKind.REGISTERED,
        mp.EventKind.APPROVED,
        mp.EventKind.TRANSITIONED,
    ]


def test_set_alias_resolves_through_the_facade(registry: mp.Registry) -> None:
    backend = registry.backend
    assert isinstance(backend, MemoryBackend)
    backend.set_pointer("fraud", "champion", "1")
    assert registry.resolve("fraud@champion").version == "1"
    assert registry.resolve("fraud/1").aliases == ("champion",)
    with pytest.raises(mp.VersionNotFoundError) as caught:
        registry.resolve("fraud@challenger")
    assert caught.value.model == "fraud"
