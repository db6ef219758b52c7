"""memory:// -> memory:// migration: what is copied, the plan, re-runs, selection, policy,
integrity, diff and the report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.digest import digest_path
from modelport.migration import (
    Action,
    MigrationReport,
    Outcome,
    diff,
    idempotency_key,
    migrate,
    plan,
)
from tests.migration.conftest import FAST_RETRY, history_shape, snapshot, write_artifact

ALL = ["churn", "fraud"]


def test_every_version_arrives_with_its_record_digest_and_provenance(
    source: mp.Registry, destination: mp.Registry
) -> None:
    report = migrate(source, destination, workers=3)
    assert report.ok, report.summary()
    assert report.counts["created"] == 10
    assert snapshot(destination) == snapshot(source)
    for mv in destination.versions("fraud"):
        origin = mv.lineage.migrated_from
        original = source.resolve(f"fraud/{mv.version}")
        assert origin == mp.MigratedFrom(
            registry=source.url, name="fraud", version=mv.version, digest=original.digest
        )
        assert mv.digest == original.digest
        assert mv.native != original.native


def test_downloaded_copy_has_the_source_bytes(
    source: mp.Registry, destination: mp.Registry, tmp_path: Path
) -> None:
    migrate(source, destination)
    for ref in ("fraud/3", "fraud/4"):  # a single file and a directory
        a = source.download(ref, tmp_path / "a" / ref)
        b = destination.download(ref, tmp_path / "b" / ref)
        assert digest_path(a) == digest_path(b) == source.resolve(ref).digest
        assert sorted(p.name for p in a.rglob("*")) == sorted(p.name for p in b.rglob("*"))


def test_history_is_the_source_trail_then_migrated_then_the_stage(
    source: mp.Registry, destination: mp.Registry
) -> None:
    migrate(source, destination)
    for ref in ("fraud/1", "fraud/4", "fraud/5", "fraud/7"):
        before = source.history(ref)
        after = destination.history(ref)
        keep = {"kind", "from_", "to", "actor", "reason", "at", "rolled_back"}
        assert [e.model_dump(include=keep) for e in after[: len(before)]] == [
            e.model_dump(include=keep) for e in before
        ]
        migrated = after[len(before)]
        assert (migrated.kind, migrated.from_, migrated.to) == (
            mp.EventKind.MIGRATED,
            source.url,
            destination.url,
        )
        stage = source.resolve(ref).stage
        tail = [(e.kind.value, e.to) for e in after[len(before) + 1 :]]
        assert tail == ([] if stage == "development" else [("transitioned", stage)])


def test_stage_holders_match_and_rollback_works_at_the_destination(
    source: mp.Registry, destination: mp.Registry
) -> None:
    migrate(source, destination)
    for stage in ("production", "staging", "archived", "development"):
        assert [mv.version for mv in destination.versions("fraud", stage=stage)] == [
            mv.version for mv in source.versions("fraud", stage=stage)
        ]
    assert destination.rollback("fraud", "production").version == "1"  # the trail came along


def test_a_rerun_skips_everything_and_writes_nothing(
    source: mp.Registry, destination: mp.Registry
) -> None:
    migrate(source, destination)
    before = snapshot(destination), history_shape(destination, "fraud/4")
    again = migrate(source, destination, workers=2)
    assert again.ok
    assert again.counts["skipped"] == 10
    assert again.bytes_copied == 0
    assert (snapshot(destination), history_shape(destination, "fraud/4")) == before


def test_dry_run_returns_the_plan_and_changes_nothing(
    source: mp.Registry, destination: mp.Registry
) -> None:
    report = migrate(source, destination, dry_run=True)
    assert report.dry_run
    assert report.ok
    assert report.results == ()
    assert report.plan.counts["create"] == 10
    assert [i.ref for i in report.plan.items[:3]] == ["churn/1", "churn/2", "churn/3"]
    assert list(destination.models()) == []
    assert "dry run" in report.summary()
    assert "create   fraud/7" in report.summary()


def _interrupted_copy(source: mp.Registry, destination: mp.Registry, ref: str) -> mp.ModelVersion:
    """What a run killed between create and stage leaves: the copy, still in development."""
    record = source.resolve(ref)
    origin = mp.MigratedFrom(
        registry=source.url, name=record.name, version=record.version, digest=record.digest
    )
    carried = record.model_copy(
        update={"lineage": record.lineage.model_copy(update={"migrated_from": origin})}
    )
    key = idempotency_key(source.url, record.name, record.version)
    with tempfile.TemporaryDirectory() as staged:
        source.download(ref, Path(staged) / "a")
        return destination.import_version(carried, Path(staged) / "a", idempotency_key=key)


def test_plan_says_create_update_skip_and_conflict(
    source: mp.Registry, destination: mp.Registry, tmp_path: Path
) -> None:
    migrate(source, destination, models=["churn"])
    _interrupted_copy(source, destination, "fraud/1")  # archived at the source
    record = source.resolve("fraud/2")
    forged = record.model_copy(
        update={
            "digest": None,
            "lineage": mp.Lineage(
                migrated_from=mp.MigratedFrom(
                    registry=source.url, name="fraud", version="2", digest=record.digest
                )
            ),
        }
    )
    destination.import_version(forged, write_artifact(tmp_path / "other", 99))
    items = {i.ref: i for i in plan(source, destination).items}
    assert {items[f"churn/{v}"].action for v in "123"} == {Action.SKIP}
    assert items["fraud/1"].action is Action.UPDATE
    assert items["fraud/1"].changes == ("stage: development -> archived",)
    assert items["fraud/2"].action is Action.CONFLICT
    assert items["fraud/2"].note is not None
    assert "digest" in items["fraud/2"].note
    assert {items[f"fraud/{v}"].action for v in "34567"} == {Action.CREATE}

    report = migrate(source, destination)
    assert not report.ok
    outcomes = {r.ref: r.outcome for r in report.results}
    assert outcomes["fraud/1"] is Outcome.UPDATED
    assert outcomes["fraud/2"] is Outcome.CONFLICT
    assert outcomes["fraud/7"] is Outcome.CREATED
    assert destination.resolve("fraud@production").lineage.migrated_from.version == "4"  # type: ignore[union-attr]
    assert "CONFLICT fraud/2" in report.summary()


def test_a_retried_create_returns_the_first_copy(
    source: mp.Registry, destination: mp.Registry
) -> None:
    first = _interrupted_copy(source, destination, "fraud/1")
    again = _interrupted_copy(source, destination, "fraud/1")
    assert again.version == first.version
    assert [mv.version for mv in destination.versions("fraud")] == ["1"]


def test_a_run_in_parts_ends_like_a_run_in_one_go(
    source: mp.Registry, destination: mp.Registry
) -> None:
    first = migrate(source, destination, versions=["1", "2", "fraud/3"])
    assert {r.ref for r in first.results} == {"churn/1", "churn/2", "fraud/1", "fraud/2", "fraud/3"}
    rest = migrate(source, destination)
    assert rest.counts["created"] == 5
    assert snapshot(destination) == snapshot(source)


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ({"models": ["churn"]}, {"churn/1", "churn/2", "churn/3"}),
        ({"stages": ["production", "staging"]}, {"churn/1", "fraud/4", "fraud/5"}),
        ({"versions": ["fraud/6", "2"]}, {"fraud/6", "fraud/2", "churn/2"}),
        ({"models": ["fraud"], "stages": ["archived"]}, {"fraud/1"}),
    ],
)
def test_selection(
    source: mp.Registry,
    destination: mp.Registry,
    selection: dict[str, list[str]],
    expected: set[str],
) -> None:
    report = migrate(source, destination, **selection)  # type: ignore[arg-type]
    assert {r.ref for r in report.results} == expected
    assert all(r.outcome is Outcome.CREATED for r in report.results)


def test_order_is_kept_across_many_models_and_workers(tmp_path: Path) -> None:
    from tests.migration.conftest import register_versions

    src = mp.connect("memory://", retry=FAST_RETRY)
    for name in ("a", "b", "c", "d"):
        register_versions(src, name, 9, tmp_path / name, size=64)
    dst = mp.connect("memory://", retry=FAST_RETRY)
    assert migrate(src, dst, workers=8).ok
    assert snapshot(dst) == snapshot(src)  # same version numbers: same order
    assert migrate(src, dst, workers=1).counts["skipped"] == 36


def test_destination_policy_refusal_is_reported_not_bypassed(
    source: mp.Registry, destination: mp.Registry
) -> None:
    strict = mp.Registry(
        destination.backend,
        policy=mp.Policy(gates={"production": {"f1": ">=0.9"}}),
        retry=FAST_RETRY,
    )
    report = migrate(source, strict)
    failed = {r.ref: r for r in report.failures()}
    assert set(failed) == {"churn/1", "fraud/4"}  # the production holders: f1 0.51, 0.54
    assert "PolicyViolationError" in (failed["fraud/4"].error or "")
    assert failed["fraud/4"].dst_version == "4"  # the copy exists, without the stage
    assert destination.resolve("fraud/4").stage == "development"
    assert destination.resolve("fraud/5").stage == "staging"  # later versions went on

    rerun = migrate(source, destination)  # the default policy lets it through
    updates = [r.outcome for r in rerun.results if r.action is Action.UPDATE]
    assert updates == [Outcome.UPDATED, Outcome.UPDATED]
    assert snapshot(destination) == snapshot(source)


def test_a_custom_stage_the_destination_does_not_declare_fails_that_version(
    source: mp.Registry, destination: mp.Registry
) -> None:
    shadowing = mp.Policy(custom_stages=frozenset({"shadow"}))
    mp.Registry(source.backend, policy=shadowing).transition("churn/3", "shadow")
    report = migrate(source, destination, models=["churn"])
    (failed,) = report.failures()
    assert (failed.ref, failed.dst_version) == ("churn/3", "3")
    assert "custom_stages" in (failed.error or "")
    declaring = mp.Registry(destination.backend, policy=shadowing, retry=FAST_RETRY)
    assert migrate(source, declaring, models=["churn"]).ok
    assert destination.resolve("churn@shadow").version == "3"


def test_a_corrupt_source_artifact_fails_its_version_and_holds_back_later_ones(
    source: mp.Registry, destination: mp.Registry
) -> None:
    backend = source.backend
    assert isinstance(backend, MemoryBackend)
    blobs = backend._blobs[source.resolve("fraud/3").artifact_uri]
    original = dict(blobs)
    first = sorted(blobs)[0]
    blobs[first] = blobs[first] + b"!"
    report = migrate(source, destination)
    outcomes = {r.ref: r.outcome for r in report.results}
    assert outcomes["fraud/3"] is Outcome.FAILED
    assert "IntegrityError" in (report.failures()[0].error or "")
    assert {outcomes[f"fraud/{v}"] for v in "4567"} == {Outcome.BLOCKED}
    assert outcomes["churn/3"] is Outcome.CREATED
    assert [mv.version for mv in destination.versions("fraud")] == ["1", "2"]

    blobs.update(original)
    assert migrate(source, destination).ok
    assert snapshot(destination) == snapshot(source)


def test_diff_shows_each_kind_of_difference(
    source: mp.Registry, destination: mp.Registry, tmp_path: Path
) -> None:
    migrate(source, destination)
    assert diff(source, destination).ok
    source.register("fraud", write_artifact(tmp_path / "new", 50))  # fraud/8
    destination.register("fraud", write_artifact(tmp_path / "native", 51))  # not a copy
    source.transition("churn/3", "staging")
    _interrupted_copy(source, destination, "churn/1")  # the same key: no second copy
    result = diff(source, destination)
    assert not result.ok
    by_name = {m.name: m for m in result.models}
    assert by_name["fraud"].only_in_src == ("8",)
    assert by_name["fraud"].only_in_dst == ("8",)
    assert [(d.src_version, d.fields) for d in by_name["churn"].differing] == [("3", ("stage",))]
    assert by_name["churn"].duplicated == ()
    assert "differs in stage" in result.summary()


def test_diff_finds_duplicates_and_unknown_models(
    source: mp.Registry, destination: mp.Registry
) -> None:
    migrate(source, destination, models=["churn"])
    record = destination.resolve("churn/1")
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "a"
        destination.download("churn/1", staged)
        destination.import_version(record, staged)  # a second copy under another key
    assert diff(source, destination, models=["churn"]).models[0].duplicated == ("1",)
    with pytest.raises(mp.ModelNotFoundError):
        diff(source, destination, models=["nope"])
    with pytest.raises(mp.ModelNotFoundError):
        plan(source, destination, models=["nope"])


def test_report_json_round_trips(source: mp.Registry, destination: mp.Registry) -> None:
    report = migrate(source, destination)
    data = json.loads(json.dumps(report.model_dump(mode="json")))
    assert data["ok"] is True
    assert data["counts"]["created"] == 10
    assert data["bytes_copied"] == report.bytes_copied > 0
    assert MigrationReport.model_validate(data) == report
    plain = diff(source, destination).model_dump(mode="json")
    assert plain["ok"] is True
    assert len(plain["models"]) == 2


def test_progress_line_when_asked(
    source: mp.Registry, destination: mp.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(source, destination, progress=True)
    err = capsys.readouterr().err
    assert "10/10 versions" in err
    migrate(source, mp.connect("memory://"), progress=False)
    assert capsys.readouterr().err == ""


def test_staging_leaves_nothing_behind(
    source: mp.Registry, destination: mp.Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    migrate(source, destination, workers=2)
    assert list(scratch.iterdir()) == []


def test_urls_are_accepted_and_bad_input_is_refused(
    source: mp.Registry, destination: mp.Registry
) -> None:
    assert migrate("memory://", "memory://").ok  # two empty registries
    assert plan(source, "memory://").counts["create"] == 10
    with pytest.raises(mp.InvalidURLError):
        migrate("nope", destination)
    with pytest.raises(mp.InvalidInputError, match="workers"):
        migrate(source, destination, workers=0)
    with pytest.raises(mp.InvalidInputError):
        migrate(source, destination, models="fraud")
    with pytest.raises(mp.InvalidInputError, match="stage"):
        migrate(source, destination, stages=["Production"])
    with pytest.raises(mp.InvalidInputError, match="same registry"):
        migrate(source, mp.Registry(source.backend))
    assert list(destination.models()) == []


def test_two_sources_into_one_destination_match_copies_by_their_source(
    tmp_path: Path, destination: mp.Registry
) -> None:
    first = mp.connect("memory://?page_size=2", retry=FAST_RETRY)
    second = mp.connect("memory://?page_size=3", retry=FAST_RETRY)  # another registry URL
    for index, reg in enumerate((first, second)):
        for i in (1, 2):
            reg.register("fraud", write_artifact(tmp_path / f"{index}-{i}", 10 * index + i))
    assert migrate(first, destination).counts["created"] == 2
    report = migrate(second, destination)
    assert report.counts["created"] == 2  # not taken for copies of the first source's fraud/1, 2
    origins = [mv.lineage.migrated_from for mv in destination.versions("fraud")]
    assert sorted((o.registry, o.version) for o in origins if o is not None) == sorted(
        (reg.url, v) for reg in (first, second) for v in ("1", "2")
    )
    assert migrate(second, destination).counts["skipped"] == 2
