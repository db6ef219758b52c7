"""Loads the conformance suite's plugin, which runs its tests over the backend cases of
``tests/backends/*_case.py`` (and provides the ``name`` and ``model_dir`` fixtures every
suite uses), and the per-backend fixture plugins (``tests/backends/*_fixtures.py``):
servers and emulators that tests start on 127.0.0.1 and stop afterwards."""

from __future__ import annotations

import pkgutil
import shutil
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

import tests.backends
from modelport.testing.conformance import BackendCase

# Hypothesis keeps its example database and caches in a folder of this run, removed at the
# end, not in a .hypothesis/ of the checkout (each xdist worker has its own).
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="modelport-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)


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
