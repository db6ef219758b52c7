"""Migration copies aliases where the destination has them, and its report lists those it
could not copy."""

from __future__ import annotations

import json

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.migration import Action, MigrationReport, VersionResult, diff, migrate, plan
from tests.migration.conftest import FAST_RETRY, history_shape, snapshot

ALIASES = {"fraud/3": "champion", "fraud/6": "challenger", "churn/1": "stable"}


class _NoAliases(MemoryBackend):
    """memory:// as a backend without aliases (SageMaker has none, for instance)."""

    capabilities = MemoryBackend.capabilities - {mp.Capability.ALIASES}


@pytest.fixture
def aliased(source: mp.Registry) -> mp.Registry:
    for ref, alias in ALIASES.items():
        source.set_alias(ref, alias, actor="alice")
    return source


def _without_aliases() -> mp.Registry:
    return mp.Registry(_NoAliases(mp.parse_url("memory://")), retry=FAST_RETRY)


def _result(report: MigrationReport, ref: str) -> VersionResult:
    (result,) = [r for r in report.results if r.ref == ref]
    return result


def _aliases(reg: mp.Registry) -> dict[str, tuple[str, ...]]:
    return {mv.ref: mv.aliases for name in reg.models() for mv in reg.versions(name) if mv.aliases}


def test_aliases_arrive_on_the_copies(aliased: mp.Registry, destination: mp.Registry) -> None:
    report = migrate(aliased, destination, workers=3)
    assert report.ok, report.summary()
    assert report.aliases_not_copied() == {}
    assert _aliases(destination) == {ref: (alias,) for ref, alias in ALIASES.items()}
    assert destination.resolve("fraud@champion").version == "3"
    assert snapshot(destination) == snapshot(aliased)
    assert diff(aliased, destination).ok
    assert history_shape(destination, "fraud/3")[-1] == ("aliased", None, "champion")


def test_a_rerun_writes_nothing_and_a_moved_alias_follows(
    aliased: mp.Registry, destination: mp.Registry
) -> None:
    migrate(aliased, destination)
    before = snapshot(destination)
    assert migrate(aliased, destination).counts["skipped"] == 10
    assert snapshot(destination) == before

    aliased.set_alias("fraud/7", "champion")  # moves from fraud/3
    (fraud,) = diff(aliased, destination, models=["fraud"]).models
    assert [(d.src_version, d.fields) for d in fraud.differing] == [("7", ("aliases",))]
    (item,) = [i for i in plan(aliased, destination).items if i.action is Action.UPDATE]
    assert (item.ref, item.changes) == ("fraud/7", ("aliases: none -> champion",))
    assert migrate(aliased, destination).counts["updated"] == 1
    assert destination.resolve("fraud@champion").version == "7"
    assert destination.resolve("fraud/3").aliases == ()


def test_aliases_a_destination_cannot_hold_are_listed_not_failed(
    aliased: mp.Registry,
) -> None:
    destination = _without_aliases()
    report = migrate(aliased, destination)
    assert report.ok, report.summary()
    assert report.counts["created"] == 10
    expected = {ref: (alias,) for ref, alias in ALIASES.items()}
    assert report.aliases_not_copied() == expected
    assert "has no aliases" in _result(report, "fraud/3").aliases_not_copied[0].reason
    assert "ALIAS NOT COPIED fraud@champion (of fraud/3)" in report.summary()
    data = json.loads(json.dumps(report.model_dump(mode="json")))
    assert MigrationReport.model_validate(data) == report

    again = migrate(aliased, destination)  # nothing to do, and still said
    assert again.counts["skipped"] == 10
    assert again.aliases_not_copied() == expected
    assert diff(aliased, destination).ok  # it holds everything it can


def test_an_alias_name_the_destination_refuses_is_listed(
    aliased: mp.Registry,
) -> None:
    policy = mp.Policy(custom_stages=frozenset({"champion"}))  # a stage there
    destination = mp.connect("memory://", policy=policy, retry=FAST_RETRY)
    report = migrate(aliased, destination)
    assert report.ok, report.summary()
    assert report.aliases_not_copied() == {"fraud/3": ("champion",)}
    assert "stage name" in _result(report, "fraud/3").aliases_not_copied[0].reason
    assert destination.resolve("fraud@challenger").version == "6"
