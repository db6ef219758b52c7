"""The hook a backend's ``conftest.py`` implements to give the suite its cases."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from modelport.testing.conformance.case import BackendCase


@pytest.hookspec
def pytest_conformance_cases(config: pytest.Config) -> Sequence[BackendCase]:  # type: ignore[empty-body]
    """The backend cases every conformance test runs over. Every implementation's cases
    are run (a ``conftest.py`` may implement it, and so may a plugin); ids must differ."""
