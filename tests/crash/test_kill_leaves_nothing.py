"""SIGKILL a download, a register and a migration at a point where each holds staged files,
then run the operation once more: it completes, and nothing of the killed run is left.

Each operation runs in a child process (``tests.crash.crash_child``) whose temp directory
is a folder of the test, paused right after a chosen function so that its staging folder,
upload folder or migration folder holds files when it is killed. The rerun, in this
process with the same temp directory, must remove them (their process is dead) and leave
the registry as one clean run would: no half-written version, the same history.
"""

from __future__ import annotations

import os
import signal
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

import modelport as mp
from modelport.destinations import read_marker
from modelport.digest import digest_path
from modelport.errors import ModelNotFoundError
from modelport.migration import diff, migrate
from modelport.testing.azureml import AzureMLService
from tests.backends.mlflow_fixtures import copy_db
from tests.backends.sagemaker_fixtures import SageMakerRig
from tests.backends.vertex_fixtures import VertexRig
from tests.crash.crash_child import PAUSED
from tests.migration.conftest import history_shape, register_versions, write_artifact
from tests.migration.filebackend import SCHEME
from tests.migration.kill_child import open_registry
from tests.subprocesses import watched_child

CHILD_TIMEOUT = 60.0  # seconds until a child that never pauses is killed all the same
MAX_CHILD_LINES = 20  # what a child may print before it pauses
ARTIFACT_BYTES = 256 * 1024
STAGING_NAMES = (".partial-", ".old-")

# Where each operation pauses, per backend: right after its staging holds the artifact.
DOWNLOAD_PAUSE = "modelport.registry:write_marker"  # staged and verified, not yet published
REGISTER_PAUSE = {  # where to kill a register, and whether it has an upload folder then
    "mlflow-sqlite": ("modelport.backends.mlflow.backend:link_tree", True),  # folder filled
    # mid-upload: model.tar.gz is packed as it is sent, so there is no folder to leave
    "sagemaker-rig": ("modelport.artifacts:_tar_member", False),
    # the source laid out in the upload folder, no object written yet
    "vertex-rig": ("modelport.backends.vertex.storage:materialize", True),
    "azureml-rig": ("modelport.backends.azureml.storage:materialize", True),
}
MIGRATE_PAUSE = "modelport.migration.apply:Migration._create"  # next versions fetched ahead


@dataclass(frozen=True)
class Scene:
    """A test's registry and folders: ``workdir`` is the cwd of the child and of the rerun
    (MLflow puts artifacts beside it), ``tmp`` the temp directory of both."""

    spec: str
    workdir: Path
    tmp: Path

    def registry(self) -> mp.Registry:
        return open_registry(self.spec)


