"""A backend outside modelport runs the conformance suite from its own repository: a toy
package, found through the ``modelport.backends`` entry-point group (its ``dist-info`` on
``sys.path``, as ``pip install`` leaves it), passes every test in a separate pytest run,
and the results report says so, test by test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import modelport.testing.conformance.suite as suite

TOY_BACKEND = '''
from modelport.backends.memory import MemoryBackend


class ToyBackend(MemoryBackend):
    """memory://'s behaviour under the scheme toy://."""
'''

TOY_CONFTEST = """
import modelport as mp
from modelport.testing.conformance import FAST_RETRY, PAGE_SIZE, BackendCase, never

pytest_plugins = ["modelport.testing.conformance.plugin"]


def _open(request):
    return mp.connect(f"toy://?page_size={PAGE_SIZE}", retry=FAST_RETRY)


def _set_alias(reg, name, version, alias):
    reg.backend.set_pointer(name, alias, version)


def _tamper(reg, mv):
    files = reg.backend._blobs[mv.artifact_uri]
    first = sorted(files)[0]
    files[first] += b"tampered"


def pytest_conformance_cases(config):
    return [
        BackendCase(
            id="toy",
            scheme="toy",
            open=_open,
            set_alias=_set_alias,
            tamper=_tamper,
            reopen=lambda reg: mp.Registry(reg.backend, retry=FAST_RETRY),
            place_artifact=lambda reg, source: source.as_uri(),  # the toy registers file://
            shared_across_processes=False,
            gaps={
                "test_corrupt_metadata_leaves_the_version_readable_and_writable": never(
                    "the toy keeps typed records", raises=NotImplementedError
                ),
            },
        )
    ]
"""

TOY_TESTS = """
from importlib.metadata import entry_points

import modelport as mp
from modelport.testing.conformance.suite import *  # noqa: F403


def test_toy_is_found_through_its_entry_point():
    (entry,) = entry_points(group="modelport.backends", name="toy")
    assert entry.value == "toy_backend:ToyBackend"
    assert type(mp.connect("toy://").backend).__name__ == "ToyBackend"
"""


def _install(root: Path, package: str, modules: dict[str, str], entry: str) -> None:
    """What ``pip install`` leaves: the package and its dist-info with entry points."""
    (root / f"{package}.py").write_text(modules[package], encoding="utf-8")
    dist_info = root / f"{package}-0.1.dist-info"
    dist_info.mkdir()
    name = package.replace("_", "-")
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[modelport.backends]\n{entry}\n", encoding="utf-8"
    )


def _repository(root: Path, conftest: str, tests: str) -> Path:
    """A backend's repository: a pyproject, its conftest.py and one test module."""
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n', encoding="utf-8"
    )
    (root / "tests" / "conftest.py").write_text(conftest, encoding="utf-8")
    (root / "tests" / "test_conformance.py").write_text(tests, encoding="utf-8")
    return root


def _run_pytest(
    repository: Path, site: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """``python -m pytest`` in ``repository`` (with ``site`` on ``sys.path``); its output
    and its results report."""
    report = repository / "conformance.json"
    paths = [str(site)] if site else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])}
    env.pop("MODELPORT_RACE_SCALE", None)  # the inner run uses the default scale
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         f"--conformance-report={report}"],
        cwd=repository, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    return run, json.loads(report.read_text("utf-8")) if report.exists() else None


def _suite_tests() -> set[str]:
    return {name for name in dir(suite) if name.startswith("test_")}


def test_a_third_party_backend_runs_the_suite_from_its_repository(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    _install(site, "toy_backend", {"toy_backend": TOY_BACKEND}, "toy = toy_backend:ToyBackend")
    repository = _repository(tmp_path / "toy-repo", TOY_CONFTEST, TOY_TESTS)
    run, report = _run_pytest(repository, site)
    output = run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0, output
    summary = re.search(r"(\d+) passed, 1 xfailed in ", run.stdout)
    assert summary is not None, output
    # every suite test but the gap, and the toy's own test
    assert int(summary.group(1)) == len(_suite_tests())
    expected = dict.fromkeys(_suite_tests(), "passed")
    expected["test_corrupt_metadata_leaves_the_version_readable_and_writable"] = "xfailed:never"
    assert report == {"cases": {"toy": {"scheme": "toy", "tests": expected}}}


GAPS_CONFTEST = """
import modelport as mp
from modelport.testing.conformance import BackendCase, never, notimpl, notyet

pytest_plugins = ["modelport.testing.conformance.plugin"]


def pytest_conformance_cases(config):
    return [
        BackendCase(
            id="mem",
            scheme="memory",
            open=lambda request: mp.connect("memory://"),
            set_alias=lambda reg, name, version, alias: None,
            tamper=lambda reg, mv: None,
            gaps={
                "test_fails_as_declared": notyet("waits on the SDK", raises=AssertionError),
                "test_fails_otherwise": notimpl("not written yet", raises=AssertionError),
                "test_passes_despite_its_gap": never("cannot", raises=AssertionError),
            },
        )
    ]
"""

GAPS_TESTS = """
import pytest


def test_passes(registry):
    assert registry.backend.url.scheme == "memory"


def test_fails_as_declared(case):
    assert case.id == "another"


def test_fails_otherwise(case):
    raise KeyError(case.id)


def test_passes_despite_its_gap(case):
    pass


def test_skipped(case):
    pytest.skip("not here")


def test_fails(case):
    assert case.id == "another"


@pytest.mark.parametrize("case", ["its own"])
def test_with_a_case_parameter_of_its_own(case):
    assert case == "its own"
"""


def test_a_gap_passes_only_by_failing_as_declared_and_the_report_says_how(
    tmp_path: Path,
) -> None:
    run, report = _run_pytest(_repository(tmp_path / "repo", GAPS_CONFTEST, GAPS_TESTS))
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "3 failed, 2 passed, 1 skipped, 1 xfailed" in run.stdout
    assert "[XPASS(strict)]" in run.stdout
    tests = {
        "test_passes": "passed",
        "test_fails_as_declared": "xfailed:notyet",
        "test_fails_otherwise": "failed",  # a KeyError is not the AssertionError declared
        "test_passes_despite_its_gap": "failed",
        "test_skipped": "skipped",
        "test_fails": "failed",
    }
    assert report == {"cases": {"mem": {"scheme": "memory", "tests": tests}}}
