"""The support matrix: what each backend declares, as far as the conformance suite shows it.

A cell reads ``yes`` only where the backend declares the capability an operation needs
*and* every conformance case of that backend's scheme passed every test that shows the
operation. A declared operation whose tests fail reads ``no (fails)``, one whose tests
are declared gaps reads the gap's kind (``no (notyet)``), and one that no test shows, or
whose tests were skipped, reads ``untested``: a declaration alone is never ``yes``.

The results are those of a real run, shipped beside this module::

    python -m pytest tests/conformance --conformance-report src/modelport/conformance-results.json
    python -m modelport.support_matrix > docs/support-matrix.md

``modelport support-matrix`` prints the same table. A backend whose extra is not
installed cannot be inspected and says so; one whose module is not part of this build is
left out.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from modelport.backends import BUILTIN, PLANNED, BackendEntry, import_backend, missing_modules
from modelport.backends.base import Capability
from modelport.errors import InvalidInputError

RESULTS_FILE = "conformance-results.json"
NOT_INSTALLED = "(extra not installed)"
YES, NO, UNTESTED, FAILS = "yes", "no", "untested", "no (fails)"
PASSED, FAILED, MISSING = "passed", "failed", "missing"
GAP_KINDS = ("notimpl", "notyet", "never")

Outcome = Literal[
    "passed", "xfailed:notimpl", "xfailed:notyet", "xfailed:never", "failed", "skipped"
]

TITLES = {
    "memory": "memory",
    "mlflow": "MLflow",
    "sagemaker": "SageMaker",
    "vertex": "Vertex AI",
    "azureml": "Azure ML",
}

CAPABILITY_MEANINGS: dict[Capability, str] = {
    Capability.ALIASES: "`NAME@ALIAS` resolves through the backend's own aliases",
    Capability.REGISTER_URI: "registers an existing remote artifact URI as it is",
    Capability.CUSTOM_STAGES: "holds stages beyond development, staging, production, archived",
    Capability.NATIVE_STAGES: "stages are visible in the backend's own UI and API",
    Capability.NATIVE_APPROVAL: "approval is the backend's own field, not a tag",
    Capability.TRAINING_RUNS: "`lineage.run` points at the backend's own training runs or jobs",
}

# The conformance tests that show each capability; none yet for those left empty.
CAPABILITY_SHOWN_BY: dict[Capability, tuple[str, ...]] = {
    Capability.ALIASES: ("test_alias_resolves_where_the_backend_has_aliases",),
    Capability.REGISTER_URI: ("test_register_an_existing_uri_of_the_backends_storage",),
    Capability.CUSTOM_STAGES: (
        "test_custom_stage",
        "test_a_declared_custom_stage_holds_many",
        "test_a_custom_stage_declared_exclusive_has_one_holder_and_rolls_back",
    ),
    Capability.NATIVE_STAGES: (),
    Capability.NATIVE_APPROVAL: (),
    Capability.TRAINING_RUNS: (),
}


class _CaseResults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: str
    tests: dict[str, Outcome]


class ConformanceResults(BaseModel):
    """A conformance run: ``cases[case id] = {scheme, tests: {test name: outcome}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: dict[str, _CaseResults]

    @classmethod
    def parse(cls, data: object, source: str) -> ConformanceResults:
        """``data`` (parsed JSON) as results; ``InvalidInputError`` naming the bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the top level"
            raise InvalidInputError(f"{source}: {where}: {first['msg']}", field=where) from None

    @classmethod
    def read(cls, path: Path) -> ConformanceResults:
        return cls.parse(json.loads(path.read_text(encoding="utf-8")), str(path))

    def of_scheme(self, scheme: str) -> dict[str, Mapping[str, str]]:
        """case id -> test outcomes, for the cases of ``scheme``."""
        return {case: found.tests for case, found in self.cases.items() if found.scheme == scheme}


def shipped_results() -> ConformanceResults:
    """The results of the run this build ships (none when the file is absent)."""
    found = resources.files("modelport") / RESULTS_FILE
    if not found.is_file():
        return ConformanceResults(cases={})
    return ConformanceResults.parse(json.loads(found.read_text(encoding="utf-8")), RESULTS_FILE)


@dataclass(frozen=True)
class Operation:
    """A verb (or one form of it), the capability it needs (None: every backend has it)
    and the conformance tests that show it."""

    label: str
    shown_by: tuple[str, ...]
    needs: Capability | None = None


OPERATIONS = (
    Operation(
        "`register` a local file, directory or `.tar.gz`",
        (
            "test_register_returns_a_typed_immutable_record",
            "test_versions_count_up_and_read_back_identically",
            "test_register_single_file_and_archive_share_the_directory_digest",
        ),
    ),
    Operation(
        "`register` again with the same idempotency key: one version",
        ("test_register_with_the_same_idempotency_key_creates_one_version",),
    ),
    Operation(
        "`register` an existing URI of its own storage (`runs:/`, `s3://`, `gs://`, `azureml://`)",
        CAPABILITY_SHOWN_BY[Capability.REGISTER_URI],
        Capability.REGISTER_URI,
    ),
    Operation(
        "`transition` to development, staging, production, archived",
        (
            "test_staging_needs_no_approval",
            "test_exclusive_stage_has_one_holder",
            "test_non_exclusive_stages_hold_many",
            "test_transition_to_the_current_stage_changes_nothing",
        ),
    ),
    Operation(
        "`transition` to a custom stage",
        CAPABILITY_SHOWN_BY[Capability.CUSTOM_STAGES],
        Capability.CUSTOM_STAGES,
    ),
    Operation(
        "`approve`, `reject`",
        (
            "test_production_requires_approval",
            "test_rejected_version_cannot_be_promoted",
            "test_rejecting_a_staging_version_archives_it",
            "test_production_holder_cannot_be_rejected",
        ),
    ),
    Operation("metric gates on a transition", ("test_metric_gate_blocks_a_transition",)),
    Operation(
        "`resolve` `NAME/3`, `NAME@STAGE`, `NAME@latest`",
        (
            "test_versions_count_up_and_read_back_identically",
            "test_production_requires_approval",
            "test_missing_model_and_version_raise_lookup_errors",
            "test_resolve_cache_is_evicted_by_the_registrys_own_writes",
        ),
    ),
    Operation(
        "`resolve` `NAME@ALIAS`",
        CAPABILITY_SHOWN_BY[Capability.ALIASES],
        Capability.ALIASES,
    ),
    Operation(
        "`alias set`, `alias remove`",
        ("test_an_alias_set_by_the_registry_moves_between_versions_and_is_removed",),
        Capability.ALIASES,
    ),
    Operation(
        "`download` (digest verified)",
        (
            "test_download_verifies_and_places_the_files",
            "test_tampered_artifact_raises_integrity_error_and_leaves_nothing",
        ),
    ),
    Operation("`lineage`", ("test_lineage_round_trips",)),
    Operation("`history`", ("test_history_records_every_change_in_the_backend",)),
    Operation(
        "`versions`, `models`",
        (
            "test_versions_pages_lazily_through_every_version",
            "test_versions_filters_by_stage",
            "test_models_lists_registered_names",
        ),
    ),
    Operation("`rollback`", ("test_rollback_returns_the_stage_to_the_previous_holder",)),
    Operation(
        "`migrate` from and to",
        (
            "test_migrate_from_the_backend_keeps_records_stages_and_history",
            "test_migrate_into_the_backend_keeps_records_stages_and_history",
        ),
    ),
)


def shown_tests() -> tuple[str, ...]:
    """Every conformance test the matrix reads."""
    named = {test for op in OPERATIONS for test in op.shown_by}
    return tuple(sorted(named.union(*CAPABILITY_SHOWN_BY.values())))


def verdict(outcomes: list[str]) -> str:
    """The cell of a declared operation from its tests' outcomes over every case."""
    if outcomes and all(outcome == PASSED for outcome in outcomes):
        return YES
    if FAILED in outcomes:
        return FAILS
    gaps = [kind for kind in GAP_KINDS if f"xfailed:{kind}" in outcomes]
    return f"no ({', '.join(gaps)})" if gaps else UNTESTED


@dataclass(frozen=True)
class Column:
    """One backend: its declared capabilities (None when its extra is not installed) and
    the conformance outcomes of each case of its scheme."""

    scheme: str
    title: str
    extra: str | None
    capabilities: frozenset[Capability] | None
    cases: Mapping[str, Mapping[str, str]]

    def cell(self, needs: Capability | None, shown_by: tuple[str, ...]) -> str:
        if self.capabilities is None:
            return NOT_INSTALLED
        if needs is not None and needs not in self.capabilities:
            return NO
        return verdict([outcome for _, _, outcome in self.outcomes(shown_by)])

    def outcomes(self, tests: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
        """(case, test, outcome) for each test in every case; ``missing`` if not run."""
        for case, found in self.cases.items():
            for test in tests:
                yield case, test, found.get(test, MISSING)


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    planned: tuple[tuple[str, str], ...]  # (scheme, title)

    def operation_rows(self) -> Iterator[tuple[Operation, list[str]]]:
        for operation in OPERATIONS:
            yield operation, [c.cell(operation.needs, operation.shown_by) for c in self.columns]

    def capability_rows(self) -> Iterator[tuple[Capability, list[str]]]:
        for capability in Capability:
            shown_by = CAPABILITY_SHOWN_BY[capability]
            yield capability, [c.cell(capability, shown_by) for c in self.columns]

    def gaps(self) -> Iterator[tuple[Column, str, str, str]]:
        """(column, case, test, outcome) for each shown test that did not pass or skip."""
        for column in self.columns:
            for case, test, outcome in sorted(column.outcomes(shown_tests())):
                if outcome == FAILED or outcome.startswith("xfailed:"):
                    yield column, case, test, outcome

    def as_dict(self) -> dict[str, Any]:
        return {
            "backends": [
                {
                    "scheme": c.scheme,
                    "title": c.title,
                    "extra": c.extra,
                    "installed": c.capabilities is not None,
                    "capabilities": (
                        None if c.capabilities is None else sorted(str(x) for x in c.capabilities)
                    ),
                    "cases": sorted(c.cases),
                }
                for c in self.columns
            ],
            "operations": [
                {
                    "operation": op.label,
                    "needs": None if op.needs is None else str(op.needs),
                    "shown_by": list(op.shown_by),
                    "cells": dict(zip([c.scheme for c in self.columns], cells, strict=True)),
                }
                for op, cells in self.operation_rows()
            ],
            "planned": [{"scheme": scheme, "title": title} for scheme, title in self.planned],
        }


def build(results: ConformanceResults | None = None) -> Matrix:
    """Inspect every built-in backend this build ships (imports their SDKs if installed),
    against ``results`` (by default the shipped ones)."""
    found = shipped_results() if results is None else results
    columns = [column_for(scheme, entry, found) for scheme, entry in BUILTIN.items()]
    return Matrix(
        columns=tuple(c for c in columns if c is not None),
        planned=tuple(PLANNED.items()),
    )


def column_for(scheme: str, entry: BackendEntry, results: ConformanceResults) -> Column | None:
    title = TITLES.get(scheme, scheme)
    cases = results.of_scheme(scheme)
    if missing_modules(entry):
        return Column(scheme, title, entry.extra, None, cases)
    if importlib.util.find_spec(entry.target.partition(":")[0]) is None:
        return None  # not part of this build
    cls = import_backend(entry)
    return Column(scheme, title, entry.extra, frozenset(cls.capabilities), cases)


def render_markdown(matrix: Matrix) -> str:
    header = [f"{c.title} (`{c.scheme}://`)" for c in matrix.columns]
    installs = [_install(c) for c in matrix.columns]
    lines = [
        "---",  # a wide table: the page gives it the width of both sidebars
        "hide:",
        "  - navigation",
        "  - toc",
        "---",
        "",
        "<!-- Generated by `python -m modelport.support_matrix`: do not edit by hand. -->",
        "",
        "# Support matrix",
        "",
        "What each backend can do: the capabilities its class declares, as far as the",
        "conformance suite shows them. A cell reads `yes` only where the backend declares",
        "what the operation needs and every conformance case of that backend passed the",
        "tests that show it; `no (notimpl)`, `no (notyet)` or `no (never)` where those",
        "tests are declared gaps (not implemented in modelport yet, waiting on the service",
        "or its test double, impossible on the service); `untested` where no test shows it",
        "yet. An operation that needs a capability the backend lacks raises",
        "`UnsupportedOperation` naming it, before any write.",
        "",
        "## Operations",
        "",
        _row(["Operation", *header, "needs"]),
        _rule(len(header) + 2),
        _row(["install", *installs, ""]),
    ]
    for operation, cells in matrix.operation_rows():
        needs = f"`{operation.needs}`" if operation.needs else "-"
        lines.append(_row([operation.label, *cells, needs]))
    lines += [
        "",
        "## Capabilities",
        "",
        _row(["Capability", *header, "meaning"]),
        _rule(len(header) + 2),
    ]
    for capability, cells in matrix.capability_rows():
        lines.append(_row([f"`{capability}`", *cells, CAPABILITY_MEANINGS[capability]]))
    lines += ["", "## Conformance cases", "", *_cases(matrix)]
    if matrix.planned:
        planned = ", ".join(f"{title} (`{scheme}://`)" for scheme, title in matrix.planned)
        lines += ["", f"Planned, not in this release: {planned}."]
    return "\n".join(lines) + "\n"


def _cases(matrix: Matrix) -> list[str]:
    lines = [
        f"- {c.title}: " + (", ".join(f"`{case}`" for case in sorted(c.cases)) or "none run")
        for c in matrix.columns
    ]
    gaps = [
        f"- {column.title}, `{case}`: `{test}` {outcome}"
        for column, case, test, outcome in matrix.gaps()
    ]
    if gaps:
        lines += ["", "Tests above that did not pass:", "", *gaps]
    return lines


def _install(column: Column) -> str:
    return f"extra `{column.extra}`" if column.extra else "built in"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(width: int) -> str:
    return "|" + "---|" * width


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m modelport.support_matrix")
    parser.add_argument(
        "--results",
        type=Path,
        help=f"a conformance report to render against (default: the shipped {RESULTS_FILE})",
    )
    args = parser.parse_args(argv)
    results = None if args.results is None else ConformanceResults.read(args.results)
    print(render_markdown(build(results)), end="")


if __name__ == "__main__":
    main()
