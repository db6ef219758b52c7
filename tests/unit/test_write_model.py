"""The pointer protocol of the facade (SPEC 4b), on states a crash or a race leaves behind,
built with the memory backend's own primitives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.models import derived_event_id

MODEL = "fraud"


def _backend(reg: mp.Registry) -> MemoryBackend:
    assert isinstance(reg.backend, MemoryBackend)
    return reg.backend


def _approved(reg: mp.Registry, model_dir: Path, count: int) -> None:
    for _ in range(count):
        mv = reg.register(MODEL, model_dir)
        reg.approve(mv.ref)


def _entering(version: str) -> mp.Event:
    return mp.Event(
        kind=mp.EventKind.TRANSITIONED, name=MODEL, version=version,
        from_="development", to="production", reason="crashed before its pointer write",
    )  # fmt: skip


def test_the_pointer_wins_over_a_stale_stage_field(registry: mp.Registry, model_dir: Path) -> None:
    _approved(registry, model_dir, 1)
    registry.transition(f"{MODEL}/2", "production")
    _backend(registry).write_stage(MODEL, "1", "production", None)  # a stale projection
    assert registry.resolve(f"{MODEL}/1").stage == "archived"
    assert [mv.version for mv in registry.versions(MODEL, stage="production")] == ["2"]


def test_a_stage_field_without_any_pointer_stands(model_dir: Path) -> None:
    """A model whose stages were set outside modelport (no pointer) reads its fields."""
    reg = mp.connect("memory://")
    mv = reg.register(MODEL, model_dir)
    _backend(reg).write_stage(MODEL, mv.version, "production", None)
    assert reg.resolve(mv.ref).stage == "production"
    assert reg.resolve(f"{MODEL}@production").version == mv.version


def test_the_next_promotion_retires_an_entrant_that_never_moved_the_pointer(
    registry: mp.Registry, model_dir: Path
) -> None:
    _approved(registry, model_dir, 2)
    crashed = _entering("2")
    _backend(registry).append_events(MODEL, "2", [crashed])
    _backend(registry).write_stage(MODEL, "2", "production", None)
    registry.transition(f"{MODEL}/3", "production")
    assert registry.resolve(f"{MODEL}/2").stage == "archived"
    assert _backend(registry).get_version(MODEL, "2").stage == "archived"  # the field too
    last = registry.history(f"{MODEL}/2")[-1]
    assert (last.from_, last.to, last.reason) == (
        "production",
        "archived",
        f"replaced by {MODEL}/3",
    )
    assert last.id == derived_event_id("exit", MODEL, "2", crashed.id)


def test_repairs_by_two_writers_record_one_exit(registry: mp.Registry, model_dir: Path) -> None:
    _approved(registry, model_dir, 1)
    registry.transition(f"{MODEL}/2", "production")
    exits = [e for e in registry.history(f"{MODEL}/1") if e.from_ == "production"]
    registry._converge(MODEL, "production", "2", "another-client", None)  # a second repair
    assert [e for e in registry.history(f"{MODEL}/1") if e.from_ == "production"] == exits
    assert len(exits) == 1


def test_a_lost_pointer_goes_to_the_newest_entrant(registry: mp.Registry, model_dir: Path) -> None:
    """A concurrent release deleted the pointer after an entrant logged its entry: every
    client picks the same winner, the newest entry."""
    _approved(registry, model_dir, 1)
    registry.transition(f"{MODEL}/2", "production")
    _backend(registry).delete_pointer(MODEL, "production")
    registry._converge(MODEL, "production", "2", "ci", None)
    assert registry.resolve(f"{MODEL}@production").version == "2"
    assert registry.resolve(f"{MODEL}/1").stage == "archived"


def test_leaving_an_exclusive_stage_releases_its_pointer(registry: mp.Registry) -> None:
    registry.transition(f"{MODEL}/1", "archived")
    assert _backend(registry).read_pointers(MODEL) == {}
    assert list(registry.versions(MODEL, stage="production")) == []


def test_aliases_are_pointers_with_events(registry: mp.Registry, model_dir: Path) -> None:
    registry.register(MODEL, model_dir)
    registry.set_alias(f"{MODEL}/1", "champion", actor="alice")
    registry.set_alias(f"{MODEL}/2", "champion", actor="bob")  # moves in one write
    assert registry.resolve(f"{MODEL}@champion").version == "2"
    assert registry.resolve(f"{MODEL}/1").aliases == ()
    registry.remove_alias(MODEL, "champion", reason="retired")
    assert "champion" not in _backend(registry).read_pointers(MODEL)
    kinds = [e.kind for e in registry.history(f"{MODEL}/2")]
    assert kinds[-2:] == [mp.EventKind.ALIASED, mp.EventKind.UNALIASED]


@pytest.mark.parametrize(
    "alias", ["production", "staging", "archived", "latest", "Champion", "", "a" * 40]
)
def test_bad_alias_names_are_refused_before_any_write(registry: mp.Registry, alias: str) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        registry.set_alias(f"{MODEL}/1", alias)
    assert caught.value.field == "alias"
    assert _backend(registry).read_pointers(MODEL) == {"production": "1"}


def test_set_alias_without_the_capability_names_it(model_dir: Path) -> None:
    reg = mp.connect("memory://")
    reg.register(MODEL, model_dir)
    reg.backend.capabilities = frozenset()  # type: ignore[misc]  (this instance only)
    with pytest.raises(mp.UnsupportedOperation) as caught:
        reg.set_alias(f"{MODEL}/1", "champion")
    assert caught.value.capability == "aliases"


def test_a_retried_register_records_one_registered_event(
    registry: mp.Registry, model_dir: Path
) -> None:
    first = registry.register("fraud", model_dir, idempotency_key="build-42")
    again = registry.register("fraud", model_dir, idempotency_key="build-42")
    assert again.version == first.version
    (registered,) = registry.history(first.ref)
    assert registered.id == derived_event_id("registered", "fraud", "build-42")


class _Killed(Exception):
    """Stands for a process killed between a change's event and the write that follows."""


