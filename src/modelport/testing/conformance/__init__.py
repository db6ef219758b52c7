"""The conformance suite every modelport backend passes, runnable from a backend's own
repository (see "Testing your own backend" in docs/testing.md).

In the backend's ``conftest.py``::

    from modelport.testing.conformance import BackendCase

    pytest_plugins = ["modelport.testing.conformance.plugin"]

    def pytest_conformance_cases():
        return [BackendCase(id="toy", scheme="toy", open=..., set_alias=..., tamper=...)]

and in a test module, ``from modelport.testing.conformance.suite import *``. Every test
then runs once per case; a case's declared gaps (`notimpl`, `notyet`,
`never`) are strict xfails that must fail with the exception they name.

``import modelport`` never imports this package (it imports pytest).
"""

import pytest

SUITE_MODULES = ("lifecycle", "governance", "migration", "call_counts", "concurrency")

# Before any of them is imported: pytest then explains a failed assert in them.
pytest.register_assert_rewrite(*(f"{__name__}.{module}" for module in SUITE_MODULES))

from modelport.testing.conformance.case import (  # noqa: E402
    BackendCase,
    Gap,
    GapKind,
    RoundsCap,
    never,
    notimpl,
    notyet,
)
from modelport.testing.conformance.counting import (  # noqa: E402
    CallCounter,
    counting_methods,
    public_methods,
)
from modelport.testing.conformance.settings import FAST_RETRY, PAGE_SIZE  # noqa: E402

__all__ = [
    "FAST_RETRY",
    "PAGE_SIZE",
    "SUITE_MODULES",
    "BackendCase",
    "CallCounter",
    "Gap",
    "GapKind",
    "RoundsCap",
    "counting_methods",
    "never",
    "notimpl",
    "notyet",
    "public_methods",
]
