"""The local artifact cache (issue 12): ``download(ref)`` without a destination.

Every test points ``$MODELPORT_CACHE`` at a folder of its own, so nothing reaches the
real user cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import platformdirs
import pytest
from filelock import FileLock

import modelport as mp
from modelport.artifact_cache import DEFAULT_MAX_BYTES, ArtifactCache, parse_size
from modelport.backends.memory import MemoryBackend
from modelport.digest import digest_path
from tests.unit.conftest import FAST_RETRY, MODEL


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MODELPORT_CACHE", str(folder))
    monkeypatch.delenv("MODELPORT_CACHE_SIZE", raising=False)
    return folder


def fetch_log(reg: mp.Registry, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The artifact URIs ``reg``'s backend fetches from now on."""
    fetched: list[str] = []
    real = reg.backend.fetch_artifact

    def counting(uri: str, dest: Path) -> None:
        fetched.append(uri)
        real(uri, dest)

    monkeypatch.setattr(reg.backend, "fetch_artifact", counting)
    return fetched


def registered(folder: Path, name: str, content: bytes) -> mp.Registry:
    """A fresh memory registry holding ``name/1``: one file of ``content``."""
    folder.mkdir(parents=True)
    (folder / "w.bin").write_bytes(content)
    reg = mp.connect("memory://", retry=FAST_RETRY)
    reg.register(name, folder)
    return reg


def age(entry: Path, seconds_ago: float) -> None:
    stamp = time.time() - seconds_ago
    os.utime(entry, (stamp, stamp))


# -- hits and misses ---------------------------------------------------------------


def test_a_download_without_dest_lands_in_the_cache_under_its_digest(
    registry: mp.Registry, model_dir: Path, cache_dir: Path
) -> None:
    mv = registry.resolve(f"{MODEL}@production")
    assert mv.digest is not None
    path = registry.download(f"{MODEL}@production")
    assert path == cache_dir / "sha256" / mv.digest.removeprefix("sha256:")
    assert digest_path(path) == mv.digest
    weights = Path("weights", "w.bin")
    assert (path / weights).read_bytes() == (model_dir / weights).read_bytes()
    assert list((cache_dir / "staging").iterdir()) == []


