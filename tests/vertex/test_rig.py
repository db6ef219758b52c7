"""The Vertex rig behaves like the service for the plain GAPIC client (no modelport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1 import types
from google.protobuf import field_mask_pb2

from modelport.testing.vertex import VertexRegistryService
from modelport.testing.vertex.grpc_server import unknown_fields


@pytest.fixture(scope="module")
def service() -> Iterator[VertexRegistryService]:
    with VertexRegistryService() as running:
        yield running


@pytest.fixture
def rig(service: VertexRegistryService) -> VertexRegistryService:
    service.reset()
    service.lro_polls = 0
    return service


def _parent(rig: VertexRegistryService) -> str:
    return f"projects/{rig.project}/locations/{rig.location}"


def _upload(client: Any, rig: VertexRegistryService, **request: Any) -> types.UploadModelResponse:
    model = request.pop("model", types.Model(display_name="fraud"))
    full = types.UploadModelRequest(parent=_parent(rig), model=model, **request)
    return client.upload_model(request=full, retry=None, timeout=10).result(timeout=10)


def test_versions_count_up_and_default_stays_on_the_first(rig: VertexRegistryService) -> None:
    client = rig.client()
    first = _upload(client, rig, model_id="fraud")
    second = _upload(client, rig, parent_model=first.model)
    assert (first.model_version_id, second.model_version_id) == ("1", "2")
    assert client.get_model(name=first.model, retry=None).version_id == "1"
    assert list(client.get_model(name=f"{first.model}@1", retry=None).version_aliases) == [
        "default"
    ]


def test_an_unfinished_upload_is_polled_until_done(rig: VertexRegistryService) -> None:
    rig.lro_polls = 3
    client = rig.client()
    request = types.UploadModelRequest(
        parent=_parent(rig), model_id="slow", model=types.Model(display_name="slow")
    )
    operation = client.upload_model(request=request, retry=None, timeout=10)
    assert not operation.done(retry=None)
    with pytest.raises(exceptions.NotFound):
        client.get_model(name=f"{_parent(rig)}/models/slow", retry=None)
    assert operation.result(timeout=10).model_version_id == "1"
    assert rig.calls["GetOperation"] >= 3


def test_aliases_merge_move_and_refuse_removing_default(rig: VertexRegistryService) -> None:
    client = rig.client()
    model = _upload(client, rig, model_id="fraud").model
    _upload(client, rig, parent_model=model)
    client.merge_version_aliases(name=f"{model}@1", version_aliases=["champion"], retry=None)
    moved = client.merge_version_aliases(
        name=f"{model}@2", version_aliases=["champion"], retry=None
    )
    assert list(moved.version_aliases) == ["champion"]
    assert client.get_model(name=f"{model}@champion", retry=None).version_id == "2"
    gone = client.merge_version_aliases(
        name=f"{model}@2", version_aliases=["-champion"], retry=None
    )
    assert list(gone.version_aliases) == []
    with pytest.raises(exceptions.InvalidArgument, match="default"):
        client.merge_version_aliases(name=f"{model}@1", version_aliases=["-default"], retry=None)
    with pytest.raises(exceptions.InvalidArgument, match="alias"):
        client.merge_version_aliases(name=f"{model}@1", version_aliases=["Bad_"], retry=None)


def test_update_needs_a_mask_and_a_fresh_etag(rig: VertexRegistryService) -> None:
    client = rig.client()
    model = _upload(client, rig, model_id="fraud").model
    read = client.get_model(name=f"{model}@1", retry=None)
    with pytest.raises(exceptions.InvalidArgument, match="update_mask"):
        client.update_model(model=types.Model(name=f"{model}@1"), retry=None)
    updated = client.update_model(
        model=types.Model(name=f"{model}@1", labels={"stage": "staging"}, etag=read.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
        retry=None,
    )
    assert dict(updated.labels) == {"stage": "staging"}
    with pytest.raises(exceptions.Aborted, match="etag"):
        client.update_model(
            model=types.Model(name=f"{model}@1", labels={}, etag=read.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
            retry=None,
        )
    with pytest.raises(exceptions.InvalidArgument, match="display_name"):
        client.update_model(
            model=types.Model(name=f"{model}@1", display_name="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
            retry=None,
        )


@pytest.mark.parametrize(
    ("labels", "problem"),
    [({"Upper": "x"}, "key"), ({"k": "UPPER"}, "value"), ({f"k{i}": "v" for i in range(65)}, "64")],
)
def test_label_rules(rig: VertexRegistryService, labels: dict[str, str], problem: str) -> None:
    with pytest.raises(exceptions.InvalidArgument, match=problem):
        _upload(rig.client(), rig, model=types.Model(display_name="m", labels=labels))


def test_parent_model_must_name_a_model_not_a_version(rig: VertexRegistryService) -> None:
    client = rig.client()
    model = _upload(client, rig, model_id="fraud").model
    with pytest.raises(exceptions.InvalidArgument, match="parent_model"):
        _upload(client, rig, parent_model=f"{model}@1")
    with pytest.raises(exceptions.NotFound):
        _upload(client, rig, parent_model=f"{_parent(rig)}/models/absent")
    with pytest.raises(exceptions.AlreadyExists):
        _upload(client, rig, model_id="fraud")


def test_versions_page_with_tokens_and_filter_on_labels(rig: VertexRegistryService) -> None:
    client = rig.client()
    model = _upload(client, rig, model_id="fraud").model
    for i in range(6):
        labels = {"held": "yes"} if i % 2 else {}
        _upload(client, rig, parent_model=model, model=types.Model(display_name="f", labels=labels))
    pages = client.list_model_versions(
        request=types.ListModelVersionsRequest(name=model, page_size=3), retry=None
    ).pages
    assert [[m.version_id for m in page.models] for page in pages] == [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7"],
    ]
    held = client.list_model_versions(
        request=types.ListModelVersionsRequest(name=model, filter="labels.held=yes"), retry=None
    )
    assert [m.version_id for m in held] == ["3", "5", "7"]
    newest = client.list_model_versions(
        request=types.ListModelVersionsRequest(
            name=model, page_size=1, order_by="create_time desc"
        ),
        retry=None,
    )
    assert next(iter(newest)).version_id == "7"
    with pytest.raises(exceptions.InvalidArgument, match="page_token"):
        client.list_model_versions(
            request=types.ListModelVersionsRequest(name=model, page_token="bogus"), retry=None
        )


def test_models_list_once_each(rig: VertexRegistryService) -> None:
    client = rig.client()
    first = _upload(client, rig, model_id="a").model
    _upload(client, rig, parent_model=first)
    _upload(client, rig, model_id="b")
    listed = client.list_models(parent=_parent(rig), retry=None)
    assert sorted(m.name.rsplit("/", 1)[1] for m in listed) == ["a", "b"]


def test_faults_fail_before_or_after_the_effect(rig: VertexRegistryService) -> None:
    client = rig.client()
    rig.faults.fail_next(1, grpc.StatusCode.RESOURCE_EXHAUSTED)
    with pytest.raises(exceptions.ResourceExhausted):
        _upload(client, rig, model_id="fraud")
    rig.faults.fail_next(1, grpc.StatusCode.UNAVAILABLE, after_effect=True)
    with pytest.raises(exceptions.ServiceUnavailable):
        _upload(client, rig, model_id="fraud")
    assert client.get_model(name=f"{_parent(rig)}/models/fraud", retry=None).version_id == "1"
    assert rig.faults.injected == {"RESOURCE_EXHAUSTED": 1, "UNAVAILABLE": 1}


def test_unknown_fields_are_found_at_any_depth() -> None:
    request = types.UploadModelRequest(model=types.Model(display_name="x"))
    pb = types.UploadModelRequest.pb(request)
    data = pb.SerializeToString() + b"\xf8\x3f\x01"  # field 1023, varint 1
    parsed = types.UploadModelRequest.pb(types.UploadModelRequest.deserialize(data))
    assert unknown_fields(parsed) == ["<root>#1023"]


def test_other_projects_are_refused(rig: VertexRegistryService) -> None:
    with pytest.raises(exceptions.PermissionDenied):
        rig.client().get_model(name="projects/other/locations/us-central1/models/x", retry=None)
