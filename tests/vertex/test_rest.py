"""The Vertex rig over REST: the plain GAPIC REST transport against the same state, strict
JSON, HTTP errors the client maps back, LRO polling on /ui/...; and modelport with
transport=rest."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1 import types

import modelport as mp
from modelport.testing.vertex import VertexRegistryService
from modelport.testing.vertex.grpc_server import METADATA_METHODS, MODEL_METHODS, OPERATION_METHODS
from modelport.testing.vertex.rest_server import routes
from tests.backends.vertex_fixtures import VertexRig

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)


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


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_every_served_method_has_the_route_of_the_clients_http_rule() -> None:
    served = {route.rpc for route in routes()}
    assert served == set(MODEL_METHODS) | set(OPERATION_METHODS) | set(METADATA_METHODS)
    get_model = next(r for r in routes() if r.rpc == "GetModel")
    assert get_model.http_method == "GET"
    assert get_model.pattern.fullmatch("/v1/projects/p/locations/l/models/m@2")
    assert not get_model.pattern.fullmatch("/v1/projects/p/locations/l/models/m:listVersions")


def test_the_rest_client_uploads_polls_and_reads_the_same_state_as_grpc(
    rig: VertexRegistryService,
) -> None:
    rig.lro_polls = 2
    rest = rig.client("rest")
    made = _upload(rest, rig, model_id="fraud")
    assert rig.calls["GetOperation"] >= 2
    rest.merge_version_aliases(name=f"{made.model}@1", version_aliases=["champion"], retry=None)
    through_grpc = rig.client().get_model(name=f"{made.model}@champion", retry=None)
    assert (through_grpc.version_id, sorted(through_grpc.version_aliases)) == (
        "1",
        ["champion", "default"],
    )


def test_errors_come_back_as_the_http_classes_of_their_codes(rig: VertexRegistryService) -> None:
    rest = rig.client("rest")
    with pytest.raises(exceptions.NotFound):
        rest.get_model(name=f"{_parent(rig)}/models/absent", retry=None)
    rig.faults.fail_next(1)
    with pytest.raises(exceptions.TooManyRequests):
        rest.list_models(parent=_parent(rig), retry=None)
    rig.faults.fail_next(1, grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(exceptions.ServiceUnavailable):
        rest.list_models(parent=_parent(rig), retry=None)


def test_an_unknown_json_field_is_refused_with_400(rig: VertexRegistryService) -> None:
    url = f"{rig.rest_endpoint}/v1/{_parent(rig)}/models:upload"
    status, body = _post(url, {"model": {"displayName": "fraud", "colour": "red"}})
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert "colour" in body["error"]["message"]
    assert rig.calls["UploadModel"] == 0  # refused before the service saw it


def test_modelport_over_rest_writes_what_the_plain_client_reads(
    vertex_rig: VertexRig, tmp_path: Path
) -> None:
    vertex_rig.service.faults.reset()
    vertex_rig.service.lro_polls = 1
    reg = mp.connect(vertex_rig.url(vertex_rig.new_bucket(), transport="rest"), retry=FAST_RETRY)
    try:
        (tmp_path / "model.bin").write_bytes(b"weights")
        reg.register("Fraud.Rest", tmp_path / "model.bin", description="over http")
        second = reg.register("Fraud.Rest", tmp_path / "model.bin")
        reg.approve(second.ref, reason="ok", actor="ci")
        reg.transition(second.ref, "production", reason="ok", actor="ci")
        mv = reg.resolve("Fraud.Rest@production")
        plain = vertex_rig.service.client("rest").get_model(name=mv.native, retry=None)
        descriptions = {v.version: v.description for v in reg.versions("Fraud.Rest")}
    finally:
        vertex_rig.service.lro_polls = 0
        reg.close()
    assert (mv.version, mv.stage, mv.approval) == ("2", "production", mp.Approval.APPROVED)
    assert "production" in plain.version_aliases
    assert plain.artifact_uri == mv.artifact_uri
    assert plain.labels["mp-approval"] == "approved"
    assert descriptions == {"1": "over http", "2": None}
