"""Fixtures of the migration tests: a source registry populated like a real one, the
backend cases of ``tests/backends`` (each opens a fresh registry), and a snapshot of a
registry's contents to compare registries with."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.testing.conformance import BackendCase
from tests.backends import discover_cases

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)


CASES = discover_cases()


def case_params() -> list[Any]:
    return [pytest.param(c, id=c.id, marks=c.marks) for c in CASES]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A backend's declared gap for a migration test becomes a strict xfail, as in the
    conformance suite (the cases here are passed as ``via``)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("via") if callspec else None
        if isinstance(param, BackendCase):
            gap = param.gaps.get(getattr(item, "originalname", item.name))
            if gap is not None:
                item.add_marker(gap.mark())


# -- a populated source ----------------------------------------------------------------


def write_artifact(root: Path, index: int, size: int = 2048) -> Path:
    """A distinct small artifact: a nested directory, or every third one a single file."""
    data = random.Random(index).randbytes(size)
    if index % 3 == 0:
        root.mkdir(parents=True, exist_ok=True)
        single = root / f"model-{index}.bin"
        single.write_bytes(data)
        return single
    (root / "weights").mkdir(parents=True, exist_ok=True)
    (root / "weights" / "w.bin").write_bytes(data)
    (root / "MLmodel").write_text(f"flavors: {{}}\nindex: {index}\n", encoding="utf-8")
    return root


def register_versions(
    reg: mp.Registry, name: str, count: int, workdir: Path, *, size: int = 2048
) -> list[mp.ModelVersion]:
    """``count`` versions with metrics, params, tags, description and lineage."""
    made = []
    for i in range(1, count + 1):
        lineage = mp.Lineage(
            datasets=(
                mp.DatasetRef(uri=f"s3://data/{name}/train-{i}.parquet", digest="sha256:ab"),
            ),
            code=mp.CodeRef(
                repo="https://git.example/fraud.git", commit=f"{i:040x}", branch="main"
            ),
            parents=(mp.VersionRef(name="base-model", version="3"),) if i % 2 else (),
        )
        made.append(
            reg.register(
                name,
                write_artifact(workdir / f"{name}-{i}", i, size),
                metrics={"f1": round(0.5 + i / 100, 4), "loss": round(1 / i, 6)},
                params={"depth": str(i), "lr": "0.1"},
                tags={"team": "fraud", "note": "ünïcødé ✓"} if i % 2 else {"team": "fraud"},
                description=f"version {i} of {name}" if i % 4 else None,
                lineage=lineage,
                actor="trainer",
            )
        )
    return made


def govern(reg: mp.Registry, name: str, count: int) -> None:
    """A realistic life: two production holders in turn (the first archived), a staging
    holder, a rejected version and an approved one left in development."""
    reg.approve(f"{name}/1", reason="QA passed", actor="alice")
    reg.transition(f"{name}/1", "production", reason="release 1", actor="ci")
    reg.reject(f"{name}/2", reason="drift", actor="alice")
    if count >= 4:
        reg.approve(f"{name}/4", reason="QA passed", actor="alice")
        reg.transition(f"{name}/4", "production", reason="release 2", actor="ci")
    if count >= 5:
        reg.transition(f"{name}/5", "staging", reason="smoke tests", actor="ci")
    if count >= 6:
        reg.approve(f"{name}/6", actor="bob")


def populate(reg: mp.Registry, workdir: Path, models: dict[str, int]) -> None:
    for name, count in models.items():
        register_versions(reg, name, count, workdir)
        govern(reg, name, count)


@pytest.fixture
def source(tmp_path: Path) -> mp.Registry:
    """A memory:// source: 'fraud' with 7 versions and 'churn' with 3 (small pages)."""
    reg = mp.connect("memory://?page_size=2", retry=FAST_RETRY)
    populate(reg, tmp_path / "artifacts", {"fraud": 7, "churn": 3})
    return reg


@pytest.fixture
def destination() -> mp.Registry:
    return mp.connect("memory://", retry=FAST_RETRY)


# -- comparing registries ---------------------------------------------------------------


def snapshot(reg: mp.Registry, names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every version's neutral record, model by model, in version order."""
    from modelport.migration.planning import source_versions

    chosen = names if names is not None else sorted(reg.models())
    return {name: [mv.neutral() for mv in source_versions(reg, name)] for name in chosen}


def history_shape(reg: mp.Registry, ref: str) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind.value, e.from_, e.to) for e in reg.history(ref)]
