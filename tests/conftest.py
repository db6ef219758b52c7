"""Loads the conformance suite's plugin, which runs its tests over the backend cases of
``tests/backends/*_case.py`` (and provides the ``name`` and ``model_dir`` fixtures every
suite uses), and the per-backend fixture plugins (``tests/backends/*_fixtures.py``):
servers and emulators that tests start on 127.0.0.1 and stop afterwards."""

from __future__ import annotations

import pkgutil

import pytest

import tests.backends
from modelport.testing.conformance import BackendCase

pytest_plugins = [
    "modelport.testing.conformance.plugin",
    *(
        f"tests.backends.{info.name}"
        for info in pkgutil.iter_modules(tests.backends.__path__)
        if info.name.endswith("_fixtures")
    ),
]


def pytest_conformance_cases(config: pytest.Config) -> list[BackendCase]:
    return tests.backends.discover_cases()
