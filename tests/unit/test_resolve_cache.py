"""The resolve cache of deployment code: a TTL on an injected clock, evicted by own writes."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.cache import ResolveCache
from modelport.registry import Registry

TTL = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Counted:
    """Counts the backend's reads of stage holders and versions (the outermost call only:
    a backend's ``pointed_version`` may read the version itself)."""

    def __init__(self, reg: mp.Registry) -> None:
        self.calls = 0
        self._depth = 0
        for method in ("pointed_version", "stage_members", "get_version", "latest_version"):
            real = getattr(reg.backend, method)
            setattr(reg.backend, method, self._counting(real))

    def _counting(self, real: object) -> object:
        def counted(*args: object) -> object:
            self.calls += self._depth == 0
            self._depth += 1
            try:
                assert callable(real)
                return real(*args)
            finally:
                self._depth -= 1

        return counted


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cached(registry: mp.Registry, clock: Clock) -> mp.Registry:
    registry.cache = ResolveCache(TTL, clock=clock)
    return registry


def test_a_cached_resolve_does_not_reach_the_backend(cached: mp.Registry) -> None:
    reads = Counted(cached)
    first = cached.resolve("fraud@production")
    assert reads.calls == 1
    for _ in range(5):
        assert cached.resolve("fraud@production") is first
    assert cached.lineage("fraud@production") == first.lineage
    assert reads.calls == 1


def test_an_entry_expires_after_the_ttl(cached: mp.Registry, clock: Clock) -> None:
    reads = Counted(cached)
    cached.resolve("fraud@production")
    clock.now += TTL - 0.001
    cached.resolve("fraud@production")
    assert reads.calls == 1
    clock.now += 0.001
    cached.resolve("fraud@production")
    assert reads.calls == 2


def test_own_writes_evict_the_model_s_entries(cached: mp.Registry, model_dir: Path) -> None:
    assert cached.resolve("fraud@latest").version == "1"
    assert cached.resolve("fraud@production").version == "1"
    cached.register("fraud", model_dir)
    assert cached.resolve("fraud@latest").version == "2"
    cached.approve("fraud/2")
    assert cached.resolve("fraud/2").approval is mp.Approval.APPROVED
    cached.transition("fraud/2", "production")
    assert cached.resolve("fraud@production").version == "2"
    cached.rollback("fraud", "production")
    assert cached.resolve("fraud@production").version == "1"


def test_writes_to_one_model_keep_another_model_cached(
    cached: mp.Registry, model_dir: Path
) -> None:
    cached.register("fraud2", model_dir)
    cached.resolve("fraud2@latest")
    reads = Counted(cached)
    cached.register("fraud", model_dir)
    cached.resolve("fraud2@latest")
    assert reads.calls == 0


def test_another_client_s_write_shows_after_the_ttl(
    cached: mp.Registry, clock: Clock, model_dir: Path
) -> None:
    other = Registry(cached.backend)  # a second process on the same registry
    assert cached.resolve("fraud@latest").version == "1"
    other.register("fraud", model_dir)
    assert cached.resolve("fraud@latest").version == "1"  # stale, within the TTL
    clock.now += TTL
    assert cached.resolve("fraud@latest").version == "2"


def test_a_failed_resolve_is_not_cached(cached: mp.Registry, model_dir: Path) -> None:
    with pytest.raises(mp.VersionNotFoundError):
        cached.resolve("fraud@staging")
    cached.transition("fraud/1", "staging")
    assert cached.resolve("fraud@staging").version == "1"


def test_no_ttl_means_no_cache(registry: mp.Registry) -> None:
    reads = Counted(registry)
    for _ in range(3):
        registry.resolve("fraud@production")
    assert reads.calls == 3


def test_connect_passes_the_ttl(model_dir: Path) -> None:
    reg = mp.connect("memory://", cache_ttl=30)
    assert reg.cache.ttl == 30
    reg.register("m", model_dir)
    reads = Counted(reg)
    reg.resolve("m/1")
    reg.resolve("m/1")
    assert reads.calls == 1
