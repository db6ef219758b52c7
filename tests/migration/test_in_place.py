"""Migration out of MLflow with local artifacts: each version is uploaded straight from the
stored files (no staged copy), hashed beside the upload, and the stored files are never
written or removed; a stored file that lost its digest fails its version and leaves no
upload behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.mlflow.backend import MlflowBackend
from modelport.migration import Outcome, migrate
from tests.backends.mlflow_fixtures import copy_db
from tests.backends.sagemaker_fixtures import SageMakerRig
from tests.migration.conftest import FAST_RETRY, populate, snapshot

MODELS = {"fraud": 4, "churn": 2}


@pytest.fixture
def mlflow_source(
    mlflow_template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[mp.Registry]:
    monkeypatch.chdir(tmp_path)  # MLflow keeps local artifacts in ./mlruns
    db = copy_db(mlflow_template_db, tmp_path / "source.db")
    with mp.connect(f"mlflow+sqlite:///{db}", retry=FAST_RETRY) as reg:
        populate(reg, tmp_path / "artifacts", MODELS)
        yield reg


def _stored_files(reg: mp.Registry) -> dict[str, bytes]:
    """Every file MLflow keeps for the source's versions, by path."""
    found = {}
    for name in MODELS:
        for mv in reg.versions(name):
            folder = reg.local_files(mv)
            assert folder is not None  # a single file is registered in a folder too
            found |= {str(f): f.read_bytes() for f in folder.rglob("*") if f.is_file()}
    return found


def _fetches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The artifact URIs MLflow is asked to copy out, from now on."""
    fetched: list[str] = []
    fetch = MlflowBackend.fetch_artifact

    def counted(self: MlflowBackend, uri: str, dest: Path) -> None:
        fetched.append(uri)
        fetch(self, uri, dest)

    monkeypatch.setattr(MlflowBackend, "fetch_artifact", counted)
    return fetched


def test_folders_are_read_in_place_and_kept(
    mlflow_source: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _stored_files(mlflow_source)
    assert len(stored) == 11  # two files a version, one for fraud/3 (a single file)
    fetched = _fetches(monkeypatch)
    with mp.connect("memory://", retry=FAST_RETRY) as destination:
        report = migrate(mlflow_source, destination, workers=2)
        assert report.ok, report.summary()
        assert snapshot(destination) == snapshot(mlflow_source)
    assert fetched == []  # no copy was made
    assert _stored_files(mlflow_source) == stored  # nothing written, nothing removed


def test_a_stored_file_with_other_bytes_fails_its_version_and_leaves_no_upload(
    mlflow_source: mp.Registry, sagemaker_rig: SageMakerRig, tmp_path: Path
) -> None:
    damaged = mlflow_source.local_files(mlflow_source.resolve("fraud/2"))
    assert damaged is not None
    weights = damaged / "weights" / "w.bin"
    original = weights.read_bytes()
    weights.write_bytes(bytes([original[0] ^ 1]) + original[1:])  # same size, other bytes
    prefix = f"in-place-{uuid.uuid4().hex[:8]}"
    url = sagemaker_rig.url(prefix=prefix)
    with mp.connect(url, retry=FAST_RETRY) as destination:
        report = migrate(mlflow_source, destination, models=["fraud"])
        outcomes = {r.ref: r.outcome for r in report.results}
        assert outcomes["fraud/2"] is Outcome.FAILED
        assert "IntegrityError" in (report.failures()[0].error or "")
        assert [mv.version for mv in destination.versions("fraud")] == ["1"]
        stored_after_failure = _archives(sagemaker_rig, prefix)

        weights.write_bytes(original)
        assert migrate(mlflow_source, destination, models=["fraud"]).ok
        assert snapshot(destination, ["fraud"]) == snapshot(mlflow_source, ["fraud"])
        second = destination.resolve("fraud/2").artifact_uri
        assert second.startswith(f"s3://{sagemaker_rig.bucket}/{prefix}/")
        assert second.split("/", 3)[3] not in stored_after_failure  # the bad upload was removed
        copied = destination.download("fraud/2", tmp_path / "copy")
        assert (copied / "weights" / "w.bin").read_bytes() == original


def _archives(rig: SageMakerRig, prefix: str) -> set[str]:
    listed = rig.s3.client().list_objects_v2(Bucket=rig.bucket, Prefix=f"{prefix}/")
    return {o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".tar.gz")}
