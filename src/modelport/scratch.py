"""Scratch folders in the temp directory that a killed process does not leave forever.

A process killed with SIGKILL runs no cleanup, so every scratch folder that can hold an
artifact is named ``modelport-PURPOSE-PID-XXXXXXXX``: before making one, modelport
removes those whose process no longer runs. (A PID reused by a live process keeps its
folder until that process ends too: the sweep errs towards keeping.)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# What each scratch folder is for: a migration's staging, a backend's upload, a digest.
PURPOSES = ("migrate", "upload", "digest")
_SCRATCH = re.compile(rf"modelport-(?:{'|'.join(PURPOSES)})-(?P<pid>\d+)-[0-9a-z_]+")


def make_scratch_dir(purpose: str) -> Path:
    """A new folder of this process in the temp directory, after sweeping dead ones.
    The caller removes it."""
    assert purpose in PURPOSES, purpose
    root = Path(tempfile.gettempdir())
    sweep_dead_scratch(root)
    return Path(tempfile.mkdtemp(prefix=f"modelport-{purpose}-{os.getpid()}-", dir=root))


@contextlib.contextmanager
def scratch_dir(purpose: str) -> Iterator[Path]:
    """`make_scratch_dir`, removed when the block ends."""
    path = make_scratch_dir(purpose)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_dead_scratch(root: Path) -> None:
    """Remove the scratch folders in ``root`` of processes that no longer run."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            found = _SCRATCH.fullmatch(entry.name)
            if (
                found
                and entry.is_dir(follow_symlinks=False)
                and not process_alive(int(found["pid"]))
            ):
                shutil.rmtree(entry.path, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (one of another user's counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True
