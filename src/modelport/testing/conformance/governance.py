"""Stages (declared custom ones too), approval, policy, history, rollback and two clients
of one registry (SPEC sections 1-2) on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp
from modelport.testing.conformance.case import BackendCase
from modelport.testing.conformance.settings import FAST_RETRY


def _approved(registry: mp.Registry, name: str, model_dir: Path, count: int) -> list[str]:
    versions = []
    for i in range(count):
        mv = registry.register(name, model_dir, metrics={"f1": 0.7 + i / 100})
        registry.approve(mv.ref, reason="QA passed", actor="alice")
        versions.append(mv.version)
    return versions


def test_production_requires_approval(registry: mp.Registry, name: str, model_dir: Path) -> None:
    mv = registry.register(name, model_dir)
    with pytest.raises(mp.PolicyViolationError) as caught:
        registry.transition(mv.ref, "production")
    assert "approved" in str(caught.value)
    assert isinstance(caught.value, PermissionError)
    assert registry.resolve(mv.ref).stage == "development"
    registry.approve(mv.ref, reason="QA passed", actor="alice")
    assert registry.transition(mv.ref, "production", actor="ci").stage == "production"
    assert registry.resolve(f"{name}@production").version == mv.version


def test_staging_needs_no_approval(registry: mp.Registry, name: str, model_dir: Path) -> None:
    mv = registry.register(name, model_dir)
    assert registry.transition(mv.ref, mp.Stage.STAGING, reason="smoke").stage == "staging"


def test_rejected_version_cannot_be_promoted(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir)
    rejected = registry.reject(mv.ref, reason="bias found", actor="bob")
    assert rejected.approval is mp.Approval.REJECTED
    for stage in ("staging", "production"):
        with pytest.raises(mp.PolicyViolationError, match="rejected"):
            registry.transition(mv.ref, stage)
    assert registry.transition(mv.ref, "archived").stage == "archived"


def test_rejecting_a_staging_version_archives_it(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir)
    registry.transition(mv.ref, "staging")
    after = registry.reject(mv.ref, reason="failed QA")
    assert (after.stage, after.approval) == ("archived", mp.Approval.REJECTED)
    with pytest.raises(mp.VersionNotFoundError):
        registry.resolve(f"{name}@staging")


def test_production_holder_cannot_be_rejected(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    (version,) = _approved(registry, name, model_dir, 1)
    registry.transition(f"{name}/{version}", "production")
    with pytest.raises(mp.PolicyViolationError, match="production"):
        registry.reject(f"{name}/{version}")
    assert registry.resolve(f"{name}/{version}").approval is mp.Approval.APPROVED


def test_exclusive_stage_has_one_holder(registry: mp.Registry, name: str, model_dir: Path) -> None:
    v1, v2 = _approved(registry, name, model_dir, 2)
    registry.transition(f"{name}/{v1}", "production")
    registry.transition(f"{name}/{v2}", "production")
    holders = list(registry.versions(name, stage="production"))
    assert [mv.version for mv in holders] == [v2]
    assert registry.resolve(f"{name}/{v1}").stage == "archived"
    assert registry.resolve(f"{name}@production").version == v2


def test_non_exclusive_stages_hold_many(registry: mp.Registry, name: str, model_dir: Path) -> None:
    versions = [registry.register(name, model_dir).version for _ in range(2)]
    for version in versions:
        registry.transition(f"{name}/{version}", "archived")
    assert sorted(mv.version for mv in registry.versions(name, stage="archived")) == versions


def _declaring(registry: mp.Registry, policy: mp.Policy) -> mp.Registry:
    """Another client of the same backend, under ``policy``."""
    return mp.Registry(registry.backend, policy=policy, retry=FAST_RETRY)


def test_custom_stage(registry: mp.Registry, name: str, model_dir: Path) -> None:
    declared = _declaring(registry, mp.Policy(custom_stages={"shadow-eu"}))
    mv = declared.register(name, model_dir)
    assert declared.transition(mv.ref, "shadow-eu").stage == "shadow-eu"
    assert declared.resolve(f"{name}@shadow-eu").version == mv.version


def test_a_declared_custom_stage_holds_many(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    declared = _declaring(registry, mp.Policy(custom_stages={"shadow", "canary"}))
    versions = [declared.register(name, model_dir).version for _ in range(3)]
    for version in versions[:2]:
        assert declared.transition(f"{name}/{version}", "shadow").stage == "shadow"
    holders = sorted(mv.version for mv in declared.versions(name, stage="shadow"))
    assert holders == versions[:2]
    assert declared.resolve(f"{name}/{versions[2]}").stage == "development"
    assert list(declared.versions(name, stage="canary")) == []


def test_a_custom_stage_declared_exclusive_has_one_holder_and_rolls_back(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    policy = mp.Policy(
        custom_stages={"canary"}, exclusive_stages={"staging", "production", "canary"}
    )
    declared = _declaring(registry, policy)
    v1, v2 = (declared.register(name, model_dir).version for _ in range(2))
    declared.transition(f"{name}/{v1}", "canary", actor="ci")
    declared.transition(f"{name}/{v2}", "canary", actor="ci")
    assert [mv.version for mv in declared.versions(name, stage="canary")] == [v2]
    assert declared.resolve(f"{name}@canary").version == v2
    assert declared.resolve(f"{name}/{v1}").stage == "archived"
    assert declared.rollback(name, "canary", actor="oncall").version == v1
    assert declared.resolve(f"{name}@canary").version == v1
    assert declared.resolve(f"{name}/{v2}").stage == "archived"


def test_metric_gate_blocks_a_transition(
    case: BackendCase, name: str, model_dir: Path, request: pytest.FixtureRequest
) -> None:
    reg = case.open(request)
    gated = mp.Registry(
        reg.backend, policy=mp.Policy(gates={"staging": {"f1": ">=0.78"}}), retry=FAST_RETRY
    )
    weak = gated.register(name, model_dir, metrics={"f1": 0.70})
    strong = gated.register(name, model_dir, metrics={"f1": 0.80})
    with pytest.raises(mp.PolicyViolationError, match="f1"):
        gated.transition(weak.ref, "staging")
    assert gated.transition(strong.ref, "staging").stage == "staging"
    assert gated.gate(weak.ref, ["f1>=0.78"]) != []
    assert gated.gate(strong.ref, ["f1>=0.78", "f1<0.9"]) == []
    reg.close()


def test_history_records_every_change_in_the_backend(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir, actor="trainer")
    registry.transition(mv.ref, "staging", reason="smoke tests", actor="ci")
    registry.approve(mv.ref, reason="QA passed", actor="alice")
    registry.transition(mv.ref, "production", reason="release 7", actor="ci")
    other_machine = case.reopen(registry)  # a second client reads the same trail
    events = other_machine.history(mv.ref)
    other_machine.close()
    kinds = [(e.kind.value, e.from_, e.to, e.actor) for e in events]
    assert kinds == [
        ("registered", None, "development", "trainer"),
        ("transitioned", "development", "staging", "ci"),
        ("approved", "pending", "approved", "alice"),
        ("transitioned", "staging", "production", "ci"),
    ]
    assert events[1].reason == "smoke tests"
    assert all(e.version == mv.version for e in events)


def test_two_clients_see_each_others_writes_and_history(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    other = case.reopen(registry)  # another machine, on the same registry
    try:
        mv = registry.register(name, model_dir, metrics={"f1": 0.9}, actor="trainer")
        assert other.resolve(mv.ref).neutral() == mv.neutral()
        other.approve(mv.ref, reason="QA passed", actor="alice")
        other.transition(mv.ref, "production", reason="release 7", actor="ci")
        seen = registry.resolve(f"{name}@production")
        assert (seen.version, seen.approval) == (mv.version, mp.Approval.APPROVED)
        second = registry.register(name, model_dir, actor="trainer")
        assert other.resolve(f"{name}@latest").version == second.version
        assert sorted(m.version for m in other.versions(name)) == [mv.version, second.version]
        trail = [(e.kind.value, e.actor) for e in registry.history(mv.ref)]
        assert trail == [("registered", "trainer"), ("approved", "alice"), ("transitioned", "ci")]
        assert other.history(mv.ref) == registry.history(mv.ref)
    finally:
        other.close()


def test_rollback_returns_the_stage_to_the_previous_holder(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    v1, v2, v3 = _approved(registry, name, model_dir, 3)
    for version in (v1, v2, v3):
        registry.transition(f"{name}/{version}", "production")
    assert registry.rollback(name, "production", actor="oncall").version == v2
    assert registry.resolve(f"{name}@production").version == v2
    assert registry.resolve(f"{name}/{v3}").stage == "archived"
    assert registry.rollback(name).version == v1  # a second rollback goes further back
    with pytest.raises(mp.VersionNotFoundError):
        registry.rollback(name)
    last = registry.history(f"{name}/{v1}")[-1]
    assert (last.kind, last.to, last.rolled_back) == (mp.EventKind.TRANSITIONED, "production", v2)


def test_transition_to_the_current_stage_changes_nothing(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir)
    registry.transition(mv.ref, "staging")
    before = registry.history(mv.ref)
    registry.transition(mv.ref, "staging")
    assert registry.history(mv.ref) == before


def test_corrupt_metadata_leaves_the_version_readable_and_writable(
    case: BackendCase, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    """A hand-edited or truncated metadata entry is reported (logged) and skipped: the
    version still resolves, and its native fields (stage, approval) still change."""
    mv = registry.register(name, model_dir, metrics={"f1": 0.9})
    case.corrupt_metadata(registry, mv)
    assert registry.resolve(mv.ref).version == mv.version
    registry.approve(mv.ref, reason="QA passed")
    registry.transition(mv.ref, "production")
    after = registry.resolve(f"{name}@production")
    assert (after.version, after.approval) == (mv.version, mp.Approval.APPROVED)
    kinds = [e.kind.value for e in registry.history(mv.ref)]
    assert kinds[-2:] == ["approved", "transitioned"]
