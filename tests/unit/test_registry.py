"""Facade details the bad-input table does not cover: idempotency keys, eager checks of
lazy listings, and where ``download`` may write."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp


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
