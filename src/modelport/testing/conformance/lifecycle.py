"""Register, resolve, list (past one page), aliases, versions made with the backend's own
API: the behaviours of SPEC sections 1-3 on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.digest import digest_path
from modelport.testing.conformance.case import BackendCase
from modelport.testing.conformance.settings import PAGE_SIZE


def test_register_returns_a_typed_immutable_record(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(
        name,
        model_dir,
        metrics={"f1": 0.81, "auc": 0.9},
        params={"depth": 6, "lr": "0.1"},
        tags={"team": "fraud", "note": "ünïcødé ✓"},
        description="first cut",
    )
    assert (mv.name, mv.version) == (name, "1")
    assert mv.stage == "development"
    assert mv.approval is mp.Approval.PENDING
    assert mv.metrics == {"f1": 0.81, "auc": 0.9}
    assert mv.params == {"depth": "6", "lr": "0.1"}
    assert mv.tags == {"team": "fraud", "note": "ünïcødé ✓"}
    assert mv.description == "first cut"
    assert mv.digest is not None
    assert mv.digest.startswith("sha256:")
    assert mv.created_at is not None
    assert mv.native
    with pytest.raises(Exception):  # noqa: B017, PT011 (pydantic's frozen error)
        mv.stage = "production"  # type: ignore[misc]


def test_versions_count_up_and_read_back_identically(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir, metrics={"f1": 0.5})
    second = registry.register(name, model_dir, metrics={"f1": 0.6})
    assert [first.version, second.version] == ["1", "2"]
    again = registry.resolve(f"{name}/2")
    assert again.neutral() == second.neutral()
    assert registry.resolve(f"{name}@latest").version == "2"


def test_versions_pages_lazily_through_every_version(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    for i in range(7):
        registry.register(name, model_dir, metrics={"i": i})
    listed = list(registry.versions(name))
    assert sorted(int(mv.version) for mv in listed) == list(range(1, 8))
    assert len({mv.version for mv in listed}) == 7


def test_versions_filtered_by_stage_page_past_one_page(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    count = 2 * PAGE_SIZE + 1
    case.seed(registry, name, count, model_dir)
    registry.transition(f"{name}/{count}", "staging")
    development = sorted(int(mv.version) for mv in registry.versions(name, stage="development"))
    assert development == list(range(1, count))
    assert [mv.version for mv in registry.versions(name, stage="staging")] == [str(count)]


def test_versions_filters_by_stage(registry: mp.Registry, name: str, model_dir: Path) -> None:
    for _ in range(3):
        registry.register(name, model_dir)
    registry.transition(f"{name}/2", "staging")
    assert [mv.version for mv in registry.versions(name, stage="staging")] == ["2"]
    assert len(list(registry.versions(name, stage="development"))) == 2


def test_models_lists_registered_names(registry: mp.Registry, name: str, model_dir: Path) -> None:
    registry.register(name, model_dir)
    registry.register(name + "-b", model_dir)
    names = set(registry.models())
    assert {name, name + "-b"} <= names


def test_models_pages_past_one_page(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    names = [f"{name}-{i}" for i in range(2 * PAGE_SIZE + 1)]
    for model in names:
        case.seed(registry, model, 1, model_dir)
    listed = list(registry.models())
    assert set(names) <= set(listed)
    assert len(listed) == len(set(listed))


def test_versions_made_with_the_backends_own_api_read_correctly(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    """Versions a pipeline created without modelport read as plain development versions,
    and modelport's writes then work on them."""
    case.seed(registry, name, 2, model_dir)
    listed = sorted(registry.versions(name), key=lambda mv: int(mv.version))
    assert [(mv.name, mv.version) for mv in listed] == [(name, "1"), (name, "2")]
    for mv in listed:
        assert (mv.stage, mv.approval) == ("development", mp.Approval.PENDING)
        assert mv.native
        assert mv.artifact_uri
        assert registry.resolve(mv.ref).neutral() == mv.neutral()
    assert registry.resolve(f"{name}@latest").version == "2"
    registry.approve(f"{name}/1", reason="QA passed", actor="alice")
    registry.transition(f"{name}/1", "staging", actor="ci")
    staged = registry.resolve(f"{name}@staging")
    assert (staged.version, staged.approval) == ("1", mp.Approval.APPROVED)
    assert [e.kind.value for e in registry.history(f"{name}/1")][-2:] == [
        "approved",
        "transitioned",
    ]


