"""The conformance suite's pytest plugin: ``pytest_plugins =
["modelport.testing.conformance.plugin"]`` in a ``conftest.py``.

It runs every test that takes the ``case`` fixture once per case that the
``pytest_conformance_cases`` hook returns, turns each case's declared gaps into strict
xfails that must raise what they name, provides the fixtures the suite's tests take
(``case``, ``registry``, ``name``, ``model_dir``) and, with ``--conformance-report
PATH``, writes the results as JSON (see `modelport.testing.conformance.report`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelport.registry import Registry
from modelport.testing.conformance import hooks
from modelport.testing.conformance.case import BackendCase
from modelport.testing.conformance.report import ResultsReport, Subject

_CASES = pytest.StashKey[list[BackendCase]]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("modelport conformance").addoption(
        "--conformance-report",
        metavar="PATH",
        default=None,
        help="write the conformance suite's results, case by case, as JSON to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("conformance_report")
    if path and not hasattr(config, "workerinput"):  # xdist's controller writes it
        config.pluginmanager.register(ResultsReport(Path(path)), "modelport-conformance-report")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" not in metafunc.fixturenames or _parametrized_by_the_test(metafunc, "case"):
        return
    test = metafunc.definition.originalname
    params = [
        pytest.param(case, id=case.id, marks=_marks(case, test)) for case in _cases(metafunc.config)
    ]
    metafunc.parametrize("case", params, indirect=True)


def pytest_itemcollected(item: pytest.Item) -> None:
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec else None
    if isinstance(case, BackendCase):
        test = getattr(item, "originalname", item.name)
        item.user_properties.append(Subject.of(case, test).as_property())


def _marks(case: BackendCase, test: str) -> list[pytest.MarkDecorator]:
    gap = case.gaps.get(test)
    return [*case.marks, gap.mark()] if gap else list(case.marks)


def _parametrized_by_the_test(metafunc: pytest.Metafunc, argname: str) -> bool:
    """Whether the test parametrizes ``argname`` itself (then it is not a suite test)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames: Any = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        names = argnames.split(",") if isinstance(argnames, str) else argnames
        if argname in (n.strip() for n in names):
            return True
    return False


def _cases(config: pytest.Config) -> list[BackendCase]:
    if _CASES not in config.stash:
        config.stash[_CASES] = _gathered(config)
    return config.stash[_CASES]


def _gathered(config: pytest.Config) -> list[BackendCase]:
    answers = config.hook.pytest_conformance_cases(config=config)
    cases = [case for answer in answers for case in answer]
    if not cases:
        raise pytest.UsageError(
            "modelport conformance: no backend cases; implement pytest_conformance_cases() "
            "in a conftest.py, returning BackendCase(...) objects"
        )
    ids = [case.id for case in cases]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise pytest.UsageError(f"modelport conformance: case ids {repeated} appear twice")
    return cases


@pytest.fixture
def case(request: pytest.FixtureRequest) -> BackendCase:
    """The backend case this run of the test is for."""
    param = getattr(request, "param", None)
    if not isinstance(param, BackendCase):
        raise TypeError(f"{request.node.nodeid}: the case fixture takes a BackendCase")
    return param


@pytest.fixture
def registry(case: BackendCase, request: pytest.FixtureRequest) -> Iterator[Registry]:
    """A fresh registry on the case's backend, closed after the test."""
    reg = case.open(request)
    try:
        if reg.backend.url.base_scheme != case.scheme:
            raise ValueError(
                f"case {case.id!r} declares scheme {case.scheme!r} but opened "
                f"{reg.backend.url.scheme}://"
            )
        yield reg
    finally:
        reg.close()


@pytest.fixture
def name() -> str:
    """A model name no other test uses (backends may be shared across tests)."""
    return f"tm-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small model directory: a nested weights file and an MLmodel file."""
    root = tmp_path / "model"
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "w.bin").write_bytes(bytes(range(256)) * 8)
    (root / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    return root
