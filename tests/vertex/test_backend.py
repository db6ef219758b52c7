"""vertex:// beyond the conformance suite: versions made without modelport, what modelport
writes as the plain GAPIC client sees it, bad input, faults and name mapping."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.cloud.aiplatform_v1 import types

import modelport as mp
from modelport.backends.vertex.backend import VertexBackend
from modelport.backends.vertex.naming import model_id
from tests.backends.vertex_fixtures import VertexRig

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)


@pytest.fixture
def rig(vertex_rig: VertexRig) -> VertexRig:
    vertex_rig.service.faults.reset()
    return vertex_rig


@pytest.fixture
def registry(rig: VertexRig) -> mp.Registry:
    return mp.connect(rig.url(rig.new_bucket()), retry=FAST_RETRY)


def _backend(reg: mp.Registry) -> VertexBackend:
    assert isinstance(reg.backend, VertexBackend)
    return reg.backend


def test_a_version_uploaded_without_modelport_resolves(
    rig: VertexRig, registry: mp.Registry, name: str
) -> None:
    client = rig.service.client()
    parent = _backend(registry).config.parent
    first = types.UploadModelRequest(
        parent=parent,
        model_id=name,
        model=types.Model(display_name=name, artifact_uri="gs://elsewhere/v1"),
    )
    model = client.upload_model(request=first).result().model
    second = types.UploadModelRequest(
        parent=parent,
        parent_model=model,
        model=types.Model(
            display_name=name,
            artifact_uri="gs://elsewhere/v2",
            version_aliases=["production"],
            version_description="trained by a pipeline",
            labels={"team": "fraud"},
        ),
    )
    client.upload_model(request=second).result()
    mv = registry.resolve(f"{name}@production")
    assert (mv.version, mv.stage, mv.approval) == ("2", "production", mp.Approval.PENDING)
    assert (mv.artifact_uri, mv.digest) == ("gs://elsewhere/v2", None)
    assert (mv.description, mv.tags) == ("trained by a pipeline", {"team": "fraud"})
    assert registry.resolve(f"{name}/1").stage == "development"
    assert [e.kind for e in registry.history(f"{name}/2")] == [mp.EventKind.REGISTERED]


def test_what_modelport_writes_reads_back_through_the_plain_client(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    mv = registry.register(name, model_dir, description="first cut")
    registry.approve(mv.ref, reason="QA passed")
    registry.transition(mv.ref, "production")
    registry.set_alias(mv.ref, "champion")
    native = rig.service.client().get_model(name=mv.native)
    assert sorted(native.version_aliases) == ["champion", "default", "production"]
    assert native.labels["mp-approval"] == "approved"
    assert native.version_description == "first cut"
    assert native.artifact_uri == mv.artifact_uri
    files = rig.gcs.client().list_blobs(
        mv.artifact_uri.split("/")[2], prefix=native.artifact_uri.split("/", 3)[3]
    )
    assert sorted(b.name.rsplit("/", 1)[1] for b in files) == ["MLmodel", "w.bin"]


def test_a_name_vertex_cannot_hold_gets_a_derived_id(
    registry: mp.Registry, model_dir: Path
) -> None:
    name = "Fraud.Detector_v2"
    assert model_id(name).startswith("fraud-detector-v2--")
    registry.register(name, model_dir)
    assert registry.resolve(f"{name}/1").name == name
    assert name in set(registry.models())


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("vertex://Bad_Project/us-central1", "project"),
        ("vertex://my-project/nowhere", "location"),
        ("vertex://my-project/us-central1?bucket=s3://b", "bucket"),
        ("vertex://my-project/us-central1?transport=http", "transport"),
        ("vertex://my-project", "url"),
    ],
)
def test_bad_urls_are_refused_naming_the_part(url: str, field: str) -> None:
    with pytest.raises(mp.InvalidURLError) as caught:
        mp.connect(url)
    assert caught.value.field == field


@pytest.mark.parametrize("alias", ["default", "x", "ends-"])
def test_aliases_vertex_cannot_hold_are_refused_before_any_call(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path, alias: str
) -> None:
    mv = registry.register(name, model_dir)
    before = sum(rig.service.calls.values())
    with pytest.raises(mp.InvalidInputError):
        registry.set_alias(mv.ref, alias)
    assert sum(rig.service.calls.values()) == before


def test_transient_faults_lose_and_duplicate_nothing(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    faults = rig.service.faults
    faults.throttle_rate = faults.error_rate = 0.15
    faults.after_effect = True  # half the faults strike after the call took effect
    for _ in range(3):
        registry.register(name, model_dir)
    registry.approve(f"{name}/2")
    registry.transition(f"{name}/2", "production")
    injected = sum(faults.injected.values())
    faults.reset()
    assert [mv.version for mv in registry.versions(name)] == ["1", "2", "3"]
    assert registry.resolve(f"{name}@production").version == "2"
    assert injected > 0


def test_a_lost_upload_answer_creates_one_version(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    rig.service.faults.methods = {"UploadModel"}
    rig.service.faults.fail_next(1, grpc.StatusCode.UNAVAILABLE, after_effect=True)
    registry.register(name, model_dir)
    assert [mv.version for mv in registry.versions(name)] == ["1"]


def test_an_upload_still_running_is_awaited(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    rig.service.lro_polls = 2
    try:
        assert registry.register(name, model_dir).version == "1"
    finally:
        rig.service.lro_polls = 0


def test_a_record_read_again_is_a_fresh_copy_of_what_the_service_holds(
    registry: mp.Registry, name: str, model_dir: Path
) -> None:
    """Reads of an unchanged version are translated once: what a caller does to the dicts
    of its record must not reach the next read, and a change on the service must."""
    mv = registry.register(name, model_dir, metrics={"f1": 0.8}, tags={"team": "a"})
    first = registry.resolve(mv.ref)
    first.metrics["f1"] = 0.0
    first.tags["team"] = "changed by the caller"
    again = registry.resolve(mv.ref)
    assert (again.metrics, again.tags["team"]) == ({"f1": 0.8}, "a")
    registry.approve(mv.ref)
    assert registry.resolve(mv.ref).approval is mp.Approval.APPROVED
