"""ModelHandle (Registry.watch): a loaded model that follows a stage, refreshed on access
(with a fake clock) or in a background thread, and kept serving when a refresh fails."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import modelport as mp
from modelport.watch import ModelHandle

MODEL = "fraud"
REF = f"{MODEL}@production"
FAST_RETRY = mp.RetryPolicy(attempts=1, initial_wait=0, max_wait=0, deadline=5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def read_model(path: Path) -> str:
    return (path / "model.txt").read_text()


def served(handle: ModelHandle[object]) -> str | None:
    return handle.version.ref if handle.version is not None else None


def watch_threads() -> int:
    return sum(thread.name == f"modelport-watch {REF}" for thread in threading.enumerate())


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The artifact cache of the test, not the user's."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MODELPORT_CACHE", str(folder))
    return folder


@pytest.fixture
def reg() -> mp.Registry:
    return mp.connect("memory://", retry=FAST_RETRY)


@pytest.fixture
def publish(reg: mp.Registry, tmp_path: Path) -> Callable[[str], mp.ModelVersion]:
    """Register a version whose model.txt holds ``content`` and promote it to production."""

    def run(content: str) -> mp.ModelVersion:
        source = tmp_path / f"source-{content}"
        source.mkdir()
        (source / "model.txt").write_text(content)
        mv = reg.register(MODEL, source)
        reg.approve(mv.ref, actor="qa")
        return reg.transition(mv.ref, "production", actor="ci")

    return run


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def on_access(
    reg: mp.Registry, clock: FakeClock, load: Callable[[Path], str] = read_model
) -> ModelHandle[str]:
    return ModelHandle(reg, REF, load, refresh=60, clock=clock)


def test_first_get_loads_the_version_the_stage_points_at(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion], clock: FakeClock
) -> None:
    v1 = publish("one")
    with reg.watch(REF, read_model, refresh=60) as handle:
        assert handle.version is None
        assert handle.get() == "one"
        assert served(handle) == v1.ref
        assert handle.last_error is None


def test_a_promotion_is_served_after_refresh_seconds_on_access(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion], clock: FakeClock
) -> None:
    publish("one")
    loads: list[str] = []

    def load(path: Path) -> str:
        loads.append(read_model(path))
        return loads[-1]

    with on_access(reg, clock, load) as handle:
        assert handle.get() == "one"
        v2 = publish("two")
        clock.advance(59)
        assert handle.get() == "one"  # not due yet
        clock.advance(1)
        assert handle.get() == "two"
        assert served(handle) == v2.ref
        clock.advance(60)
        assert handle.get() == "two"  # same version: resolved, not loaded again
    assert loads == ["one", "two"]


def test_a_failing_load_keeps_the_old_model_and_records_the_error(
    reg: mp.Registry,
    publish: Callable[[str], mp.ModelVersion],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    v1 = publish("one")

    def load(path: Path) -> str:
        content = read_model(path)
        if content == "broken":
            raise ValueError("cannot unpickle")
        return content

    with on_access(reg, clock, load) as handle:
        assert handle.get() == "one"
        publish("broken")
        clock.advance(60)
        with caplog.at_level(logging.WARNING, logger="modelport.watch"):
            assert handle.get() == "one"
        assert served(handle) == v1.ref
        assert isinstance(handle.last_error, ValueError)
        assert "refresh failed, still serving fraud/1" in caplog.text
        v3 = publish("three")
        clock.advance(60)
        assert handle.get() == "three"
        assert served(handle) == v3.ref
        assert handle.last_error is None


def test_a_failing_resolve_keeps_the_old_model(
    reg: mp.Registry,
    publish: Callable[[str], mp.ModelVersion],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish("one")
    with on_access(reg, clock) as handle:
        assert handle.get() == "one"
        publish("two")

        def unreachable(ref: str) -> mp.ModelVersion:
            raise mp.TransientBackendError("registry unreachable")

        monkeypatch.setattr(reg, "resolve", unreachable)
        clock.advance(60)
        assert handle.get() == "one"
        assert isinstance(handle.last_error, mp.TransientBackendError)
        monkeypatch.undo()
        assert handle.get() == "one"  # a failure is retried after refresh seconds, too
        clock.advance(60)
        assert handle.get() == "two"


def test_get_raises_the_error_while_nothing_was_ever_loaded(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion], clock: FakeClock
) -> None:
    with on_access(reg, clock) as handle:
        with pytest.raises(mp.ModelNotFoundError):
            handle.get()
        assert isinstance(handle.last_error, mp.NotFoundError)
        assert handle.version is None
        publish("one")
        assert handle.get() == "one"  # with nothing to serve, the next get tries again


def test_a_malformed_reference_or_refresh_fails_at_construction(reg: mp.Registry) -> None:
    with pytest.raises(mp.InvalidReferenceError):
        reg.watch("fraud@@production", read_model)
    with pytest.raises(mp.InvalidInputError, match="refresh"):
        reg.watch(REF, read_model, refresh=0)


def test_concurrent_gets_during_a_slow_load_all_get_a_complete_model(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion], clock: FakeClock
) -> None:
    publish("one")
    loading = threading.Event()
    release = threading.Event()

    def slow_load(path: Path) -> dict[str, str]:
        content = read_model(path)
        if content == "two":
            loading.set()
            assert release.wait(5)
        return {"content": content, "complete": "yes"}

    handle = ModelHandle(reg, REF, slow_load, refresh=60, clock=clock)
    assert handle.get()["content"] == "one"
    publish("two")
    clock.advance(60)
    seen: list[dict[str, str]] = []
    seen_lock = threading.Lock()

    def request() -> None:
        model = handle.get()
        with seen_lock:
            seen.append(model)

    refresher = threading.Thread(target=request)  # the get that runs the slow refresh
    refresher.start()
    assert loading.wait(5)
    others = [threading.Thread(target=request) for _ in range(16)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(5)
    assert len(seen) == 16  # none waited for the refresh
    assert all(model == {"content": "one", "complete": "yes"} for model in seen)
    release.set()
    refresher.join(5)
    assert seen[-1] == {"content": "two", "complete": "yes"}
    assert handle.get()["content"] == "two"
    handle.close()


def test_background_mode_follows_promotions_and_close_stops_the_thread(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion]
) -> None:
    publish("one")
    handle = reg.watch(REF, read_model, refresh=0.05, background=True)
    assert wait_until(lambda: handle.version is not None)
    assert handle.get() == "one"
    v2 = publish("two")
    assert wait_until(lambda: served(handle) == v2.ref)
    assert handle.get() == "two"
    assert watch_threads() == 1
    handle.close()
    assert watch_threads() == 0
    assert handle.closed
    publish("three")
    time.sleep(0.15)
    assert handle.get() == "two"  # closed: serves what it has, refreshes no more


def test_a_version_with_a_digest_is_loaded_from_the_artifact_cache(
    reg: mp.Registry, publish: Callable[[str], mp.ModelVersion], clock: FakeClock, cache: Path
) -> None:
    publish("one")
    paths: list[Path] = []

    def load(path: Path) -> str:
        paths.append(path)
        return read_model(path)

    with on_access(reg, clock, load) as handle:
        assert handle.get() == "one"
    assert paths[0].is_relative_to(cache)
    assert paths[0].is_dir()  # the cache's to keep or evict, not the handle's


def test_a_version_without_a_digest_goes_to_a_folder_close_removes(
    reg: mp.Registry,
    publish: Callable[[str], mp.ModelVersion],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish("one")
    real_resolve = reg.resolve

    def without_digest(ref: str) -> mp.ModelVersion:
        return real_resolve(ref).model_copy(update={"digest": None})

    monkeypatch.setattr(reg, "resolve", without_digest)
    paths: list[Path] = []

    def load(path: Path) -> str:
        paths.append(path)
        return read_model(path)

    with on_access(reg, clock, load) as handle:
        assert handle.get() == "one"
        for content in ("two", "three"):
            publish(content)
            clock.advance(60)
            assert handle.get() == content
        first, second, third = paths
        assert not first.exists()  # two versions ago
        assert second.is_dir()  # just replaced: requests in flight may read it
        assert third.is_dir()
    assert not any(path.exists() for path in paths)


def test_model_handle_is_exported() -> None:
    assert mp.ModelHandle is ModelHandle
