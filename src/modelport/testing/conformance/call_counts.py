"""SPEC 4b on every backend: reads cost the same number of SDK calls whatever the number
of versions, and rollback reads only the stage's own history (counted at the SDK boundary)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from pathlib import Path

import modelport as mp
from modelport.testing.conformance.case import BackendCase
from modelport.testing.conformance.settings import PAGE_SIZE

LARGE = 500


def _calls(case: BackendCase, registry: mp.Registry, action: Callable[[], object]) -> int:
    with case.count_calls(registry) as counter:
        action()
    return counter.total


def _read_costs(case: BackendCase, registry: mp.Registry, name: str) -> dict[str, int]:
    reads: dict[str, Callable[[], object]] = {
        "name@production": lambda: registry.resolve(f"{name}@production"),
        "name@latest": lambda: registry.resolve(f"{name}@latest"),
        "name/2": lambda: registry.resolve(f"{name}/2"),
        "one page of versions()": lambda: list(islice(registry.versions(name), PAGE_SIZE)),
    }
    return {label: _calls(case, registry, read) for label, read in reads.items()}


def _promote_in_turn(registry: mp.Registry, name: str, versions: list[str]) -> None:
    for version in versions:
        registry.approve(f"{name}/{version}")
        registry.transition(f"{name}/{version}", "production")


def _small_and_large(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> tuple[str, str]:
    small, large = f"{name}-small", f"{name}-large"
    case.seed(registry, small, PAGE_SIZE, model_dir)
    case.seed(registry, large, LARGE, model_dir)
    return small, large


def test_reads_cost_the_same_on_a_small_and_a_500_version_model(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    small, large = _small_and_large(case, registry, name, model_dir)
    for model in (small, large):
        _promote_in_turn(registry, model, ["1", "2"])
    small_costs = _read_costs(case, registry, small)
    assert _read_costs(case, registry, large) == small_costs
    assert all(0 < calls <= 2 + PAGE_SIZE * 2 for calls in small_costs.values()), small_costs


def test_rollback_reads_the_stage_history_not_every_version(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    costs = []
    small, large = _small_and_large(case, registry, name, model_dir)
    for model in (small, large):
        _promote_in_turn(registry, model, ["1", "2", "3"])
        costs.append(_calls(case, registry, lambda m=model: registry.rollback(m)))  # type: ignore[misc]
        assert registry.resolve(f"{model}@production").version == "2"
    assert costs[0] == costs[1]
