"""A migration into each cloud rig while 30% of the service's calls fail transiently
(throttled, unavailable, or their answer lost after they took effect): with a patient
retry policy it completes, and the copy matches one made by a clean run into the same
registry: nothing lost, nothing duplicated, the same records, stages and history.
The same run goes into MLflow on PostgreSQL (artifacts in S3, and on request in GCS:
``tests/migration/mlflow_targets.py``), where 30% of the client's calls fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.migration import diff, migrate
from tests.migration.mlflow_targets import MlflowDestination, mlflow_target_params
from tests.migration.rigs import (
    Destination,
    RigTarget,
    copies,
    populate_twins,
    target_params,
    twin_names,
)

# A fault on 30% of the calls, retried up to 30 times: one call failing every attempt has
# a chance of 0.3**30, so the run does not depend on how threads meet the seeded faults.
PATIENT = mp.RetryPolicy(attempts=30, initial_wait=0, max_wait=0, deadline=60)
VERSIONS = 6


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("target", target_params())
def test_faults_on_the_rig_lose_and_duplicate_nothing(
    target: RigTarget, seed: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rig = target.destination(request)
    _migrate_under_faults(mp.connect(rig.url, retry=PATIENT), rig, seed, tmp_path)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("target", mlflow_target_params())
def test_faults_on_mlflow_lose_and_duplicate_nothing(
    target: RigTarget, seed: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The same run into an ``mlflow server`` on PostgreSQL, its faults the client's."""
    rig = target.destination(request)
    assert isinstance(rig, MlflowDestination)
    with rig.registry(PATIENT) as dst:
        _migrate_under_faults(dst, rig, seed, tmp_path)


def _migrate_under_faults(dst: mp.Registry, rig: Destination, seed: int, tmp_path: Path) -> None:
    """A clean run copies one twin; the other, copied under faults, must match it."""
    reference, tested = twin_names()
    src = mp.connect("memory://?page_size=2", retry=PATIENT)
    populate_twins(src, tmp_path, [reference, tested], VERSIONS)
    assert migrate(src, dst, models=[reference], workers=3).ok

    rig.inject_faults(0.3, seed)
    try:
        report = migrate(src, dst, models=[tested], workers=3)
        injected = rig.injected()
    finally:
        rig.clear_faults()

    assert report.ok, report.summary()
    assert report.counts["created"] == VERSIONS
    assert sum(injected.values()) >= 3, injected  # Vertex: faults on the ModelService only
    assert copies(dst, tested) == copies(dst, reference)
    assert [mv.version for mv in dst.versions(tested)] == [str(n) for n in range(1, 7)]
    assert diff(src, dst, models=[tested]).ok
