"""The support matrix: declarations read against conformance results, and the docs page
generated from the shipped results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelport import support_matrix as sm
from modelport.backends import BUILTIN, BackendEntry
from modelport.backends.base import Capability
from modelport.backends.memory import MemoryBackend
from modelport.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("data") / "conformance-results.json"
TOY = BackendEntry("modelport.backends.memory:MemoryBackend")  # declares every capability


@pytest.fixture
def results() -> sm.ConformanceResults:
    return sm.ConformanceResults.read(FIXTURE)


@pytest.fixture
def toy(results: sm.ConformanceResults) -> sm.Column:
    column = sm.column_for("toy", TOY, results)
    assert column is not None
    return column


def cells(column: sm.Column) -> dict[str, str]:
    matrix = sm.Matrix(columns=(column,), planned=())
    return {operation.label: row[0] for operation, row in matrix.operation_rows()}


def test_docs_support_matrix_is_what_the_shipped_results_render() -> None:
    expected = sm.render_markdown(sm.build())
    committed = (ROOT / "docs" / "support-matrix.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/support-matrix.md is stale: run "
        "`python -m modelport.support_matrix > docs/support-matrix.md`"
    )


def test_every_test_the_matrix_reads_is_in_the_shipped_results() -> None:
    """A renamed or removed conformance test shows here, not as a silent 'untested'."""
    run = {test for case in sm.shipped_results().cases.values() for test in case.tests}
    assert sorted(set(sm.shown_tests()) - run) == []


def test_yes_needs_every_case_of_the_scheme_to_pass(toy: sm.Column) -> None:
    row = cells(toy)
    assert row["`register` a local file, directory or `.tar.gz`"] == sm.YES
    assert row["`resolve` `NAME@ALIAS`"] == sm.YES


def test_a_declared_gap_shows_its_kind(toy: sm.Column) -> None:
    row = cells(toy)
    assert row["`register` again with the same idempotency key: one version"] == "no (notyet)"
    assert row["`transition` to a custom stage"] == "no (notimpl)"


def test_a_failure_outweighs_a_gap(toy: sm.Column) -> None:
    assert cells(toy)["`download` (digest verified)"] == sm.FAILS


@pytest.mark.parametrize(
    "operation",
    [
        "`lineage`",  # skipped in one case
        "`rollback`",  # run in no case
        # no test the toy ran shows it:
        "`register` an existing URI of its own storage (`runs:/`, `s3://`, `gs://`, `azureml://`)",
    ],
)
def test_a_declaration_without_passing_tests_is_untested(toy: sm.Column, operation: str) -> None:
    assert cells(toy)[operation] == sm.UNTESTED


def test_passing_tests_do_not_make_an_undeclared_capability_yes(toy: sm.Column) -> None:
    bare = sm.Column(
        "toy", "toy", None, MemoryBackend.capabilities - {Capability.ALIASES}, toy.cases
    )
    assert cells(bare)["`resolve` `NAME@ALIAS`"] == sm.NO
    assert cells(bare)["`register` a local file, directory or `.tar.gz`"] == sm.YES


def test_a_scheme_without_results_is_untested_everywhere() -> None:
    column = sm.column_for("memory", BUILTIN["memory"], sm.ConformanceResults(cases={}))
    assert column is not None
    assert set(cells(column).values()) == {sm.UNTESTED}


def test_the_page_lists_the_cases_and_the_tests_that_did_not_pass(toy: sm.Column) -> None:
    text = sm.render_markdown(sm.Matrix(columns=(toy,), planned=()))
    assert "- toy: `toy-emulated`, `toy-local`" in text
    assert "- toy, `toy-emulated`: `test_custom_stage` xfailed:notimpl" in text
    tampered = "test_tampered_artifact_raises_integrity_error_and_leaves_nothing"
    assert f"- toy, `toy-local`: `{tampered}` failed" in text
    assert "test_lineage_round_trips" not in text  # skipped: untested, not a gap


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["cases"]["other"]["tests"].update(test_custom_stage="xpassed"),
            "cases.other.tests.test_custom_stage",
        ),
        (lambda d: d["cases"]["other"].pop("scheme"), "cases.other.scheme"),
        (lambda d: d["cases"]["other"].update(reason="x"), "cases.other.reason"),
        (lambda d: d.update(cases=[]), "cases"),
    ],
    ids=["outcome", "scheme", "unknown-key", "cases"],
)
def test_a_malformed_report_names_the_field(change: object, field: str) -> None:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    with pytest.raises(InvalidInputError) as caught:
        sm.ConformanceResults.parse(data, "report.json")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"report.json: {field}: ")


def test_the_module_renders_a_given_report(capsys: pytest.CaptureFixture[str]) -> None:
    sm.main(["--results", str(FIXTURE)])
    assert capsys.readouterr().out == sm.render_markdown(
        sm.build(sm.ConformanceResults.read(FIXTURE))
    )


def test_columns_come_from_the_declared_capabilities() -> None:
    matrix = sm.build()
    memory = next(c for c in matrix.columns if c.scheme == "memory")
    assert memory.capabilities == MemoryBackend.capabilities
    assert {c.scheme for c in matrix.columns} <= set(BUILTIN)


def test_a_backend_without_its_extra_says_so(results: sm.ConformanceResults) -> None:
    entry = BackendEntry("modelport.backends.memory:MemoryBackend", "ghost", ("no_such_sdk_xyz",))
    column = sm.column_for("toy", entry, results)
    assert column is not None
    assert column.capabilities is None
    assert set(cells(column).values()) == {sm.NOT_INSTALLED}
    text = sm.render_markdown(sm.Matrix(columns=(column,), planned=()))
    assert "extra `ghost`" in text


def test_a_backend_module_missing_from_the_build_is_left_out(
    results: sm.ConformanceResults,
) -> None:
    entry = BackendEntry("modelport.backends.no_such_backend:Nothing")
    assert sm.column_for("nothing", entry, results) is None


def test_every_capability_is_explained_shown_and_mapped() -> None:
    assert set(sm.CAPABILITY_MEANINGS) == set(Capability) == set(sm.CAPABILITY_SHOWN_BY)
    text = sm.render_markdown(sm.build())
    for capability in Capability:
        assert f"`{capability}`" in text
