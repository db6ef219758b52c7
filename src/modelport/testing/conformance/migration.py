"""Migration from and to every backend (SPEC 5), and registering an existing URI of the
backend's own storage: the versions, digests, stages and audit trails that arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.digest import digest_path
from modelport.migration import MigrationReport, migrate
from modelport.testing.conformance.case import BackendCase
from modelport.testing.conformance.settings import FAST_RETRY


def _govern(registry: mp.Registry, name: str, model_dir: Path) -> None:
    """Two versions with a life: the first approved in production, the second in staging
    with an alias where the registry has aliases."""
    registry.register(name, model_dir, metrics={"f1": 0.8}, tags={"team": "fraud"})
    second = registry.register(name, model_dir, params={"depth": "6"}, description="next")
    registry.approve(f"{name}/1", reason="QA passed", actor="alice")
    registry.transition(f"{name}/1", "production", reason="release", actor="ci")
    registry.transition(second.ref, "staging", actor="ci")
    if mp.Capability.ALIASES in registry.capabilities:
        registry.set_alias(second.ref, "champion", actor="alice")


def _versions(registry: mp.Registry, name: str) -> list[mp.ModelVersion]:
    return sorted(registry.versions(name), key=lambda mv: int(mv.version))


def _migrated(src: mp.Registry, dst: mp.Registry, name: str) -> MigrationReport:
    report = migrate(src, dst, models=[name], workers=2, progress=False, actor="migrator")
    assert report.ok, report.summary()
    return report


def _assert_copied(src: mp.Registry, dst: mp.Registry, name: str) -> None:
    """Every version arrives with its neutral record (stage, approval, digest, and the
    aliases the destination can hold) and its audit trail, kind by kind, plus one
    ``migrated`` event."""
    originals, copies = _versions(src, name), _versions(dst, name)
    holds_aliases = mp.Capability.ALIASES in dst.capabilities
    expected = [_record(mv, aliases=holds_aliases) for mv in originals]
    assert [_record(mv) for mv in copies] == expected
    for original, copy in zip(originals, copies, strict=True):
        kinds = [event.kind for event in src.history(original.ref)]
        arrived = [event.kind for event in dst.history(copy.ref)]
        assert arrived[: len(kinds)] == kinds
        assert arrived.count(mp.EventKind.MIGRATED) == 1
        assert copy.lineage.migrated_from is not None
        assert copy.lineage.migrated_from.version == original.version


def _record(mv: mp.ModelVersion, *, aliases: bool = True) -> dict[str, Any]:
    record = mv.neutral()
    assert record["digest"], f"{mv.ref} has no digest"
    return record if aliases else record | {"aliases": []}


def test_migrate_from_the_backend_keeps_records_stages_and_history(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    _govern(registry, name, model_dir)
    copy = mp.connect("memory://", retry=FAST_RETRY)
    _migrated(registry, copy, name)
    _assert_copied(registry, copy, name)
    assert copy.resolve(f"{name}@production").version == "1"
    assert copy.resolve(f"{name}@staging").version == "2"


def test_migrate_into_the_backend_keeps_records_stages_and_history(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    """From memory:// (every capability): an alias goes along where the backend has
    aliases, and is reported as not copied where it has none."""
    origin = mp.connect("memory://", retry=FAST_RETRY)
    _govern(origin, name, model_dir)
    holds_aliases = mp.Capability.ALIASES in registry.capabilities
    if not holds_aliases:
        origin.set_alias(f"{name}/2", "champion", actor="alice")
    report = _migrated(origin, registry, name)
    assert report.aliases_not_copied() == ({} if holds_aliases else {f"{name}/2": ("champion",)})
    _assert_copied(origin, registry, name)
    assert registry.resolve(f"{name}@production").version == "1"
    assert registry.resolve(f"{name}@staging").version == "2"


def test_register_an_existing_uri_of_the_backends_storage(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path, tmp_path: Path
) -> None:
    """A model a pipeline stored with the backend's own SDK registers as it is: the version
    keeps the URI, resolves, and downloads the same files. A backend that does not
    declare ``register_uri`` refuses a URI before any write."""
    if mp.Capability.REGISTER_URI not in registry.capabilities:
        with pytest.raises(mp.UnsupportedOperation) as refused:
            registry.register(name, model_dir.as_uri())
        assert refused.value.capability == mp.Capability.REGISTER_URI.value
        assert name not in set(registry.models())
        return
    uri = case.place_artifact(registry, model_dir)
    mv = registry.register(name, uri, metrics={"f1": 0.8})
    assert (mv.version, mv.artifact_uri, mv.digest) == ("1", uri, digest_path(model_dir))
    assert registry.resolve(f"{name}@latest").neutral() == mv.neutral()
    out = registry.download(mv.ref, tmp_path / "deploy")
    assert _files(out) == _files(model_dir)
    assert digest_path(out) == mv.digest


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".modelport.json"
    }
