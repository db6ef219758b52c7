"""The model calls of one scope, workspace or registry, behind one set of methods.

Both answer with the generated REST models of ``azure.ai.ml._restclient.arm_ml_service``
(``ModelVersion``, ``ModelContainer``) and lists as ``ItemPaged`` (``by_page`` with a
continuation token), so the backend reads and writes them alike:

- `WorkspaceModels`: the ARM operations ``MLClient.models`` itself calls
  (``_model_versions_operation``, ``_model_container_operation``).
- `RegistryModels`: the calls ``MLClient(registry_name=...).models`` makes on the
  registry's regional data plane (``azure.ai.ml._utils._registry_utils``, through the
  discovered client ``models._registry_service_client``: `.session.RegistryClient`).
  Writes there are long-running operations, polled at the client's ``polling_interval``
  (or the service's Retry-After) and awaited here up to the URL's ``timeout`` (a
  `ServiceResponseTimeoutError` after it: the facade's transient timeout, one retry layer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelport.backends.azureml.session import RegistryClient


class WorkspaceModels:
    """Model containers and versions of one workspace."""

    def __init__(self, client: Any, resource_group: str, workspace: str) -> None:
        self._versions = client.models._model_versions_operation
        self._containers = client.models._model_container_operation
        self._scope = (resource_group, workspace)

    def list_containers(self, **query: Any) -> Any:
        return self._containers.list(*self._scope, **query)

    def get_container(self, name: str) -> Any:
        return self._containers.get(*self._scope, name)

    def put_container(self, name: str, body: Any) -> Any:
        return self._containers.create_or_update(*self._scope, name, body)

    def list_versions(self, name: str, **query: Any) -> Any:
        return self._versions.list(*self._scope, name, **query)

    def get_version(self, name: str, version: str) -> Any:
        return self._versions.get(*self._scope, name, version)

    def get_version_body(self, name: str, version: str) -> dict[str, Any]:
        """The version as the service's JSON (the generated call, its model left unbuilt)."""
        return self._versions.get(  # type: ignore[no-any-return]
            *self._scope, name, version, stream=True, cls=_json_body
        )

    def put_version(self, name: str, version: str, body: Any) -> Any:
        return self._versions.create_or_update(*self._scope, name, version, body)


class RegistryModels:
    """Model containers and versions of one registry, on its regional data plane."""

    def __init__(self, client: RegistryClient, registry: str, timeout: float) -> None:
        self.service = client.service  # bound to the discovered data plane
        self.resource_group = client.resource_group
        self.registry = registry
        self._timeout = timeout

    def list_containers(self, **query: Any) -> Any:
        return self._list(None, **query)

    def get_container(self, name: str) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import ModelContainer
        from azure.ai.ml._utils._registry_utils import get_registry_container_asset

        body = get_registry_container_asset(*self._at("models"), name, *self._scope)
        return _rest(ModelContainer, body)

    def put_container(self, name: str, body: Any) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import ModelContainer
        from azure.ai.ml._utils._registry_utils import (
            begin_create_or_update_registry_container,
        )

        poller = begin_create_or_update_registry_container(
            *self._at("models"), name, *self._scope, body, wait=False
        )
        return _rest(ModelContainer, self._await(poller))

    def list_versions(self, name: str, **query: Any) -> Any:
        return self._list(name, **query)

    def get_version(self, name: str, version: str) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import ModelVersion

        return _rest(ModelVersion, self.get_version_body(name, version))

    def get_version_body(self, name: str, version: str) -> dict[str, Any]:
        """The version as the service's JSON (what the SDK's helper returns)."""
        from azure.ai.ml._utils._registry_utils import get_registry_versioned_asset

        return dict(get_registry_versioned_asset(*self._at("models"), name, version, *self._scope))

    def put_version(self, name: str, version: str, body: Any) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import ModelVersion
        from azure.ai.ml._utils._registry_utils import (
            begin_create_or_update_registry_versioned_asset,
        )

        poller = begin_create_or_update_registry_versioned_asset(
            *self._at("models"),
            name,
            version,
            *self._scope,
            body,
            wait=False,
        )
        return _rest(ModelVersion, self._await(poller))

    def upload_sas(self, name: str, version: str) -> str | None:
        """A SAS URL of the registry storage's container for asset ``name:version``
        (``tempdatarefs``: made, or got again, by the service); None once that version
        exists (the service's 409, which the SDK's helper swallows)."""
        from azure.ai.ml._utils._registry_utils import (
            get_asset_body_for_registry_storage,
            get_sas_uri_for_registry_asset,
        )

        body = get_asset_body_for_registry_storage(self.registry, "models", name, version)
        sas = get_sas_uri_for_registry_asset(
            self.service, name, version, self.resource_group, self.registry, body
        )
        return str(sas) if sas else None

    def read_sas(self, name: str, version: str, blob_uri: str) -> str:
        """A SAS URL to read the container holding version ``name:version``'s ``blob_uri``
        (``datarefs``, as ``models.download`` asks for it)."""
        from azure.ai.ml._utils._registry_utils import get_storage_details_for_registry_assets

        sas, _ = get_storage_details_for_registry_assets(
            self.service, "models", name, version, self.resource_group, self.registry, blob_uri
        )
        return str(sas)

    def _list(self, name: str | None, **query: Any) -> Any:
        from azure.ai.ml._restclient.arm_ml_service.models import ModelContainer, ModelVersion
        from azure.ai.ml._utils._registry_utils import list_registry_assets

        model = ModelVersion if name else ModelContainer
        return list_registry_assets(
            *self._at("models"),
            name,
            *self._scope,
            model,
            _same,
            list_view_type=query.get("list_view_type"),
            properties=query.get("properties"),
            order_by=query.get("order_by"),
            top=query.get("top"),
        )

    def _await(self, poller: Any) -> Any:
        from azure.core.exceptions import ServiceResponseTimeoutError

        poller.wait(timeout=self._timeout)
        if not poller.done():
            raise ServiceResponseTimeoutError(
                f"the registry's operation did not finish in {self._timeout:g}s"
            )
        return poller.result()

    def _at(self, plural: str) -> tuple[Any, str]:
        return self.service, plural

    @property
    def _scope(self) -> tuple[str, str]:
        return self.resource_group, self.registry


def _rest(model: Any, body: Any) -> Any:
    """``body`` (the service's JSON) as the generated REST ``model``."""
    return model._deserialize(body, [])


def _json_body(pipeline_response: Any, _streamed: Any, _headers: Any) -> dict[str, Any]:
    """The ``cls`` of a generated call made with ``stream=True``: the answer's JSON."""
    response = pipeline_response.http_response
    response.read()
    return dict(response.json())


def _same(value: Any) -> Any:
    return value
