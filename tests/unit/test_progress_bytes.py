"""Progress moves by bytes while an artifact moves, and adds up to the artifact's size."""

from __future__ import annotations

import filecmp
import io
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import modelport as mp
from modelport import progress
from modelport.backends.kit.sent import counting_reads, running_total
from modelport.errors import AuthenticationError
from modelport.testing.azureml import AzureMLService
from modelport.testing.conformance import FAST_RETRY
from tests.backends.mlflow_fixtures import copy_db
from tests.backends.sagemaker_fixtures import SageMakerRig
from tests.backends.vertex_fixtures import VertexRig

MB = 1_000_000
FILES = 8
OVER_MULTIPART = 9 * MB  # google-cloud-storage sends a file above 8 MiB as a resumable upload


class Recording:
    """A sink that keeps every byte advance made before the version was done."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.done_bytes = 0  # bytes advanced after the version was reported done
        self.versions = 0
        self.expected: list[int] = []  # bytes expected, call by call
        self.expected_before_bytes = 0  # of which told before any byte moved
        self._lock = threading.Lock()

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        del versions
        with self._lock:
            if nbytes:
                self.expected.append(nbytes)
                if not self.steps:
                    self.expected_before_bytes += nbytes

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            if nbytes and self.versions:
                self.done_bytes += nbytes
            elif nbytes:
                self.steps.append(nbytes)
            self.versions += versions


@pytest.fixture
def big_model(tmp_path: Path) -> Path:
    path = tmp_path / "big"
    path.mkdir()
    for i in range(FILES):
        (path / f"shard-{i}.bin").write_bytes(bytes([i]) * MB)
    return path


@pytest.fixture
def fast_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "SAMPLE_SECONDS", 0.002)


def assert_moved_by_bytes(sink: Recording, size: int) -> None:
    assert len(sink.steps) >= 3, sink.steps  # several advances, not one jump
    assert all(step > 0 for step in sink.steps)  # the count only grows
    assert sum(sink.steps) == size
    assert sink.done_bytes == 0
    assert sink.versions == 1


def slow_link(fetch: Callable[[str, Path], None]) -> Callable[[str, Path], None]:
    """``fetch`` as over a slow network: the files land in ``dest`` 256 kB at a time."""

    def fetch_slowly(uri: str, dest: Path) -> None:
        whole = dest.parent / f"{dest.name}.whole"
        whole.mkdir()
        try:
            fetch(uri, whole)
            for file in sorted(whole.iterdir()):
                with file.open("rb") as source, (dest / file.name).open("wb") as target:
                    while chunk := source.read(256_000):
                        target.write(chunk)
                        target.flush()
                        time.sleep(0.002)
        finally:
            shutil.rmtree(whole)

    return fetch_slowly


def test_a_memory_download_advances_by_bytes_as_they_land(
    big_model: Path, tmp_path: Path, fast_samples: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = mp.connect("memory://")
    mv = reg.register("big", big_model)
    monkeypatch.setattr(reg.backend, "fetch_artifact", slow_link(reg.backend.fetch_artifact))
    sink = Recording()
    reg.download(mv.ref, tmp_path / "out", progress=sink)
    assert_moved_by_bytes(sink, FILES * MB)


def test_a_memory_register_advances_by_bytes_as_they_are_stored(big_model: Path) -> None:
    sink = Recording()
    mp.connect("memory://").register("big", big_model, progress=sink)
    assert_moved_by_bytes(sink, FILES * MB)


def test_an_mlflow_download_advances_by_bytes_as_they_land(
    big_model: Path, tmp_path: Path, mlflow_template_db: Path, fast_samples: None
) -> None:
    db = copy_db(mlflow_template_db, tmp_path / "mlflow.db")
    with mp.connect(f"mlflow+sqlite:///{db}", retry=FAST_RETRY) as reg:
        mv = reg.register("big", big_model)
        sink = Recording()
        reg.download(mv.ref, tmp_path / "out", progress=sink)
    assert_moved_by_bytes(sink, FILES * MB)


def test_an_mlflow_register_advances_by_bytes_as_they_are_copied(
    big_model: Path,
    tmp_path: Path,
    mlflow_template_db: Path,
    fast_samples: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    def copy_slowly(
        self: LocalArtifactRepository, local_dir: str, artifact_path: str | None = None
    ) -> None:
        """MLflow's copy into its local store, as on a slow disk: a file at a time."""
        for file in sorted(Path(local_dir).rglob("*")):
            if file.is_file():
                parent = file.parent.relative_to(local_dir).as_posix()
                within = "/".join(p for p in (artifact_path, parent) if p and p != ".")
                self.log_artifact(str(file), within or None)
                time.sleep(0.01)

    monkeypatch.setattr(LocalArtifactRepository, "log_artifacts", copy_slowly)
    monkeypatch.chdir(tmp_path)  # MLflow keeps local artifacts in ./mlruns
    db = copy_db(mlflow_template_db, tmp_path / "mlflow.db")
    sink = Recording()
    with mp.connect(f"mlflow+sqlite:///{db}", retry=FAST_RETRY) as reg:
        mv = reg.register("big", big_model, progress=sink)
        assert reg.download(mv.ref, tmp_path / "out").exists()
    assert_moved_by_bytes(sink, FILES * MB)


def test_a_byte_count_never_passes_the_size_and_settles_on_it() -> None:
    sink = Recording()
    count = progress.ByteCount(sink, limit=100)
    count(60)
    count(60)  # a retry sending again: capped at the size
    count.reached(30)  # a sample below the high-water mark: nothing
    count.settle(100)
    assert sink.steps == [60, 40]


