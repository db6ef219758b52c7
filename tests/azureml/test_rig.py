"""The Azure ML rig behaves like the service for the plain ``MLClient`` (no modelport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.ai.ml.constants import ListViewType
from azure.ai.ml.entities import AccountKeyConfiguration, Model
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from modelport.testing.azureml import (
    AZURITE_KEY,
    DEFAULT_DATASTORE,
    AzureMLService,
    BodyError,
    Fault,
    check_body,
)

REMOTE_PATH = "azureml://datastores/workspaceblobstore/paths/fraud/model.pkl"


@pytest.fixture(scope="module")
def service() -> Iterator[AzureMLService]:
    with AzureMLService() as running:
        yield running


@pytest.fixture
def rig(service: AzureMLService) -> AzureMLService:
    service.reset()
    service.page_size = 20
    return service


@pytest.fixture
def ml(rig: AzureMLService) -> Any:
    return rig.client()


def _create(ml: Any, version: str, **fields: Any) -> Model:
    fields.setdefault("path", REMOTE_PATH)
    created: Model = ml.models.create_or_update(Model(name="fraud", version=version, **fields))
    return created


def _container_operations(ml: Any) -> Any:
    return ml.models._model_container_operation


def test_a_created_version_reads_back_with_its_fields(ml: Any) -> None:
    _create(ml, "1", tags={"team": "risk"}, stage="Development", description="first")

    got = ml.models.get("fraud", "1")

    assert (got.tags, got.stage, got.description) == ({"team": "risk"}, "Development", "first")
    assert got.path.endswith("/datastores/workspaceblobstore/paths/fraud/model.pkl")
    assert got.id.endswith("/workspaces/rig-ws/models/fraud/versions/1")


def test_tags_and_stage_change_by_a_re_put(ml: Any) -> None:
    model = _create(ml, "1", tags={"a": "1"}, stage="Development")
    model.tags = {"a": "2"}
    model.stage = "Production"
    ml.models.create_or_update(model)

    got = ml.models.get("fraud", "1")

    assert (got.tags, got.stage) == ({"a": "2"}, "Production")


def test_changing_the_path_of_a_version_is_a_conflict(ml: Any) -> None:
    model = _create(ml, "1")
    model.path = "azureml://datastores/workspaceblobstore/paths/other/model.pkl"

    with pytest.raises(ResourceExistsError, match="immutable"):
        ml.models.create_or_update(model)


def test_lists_follow_next_link_pages_newest_first(rig: AzureMLService, ml: Any) -> None:
    rig.page_size = 2
    for version in range(1, 6):
        _create(ml, str(version))
    rig.calls.clear()

    listed = [model.version for model in ml.models.list("fraud")]

    assert listed == ["5", "4", "3", "2", "1"]
    assert rig.calls["versions.list"] == 3


def test_latest_skips_archived_versions(ml: Any) -> None:
    _create(ml, "1")
    _create(ml, "2", stage="Staging")
    ml.models.archive("fraud", "2")

    assert ml.models.get("fraud", label="latest").version == "1"
    assert ml.models.get("fraud", "2").stage == "Staging"  # archive keeps the stage
    archived = ml.models.list("fraud", list_view_type=ListViewType.ARCHIVED_ONLY)
    assert [model.version for model in archived] == ["2"]


def test_a_container_archives_and_restores(ml: Any) -> None:
    _create(ml, "1")

    ml.models.archive("fraud")
    assert [model.name for model in ml.models.list()] == []
    ml.models.restore("fraud")

    assert [model.name for model in ml.models.list()] == ["fraud"]


def test_list_filters_by_stage(ml: Any) -> None:
    _create(ml, "1", stage="Production")
    _create(ml, "2", stage="Development")

    assert [model.version for model in ml.models.list("fraud", stage="Production")] == ["1"]


def test_container_tags_update_without_touching_versions(rig: AzureMLService, ml: Any) -> None:
    from azure.ai.ml._restclient.arm_ml_service import models as rest

    _create(ml, "1", tags={"v": "1"})
    operations = _container_operations(ml)
    body = rest.ModelContainer(properties=rest.ModelContainerProperties(tags={"pointer": "1"}))
    operations.create_or_update(rig.scope.resource_group, rig.scope.workspace, "fraud", body)

    container = operations.get(rig.scope.resource_group, rig.scope.workspace, "fraud")

    assert container.properties.tags == {"pointer": "1"}
    assert container.properties.latest_version == "1"
    assert ml.models.get("fraud", "1").tags == {"v": "1"}


def test_missing_model_and_version_are_404s(ml: Any) -> None:
    _create(ml, "1")

    with pytest.raises(ResourceNotFoundError, match="container nope"):
        ml.models.get("nope", "1")
    with pytest.raises(ResourceNotFoundError, match="fraud:9"):
        ml.models.get("fraud", "9")


def test_the_default_datastore_and_its_secret(ml: Any) -> None:
    default = ml.datastores.get_default()
    with_secret = ml.datastores.get(DEFAULT_DATASTORE, include_secrets=True)

    assert default.name == DEFAULT_DATASTORE
    assert isinstance(with_secret.credentials, AccountKeyConfiguration)
    assert with_secret.credentials.account_key == AZURITE_KEY


def test_an_unknown_or_read_only_body_key_is_refused() -> None:
    check_body({"properties": {"modelUri": "x", "tags": {"a": "b"}}}, "ModelVersion")

    with pytest.raises(BodyError, match=r"\$\.properties\.colour: unknown"):
        check_body({"properties": {"modelUri": "x", "colour": "red"}}, "ModelVersion")
    with pytest.raises(BodyError, match=r"\$\.properties\.provisioningState: read-only"):
        check_body({"properties": {"provisioningState": "Succeeded"}}, "ModelVersion")


def test_a_refused_body_is_a_400_naming_the_key(rig: AzureMLService, ml: Any) -> None:
    pipeline = ml.models._model_versions_operation._client
    request = _raw_put(rig, {"properties": {"modelUri": "x", "colour": "red"}})

    response = pipeline.send_request(request)

    assert response.status_code == 400
    assert "colour" in response.json()["error"]["message"]


def test_a_wrong_api_version_is_refused(rig: AzureMLService, ml: Any) -> None:
    pipeline = ml.models._model_versions_operation._client
    request = _raw_put(rig, {"properties": {"modelUri": "x"}}, api_version="2099-01-01")

    response = pipeline.send_request(request)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def _raw_put(rig: AzureMLService, body: dict[str, Any], api_version: str = "") -> Any:
    from azure.core.rest import HttpRequest

    version = api_version or "2023-08-01-preview"
    url = (
        f"https://management.azure.com{rig.scope.arm_id}/models/fraud/versions/1"
        f"?api-version={version}"
    )
    return HttpRequest("PUT", url, json=body)


def test_throttling_and_unavailability_reach_the_caller(rig: AzureMLService, ml: Any) -> None:
    rig.faults.next(Fault.THROTTLE)
    with pytest.raises(HttpResponseError) as throttled:
        ml.models.list("fraud").__iter__().__next__()
    rig.faults.next(Fault.UNAVAILABLE)
    with pytest.raises(HttpResponseError) as unavailable:
        ml.models.get("fraud", "1")

    assert (throttled.value.status_code, unavailable.value.status_code) == (429, 503)


def test_a_lost_answer_takes_effect(rig: AzureMLService, ml: Any) -> None:
    rig.faults.next(Fault.LOST_ANSWER, method="PUT")

    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        _create(ml, "1")

    assert ml.models.get("fraud", "1").version == "1"
