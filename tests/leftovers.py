"""What a test session leaves behind: files in the checkout, and anything in the temp
directory. ``tests/conftest.py`` gives the session a temp directory of its own (TMPDIR),
takes a footprint when the session starts and fails the session if it grew by its end
(once, in the xdist controller).

Other processes share the checkout, so its footprint holds only what a test could have
left: untracked and ignored paths other than caches and source being written meanwhile
(``.py``, ``.md``). The temp directory is the session's alone: every entry counts but
pytest's own ``tmp_path`` folders, the processes' run folders (``modelport-tests-*``,
removed as each process ends) and ``modelport-PURPOSE-PID-…`` scratch folders of
processes still running.
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
_BOOKKEEPING = ("pytest-of-", "modelport-tests-")  # tmp_path folders; each process's run folder


def footprint() -> set[str]:
    """The checkout's extra paths and the temp directory's entries."""
    return {
        *(f"checkout: {p}" for p in _checkout_extras()),
        *(f"temp: {n}" for n in _temp_entries()),
    }


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


def _temp_entries() -> set[str]:
    """The temp directory's entries but the session's own bookkeeping."""
    try:
        names = [entry.name for entry in Path(tempfile.gettempdir()).iterdir()]
    except OSError:
        return set()
    return {name for name in names if not name.startswith(_BOOKKEEPING)}


def _of_live_process(path: str) -> bool:
    found = _SCRATCH.fullmatch(path.removeprefix("temp: "))
    pid = int(found["pid"]) if found else None
    return pid is not None and pid != os.getpid() and process_alive(pid)  # ours ended: a leak
