"""Runs every conformance test against every backend case found in ``tests/backends``.

A backend's declared gaps become strict xfails at collection time, so a gap that
starts passing fails the run until its declaration is removed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest

import modelport as mp
import tests.backends
from tests.backends.case import BackendCase


def _discover() -> list[BackendCase]:
    cases: list[BackendCase] = []
    for info in pkgutil.iter_modules(tests.backends.__path__):
        if info.name.endswith("_case"):
            module = importlib.import_module(f"tests.backends.{info.name}")
            cases.extend(module.CASES)
    return cases


CASES = _discover()


@pytest.fixture(params=[pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def case(request: pytest.FixtureRequest) -> BackendCase:
    param = request.param
    assert isinstance(param, BackendCase)
    return param


@pytest.fixture
def registry(case: BackendCase, request: pytest.FixtureRequest) -> Iterator[mp.Registry]:
    reg = case.open(request)
    yield reg
    reg.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("case") if callspec else None
        if not isinstance(param, BackendCase):
            continue
        test_name = getattr(item, "originalname", item.name)
        gap = param.gaps.get(test_name)
        if gap is not None:
            reason = f"{gap.kind}: {gap.reason}"
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