@pytest.fixture(params=list(REGISTER_PAUSE))
def scene(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scene:
    workdir, tmp = tmp_path / "work", tmp_path / "tmp"
    workdir.mkdir()
    tmp.mkdir()
    if request.param == "mlflow-sqlite":
        template: Path = request.getfixturevalue("mlflow_template_db")
        spec = f"mlflow+sqlite:///{copy_db(template, workdir / 'registry.db')}"
    elif request.param == "sagemaker-rig":
        rig: SageMakerRig = request.getfixturevalue("sagemaker_rig")
        spec = rig.url()
    elif request.param == "vertex-rig":
        vertex: VertexRig = request.getfixturevalue("vertex_rig")
        spec = vertex.url(vertex.new_bucket())
    else:
        azureml: AzureMLService = request.getfixturevalue("azureml_rig")
        spec = azureml.url()
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # the rerun's scratch goes there too
    return Scene(spec, workdir, tmp)


def _backend(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["scene"])


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # the cloud rigs are shared by the session


def _artifact(folder: Path, seed: int) -> Path:
    return write_artifact(folder, seed + 1, ARTIFACT_BYTES)  # indexes 1 and 2 give folders


def test_a_killed_download_leaves_no_staging(scene: Scene) -> None:
    reg = scene.registry()
    name = _unique("crash-download")
    old = reg.register(name, _artifact(scene.workdir / "v1", 0))
    new = reg.register(name, _artifact(scene.workdir / "v2", 1))
    dest = scene.workdir / "dest"
    reg.download(old.ref, dest)

    pid = _kill_when_paused(scene, DOWNLOAD_PAUSE, "download", scene.spec, new.ref, str(dest))
    assert _of(pid, dest.parent), "the child was killed before it staged anything"
    assert _marked_digest(dest) == old.digest == digest_path(dest)  # as it was

    reg.download(new.ref, dest)
    assert _marked_digest(dest) == new.digest == digest_path(dest)
    assert [n for n in os.listdir(dest.parent) if any(s in n for s in STAGING_NAMES)] == []
    _assert_no_scratch(scene.tmp)
    assert _version_count(reg, name) == 2


def test_a_killed_register_leaves_no_upload_folder_and_no_version(
    scene: Scene, request: pytest.FixtureRequest
) -> None:
    reg = scene.registry()
    source = _artifact(scene.workdir / "artifact", 0)
    clean = reg.register(_unique("crash-clean"), source, actor="crash-test")
    name = _unique("crash-register")

    pause, has_folder = REGISTER_PAUSE[_backend(request)]
    pid = _kill_when_paused(scene, pause, "register", scene.spec, name, str(source))
    assert bool(_of(pid, scene.tmp)) == has_folder, "killed before it filled an upload folder"
    assert _version_count(reg, name) == 0

    again = reg.register(name, source, actor="crash-test")
    assert (again.version, again.digest) == (clean.version, clean.digest)
    assert _version_count(reg, name) == 1
    assert history_shape(reg, again.ref) == history_shape(reg, clean.ref)
    _assert_no_scratch(scene.tmp)


# Migrations killed into the Vertex and Azure ML rigs (their scratch too) are
# tests/migration/test_kill_into_rigs.py's; here the two other destinations.
@pytest.mark.parametrize("scene", ["mlflow-sqlite", "sagemaker-rig"], indirect=True)
def test_a_killed_migration_leaves_no_staging_and_resumes(scene: Scene) -> None:
    source_spec = f"{SCHEME}{scene.workdir / 'source.pkl'}"
    source = open_registry(source_spec)
    clean, crashed = _unique("crash-clean"), _unique("crash-migrate")
    for name in (clean, crashed):  # the same two versions under two names
        register_versions(source, name, 2, scene.workdir / name, size=ARTIFACT_BYTES)
        source.approve(f"{name}/1", reason="QA passed", actor="alice")
        source.transition(f"{name}/1", "production", reason="release 1", actor="ci")
    dst = scene.registry()
    assert migrate(source, dst, models=[clean], workers=2, progress=False).ok

    pid = _kill_when_paused(scene, MIGRATE_PAUSE, "migrate", source_spec, scene.spec, crashed)
    assert _of(pid, scene.tmp), "the child was killed before it staged anything"
    assert _version_count(dst, crashed) < 2

    report = migrate(source, dst, models=[crashed], workers=2, progress=False)
    assert report.ok, report.summary()
    _assert_no_scratch(scene.tmp)
    assert _copies(dst, crashed) == _copies(dst, clean)
    assert diff(source, dst, models=[crashed]).ok


# -- the child ------------------------------------------------------------------------


def _kill_when_paused(scene: Scene, pause_after: str, *args: str) -> int:
    """Run ``tests.crash.crash_child`` until it pauses, SIGKILL it, return its PID."""
    errors = scene.workdir / f"child-{args[0]}.err"
    command = ["tests.crash.crash_child", "--pause-after", pause_after, *args]
    with watched_child(
        command, cwd=scene.workdir, tmp=scene.tmp, errors=errors, timeout=CHILD_TIMEOUT
    ) as child:
        assert child.stdout is not None
        said = _lines_until(PAUSED, child.stdout)
        paused = said[-1:] == [PAUSED]
        if paused:
            os.kill(child.pid, signal.SIGKILL)
    assert paused, f"the child did not pause: {said}\n{errors.read_text()[-3000:]}"
    assert child.returncode == -signal.SIGKILL
    return child.pid


def _lines_until(wanted: str, stream: IO[str]) -> list[str]:
    """The lines read up to ``wanted`` (bounded in count; the watchdog bounds the time)."""
    said: list[str] = []
    while len(said) < MAX_CHILD_LINES and (line := stream.readline()):
        said.append(line.strip())
        if said[-1] == wanted:
            break
    return said


# -- checks ---------------------------------------------------------------------------


def _of(pid: int, folder: Path) -> list[str]:
    """The entries of ``folder`` that carry ``pid`` in their name (modelport's staging and
    scratch folders do)."""
    return sorted(name for name in os.listdir(folder) if f"-{pid}-" in name)


def _assert_no_scratch(tmp: Path) -> None:
    left = [n for n in os.listdir(tmp) if n.startswith("modelport-")]
    assert left == [], f"scratch folders left in the temp directory: {left}"


def _marked_digest(dest: Path) -> str | None:
    marker = read_marker(dest)
    return None if marker is None else str(marker["digest"])


def _version_count(reg: mp.Registry, name: str) -> int:
    try:
        return len(list(reg.versions(name)))
    except ModelNotFoundError:
        return 0


def _copies(reg: mp.Registry, name: str) -> list[tuple[object, ...]]:
    """What a migration decides about each copy, whatever the model's name."""
    return [
        (
            mv.version,
            mv.digest,
            mv.stage,
            mv.approval,
            mv.metrics,
            mv.params,
            history_shape(reg, mv.ref),
        )
        for mv in sorted(reg.versions(name), key=lambda mv: int(mv.version))
    ]
