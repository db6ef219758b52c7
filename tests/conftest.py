"""Loads the conformance suite's plugin, which runs its tests over the backend cases of
``tests/backends/*_case.py`` (and provides the ``name`` and ``model_dir`` fixtures every
suite uses), and the per-backend fixture plugins (``tests/backends/*_fixtures.py``):
servers and emulators that tests start on 127.0.0.1 and stop afterwards."""

from __future__ import annotations

import os
import pkgutil
import shutil
import sys
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

import tests.backends
from modelport.testing.conformance import BackendCase
from tests import leftovers

# The session's own temp directory: whatever the tests, the library under test and the
# processes they start put in "the temp directory" lands here, so what is left at the end
# is theirs alone (tests/leftovers.py names it) and nothing reaches the machine's. Made by
# the first process (the xdist controller); its workers inherit it through TMPDIR.
_SESSION_TMP: str | None = None
if "PYTEST_XDIST_WORKER" not in os.environ:
    _SESSION_TMP = tempfile.mkdtemp(prefix="modelport-session-")
    # Open like the machine's /tmp (sticky, world-writable): PostgreSQL runs as another user.
    os.chmod(_SESSION_TMP, 0o1777)
    os.environ["TMPDIR"] = tempfile.tempdir = _SESSION_TMP

# A folder of this run, removed at the end: Hypothesis keeps its example database and caches
# there, not in a .hypothesis/ of the checkout (each xdist worker has its own).
_RUN_FOLDER = tempfile.mkdtemp(prefix="modelport-tests-")
set_hypothesis_home_dir(_RUN_FOLDER)


# The artifact cache of every test that does not choose its own: never the user's.
os.environ["MODELPORT_CACHE"] = os.path.join(_RUN_FOLDER, "artifact-cache")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_RUN_FOLDER, ignore_errors=True)
    if _SESSION_TMP is not None:
        shutil.rmtree(_SESSION_TMP, ignore_errors=True)


# The session fails if it leaves files in the checkout or anything in its temp directory but
# scratch folders of live processes (tests/leftovers.py); checked once, by the controller.
_FOOTPRINT = pytest.StashKey[set[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        session.config.stash[_FOOTPRINT] = leftovers.footprint()


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(_FOOTPRINT, None)
    message = None if before is None else leftovers.grown_message(before)
    if message is not None:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "files left behind", red=True)
            reporter.line(f"ERROR: {message}", red=True)
        else:
            print(f"ERROR: {message}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


pytest_plugins = [
    "modelport.testing.conformance.plugin",
    *(
        f"tests.backends.{info.name}"
        for info in pkgutil.iter_modules(tests.backends.__path__)
        if info.name.endswith("_fixtures")
    ),
]


def pytest_conformance_cases(config: pytest.Config) -> list[BackendCase]:
    return tests.backends.discover_cases()
