"""Loads the per-backend fixture plugins (``tests/backends/*_fixtures.py``): servers and
emulators that tests start on 127.0.0.1 and stop afterwards."""

from __future__ import annotations

import pkgutil
import uuid
from pathlib import Path

import pytest

import tests.backends

pytest_plugins = [
    f"tests.backends.{info.name}"
    for info in pkgutil.iter_modules(tests.backends.__path__)
    if info.name.endswith("_fixtures")
]


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
