"""``modelport download REF`` into the artifact cache, ``modelport cache ls`` and
``modelport cache prune``; the cache lives in a folder of each test."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.cli import ExitCode
from tests.cli.test_cli import Cli, as_json, registered


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MODELPORT_CACHE", str(folder))
    monkeypatch.delenv("MODELPORT_CACHE_SIZE", raising=False)
    return folder


def cached(cli: Cli, model_dir: Path, name: str = "fraud") -> Path:
    registered(cli, model_dir, name)
    result = cli("--json", "download", f"{name}@latest")
    assert result.code == ExitCode.OK, result.err
    return Path(as_json(result)["path"])


def test_download_without_dest_prints_the_cached_folder(
    cli: Cli, model_dir: Path, cache_dir: Path
) -> None:
    path = cached(cli, model_dir)
    assert path.parent == cache_dir / "sha256"
    assert (path / "weights.bin").read_bytes() == (model_dir / "weights.bin").read_bytes()
    human = cli("download", "fraud/1")
    assert human.code == ExitCode.OK, human.err
    assert human.out.strip().endswith(f"-> {path}")


def test_download_without_dest_of_a_version_without_digest_exits_2(
    cli: Cli, model_dir: Path, registry: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered(cli, model_dir)
    no_digest = registry.resolve("fraud/1").model_copy(update={"digest": None})
    monkeypatch.setattr(registry, "resolve", lambda ref: no_digest)
    result = cli("--json", "download", "fraud/1")
    assert result.code == ExitCode.USAGE
    assert as_json(result)["error"]["field"] == "dest"


def test_cache_ls_lists_entries(cli: Cli, model_dir: Path) -> None:
    path = cached(cli, model_dir)
    entries = as_json(cli("--json", "cache", "ls"))
    assert [(e["digest"], e["path"]) for e in entries] == [(f"sha256:{path.name}", str(path))]
    assert entries[0]["size"] == sum(f.stat().st_size for f in path.iterdir())
    human = cli("cache", "ls")
    assert human.code == ExitCode.OK
    assert f"sha256:{path.name}" in human.out
    assert "1 entry" in human.out


def test_cache_prune_all_empties_the_cache(cli: Cli, model_dir: Path) -> None:
    path = cached(cli, model_dir)
    result = cli("--json", "cache", "prune", "--all")
    assert result.code == ExitCode.OK, result.err
    assert [e["digest"] for e in as_json(result)["removed"]] == [f"sha256:{path.name}"]
    assert not path.exists()
    assert as_json(cli("--json", "cache", "ls")) == []


def test_cache_prune_to_a_size_keeps_what_fits(cli: Cli, model_dir: Path) -> None:
    path = cached(cli, model_dir)
    result = cli("cache", "prune", "--max-size", "1MB")
    assert result.code == ExitCode.OK, result.err
    assert "removed 0 entries" in result.out
    assert path.is_dir()


@pytest.mark.parametrize(
    "argv",
    [
        ["cache", "prune", "--max-size", "huge"],
        ["cache", "prune", "--max-size", "1GB", "--all"],
    ],
)
def test_cache_prune_refuses_bad_options(cli: Cli, argv: list[str]) -> None:
    assert cli(*argv).code == ExitCode.USAGE


def test_a_bad_size_variable_is_named(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_CACHE_SIZE", "plenty")
    result = cli("--json", "cache", "prune")
    assert result.code == ExitCode.USAGE
    assert as_json(result)["error"]["field"] == "MODELPORT_CACHE_SIZE"
