"""SIGKILL a migration into each cloud rig at a write mid-way, then run it again: the copy
ends exactly like one an uninterrupted run made into the same registry (same records,
digests, stages, alias and history shape; no duplicate version), and no scratch folder of
the killed child is left in its temp directory, nor (where the rig can tell) any upload
storage the service gave out that no version took.

The rig runs in this process; the child (``tests.migration.kill_child``) reaches it by its
URL and migrates from a file-backed memory:// source (``pickle:``) that outlives it. The
kill points are shares of the write markers an uninterrupted run of the same model counts.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import IO

import pytest

import modelport as mp
from modelport.migration import diff, migrate
from tests.migration.filebackend import SCHEME
from tests.migration.flaky import FlakyBackend
from tests.migration.kill_child import open_registry
from tests.migration.rigs import RigTarget, copies, populate_twins, target_params, twin_names
from tests.subprocesses import watched_child

VERSIONS = 6
CHILD_TIMEOUT = 20.0  # seconds until a child that never reaches its marker is killed anyway
MAX_CHILD_LINES = 20  # what a child may print before its marker


class MarkerCounter:
    """Counts the write markers of a run (see ``kill_child.Tripwire``)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, marker: str) -> None:
        with self._lock:
            self.count += 1


# 0.8 lands between a transition's event and its stage write: the run again must log
# that transition once (it logged it twice before Registry._log_once). 0.5 was dropped
# for suite time: 0.2 kills among the registers, 0.8 among the transitions.
@pytest.mark.parametrize("share", [0.2, 0.8])
@pytest.mark.parametrize("target", target_params())
def test_a_killed_migration_into_the_rig_resumes_to_the_uninterrupted_result(
    target: RigTarget,
    share: float,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = target.destination(request)  # a rig started now keeps its folders elsewhere
    workdir, tmp = tmp_path / "work", tmp_path / "tmp"
    workdir.mkdir()
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # the rerun's scratch goes there too
    reference, tested = twin_names()
    source_spec = f"{SCHEME}{workdir / 'source.pkl'}"
    populate_twins(open_registry(source_spec), workdir / "artifacts", [reference, tested], VERSIONS)

    markers = MarkerCounter()
    counted = mp.Registry(FlakyBackend(open_registry(rig.url).backend, 0.0, on_write=markers))
    assert migrate(open_registry(source_spec), counted, models=[reference], workers=3).ok
    stop_at = max(1, round(markers.count * share))

    marker = _run_until_killed(source_spec, rig.url, stop_at, cwd=workdir, tmp=tmp)
    assert copies(open_registry(rig.url), tested) != copies(counted, reference), marker

    report = migrate(open_registry(source_spec), open_registry(rig.url), workers=3)
    assert report.ok, report.summary()
    final = open_registry(rig.url)
    want, got = copies(final, reference), copies(final, tested)
    assert [record for record, _ in got] == [record for record, _ in want], marker
    assert [trail for _, trail in got] == [trail for _, trail in want], marker
    assert [mv.version for mv in final.versions(tested)] == [str(n) for n in range(1, 7)]
    assert diff(open_registry(source_spec), final, models=[tested]).ok
    left = [name for name in os.listdir(tmp) if name.startswith("modelport-")]
    assert left == [], f"scratch folders left in the temp directory: {left}"
    assert rig.leftovers(tested) == [], marker


def _run_until_killed(source: str, target: str, stop_at: int, *, cwd: Path, tmp: Path) -> str:
    """Run the migration in a child until its ``stop_at``-th write marker, SIGKILL it by its
    PID, and return the marker it reached."""
    command = ["tests.migration.kill_child", source, target, "--stop-at", str(stop_at)]
    errors = cwd / "child.err"
    with watched_child(
        [*command, "--workers", "3"], cwd=cwd, tmp=tmp, errors=errors, timeout=CHILD_TIMEOUT
    ) as child:
        assert child.stdout is not None
        marker = _line_starting("STOP", child.stdout)
        if marker:
            os.kill(child.pid, signal.SIGKILL)
    assert marker, (
        f"the child ended before write marker {stop_at}:\n{(cwd / 'child.err').read_text()[-3000:]}"
    )
    assert child.returncode == -signal.SIGKILL
    return marker


def _line_starting(prefix: str, stream: IO[str]) -> str:
    """The first line starting with ``prefix`` (bounded in count; the watchdog bounds the
    time), or "" if the child ended or said too much first."""
    for _ in range(MAX_CHILD_LINES):
        line = stream.readline()
        if not line or line.startswith(prefix):
            return line.strip()
    return ""