def test_missing_model_and_version_raise_lookup_errors(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    with pytest.raises(mp.ModelNotFoundError) as missing_model:
        registry.resolve(f"{name}/1")
    assert isinstance(missing_model.value, LookupError)
    assert name in str(missing_model.value)
    registry.register(name, model_dir)
    with pytest.raises(mp.VersionNotFoundError) as missing_version:
        registry.resolve(f"{name}/99")
    assert "99" in str(missing_version.value)
    with pytest.raises(mp.VersionNotFoundError):
        registry.resolve(f"{name}@production")


def test_register_single_file_and_archive_share_the_directory_digest(
    registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    import tarfile

    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(model_dir).as_posix())
    from_dir = registry.register(name, model_dir)
    from_tar = registry.register(name, archive)
    assert from_dir.digest == from_tar.digest
    single = registry.register(name, model_dir / "MLmodel")
    out = registry.download(single.ref, tmp_path / "single")
    assert sorted(p.name for p in out.iterdir()) == [".modelport.json", "MLmodel"]  # + marker


def test_register_with_the_same_idempotency_key_creates_one_version(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir, idempotency_key="train-run-42")
    retried = registry.register(name, model_dir, idempotency_key="train-run-42")
    assert retried.version == first.version
    assert [mv.version for mv in registry.versions(name)] == [first.version]


def test_lineage_round_trips(registry: mp.Registry, name: str, model_dir: Path) -> None:
    lineage = mp.Lineage(
        datasets=(
            mp.DatasetRef(uri="s3://data/train.parquet", digest="sha256:ab", role="training"),
        ),
        code=mp.CodeRef(repo="https://git.example/fraud.git", commit="a" * 40, branch="main"),
        ci=mp.CIRun(provider="github-actions", run_id="17", url="https://ci.example/17"),
        parents=(mp.VersionRef(name="base-model", version="3"),),
    )
    mv = registry.register(name, model_dir, lineage=lineage)
    got = registry.lineage(mv.ref)
    assert got.datasets == lineage.datasets
    assert got.code == lineage.code
    assert got.ci == lineage.ci
    assert got.parents == lineage.parents


def test_download_verifies_and_places_the_files(
    registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    mv = registry.register(name, model_dir)
    out = registry.download(mv.ref, tmp_path / "deploy" / "model")
    assert (out / "weights" / "w.bin").read_bytes() == (
        model_dir / "weights" / "w.bin"
    ).read_bytes()
    assert digest_path(out) == mv.digest  # the marker is not part of the artifact
    weights = (out / "weights" / "w.bin").stat().st_ino
    again = registry.download(mv.ref, out)  # it holds this digest already: kept as it is
    assert sorted(p.name for p in again.iterdir()) == [".modelport.json", "MLmodel", "weights"]
    assert (again / "weights" / "w.bin").stat().st_ino == weights


def test_download_never_replaces_what_it_did_not_write(
    registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    mv = registry.register(name, model_dir)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.txt").write_text("keep me")
    for dest in (mine, mine / "README.txt", mine / "README.txt" / "sub"):
        with pytest.raises(mp.InvalidInputError) as caught:
            registry.download(mv.ref, dest)
        assert caught.value.field == "dest"
    assert [p.name for p in mine.iterdir()] == ["README.txt"]
    out = registry.download(mv.ref, mine, overwrite=True)
    assert digest_path(out) == mv.digest
    assert not (out / "README.txt").exists()


def test_tampered_artifact_raises_integrity_error_and_leaves_nothing(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    mv = registry.register(name, model_dir)
    case.tamper(registry, mv)
    target = tmp_path / "out" / "deploy"
    with pytest.raises(mp.IntegrityError) as caught:
        registry.download(mv.ref, target)
    assert caught.value.version == mv.version
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_alias_resolves_where_the_backend_has_aliases(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    registry.register(name, model_dir)
    second = registry.register(name, model_dir)
    case.set_alias(registry, name, second.version, "champion")
    assert registry.resolve(f"{name}@champion").version == second.version


def test_an_alias_set_by_the_registry_moves_between_versions_and_is_removed(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    first = registry.register(name, model_dir)
    second = registry.register(name, model_dir)
    assert registry.set_alias(first.ref, "champion", actor="alice").aliases == ("champion",)
    assert registry.resolve(f"{name}@champion").version == first.version
    moved = registry.set_alias(second.ref, "champion", reason="better f1", actor="alice")
    assert moved.aliases == ("champion",)
    assert registry.resolve(first.ref).aliases == ()  # one version per alias and model
    other = case.reopen(registry)
    assert other.resolve(f"{name}@champion").version == second.version
    other.close()
    registry.remove_alias(name, "champion", actor="bob")
    with pytest.raises(mp.VersionNotFoundError):
        registry.resolve(f"{name}@champion")
    with pytest.raises(mp.VersionNotFoundError):
        registry.remove_alias(name, "champion")
    assert registry.resolve(second.ref).aliases == ()
    trail = [(e.kind, e.from_, e.to, e.actor) for e in registry.history(second.ref)]
    assert trail[1:] == [
        (mp.EventKind.ALIASED, None, "champion", "alice"),
        (mp.EventKind.UNALIASED, "champion", None, "bob"),
    ]
    assert [e.kind for e in registry.history(first.ref)][1:] == [mp.EventKind.ALIASED]


def test_resolve_cache_is_evicted_by_the_registrys_own_writes(
    case: BackendCase, name: str, model_dir: Path, request: pytest.FixtureRequest
) -> None:
    reg = case.open(request)
    reg.cache.ttl = 300
    reg.register(name, model_dir)
    assert reg.resolve(f"{name}@latest").version == "1"
    reg.register(name, model_dir)
    assert reg.resolve(f"{name}@latest").version == "2"
    reg.close()
