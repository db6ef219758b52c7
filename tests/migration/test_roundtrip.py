"""Round trips through every backend found in ``tests/backends``: each version comes back
with the same neutral record (everything but native ids, timestamps and provenance:
stage, approval, aliases where the backend holds them, digest) and the same history,
whichever backends it passed through. Cases run on request (``$MODELPORT_EXTRA_CASES``)
take part when requested.

The acceptance chain is memory -> MLflow (SQLite) -> Vertex rig -> SageMaker rig -> MLflow
(server); it runs over the backends that exist, in that order, with any other backend
appended.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.migration import diff, migrate
from modelport.testing.conformance import BackendCase
from tests.migration.conftest import CASES, FAST_RETRY, case_params, populate, snapshot

CHAIN_ORDER = ("memory", "mlflow-sqlite", "vertex", "sagemaker", "mlflow-server")


def chain() -> list[BackendCase]:
    """Every case that can carry a round trip (one declaring a gap for it cannot)."""
    rank = {case_id: i for i, case_id in enumerate(CHAIN_ORDER)}
    lossless = [case for case in CASES if "test_there_and_back" not in case.gaps]
    return sorted(lossless, key=lambda case: rank.get(case.id, len(rank)))


@pytest.fixture
def names() -> dict[str, int]:
    """Model names no other test uses (a backend's server may be shared across tests)."""
    tag = uuid.uuid4().hex[:8]
    return {f"fraud-{tag}": 7, f"churn-{tag}": 3}


@pytest.fixture
def origin(tmp_path: Path, names: dict[str, int]) -> Iterator[mp.Registry]:
    reg = mp.connect("memory://?page_size=2", retry=FAST_RETRY)
    populate(reg, tmp_path / "artifacts", names)
    yield reg
    reg.close()


def _hop(src: mp.Registry, dst: mp.Registry, names: list[str]) -> None:
    report = migrate(src, dst, models=names, workers=3)
    assert report.ok, report.summary()
    assert diff(src, dst, models=names).ok


def _assert_same(origin: mp.Registry, copy: mp.Registry, names: list[str], hops: int) -> None:
    assert snapshot(copy, names) == snapshot(origin, names)
    for name in names:
        for mv in copy.versions(name):
            trail = [_shape(e) for e in origin.history(mv.ref)]
            events = copy.history(mv.ref)
            assert [_shape(e) for e in events[: len(trail)]] == trail
            assert sum(e.kind is mp.EventKind.MIGRATED for e in events) == hops


def _shape(event: mp.Event) -> tuple[Any, ...]:
    return event.kind, event.from_, event.to, event.actor, event.reason


@pytest.mark.parametrize("via", case_params())
def test_there_and_back(
    via: BackendCase, origin: mp.Registry, names: dict[str, int], request: pytest.FixtureRequest
) -> None:
    models = list(names)
    there = via.open(request)
    back = mp.connect("memory://", retry=FAST_RETRY)
    try:
        if mp.Capability.ALIASES in there.capabilities:  # else the copy could not hold them
            for name in models:
                origin.set_alias(f"{name}/3", "champion", actor="alice")
        _hop(origin, there, models)
        _hop(there, back, models)
        _assert_same(origin, there, models, hops=1)
        _assert_same(origin, back, models, hops=2)
        for name in models:
            for mv in back.versions(name):
                origin_of = mv.lineage.migrated_from
                assert origin_of is not None
                assert (origin_of.registry, origin_of.version) == (there.url, mv.version)
    finally:
        there.close()


def test_memory_mlflow_sagemaker_mlflow_chain(
    origin: mp.Registry, names: dict[str, int], request: pytest.FixtureRequest
) -> None:
    models = list(names)
    registries = [case.open(request) for case in chain()]
    try:
        previous = origin
        for hops, registry in enumerate(registries, start=1):
            _hop(previous, registry, models)
            _assert_same(origin, registry, models, hops)
            previous = registry
        assert migrate(origin, registries[0], models=models).counts["skipped"] == 10
    finally:
        for registry in registries:
            registry.close()
