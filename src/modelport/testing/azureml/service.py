"""``AzureMLService``: the fake on a local port, and plain ``MLClient`` objects pointed at it."""

from __future__ import annotations

from collections import Counter
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
from .state import AZURITE_ACCOUNT, AZURITE_KEY, BLOB_CONTAINER
from .workspace import WorkspaceApi, WorkspaceScope

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rig-rg"
WORKSPACE = "rig-ws"


class AzureMLService:
    """A strict local Azure ML workspace API on 127.0.0.1 (see the package docstring)."""

    def __init__(
        self,
        *,
        subscription: str = SUBSCRIPTION,
        resource_group: str = RESOURCE_GROUP,
        workspace: str = WORKSPACE,
        page_size: int = 20,
        azurite: Azurite | None = None,
    ) -> None:
        self.faults = FaultInjector()
        self.scope = WorkspaceScope(subscription, resource_group, workspace)
        self._workspace = WorkspaceApi(self.scope, page_size=page_size, faults=self.faults)
        self._server = LocalServer(self._handle)
        self._azurite = azurite

    def _handle(self, request: Request) -> Reply:
        return self._workspace.handle(request)

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
        """Requests served, by route name (``versions.get``, ``datastores.listSecrets``, ...)."""
        return self._workspace.calls

    @property
    def page_size(self) -> int:
        return self._workspace.page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        self._workspace.page_size = size

    def reset(self) -> None:
        """Forget every model, call count and planned fault."""
        self._workspace.state.reset()
        self._workspace.calls.clear()
        self.faults.clear()
        if self._azurite is not None:
            container = self.blob_service().get_container_client(BLOB_CONTAINER)
            for blob in list(container.list_blob_names()):
                container.delete_blob(blob)

    def transport(self) -> RoutingTransport:
        """An azure-core transport sending ARM requests here (and blob requests of the
        datastore's account to Azurite, when the service has one)."""
        routes = {ARM_HOST: self.endpoint}
        if self._azurite is not None:
            routes[f"{AZURITE_ACCOUNT}.{BLOB_SUFFIX}"] = self._azurite.endpoint
        return RoutingTransport(routes)

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
        from azure.ai.ml import MLClient

        options: dict[str, Any] = {"retry_total": 0, **kwargs}
        return MLClient(
            RigCredential(),
            subscription_id=self.scope.subscription,
            resource_group_name=self.scope.resource_group,
            workspace_name=self.scope.workspace,
            transport=self.transport(),
            **options,
        )

    def url(self, **options: str) -> str:
        """The ``azureml://`` URL of the rig's workspace (``endpoint`` and, with Azurite,
        ``blob_endpoint`` set), with ``options`` added to its query."""
        options = {"endpoint": self.endpoint, **options}
        if self._azurite is not None:
            options.setdefault("blob_endpoint", self._azurite.endpoint)
        base = f"azureml://{self.scope.subscription}/{self.scope.resource_group}"
        query = "&".join(f"{key}={value}" for key, value in sorted(options.items()))
        return f"{base}/{self.scope.workspace}" + (f"?{query}" if query else "")