def register_reports_bytes(url: str, name: str, artifact: Path) -> mp.Registry:
    """``artifact`` registered at ``url``, its progress by bytes checked; the registry open."""
    reg = mp.connect(url, retry=FAST_RETRY)
    sink = Recording()
    reg.register(name, artifact, progress=sink)
    assert_moved_by_bytes(sink, progress.tree_size(artifact))
    return reg


def download_is_sized(reg: mp.Registry, ref: str, size: int, dest: Path) -> Path:
    """``ref`` downloaded into ``dest`` with its size told to the bar before any byte."""
    sink = Recording()
    out = reg.download(ref, dest, progress=sink)
    assert_sized_ahead(sink, size, exact=True)
    return out


def test_an_azureml_workspace_register_and_download_move_by_bytes(
    big_model: Path, azureml_rig: AzureMLService, name: str, tmp_path: Path
) -> None:
    with register_reports_bytes(azureml_rig.url(), name, big_model) as reg:
        download_is_sized(reg, f"{name}/1", FILES * MB, tmp_path / "out")


def test_an_azureml_registry_register_and_download_move_by_bytes(
    big_model: Path, azureml_rig: AzureMLService, name: str, tmp_path: Path
) -> None:
    with register_reports_bytes(azureml_rig.registry_url(), name, big_model) as reg:
        download_is_sized(reg, f"{name}/1", FILES * MB, tmp_path / "out")


def test_a_vertex_register_advances_by_bytes_multipart_and_resumable(
    big_model: Path, vertex_rig: VertexRig, name: str, tmp_path: Path
) -> None:
    (big_model / "large.bin").write_bytes(bytes(range(256)) * (OVER_MULTIPART // 256))
    reg = register_reports_bytes(vertex_rig.url(vertex_rig.new_bucket()), name, big_model)
    with reg:
        out = download_is_sized(reg, f"{name}/1", progress.tree_size(big_model), tmp_path / "out")
    files = sorted(p.name for p in big_model.iterdir())
    assert filecmp.cmpfiles(big_model, out, files, shallow=False)[0] == files


def test_a_blob_hook_tells_each_rise_of_its_running_total_once() -> None:
    told: list[int] = []
    hook = running_total(told.append)
    assert hook is not None
    for current in (100, 250, 0, 120, 250, 300):  # the SDK starts the blob over at 0
        hook(current, 300)
    assert told == [100, 150, 50]
    assert running_total(None) is None


def test_a_counted_file_tells_bytes_read_past_the_furthest_point_once() -> None:
    told: list[int] = []
    file = io.BytesIO(b"x" * 100)
    reader = counting_reads(file, told.append)
    assert reader.read(60) == b"x" * 60
    reader.seek(20)  # a resumable upload re-sends a chunk from its last confirmed byte
    assert reader.tell() == 20
    assert len(reader.read()) == 80
    assert told == [60, 40]
    assert counting_reads(file, None) is file


def assert_sized_ahead(sink: Recording, size: int, *, exact: bool) -> None:
    """The bar knew the bytes to expect before the first arrived (an ETA), exactly or as
    an estimate within 1%, and its total ends on the size."""
    assert sink.expected_before_bytes > 0
    if exact:
        assert sink.expected == [size]
    else:
        assert abs(sink.expected_before_bytes - size) <= size // 100
    assert sum(sink.expected) == size


def test_a_memory_download_knows_its_size_ahead(
    big_model: Path, tmp_path: Path, fast_samples: None
) -> None:
    reg = mp.connect("memory://")
    mv = reg.register("big", big_model)
    sink = Recording()
    reg.download(mv.ref, tmp_path / "out", progress=sink)
    assert_sized_ahead(sink, FILES * MB, exact=True)


def test_an_mlflow_download_knows_its_size_ahead(
    big_model: Path, tmp_path: Path, mlflow_template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow keeps local artifacts in ./mlruns
    db = copy_db(mlflow_template_db, tmp_path / "mlflow.db")
    with mp.connect(f"mlflow+sqlite:///{db}", retry=FAST_RETRY) as reg:
        mv = reg.register("big", big_model)
        sink = Recording()
        reg.download(mv.ref, progress=sink)  # into the artifact cache: sized the same way
        assert_sized_ahead(sink, FILES * MB, exact=True)


def test_a_sagemaker_download_sizes_its_archive_ahead(
    big_model: Path, tmp_path: Path, sagemaker_rig: SageMakerRig
) -> None:
    with mp.connect(sagemaker_rig.url(prefix=f"sized-{tmp_path.name}"), retry=FAST_RETRY) as reg:
        mv = reg.register("big", big_model)
        sink = Recording()
        reg.download(mv.ref, tmp_path / "out", progress=sink)
    assert_sized_ahead(sink, FILES * MB, exact=False)  # the archive's size, then the files'


def test_a_download_goes_on_when_the_size_cannot_be_read(
    big_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = mp.connect("memory://", retry=FAST_RETRY)
    mv = reg.register("big", big_model)

    def refused(uri: str) -> int | None:
        raise AuthenticationError(f"no listing of {uri}")

    monkeypatch.setattr(reg.backend, "artifact_size", refused)
    sink = Recording()
    out = reg.download(mv.ref, tmp_path / "out", progress=sink)
    assert sink.expected == []
    assert sum(sink.steps) == FILES * MB
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".bin") == sorted(
        p.name for p in big_model.iterdir()
    )
