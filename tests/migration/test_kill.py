"""SIGKILL a migration of 30 versions at 5 points; running it again ends with the same
destination as an uninterrupted run: nothing duplicated, nothing missing, and no version
ever had a stage before its artifact was complete.

The stores are a SQLite-backed MLflow (once its backend case exists) and a file-backed
memory:// that persists every write atomically (always), both sides of the same kind.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.migration import diff, migrate
from tests.backends.mlflow_fixtures import copy_db
from tests.migration.conftest import populate, snapshot
from tests.migration.filebackend import SCHEME
from tests.migration.kill_child import open_registry
from tests.subprocesses import assert_imports_checkout, checkout_env

MODELS = {"fraud": 20, "churn": 10}
# Write markers of a full run: a before and an after per create (60) and per stage change.
KILL_POINTS = sorted(random.Random(20261121).sample(range(1, 58), 5))

Store = Callable[[Path, str], str]  # (directory, role) -> the registry's spec


def _file_store(root: Path, role: str) -> str:
    return f"{SCHEME}{root / f'{role}.pkl'}"


STORES = ["file"]
if importlib.util.find_spec("tests.backends.mlflow_case") is not None:  # its backend is ready
    STORES.append("mlflow-sqlite")


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "file":
        return _file_store
    template: Path = request.getfixturevalue("mlflow_template_db")  # migrated once: fast

    def mlflow_store(root: Path, role: str) -> str:
        return f"mlflow+sqlite:///{copy_db(template, root / f'{role}.db')}"

    return mlflow_store


@pytest.fixture(scope="module")
def origin(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A source of 30 versions and the snapshot an uninterrupted migration produces."""
    root = tmp_path_factory.mktemp("origin")
    with pytest.MonkeyPatch.context() as patch:  # MLflow puts artifacts beside the cwd
        patch.chdir(root)
        source_spec = store(root, "source")
        source = open_registry(source_spec)
        populate(source, root / "artifacts", MODELS)
        reference = open_registry(store(root, "reference"))
        assert migrate(source, reference, workers=4).ok
        expected = snapshot(reference)
    return store, root, source_spec, expected


@pytest.mark.parametrize("stop_at", KILL_POINTS)
def test_a_killed_migration_resumes_to_the_uninterrupted_result(
    origin: Any, stop_at: int, tmp_path: Path
) -> None:
    store, root, source_spec, expected = origin
    target = store(tmp_path, "destination")
    with pytest.MonkeyPatch.context() as patch:  # MLflow puts artifacts beside the cwd
        patch.chdir(root)
        marker = _run_until_killed(source_spec, target, stop_at, cwd=root, tmp=tmp_path)
        partial = open_registry(target)
        _assert_staged_versions_are_complete(partial, tmp_path / "check")
        assert sum(len(v) for v in snapshot(partial).values()) < 30, marker

        report = migrate(open_registry(source_spec), open_registry(target), workers=4)
        assert report.ok, report.summary()
        final = open_registry(target)
        assert snapshot(final) == expected, marker
        assert diff(open_registry(source_spec), final).ok


def _run_until_killed(source: str, target: str, stop_at: int, *, cwd: Path, tmp: Path) -> str:
    command = [sys.executable, "-m", "tests.migration.kill_child", source, target]
    child = subprocess.Popen(
        [*command, "--stop-at", str(stop_at)],
        cwd=cwd,
        env=checkout_env(TMPDIR=str(tmp)),  # the checkout under test, never an installed one
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None
        assert_imports_checkout(child.stdout.readline())
        marker = ""
        for line in child.stdout:
            if line.startswith("STOP"):
                marker = line.strip()
                os.kill(child.pid, signal.SIGKILL)
                break
        child.wait()
    finally:
        watchdog.cancel()
        if child.poll() is None:  # a failed check above: stop the child all the same
            child.kill()
            child.wait()
    stderr = child.stderr.read() if child.stderr else ""
    assert marker, f"the child ended before write marker {stop_at}:\n{stderr[-3000:]}"
    assert child.returncode == -signal.SIGKILL
    return marker


def _assert_staged_versions_are_complete(reg: mp.Registry, scratch: Path) -> None:
    """Every version with a stage has its complete, verified artifact (download checks it)."""
    for name in reg.models():
        for mv in reg.versions(name):
            if mv.stage != "development":
                reg.download(mv.ref, scratch / name / mv.version)
