"""``AzureMLService``: the fake on a local port, and plain ``MLClient`` objects pointed at it."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from modelport.backends.azureml.transport import (
    ARM_HOST,
    BLOB_SUFFIX,
    RigCredential,
    RoutingTransport,
)

from .azurite import Azurite
from .faults import FaultInjector
from .http import LocalServer, Reply, Request
from .registry import DISCOVERY_HOST, MFE_PREFIX, RegistryApi, RegistryScope, dataplane_host
from .state import AZURITE_ACCOUNT, AZURITE_KEY, BLOB_CONTAINER
from .workspace import WorkspaceApi, WorkspaceScope

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rig-rg"
WORKSPACE = "rig-ws"
REGISTRY = "rig-registry"
LOCATION = "eastus"
REPLICA = "westeurope"  # the registry's second region
SAS_LIFETIME = timedelta(hours=1)


class AzureMLService:
    """A strict local Azure ML workspace API on 127.0.0.1 (see the package docstring)."""

    def __init__(
        self,
        *,
        subscription: str = SUBSCRIPTION,
        resource_group: str = RESOURCE_GROUP,
        workspace: str = WORKSPACE,
        registry: str = REGISTRY,
        location: str = LOCATION,
        replicas: tuple[str, ...] = (REPLICA,),
        page_size: int = 20,
        azurite: Azurite | None = None,
    ) -> None:
        self.faults = FaultInjector()
        self.scope = WorkspaceScope(subscription, resource_group, workspace)
        self.registry_scope = RegistryScope(
            subscription, resource_group, registry, location, replicas
        )
        self._workspace = WorkspaceApi(self.scope, page_size=page_size, faults=self.faults)
        self._registry = RegistryApi(
            self.registry_scope,
            page_size=page_size,
            faults=self.faults,
            storage=self._container_sas if azurite is not None else None,
        )
        self._registry.calls = self._workspace.calls  # one counter: registry.* names apart
        self._server = LocalServer(self._handle)
        self._azurite = azurite
        self._made: set[str] = set()  # the registry storage's containers made in Azurite

    def _handle(self, request: Request) -> Reply:
        if request.path.startswith(("/registrymanagement/", f"{MFE_PREFIX}/")):
            return self._registry.handle(request)
        return self._workspace.handle(request)

    def _container_sas(self, container: str, permission: str) -> str:
        """A SAS URL of one blob container of the registry's storage (made if missing)."""
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        if container not in self._made:
            from azure.core.exceptions import ResourceExistsError

            with contextlib.suppress(ResourceExistsError):  # made before the last reset
                self.blob_service().get_container_client(container).create_container()
            self._made.add(container)
        sas = generate_container_sas(
            AZURITE_ACCOUNT,
            container,
            account_key=AZURITE_KEY,
            permission=ContainerSasPermissions.from_string(permission),
            expiry=datetime.now(timezone.utc) + SAS_LIFETIME,
        )
        return f"https://{AZURITE_ACCOUNT}.{BLOB_SUFFIX}/{container}?{sas}"

    def __enter__(self) -> AzureMLService:
        self._server.start()
        if self._azurite is not None:
            container = self.blob_service().get_container_client(BLOB_CONTAINER)
            if not container.exists():
                container.create_container()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.stop()

    @property
    def endpoint(self) -> str:
        return self._server.base_url

    @property
    def azurite_port(self) -> int:
        """The port of the service's Azurite (for `BlobProxy`)."""
        if self._azurite is None:
            raise RuntimeError("this AzureMLService was started without Azurite")
        return self._azurite.port

    @property
    def calls(self) -> Counter[str]:
        """Requests served, by route name (``versions.get``, ``datastores.listSecrets``, ...;
        registry routes as ``registry.versions.get``, ...)."""
        return self._workspace.calls

    @property
    def region_calls(self) -> Counter[str]:
        """Registry data-plane requests served, by the region whose host was called."""
        return self._registry.region_calls

    @property
    def page_size(self) -> int:
        return self._workspace.page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        self._workspace.page_size = size
        self._registry.page_size = size

    def unclaimed_uploads(self, name: str) -> list[str]:
        """Registry versions of ``name`` given upload storage that none took (see
        `RegistryApi.unclaimed_uploads`)."""
        return self._registry.unclaimed_uploads(name)

    def reset(self) -> None:
        """Forget every model, call count and planned fault."""
        self._workspace.state.reset()
        self._workspace.calls.clear()
        self._registry.reset()
        self._made.clear()
        self.faults.clear()
        if self._azurite is not None:
            service = self.blob_service()
            for found in list(service.list_containers()):
                if found.name != BLOB_CONTAINER:  # the registry's per-asset containers
                    service.delete_container(found.name)
            container = service.get_container_client(BLOB_CONTAINER)
            for blob in list(container.list_blob_names()):
                container.delete_blob(blob)

    def transport(self) -> RoutingTransport:
        """An azure-core transport sending ARM requests here (and blob requests of the
        datastore's account to Azurite, when the service has one)."""
        return RoutingTransport(self.routes())

    def routes(self) -> dict[str, str]:
        """The public hosts the rig answers for, each with the local URL it answers on
        (what `transport` routes; a plain dict, for a client in another process)."""
        routes = {ARM_HOST: self.endpoint, DISCOVERY_HOST: self.endpoint}
        for region in self.registry_scope.regions:
            routes[dataplane_host(region)] = self.endpoint
        if self._azurite is not None:
            routes[f"{AZURITE_ACCOUNT}.{BLOB_SUFFIX}"] = self._azurite.endpoint
        return routes

    def blob_service(self) -> Any:
        """A plain ``BlobServiceClient`` of the default datastore's account (on Azurite)."""
        from azure.storage.blob import BlobServiceClient

        if self._azurite is None:
            raise RuntimeError("this AzureMLService was started without Azurite")
        credential = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
        return BlobServiceClient(
            f"https://{AZURITE_ACCOUNT}.{BLOB_SUFFIX}",
            credential=credential,
            transport=self.transport(),
            retry_total=0,
        )

    def client(self, **kwargs: Any) -> Any:
        """A plain ``azure.ai.ml.MLClient`` for the workspace, one retry layer off."""
        return workspace_client(self.scope, self.transport(), **kwargs)

    def registry_client(self, **kwargs: Any) -> Any:
        """A plain ``azure.ai.ml.MLClient`` for the registry (discovery runs now, as the
        SDK does it in the constructor), one retry layer off, and no wait between the polls
        of a long-running write (the SDK's default is 30 s)."""
        from azure.ai.ml import MLClient

        options: dict[str, Any] = {"retry_total": 0, "polling_interval": 0, **kwargs}
        return MLClient(
            RigCredential(),
            registry_name=self.registry_scope.registry,
            transport=self.transport(),
            **options,
        )

    def registry_url(self, **options: str) -> str:
        """The ``azureml://registry/NAME`` URL of the rig's registry (``endpoint`` and,
        with Azurite, ``blob_endpoint`` set), with ``options`` added to its query."""
        return f"azureml://registry/{self.registry_scope.registry}?{self._query(options)}"

    def _query(self, options: dict[str, str]) -> str:
        options = {"endpoint": self.endpoint, **options}
        if self._azurite is not None:
            options.setdefault("blob_endpoint", self._azurite.endpoint)
        return "&".join(f"{key}={value}" for key, value in sorted(options.items()))

    def url(self, **options: str) -> str:
        """The ``azureml://`` URL of the rig's workspace (``endpoint`` and, with Azurite,
        ``blob_endpoint`` set), with ``options`` added to its query."""
        base = f"azureml://{self.scope.subscription}/{self.scope.resource_group}"
        return f"{base}/{self.scope.workspace}?{self._query(options)}"


def workspace_client(scope: WorkspaceScope, transport: Any, **kwargs: Any) -> Any:
    """A plain ``azure.ai.ml.MLClient`` for the rig's workspace ``scope``, sending with
    ``transport`` (routed to the rig: `AzureMLService.transport`, or a `RoutingTransport`
    of its `AzureMLService.routes` in another process), one retry layer off."""
    from azure.ai.ml import MLClient

    options: dict[str, Any] = {"retry_total": 0, **kwargs}
    return MLClient(
        RigCredential(),
        subscription_id=scope.subscription,
        resource_group_name=scope.resource_group,
        workspace_name=scope.workspace,
        transport=transport,
        **options,
    )