def _killed_once(backend: MemoryBackend, method: str) -> None:
    real = getattr(backend, method)

    def killed(*args: object, **kwargs: object) -> None:
        setattr(backend, method, real)
        raise _Killed

    setattr(backend, method, killed)


@pytest.mark.parametrize(
    ("change", "killed_before", "kind", "outcome"),
    [
        (
            lambda reg, ref: reg.transition(ref, "archived"),
            "write_stage",
            "transitioned",
            ("archived", mp.Approval.APPROVED),
        ),
        (
            lambda reg, ref: reg.transition(ref, "production"),
            "set_pointer",
            "transitioned",
            ("production", mp.Approval.APPROVED),
        ),
        (
            lambda reg, ref: reg.approve(ref),
            "write_approval",
            "approved",
            ("development", mp.Approval.APPROVED),
        ),
    ],
    ids=["archive", "promote", "approve"],
)
def test_a_change_run_again_after_its_event_logs_it_once(
    model_dir: Path,
    change: Callable[[mp.Registry, str], object],
    killed_before: str,
    kind: str,
    outcome: tuple[str, mp.Approval],
) -> None:
    reg = mp.connect("memory://")
    mv = reg.register("m", model_dir)
    if kind == "transitioned":  # promotion needs an approved version
        reg.approve(mv.ref)
    _killed_once(_backend(reg), killed_before)
    with pytest.raises(_Killed):
        change(reg, mv.ref)
    change(reg, mv.ref)  # the run again
    assert [e.kind.value for e in reg.history(mv.ref)].count(kind) == 1
    after = reg.resolve(mv.ref)
    assert (after.stage, after.approval) == outcome


def test_the_same_change_made_twice_for_real_is_logged_twice(
    registry: mp.Registry, model_dir: Path
) -> None:
    mv = registry.register("m", model_dir)
    for stage in ("staging", "development", "staging"):
        registry.transition(mv.ref, stage)
    moves = [
        (e.from_, e.to) for e in registry.history(mv.ref) if e.kind == mp.EventKind.TRANSITIONED
    ]
    assert moves == [
        ("development", "staging"),
        ("staging", "development"),
        ("development", "staging"),
    ]
