"""The content digest of SPEC section 6: one value for a directory, its tar.gz and a file."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

import modelport.digest as digest_module
from modelport.artifacts import pack_tar_gz, tar_gz_stream
from modelport.digest import FileEntry, digest_path, manifest_digest, write_hashed
from modelport.errors import InvalidInputError

FILES = {
    "MLmodel": b"flavors: {}\n",
    "weights/w.bin": bytes(range(256)) * 40,
    "weights/deep/nested/b.bin": b"\x00\x01" * 3,
    "empty.txt": b"",
}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def tar_of(path: Path, members: dict[str, bytes]) -> Path:
    """A tar.gz written member by member, in the given order and with the given names."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tree", FILES)


def test_a_directory_and_its_tar_gz_have_the_same_digest(tree: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    with archive.open("wb") as out:
        pack_tar_gz(tree, out)
    assert digest_path(archive) == digest_path(tree)


def test_a_tar_gz_made_by_other_tools_gives_the_same_digest(tree: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname=".")  # "./" prefixes and directory members, as `tar czf` writes
    assert digest_path(archive) == digest_path(tree)


def test_the_digest_is_the_spec_s_manifest_hash(tmp_path: Path) -> None:
    data = b"hello"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_bytes(data)
    line = f"{hashlib.sha256(data).hexdigest()} {len(data)} a.txt\n"
    expected = "sha256:" + hashlib.sha256(line.encode()).hexdigest()
    assert digest_path(tmp_path / "d") == expected


def test_a_single_file_equals_a_directory_holding_only_it(tmp_path: Path) -> None:
    single = tmp_path / "model.pkl"
    single.write_bytes(b"pickled")
    holder = write_tree(tmp_path / "holder", {"model.pkl": b"pickled"})
    assert digest_path(single) == digest_path(holder)


def test_order_of_creation_and_of_the_manifest_does_not_matter(tmp_path: Path) -> None:
    items = list(FILES.items())
    forward = write_tree(tmp_path / "forward", dict(items))
    backward = write_tree(tmp_path / "backward", dict(reversed(items)))
    assert digest_path(forward) == digest_path(backward)
    shuffled_tar = tar_of(tmp_path / "s.tar.gz", dict(random.Random(7).sample(items, len(items))))
    assert digest_path(shuffled_tar) == digest_path(forward)
    entries = [FileEntry(p, len(d), hashlib.sha256(d).hexdigest()) for p, d in items]
    assert manifest_digest(entries) == manifest_digest(reversed(entries))


def test_empty_directories_are_ignored_but_empty_files_count(tree: Path) -> None:
    before = digest_path(tree)
    (tree / "no-files-here" / "deeper").mkdir(parents=True)
    assert digest_path(tree) == before
    (tree / "another-empty.txt").write_bytes(b"")
    assert digest_path(tree) != before


def test_an_artifact_of_empty_files_only_has_a_digest(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "t", {"a": b"", "b/c": b""})
    archive = tar_of(tmp_path / "t.tar.gz", {"b/c": b"", "a": b""})
    assert digest_path(tree) == digest_path(archive)
    assert digest_path(tree).startswith("sha256:")
    assert len(digest_path(tree)) == 7 + 64


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "MLmodel").write_bytes(b"flavors: {x: 1}\n"),
        lambda root: (root / "MLmodel").rename(root / "MLmodel.yaml"),
        lambda root: (root / "weights" / "w.bin").rename(root / "w.bin"),
        lambda root: (root / "empty.txt").unlink(),
    ],
    ids=["content", "rename", "move", "remove-empty-file"],
)
def test_any_change_of_content_or_layout_changes_the_digest(
    tree: Path, change: Callable[[Path], object]
) -> None:
    before = digest_path(tree)
    change(tree)
    assert digest_path(tree) != before


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", ".."])
def test_a_tar_whose_member_escapes_is_refused(tmp_path: Path, member: str) -> None:
    archive = tar_of(tmp_path / "bad.tar.gz", {"ok.txt": b"fine", member: b"evil"})
    with pytest.raises(InvalidInputError) as caught:
        digest_path(archive)
    assert caught.value.field == "artifact"
    assert "escapes" in str(caught.value)


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        digest_path(tmp_path / "absent")
    assert "absent" in str(caught.value)


def _reads_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the files `digest_path` reads (hash_stream calls without a sink)."""
    reads: list[int] = []
    real = digest_module.hash_stream

    def counting(stream: digest_module.Readable, sink: IO[bytes] | None = None) -> tuple[int, str]:
        if sink is None:
            reads.append(1)
        return real(stream, sink)

    monkeypatch.setattr(digest_module, "hash_stream", counting)
    return reads


def test_a_file_written_while_hashed_is_not_read_again_by_the_checks_that_follow(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_hashed(io.BytesIO(FILES["weights/w.bin"]), out / "w.bin")
    expected = manifest_digest(
        [FileEntry("w.bin", len(FILES["weights/w.bin"]), _sha(FILES["weights/w.bin"]))]
    )
    reads = _reads_counted(monkeypatch)
    assert digest_path(out) == expected
    assert digest_path(out) == expected
    assert reads == []


def test_a_file_changed_after_it_was_written_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_hashed(io.BytesIO(b"as downloaded"), out / "w.bin")
    (out / "w.bin").write_bytes(b"tampered with, and longer")
    reads = _reads_counted(monkeypatch)
    entry = FileEntry("w.bin", 25, _sha(b"tampered with, and longer"))
    assert digest_path(out) == manifest_digest([entry])
    assert reads == [1]


def test_a_streamed_tar_gz_is_the_packed_one(tree: Path, tmp_path: Path) -> None:
    packed = io.BytesIO()
    pack_tar_gz(tree, packed)
    with tar_gz_stream(tree) as stream:
        streamed = stream.read()
    assert streamed == packed.getvalue()
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(streamed)
    assert digest_path(archive) == digest_path(tree)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
