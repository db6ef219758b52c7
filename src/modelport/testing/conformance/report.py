"""The results report, ``--conformance-report PATH``: for each case, the outcome of each
conformance test, as JSON the support matrix is built from::

    {"cases": {"<case id>": {"scheme": "<url scheme>",
                             "tests": {"<test name>": "passed" | "xfailed:notimpl" |
                                       "xfailed:notyet" | "xfailed:never" | "failed" |
                                       "skipped"}}}}

The scheme is the one the case's backend is registered under (``mlflow`` for both
``mlflow+sqlite://`` and ``mlflow+http://``); a test's name carries no parameters. A
failure in any phase (setup, call, teardown) is ``failed``, as is a gap that passes or
fails with another exception than it names; an xfail that is not a declared gap is
``skipped``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from modelport.testing.conformance.case import BackendCase, GapKind

PROPERTY = "modelport.conformance"  # the user property that marks a conformance item

# When one test has several outcomes (phases, or parameters beyond the case), the
# strongest is reported.
_STRENGTH = {"skipped": 0, "passed": 1, "xfailed": 2, "failed": 3}


@dataclass(frozen=True)
class Subject:
    """Which case and test a test item (or its report, even from an xdist worker) is."""

    case: str
    scheme: str
    test: str
    gap: GapKind | None

    @classmethod
    def of(cls, case: BackendCase, test: str) -> Subject:
        gap = case.gaps.get(test)
        return cls(case.id, case.scheme, test, gap.kind if gap else None)

    @classmethod
    def from_properties(cls, properties: Iterable[Any]) -> Subject | None:
        for name, value in properties:  # tuples here, lists once through xdist
            if name == PROPERTY:
                return cls(**value)
        return None

    def as_property(self) -> tuple[str, dict[str, str | None]]:
        return PROPERTY, asdict(self)


def outcome(report: pytest.TestReport, gap: GapKind | None) -> str | None:
    """What one phase's report says of its test, or None if it says nothing."""
    if report.failed:
        return "failed"
    if report.skipped:
        xfailed = hasattr(report, "wasxfail") and gap is not None
        return f"xfailed:{gap}" if xfailed else "skipped"
    return "passed" if report.when == "call" else None


def _strength(status: str) -> int:
    return _STRENGTH[status.partition(":")[0]]


class ResultsReport:
    """A pytest plugin object that gathers the outcomes and writes them at session end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        subject = Subject.from_properties(report.user_properties)
        status = outcome(report, subject.gap) if subject else None
        if subject is None or status is None:
            return
        case = self.cases.setdefault(subject.case, {"scheme": subject.scheme, "tests": {}})
        earlier = case["tests"].get(subject.test)
        if earlier is None or _strength(status) > _strength(earlier):
            case["tests"][subject.test] = status

    def pytest_sessionfinish(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"cases": self.cases}
        self.path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
