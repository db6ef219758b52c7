"""One module per backend (``*_case.py``), each exporting ``CASES``: how to open a registry
on that backend for the conformance suite (``modelport.testing.conformance``), and the
gaps it declares."""

from __future__ import annotations

import importlib
import os
import pkgutil

from modelport.testing.conformance import BackendCase

EXTRA_CASES = "MODELPORT_EXTRA_CASES"  # comma-separated ids of cases run on request


def discover_cases() -> list[BackendCase]:
    """Every case of every ``tests/backends/*_case.py``."""
    cases: list[BackendCase] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.endswith("_case"):
            cases.extend(importlib.import_module(f"{__name__}.{info.name}").CASES)
    return cases


def extra_case_requested(case_id: str) -> bool:
    """Whether ``$MODELPORT_EXTRA_CASES`` asks for ``case_id``: a case too costly for the
    README's command, which CI (``.ci/run``) runs after it, as do its migration tests."""
    return case_id in os.environ.get(EXTRA_CASES, "").split(",")
