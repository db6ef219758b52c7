"""The quickstart: the README's first command runs the whole story and leaves it inspectable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import modelport as mp
from modelport import quickstart
from modelport.digest import digest_path


def test_quickstart_runs_the_whole_story_in_a_new_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    root = quickstart.run_quickstart(echo=lines.append)

    assert root.parent == tmp_path
    assert root.name.startswith("modelport-quickstart-")
    told = "\n".join(lines)
    for step in range(8):
        assert f"\n{step}. " in told
    assert "must be approved before production" in told  # the policy at work

    with mp.connect(f"mlflow+sqlite:///{root / quickstart.DB}") as reg:
        v1, v2 = list(reg.versions(quickstart.MODEL))
        assert (v1.stage, v2.stage) == ("production", "archived")  # after the rollback
        assert (v1.approval, v2.approval) == (mp.Approval.APPROVED, mp.Approval.APPROVED)
        assert v2.metrics["f1"] > v1.metrics["f1"] >= 0.80
        assert v2.lineage.run
        assert v2.lineage.datasets[0].uri.endswith("train.csv")
        deployed = root / "deploy" / quickstart.MODEL
        assert digest_path(deployed) == v2.digest  # downloaded while v2 was live
        kinds = [(e.version, e.kind.value, e.to) for e in reg.history(quickstart.MODEL)]
        assert kinds[-2:] == [
            ("1", "transitioned", "production"),
            ("2", "transitioned", "archived"),
        ]

    with mp.connect(f"mlflow+sqlite:///{root / quickstart.REPLICA_DB}") as replica:
        copy = replica.resolve(f"{quickstart.MODEL}@production")
        assert copy.lineage.migrated_from is not None
        assert copy.digest == v1.digest
        assert len(list(replica.versions(quickstart.MODEL))) == 2


def test_quickstart_refuses_a_directory_holding_an_earlier_run(tmp_path: Path) -> None:
    (tmp_path / quickstart.DB).write_bytes(b"")
    lines: list[str] = []
    with pytest.raises(mp.InvalidInputError, match="already holds"):
        quickstart.run_quickstart(tmp_path, echo=lines.append)
    assert lines == []


def test_quickstart_skips_migration_when_the_build_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "modelport.migration", None)  # import raises ImportError
    lines: list[str] = []
    with mp.connect("memory://") as reg:
        quickstart._migrate(reg, tmp_path, lines.append)
    assert any("skipped" in line for line in lines)
    assert not (tmp_path / quickstart.REPLICA_DB).exists()
