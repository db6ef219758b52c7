"""What a download may replace, the folders it leaves, and their permissions."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelport as mp
from modelport.artifacts import unpack_tar_gz
from modelport.destinations import read_marker


@pytest.fixture
def registry() -> Iterator[mp.Registry]:
    with mp.connect("memory://") as reg:
        yield reg


@pytest.fixture
def registered(registry: mp.Registry, tmp_path: Path) -> mp.ModelVersion:
    source = tmp_path / "source"
    source.mkdir()
    (source / "w.bin").write_bytes(b"weights")
    return registry.register("m", source)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_the_marker_names_the_version_without_secrets(
    registry: mp.Registry, registered: mp.ModelVersion, tmp_path: Path
) -> None:
    out = registry.download(registered.ref, tmp_path / "out")
    marker = read_marker(out)
    assert marker is not None
    assert (marker["name"], marker["version"], marker["digest"]) == (
        "m",
        registered.version,
        registered.digest,
    )
    assert marker["registry"] == registry.url


def test_a_changed_file_is_noticed_and_replaced(
    registry: mp.Registry, registered: mp.ModelVersion, tmp_path: Path
) -> None:
    out = registry.download(registered.ref, tmp_path / "out")
    (out / "w.bin").write_bytes(b"edited")
    registry.download(registered.ref, out)
    assert (out / "w.bin").read_bytes() == b"weights"


def test_folders_follow_the_umask(
    registry: mp.Registry, registered: mp.ModelVersion, tmp_path: Path
) -> None:
    previous = os.umask(0o027)
    try:
        out = registry.download(registered.ref, tmp_path / "out")
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o750


def test_staging_left_by_a_killed_run_is_removed_and_a_live_ones_kept(
    registry: mp.Registry, registered: mp.ModelVersion, tmp_path: Path
) -> None:
    dead = tmp_path / f".out.partial-{_dead_pid()}-abc123"
    retired = tmp_path / f".out.old-{_dead_pid()}-0a1b2c3d"
    live = tmp_path / f".out.partial-{os.getppid()}-def456"
    other = tmp_path / f".other.partial-{_dead_pid()}-abc123"
    for folder in (dead, retired, live, other):
        folder.mkdir()
    registry.download(registered.ref, tmp_path / "out")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([live.name, other.name, "out", "source"])


def test_a_damaged_stored_archive_is_an_integrity_error_and_dest_is_untouched(
    registry: mp.Registry,
    registered: mp.ModelVersion,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def damaged(uri: str, dest: Path) -> None:
        with io.BytesIO(b"\x1f\x8b" + b"\x00" * 40) as stream:
            unpack_tar_gz(stream, dest)

    monkeypatch.setattr(registry.backend, "fetch_artifact", damaged)
    with pytest.raises(mp.IntegrityError) as caught:
        registry.download(registered.ref, tmp_path / "out")
    assert caught.value.field == "artifact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]


def test_a_damaged_source_archive_is_refused_naming_the_artifact(tmp_path: Path) -> None:
    archive = tmp_path / "m.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + b"\x00" * 40)
    with mp.connect("memory://") as registry, pytest.raises(mp.InvalidInputError) as caught:
        registry.register("m", archive)
    assert caught.value.field == "artifact"
