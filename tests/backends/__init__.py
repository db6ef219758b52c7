"""One module per backend (``*_case.py``), each exporting ``CASES``: how to open a registry
on that backend for the conformance suite (``modelport.testing.conformance``), and the
gaps it declares."""

from __future__ import annotations

import importlib
import pkgutil

from modelport.testing.conformance import BackendCase


def discover_cases() -> list[BackendCase]:
    """Every case of every ``tests/backends/*_case.py``."""
    cases: list[BackendCase] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.endswith("_case"):
            cases.extend(importlib.import_module(f"{__name__}.{info.name}").CASES)
    return cases
