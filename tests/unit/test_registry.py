"""Facade details the bad-input table does not cover: idempotency keys, eager checks of
lazy listings, and where ``download`` may write."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.digest import digest_path


def test_the_same_idempotency_key_registers_once(registry: mp.Registry, model_dir: Path) -> None:
    first = registry.register("fraud", model_dir, idempotency_key="train-run-42")
    again = registry.register("fraud", model_dir, idempotency_key="train-run-42")
    assert again.version == first.version == "2"


@pytest.mark.parametrize("key", [None, ""])
def test_without_a_key_every_register_is_new(
    registry: mp.Registry, model_dir: Path, key: str | None
) -> None:
    versions = {registry.register("fraud", model_dir, idempotency_key=key).version for _ in "ab"}
    assert versions == {"2", "3"}


def test_versions_checks_its_arguments_before_iterating(registry: mp.Registry) -> None:
    with pytest.raises(mp.InvalidInputError):
        registry.versions("no/slashes")
    listing = registry.versions("fraud", stage=mp.Stage.PRODUCTION)
    assert [mv.version for mv in listing] == ["1"]


def test_download_writes_to_a_directory_of_its_own(
    registry: mp.Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = registry.download("fraud@production", "deploy/model")
    assert relative == tmp_path / "deploy" / "model"
    assert (relative / "MLmodel").is_file()
    absolute = registry.download("fraud/1", tmp_path / "other")
    assert (absolute / "weights" / "w.bin").is_file()


def test_download_refuses_to_replace_the_working_directory(
    registry: mp.Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work / "sub")
    for dest in (".", "..", str(work), "./", "../sub"):
        with pytest.raises(mp.InvalidInputError, match="working directory"):
            registry.download("fraud/1", dest)
    assert (work / "sub").is_dir()


def test_fetch_lays_out_the_verified_artifact_in_an_empty_directory(
    registry: mp.Registry, tmp_path: Path
) -> None:
    mv = registry.resolve("fraud/1")
    fetched = registry.fetch(mv, tmp_path / "new" / "dir")
    assert digest_path(fetched) == mv.digest
    assert not (fetched / ".modelport.json").exists()  # the bytes only, no download marker


def test_fetch_refuses_a_directory_holding_files(registry: mp.Registry, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(mp.InvalidInputError, match="not empty") as caught:
        registry.fetch(registry.resolve("fraud/1"), tmp_path)
    assert caught.value.field == "dest"
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"
    with pytest.raises(mp.InvalidInputError) as caught:
        registry.fetch("fraud/1", tmp_path / "x")  # type: ignore[arg-type]
    assert caught.value.field == "record"


def test_fetch_of_a_tampered_artifact_leaves_the_directory_empty(
    registry: mp.Registry, tmp_path: Path
) -> None:
    mv = registry.resolve("fraud/1")
    forged = mv.model_copy(update={"digest": "sha256:" + "0" * 64})
    with pytest.raises(mp.IntegrityError):
        registry.fetch(forged, tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == []


def test_rollback_is_refused_when_the_policy_now_forbids_the_previous_holder(
    model_dir: Path,
) -> None:
    permissive = mp.connect("memory://")
    for f1 in (0.5, 0.9):
        mv = permissive.register("gated", model_dir, metrics={"f1": f1})
        permissive.approve(mv.ref)
        permissive.transition(mv.ref, "production")
    strict = mp.Registry(
        permissive.backend, policy=mp.Policy(gates={"production": {"f1": ">=0.8"}})
    )
    with pytest.raises(mp.PolicyViolationError) as caught:
        strict.rollback("gated", "production")
    assert caught.value.version == "1"
    assert strict.resolve("gated@production").version == "2"  # nothing moved
