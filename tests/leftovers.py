"""What a test session leaves behind: files in the checkout, and scratch folders of dead
processes in the temp directory. ``tests/conftest.py`` takes a footprint when the session
starts and fails the session if it grew by its end (once, in the xdist controller).

Other processes share the checkout and the temp directory, so the footprint holds only
what a test could have left: untracked and ignored paths of the checkout other than
caches and source being written meanwhile (``.py``, ``.md``), and the temp directory's
``modelport-PURPOSE-PID-…`` folders whose process no longer runs (a live one may belong
to another run still going).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from modelport.scratch import PURPOSES, process_alive

REPO = Path(__file__).resolve().parents[1]
CACHES = ("__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".venv/", ".hypothesis")
EDITED_MEANWHILE = (".py", ".md")  # helpers and editors write these while a session runs
_SCRATCH = re.compile(rf"modelport-(?:{'|'.join(PURPOSES)})-(?P<pid>\d+)-.+")


def footprint() -> set[str]:
    """The checkout's extra paths and the temp directory's scratch folders, live or not."""
    return {*(f"checkout: {p}" for p in _checkout_extras()), *(f"temp: {n}" for n in _scratch())}


def grown_message(before: set[str]) -> str | None:
    """None if nothing was added since ``before`` (scratch folders of live processes
    aside), else a message naming what was."""
    gained = sorted(path for path in footprint() - before if not _of_live_process(path))
    if not gained:
        return None
    shown = "\n  ".join(gained[:30])
    return f"the test session left {len(gained)} path(s) behind:\n  {shown}"


def _checkout_extras() -> set[str]:
    try:
        listing = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "-z"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return set()  # not a git checkout: nothing to compare
    paths = {entry[3:] for entry in listing.split("\0") if entry[:2] in ("??", "!!")}
    return {
        path
        for path in paths
        if not any(cache in path for cache in CACHES) and not path.endswith(EDITED_MEANWHILE)
    }


def _scratch() -> set[str]:
    try:
        names = [entry.name for entry in Path(tempfile.gettempdir()).iterdir()]
    except OSError:
        return set()
    return {name for name in names if _SCRATCH.fullmatch(name)}


def _of_live_process(path: str) -> bool:
    found = _SCRATCH.fullmatch(path.removeprefix("temp: "))
    pid = int(found["pid"]) if found else None
    return pid is not None and pid != os.getpid() and process_alive(pid)  # ours ended: a leak
