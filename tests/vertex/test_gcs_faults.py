"""vertex:// while 30% of the GCS requests fail (throttled, unavailable, or their answer
lost after they took effect): registers, downloads and a migration into the rig lose
and duplicate nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import modelport as mp
from modelport.migration import diff, migrate
from modelport.testing.vertex.gcs import StorageFaults
from tests.backends.vertex_fixtures import VertexRig
from tests.migration.rigs import copies, populate_twins, twin_names

# 30% of the requests fail, each retried up to 30 times (0.3**30: no run depends on luck).
PATIENT = mp.RetryPolicy(attempts=30, initial_wait=0, max_wait=0, deadline=60)
RATE = 0.3
VERSIONS = 4


@pytest.fixture
def rig(vertex_rig: VertexRig) -> Iterator[VertexRig]:
    vertex_rig.service.faults.reset()
    vertex_rig.gcs.faults.reset()
    yield vertex_rig
    vertex_rig.gcs.faults.reset()


def _inject(faults: StorageFaults, seed: int) -> None:
    """Throttling at RATE/2, else a 503: RATE of all requests, every one after its effect
    (the harder case: the write happened, the client does not know)."""
    faults.reset()
    faults.rng.seed(seed)
    faults.throttle_rate = RATE / 2
    faults.error_rate = (RATE / 2) / (1 - RATE / 2)
    faults.after_effect = True


def test_registers_and_downloads_under_gcs_faults(
    rig: VertexRig, name: str, model_dir: Path, tmp_path: Path
) -> None:
    reg = mp.connect(rig.url(rig.new_bucket()), retry=PATIENT)
    _inject(rig.gcs.faults, seed=3)
    made = [reg.register(name, model_dir, idempotency_key=f"k{n}") for n in range(3)]
    fetched = [reg.download(mv.ref, tmp_path / mv.version) for mv in made]
    injected = dict(rig.gcs.faults.injected)
    rig.gcs.faults.reset()
    assert sum(injected.values()) >= 5, injected
    assert [mv.version for mv in reg.versions(name)] == ["1", "2", "3"]
    assert all(path.is_dir() for path in fetched)  # each digest verified by download
    assert [reg.resolve(mv.ref).digest for mv in made] == [mv.digest for mv in made]
    assert [len(reg.history(mv.ref)) for mv in made] == [1, 1, 1]


def test_a_migration_under_gcs_faults_loses_and_duplicates_nothing(
    rig: VertexRig, tmp_path: Path
) -> None:
    reference, tested = twin_names()
    src = mp.connect("memory://?page_size=2", retry=PATIENT)
    populate_twins(src, tmp_path, [reference, tested], VERSIONS)
    dst = mp.connect(rig.url(rig.new_bucket(), page_size="3"), retry=PATIENT)
    assert migrate(src, dst, models=[reference], workers=3).ok

    _inject(rig.gcs.faults, seed=1)
    try:
        report = migrate(src, dst, models=[tested], workers=3)
        injected = dict(rig.gcs.faults.injected)
    finally:
        rig.gcs.faults.reset()

    assert report.ok, report.summary()
    assert report.counts["created"] == VERSIONS
    assert sum(injected.values()) >= 10, injected
    assert copies(dst, tested) == copies(dst, reference)
    assert [mv.version for mv in dst.versions(tested)] == [str(n) for n in range(1, 5)]
    assert diff(src, dst, models=[tested]).ok
