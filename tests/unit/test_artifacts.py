"""Local artifact handling: materialize, pack/unpack, staging and atomic publishing."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import modelport as mp
from modelport.artifacts import (
    link_tree,
    materialize,
    pack_tar_gz,
    publish,
    staging_dir,
    unpack_tar_gz,
)
from modelport.digest import digest_path
from modelport.errors import IntegrityError, InvalidInputError


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    """Staging or retired copies of ``name`` left in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_pack_then_unpack_gives_back_the_same_files(model_dir: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pack_tar_gz(model_dir, buffer)
    buffer.seek(0)
    out = tmp_path / "out"
    out.mkdir()
    unpack_tar_gz(buffer, out)
    assert files_under(out) == files_under(model_dir)
    assert digest_path(out) == digest_path(model_dir)


def _local_artifact(kind: str, model_dir: Path, tmp_path: Path) -> Path:
    """``model_dir`` as a local artifact of ``kind``: the folder, a .tar.gz of it, one file."""
    if kind == "tar.gz":
        archive = tmp_path / "model.tar.gz"
        with archive.open("wb") as out:
            pack_tar_gz(model_dir, out)
        return archive
    return model_dir / "MLmodel" if kind == "file" else model_dir


@pytest.mark.parametrize("kind", ["dir", "tar.gz", "file"])
def test_materialize_lays_out_any_local_artifact_as_files(
    model_dir: Path, tmp_path: Path, kind: str
) -> None:
    source = _local_artifact(kind, model_dir, tmp_path)
    dest = tmp_path / "dest"
    materialize(source, dest)
    assert digest_path(dest) == digest_path(source)


def test_unpack_refuses_an_escaping_member_and_writes_nothing_outside(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"evil"))
    buffer.seek(0)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(InvalidInputError):
        unpack_tar_gz(buffer, dest)
    assert not (tmp_path / "outside.txt").exists()


def test_publish_replaces_the_destination_whole(tmp_path: Path) -> None:
    dest = tmp_path / "deploy"
    dest.mkdir()
    (dest / "old-only.bin").write_bytes(b"old")
    (dest / "shared.bin").write_bytes(b"old")
    with staging_dir(dest) as staged:
        (staged / "shared.bin").write_bytes(b"new")
        (staged / "new-only.bin").write_bytes(b"new")
        publish(staged, dest)
    assert files_under(dest) == {"shared.bin": b"new", "new-only.bin": b"new"}
    assert leftovers(tmp_path, "deploy") == []


def test_publish_replaces_a_file_at_the_destination(tmp_path: Path) -> None:
    dest = tmp_path / "deploy"
    dest.write_bytes(b"a stale file")
    with staging_dir(dest) as staged:
        (staged / "m.bin").write_bytes(b"new")
        publish(staged, dest)
    assert files_under(dest) == {"m.bin": b"new"}
    assert leftovers(tmp_path, "deploy") == []


def test_a_failure_inside_the_staging_block_removes_the_staging_dir(tmp_path: Path) -> None:
    dest = tmp_path / "deploy"
    dest.mkdir()
    (dest / "keep.bin").write_bytes(b"current")
    seen: list[Path] = []

    def fail_halfway() -> None:
        with staging_dir(dest) as staged:
            seen.append(staged)
            (staged / "half.bin").write_bytes(b"partial")
            raise RuntimeError("network dropped")

    with pytest.raises(RuntimeError, match="network dropped"):
        fail_halfway()
    (staged,) = seen
    assert staged.parent == dest.parent  # same filesystem: publishing is a rename
    assert not staged.exists()
    assert leftovers(tmp_path, "deploy") == []
    assert files_under(dest) == {"keep.bin": b"current"}


def test_staging_creates_missing_parents(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "deploy"
    with staging_dir(dest) as staged:
        (staged / "x").write_bytes(b"x")
        publish(staged, dest)
    assert files_under(dest) == {"x": b"x"}


def test_a_failed_integrity_check_leaves_the_old_download_in_place(
    registry: mp.Registry, tmp_path: Path
) -> None:
    dest = tmp_path / "deploy"
    dest.mkdir()
    (dest / "previous.bin").write_bytes(b"previous model")
    blobs = registry.backend._blobs  # type: ignore[attr-defined]
    uri = registry.resolve("fraud/1").artifact_uri
    blobs[uri] = {**blobs[uri], "MLmodel": b"tampered"}
    with pytest.raises(IntegrityError) as caught:
        registry.download("fraud/1", dest, overwrite=True)
    assert caught.value.field == "digest"
    assert caught.value.version == "1"
    assert files_under(dest) == {"previous.bin": b"previous model"}
    assert leftovers(tmp_path, "deploy") == []


@pytest.mark.parametrize("kind", ["dir", "tar.gz", "file"])
def test_link_tree_lays_out_the_same_files_without_copying_them(
    model_dir: Path, tmp_path: Path, kind: str
) -> None:
    source = _local_artifact(kind, model_dir, tmp_path)
    dest = tmp_path / "dest"
    link_tree(source, dest)
    assert digest_path(dest) == digest_path(source)
    linked = [p for p in dest.rglob("*") if p.is_symlink()]
    assert bool(linked) == (kind != "tar.gz")  # an archive has no files to link to


def test_link_tree_leaves_out_a_download_marker(model_dir: Path, tmp_path: Path) -> None:
    expected = digest_path(model_dir)
    (model_dir / ".modelport.json").write_text('{"digest": "x"}')
    link_tree(model_dir, tmp_path / "dest")
    assert not (tmp_path / "dest" / ".modelport.json").exists()
    assert digest_path(tmp_path / "dest") == expected
