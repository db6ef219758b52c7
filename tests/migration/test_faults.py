"""Transient faults on 30% of the calls, before or after they take effect: the migration
completes with nothing lost or duplicated, and no stage is set before its version exists."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.base import Page
from modelport.backends.memory import MemoryBackend
from modelport.migration import migrate
from modelport.models import ModelVersion, VersionDraft
from modelport.progress import OnBytes
from modelport.urls import parse_url
from tests.migration.conftest import history_shape, populate, snapshot
from tests.migration.flaky import FlakyBackend

# 30% faulty calls retried up to 30 times: the chance that one call fails every attempt
# is 0.3**30, so the test is not flaky even though thread timing varies the fault pattern.
PATIENT = mp.RetryPolicy(attempts=30, initial_wait=0, max_wait=0, deadline=60)


def _flaky(rate: float, seed: int) -> tuple[mp.Registry, FlakyBackend]:
    backend = FlakyBackend(MemoryBackend(parse_url("memory://?page_size=3")), rate, seed)
    return mp.Registry(backend, retry=PATIENT), backend


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_faults_on_the_destination_lose_and_duplicate_nothing(tmp_path: Path, seed: int) -> None:
    src = mp.connect("memory://?page_size=4", retry=PATIENT)
    populate(src, tmp_path, {"fraud": 12, "churn": 6, "vision": 5})
    dst, flaky = _flaky(0.3, seed)

    report = migrate(src, dst, workers=4)

    assert report.ok, report.summary()
    assert report.counts["created"] == 23
    assert flaky.faults["create_version:after"] > 0  # the key had duplicates to prevent
    assert sum(flaky.faults.values()) >= 10
    flaky.rate = 0.0
    assert snapshot(dst) == snapshot(src)  # every version once, in order, same record
    assert mp.diff(src, dst).ok
    for ref in ("fraud/1", "fraud/4", "churn/5", "vision/2"):
        trail = history_shape(src, ref)
        assert history_shape(dst, ref)[: len(trail) + 1] == [
            *trail,
            ("migrated", src.url, dst.url),
        ]
    _assert_no_stage_before_create(flaky.writes)


def test_faults_on_both_sides(tmp_path: Path) -> None:
    src_backend = FlakyBackend(MemoryBackend(parse_url("memory://?page_size=2")), 0.3, seed=7)
    src = mp.Registry(src_backend, retry=PATIENT)
    src_backend.rate = 0.0
    populate(src, tmp_path, {"fraud": 8})
    src_backend.rate = 0.3
    dst, flaky = _flaky(0.3, seed=8)

    report = migrate(src, dst, workers=3)

    assert report.ok, report.summary()
    assert sum(src_backend.faults.values()) > 0
    assert sum(flaky.faults.values()) > 0
    src_backend.rate = flaky.rate = 0.0
    assert snapshot(dst) == snapshot(src)


def _assert_no_stage_before_create(writes: list[tuple[str, str, str]]) -> None:
    created: set[tuple[str, str]] = set()
    for kind, name, version in writes:
        if kind == "created":
            created.add((name, version))
        else:
            assert (name, version) in created, f"{name}/{version} changed before it was created"


class _StaleListing(FlakyBackend):
    """A destination whose listings lag behind its writes (eventual consistency): the plan
    cannot see the copies, so only the idempotency keys stand between it and duplicates."""

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        return Page([])


def test_a_rerun_that_cannot_see_the_copies_duplicates_nothing(tmp_path: Path) -> None:
    src = mp.connect("memory://", retry=PATIENT)
    populate(src, tmp_path, {"fraud": 6})
    inner = MemoryBackend(parse_url("memory://"))
    assert migrate(src, mp.Registry(inner, retry=PATIENT)).ok

    blind = mp.Registry(_StaleListing(inner, rate=0.0), retry=PATIENT)
    again = migrate(src, blind)

    assert again.counts["created"] == 6  # as far as the plan could tell
    assert snapshot(mp.Registry(inner)) == snapshot(src)  # yet no second copy


class _Interrupted(FlakyBackend):
    """Ctrl-C arrives, once, while the third version is being created. A create that
    starts after it takes 0.2 s, far longer than the interrupted chain needs to stop the
    others, so the count below does not depend on how threads are scheduled."""

    interrupted = False

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        if self.interrupted:
            time.sleep(0.2)
        elif sum(kind == "created" for kind, _, _ in self.writes) >= 2:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().create_version(draft, on_bytes)


def test_an_interrupt_stops_the_run_promptly_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    src = mp.connect("memory://", retry=PATIENT)
    populate(src, tmp_path, {"fraud": 8, "churn": 8, "vision": 8})
    inner = MemoryBackend(parse_url("memory://"))
    interrupted = _Interrupted(inner, rate=0.0)

    with pytest.raises(KeyboardInterrupt):
        migrate(src, mp.Registry(interrupted, retry=PATIENT), workers=3)

    made = sum(kind == "created" for kind, _, _ in interrupted.writes)
    # Two chains made one each; when the third is interrupted, each of the two others
    # finishes the create it had under way and, at most, one it started in the instant
    # before the stop flag was set: never more than 6 of the 24.
    assert made <= 6
    assert migrate(src, mp.Registry(inner, retry=PATIENT)).ok
    assert snapshot(mp.Registry(inner)) == snapshot(src)
