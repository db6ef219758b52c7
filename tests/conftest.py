"""Loads the per-backend fixture plugins (``tests/backends/*_fixtures.py``): servers and
emulators that tests start on 127.0.0.1 and stop afterwards."""

from __future__ import annotations

import pkgutil

import tests.backends

pytest_plugins = [
    f"tests.backends.{info.name}"
    for info in pkgutil.iter_modules(tests.backends.__path__)
    if info.name.endswith("_fixtures")
]