def test_a_hit_returns_the_same_folder_and_transfers_nothing(
    registry: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched = fetch_log(registry, monkeypatch)
    first = registry.download(f"{MODEL}/1")
    assert registry.download(f"{MODEL}@production") == first
    assert registry.download(f"{MODEL}@latest") == first
    assert len(fetched) == 1


def test_a_hit_records_its_use(registry: mp.Registry) -> None:
    path = registry.download(f"{MODEL}/1")
    age(path, 3600)
    registry.download(f"{MODEL}/1")
    assert time.time() - path.stat().st_mtime < 60


def test_the_same_digest_from_two_registries_is_one_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    one = registered(tmp_path / "a", "first", b"same weights")
    other = registered(tmp_path / "b", "second", b"same weights")
    fetched = fetch_log(other, monkeypatch)
    assert one.download("first/1") == other.download("second/1")
    assert fetched == []
    assert len(list((cache_dir / "sha256").iterdir())) == 1


def test_a_damaged_artifact_leaves_nothing_in_the_cache(
    registry: mp.Registry, cache_dir: Path
) -> None:
    backend = registry.backend
    assert isinstance(backend, MemoryBackend)
    files = backend._blobs[registry.resolve(f"{MODEL}/1").artifact_uri]
    files["MLmodel"] += b"tampered"
    with pytest.raises(mp.IntegrityError, match="nothing was kept in the artifact cache"):
        registry.download(f"{MODEL}/1")
    assert registry.artifact_cache.entries() == []
    assert list((cache_dir / "staging").iterdir()) == []


def test_staging_left_by_a_killed_download_is_removed(
    registry: mp.Registry, cache_dir: Path
) -> None:
    digest = registry.resolve(f"{MODEL}/1").digest
    assert digest is not None
    leftover = cache_dir / "staging" / f"{digest.removeprefix('sha256:')}.partial-dead"
    leftover.mkdir(parents=True)
    registry.download(f"{MODEL}/1")
    assert not leftover.exists()


# -- what is refused -----------------------------------------------------------------


def test_a_version_without_a_digest_needs_a_destination(
    registry: mp.Registry, monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    no_digest = registry.resolve(f"{MODEL}/1").model_copy(update={"digest": None})
    monkeypatch.setattr(registry, "resolve", lambda ref: no_digest)
    with pytest.raises(mp.InvalidInputError, match="no digest") as caught:
        registry.download(f"{MODEL}/1")
    assert caught.value.field == "dest"
    assert not cache_dir.exists()


def test_overwrite_without_a_destination_is_refused(registry: mp.Registry) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        registry.download(f"{MODEL}/1", overwrite=True)
    assert caught.value.field == "overwrite"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1048576", 1048576),
        ("500MB", 500 * 1000**2),
        ("20GB", 20 * 1000**3),
        ("20gb", 20 * 1000**3),
        ("1.5GiB", 3 * 1024**3 // 2),
        ("64 k", 64_000),
        ("0", 0),
    ],
)
def test_sizes_parse(text: str, expected: int) -> None:
    assert parse_size(text, "MODELPORT_CACHE_SIZE") == expected


@pytest.mark.parametrize("text", ["", "lots", "-5", "1e9", "20XB", "GB", "5 GB extra"])
def test_a_malformed_size_names_its_variable(text: str) -> None:
    with pytest.raises(mp.InvalidInputError, match="MODELPORT_CACHE_SIZE") as caught:
        parse_size(text, "MODELPORT_CACHE_SIZE")
    assert caught.value.field == "MODELPORT_CACHE_SIZE"


def test_a_malformed_size_variable_fails_the_download(
    registry: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPORT_CACHE_SIZE", "lots")
    with pytest.raises(mp.InvalidInputError, match=r"MODELPORT_CACHE_SIZE.*'lots'"):
        registry.download(f"{MODEL}/1")


def test_the_environment_places_and_sizes_the_cache(tmp_path: Path) -> None:
    default = ArtifactCache.from_environment({})
    assert default.root == platformdirs.user_cache_path("modelport")
    assert default.max_bytes == DEFAULT_MAX_BYTES
    moved = ArtifactCache.from_environment(
        {"MODELPORT_CACHE": str(tmp_path / "c"), "MODELPORT_CACHE_SIZE": "5MB"}
    )
    assert (moved.root, moved.max_bytes) == (tmp_path / "c", 5_000_000)


# -- eviction ------------------------------------------------------------------------


def three_models(tmp_path: Path) -> list[mp.Registry]:
    """Three registries, each holding ``m/1`` of 1000 different bytes."""
    return [registered(tmp_path / str(n), "m", bytes([n]) * 1000) for n in range(3)]


def test_the_least_recently_used_entry_goes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPORT_CACHE_SIZE", "2500")
    a, b, c = three_models(tmp_path)
    path_a = a.download("m/1")
    path_b = b.download("m/1")
    age(path_a, 200)
    age(path_b, 100)
    assert a.download("m/1") == path_a  # a hit: a is now the most recently used
    path_c = c.download("m/1")
    assert (path_a.is_dir(), path_b.is_dir(), path_c.is_dir()) == (True, False, True)
    cache = c.artifact_cache
    assert [entry.path for entry in cache.entries()] == [path_a, path_c]
    assert [entry.size for entry in cache.entries()] == [1000, 1000]


def test_an_entry_larger_than_the_limit_stays_until_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPORT_CACHE_SIZE", "10")
    a, b, _ = three_models(tmp_path)
    path_a = a.download("m/1")
    assert path_a.is_dir()
    path_b = b.download("m/1")
    assert (path_a.is_dir(), path_b.is_dir()) == (False, True)


def test_prune_never_evicts_an_entry_another_process_holds(tmp_path: Path) -> None:
    a, b, c = three_models(tmp_path)
    paths = [reg.download("m/1") for reg in (a, b, c)]
    for seconds_ago, path in zip((300, 200, 100), paths, strict=True):
        age(path, seconds_ago)
    cache = a.artifact_cache
    held = FileLock(cache.root / "locks" / f"{paths[0].name}.lock")
    with held:  # a second lock object on the file conflicts as another process would
        removed = cache.prune(1000)
    assert [entry.path for entry in removed] == paths[1:]
    assert [entry.path for entry in cache.entries()] == [paths[0]]
    assert cache.prune(0)[0].path == paths[0]
    assert cache.entries() == []


# -- processes -------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import modelport as mp

    model, log, ready, go = (Path(arg) for arg in sys.argv[1:5])
    reg = mp.connect("memory://")
    reg.register("m", model)
    real = reg.backend.fetch_artifact

    def logged(uri, dest):
        with log.open("a") as out:
            out.write("fetch\\n")
        time.sleep(0.5)  # long enough for the others to queue on the lock
        real(uri, dest)

    reg.backend.fetch_artifact = logged
    ready.touch()
    deadline = time.monotonic() + 20
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    print(reg.download("m/1"))
    """
)


def test_processes_downloading_one_digest_fetch_it_once(
    tmp_path: Path, model_dir: Path, cache_dir: Path
) -> None:
    script, log, go = tmp_path / "worker.py", tmp_path / "fetches.log", tmp_path / "go"
    script.write_text(WORKER, encoding="utf-8")
    ready = [tmp_path / f"ready-{n}" for n in range(4)]
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(model_dir), str(log), str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        deadline = time.monotonic() + 30
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        go.touch()
        outputs = [worker.communicate(timeout=30) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.kill(worker.pid, 9)
                worker.wait(timeout=10)
    assert [worker.returncode for worker in workers] == [0] * 4, [err for _, err in outputs]
    paths = {Path(out.strip()) for out, _ in outputs}
    assert len(paths) == 1
    (path,) = paths
    assert path.parent == cache_dir / "sha256"
    assert digest_path(path) == digest_path(model_dir)
    assert log.read_text().splitlines() == ["fetch"]
