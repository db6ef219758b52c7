"""Child processes of the tests import the checkout under test, not an installed modelport.

A child runs ``python -m tests.…``: its ``PYTHONPATH`` puts this checkout's ``src`` first
(the modelport the parent imported) and the repository root after it (for ``tests``).
Each child prints :func:`imported_line` first; the parent checks it with
:func:`assert_imports_checkout`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import modelport

MODELPORT_FILE = Path(modelport.__file__).resolve()
CHECKOUT_SRC = MODELPORT_FILE.parents[1]
REPO_ROOT = Path(__file__).resolve().parents[1]
IMPORTED = "IMPORTED "


def checkout_env(**extra: str) -> dict[str, str]:
    """The parent's environment with ``PYTHONPATH`` set to this checkout, and ``extra``."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join((str(CHECKOUT_SRC), str(REPO_ROOT))),
        **extra,
    }


def imported_line() -> str:
    """What a child prints first: the modelport it imported."""
    return f"{IMPORTED}{Path(modelport.__file__).resolve()}"


def assert_imports_checkout(line: str) -> None:
    assert line.startswith(IMPORTED), f"the child did not say which modelport it imported: {line!r}"
    assert Path(line[len(IMPORTED) :].strip()) == MODELPORT_FILE, (
        f"the child imported {line[len(IMPORTED) :].strip()}, not the checkout's {MODELPORT_FILE}"
    )


@contextmanager
def watched_child(
    module_and_args: list[str], *, cwd: Path, tmp: Path, errors: Path, timeout: float
) -> Iterator[subprocess.Popen[str]]:
    """``python -m MODULE ARGS`` of this checkout (``TMPDIR=tmp``, stderr into ``errors``),
    its first line checked. A watchdog kills it after ``timeout`` seconds (ending a readline
    that waits forever); on leaving, a child still running is killed, then reaped."""
    with errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", *module_and_args],
            cwd=cwd,
            env=checkout_env(TMPDIR=str(tmp)),  # the checkout under test, never an installed one
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    watchdog = threading.Timer(timeout, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None
        assert_imports_checkout(child.stdout.readline())
        yield child
    finally:
        watchdog.cancel()
        if child.poll() is None:  # a failed check in the block: stop the child all the same
            child.kill()
        child.wait(timeout=10)
        assert child.stdout is not None
        child.stdout.close()
