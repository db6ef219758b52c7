"""The registry API of the fake: discovery, then the regional data plane (``mferp``).

``MLClient(registry_name=...)`` first asks the discovery endpoint where the registry lives
(``GET /registrymanagement/v1.0/registries/NAME/discovery``), then sends every model call to
``{primaryRegionResourceProviderUri}mferp/managementfrontend`` at the data-plane
api-version, with the registry's subscription and resource group from the discovery
answer. Model containers and versions are served as the workspace ones are (same state,
paging and filters); what differs:

- ids are registry asset ids (``azureml://registries/R/models/N/versions/V``);
- a version or container PUT is a long-running operation: 201 with ``Azure-AsyncOperation``
  (``Succeeded`` at its first poll), then the poller GETs the resource
  (a client waits its ``polling_interval`` between polls: 30 s unless told, so
  `AzureMLService.registry_client` passes 0);
- a registry lives in its primary region and its replicas (``replicas``): discovery
  lists them all (``regions``, ``registryFqdns``) and each region's data plane
  (``cert-REGION.experiments.azureml.net``, told by the request's ``Host``) serves the one
  state, replicated at once; a region the registry is not in answers 404. Data-plane
  requests are counted by region in ``region_calls``;
- artifacts live in the registry's own storage, one blob container per asset:
  ``PUT tempdatarefs/N/versions/V`` creates (or gets) it and answers a container SAS for
  the upload (409 once the version exists), ``POST datarefs/N/versions/V`` a read SAS for a
  version's ``blobUri``; a version's ``modelUri`` must lie in one of the registry's
  containers (the rig does not check it is the container of that very version).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from modelport.backends.azureml.transport import BLOB_SUFFIX

from .faults import FaultInjector
from .http import Reply, Request
from .state import JsonDict, ServiceError, not_found
from .workspace import _NAME, Handler, WorkspaceApi, WorkspaceScope, _Route

DISCOVERY_HOST = "eastus.api.azureml.ms"  # the public cloud's discovery endpoint
DATAPLANE_API_VERSIONS = frozenset({"2021-10-01-dataplanepreview"})
DISCOVERY_API_VERSIONS = frozenset({"v1.0"})
MFE_PREFIX = "/mferp/managementfrontend"
_PROVIDER = "providers/Microsoft.MachineLearningServices"
_REGISTRY = re.compile(
    rf"^{MFE_PREFIX}/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/{_PROVIDER}"
    r"/registries/(?P<reg>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_DISCOVERY = re.compile(r"^/registrymanagement/v1\.0/registries/(?P<reg>[^/]+)/discovery$")
_DATAPLANE_HOST = re.compile(r"^cert-(?P<region>[a-z0-9]+)\.experiments\.azureml\.net$")
# tempdatarefs has no generated REST model in azure-ai-ml: its body's keys, all required.
_TEMPDATAREF_KEYS = frozenset({"assetId", "temporaryDataReferenceType"})

# (container, permission) -> a container URL with a SAS; given by the service (Azurite).
SasIssuer = Callable[[str, str], str]


@dataclass(frozen=True)
class RegistryScope:
    subscription: str
    resource_group: str
    registry: str
    location: str  # the primary region
    replicas: tuple[str, ...] = ()  # the other regions it is replicated to

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.location, *self.replicas)

    @property
    def dataplane_host(self) -> str:
        """The host of the registry's primary data plane."""
        return dataplane_host(self.location)

    def asset_id(self, name: str, version: str | None = None) -> str:
        base = f"azureml://registries/{self.registry}/models/{name}"
        return base if version is None else f"{base}/versions/{version}"


def dataplane_host(region: str) -> str:
    """The host of a region's data plane (the form the SDK builds for a region)."""
    return f"cert-{region}.experiments.azureml.net"


class RegistryApi(WorkspaceApi):
    """Answers discovery and data-plane requests for one registry."""

    def __init__(
        self,
        scope: RegistryScope,
        *,
        page_size: int,
        faults: FaultInjector,
        storage: SasIssuer | None,
    ) -> None:
        self.registry = scope
        self._storage = storage
        self._containers_of: dict[str, str] = {}  # asset id -> blob container
        self._operations = itertools.count(1)
        self._storage_lock = threading.Lock()
        self.region_calls: Counter[str] = Counter()  # data-plane requests by region
        super().__init__(
            WorkspaceScope(scope.subscription, scope.resource_group, scope.registry),
            page_size=page_size,
            faults=faults,
        )
        self.host = scope.dataplane_host

    def reset(self) -> None:
        self.state.reset()
        self.region_calls.clear()
        with self._storage_lock:
            self._containers_of.clear()

    # --- routing ---------------------------------------------------------------------

    def route(
        self, name: str, method: str, path: str, handler: Handler, body: str | None = None
    ) -> _Route:
        # counted apart from the workspace's routes (the service shares one counter)
        return super().route(f"registry.{name}", method, path, handler, body)

    def _api_versions(self, route: str) -> frozenset[str]:
        if route == "registry.discovery":
            return DISCOVERY_API_VERSIONS
        return DATAPLANE_API_VERSIONS

    def _scope_routes(self) -> list[_Route]:
        asset = f"/(?P<name>{_NAME})/versions/(?P<version>{_NAME})"
        return [
            self.route("tempdatarefs.put", "PUT", f"/tempdatarefs{asset}", self._temp_ref),
            self.route(
                "datarefs.post",
                "POST",
                f"/datarefs{asset}",
                self._data_ref,
                "GetBlobReferenceSASRequestDto",
            ),
            self.route("operations.get", "GET", f"/operations/(?P<id>{_NAME})", self._operation),
            self.route("discovery", "GET", "/discovery", self._discovery),
        ]

    def _dispatch(self, request: Request) -> Reply:
        if request.path.startswith(f"{MFE_PREFIX}/"):
            region = self._region(request)
            if region not in self.registry.regions:
                missing = f"Registry {self.registry.registry} is not in {region}."
                raise ServiceError(404, "ResourceNotFound", missing)
            self.region_calls[region] += 1
        return super()._dispatch(request)

    def _region(self, request: Request) -> str:
        """The region whose data plane the client called (a request to the rig's own
        address, without a product host: the primary)."""
        found = _DATAPLANE_HOST.match(request.host.split(":")[0])
        return found["region"] if found else self.registry.location

    def _host(self, request: Request) -> str:
        return dataplane_host(self._region(request))

    def _scope_rest(self, path: str) -> str:
        found = _DISCOVERY.match(path)
        if found is not None:
            if found["reg"] != self.registry.registry:
                raise not_found(f"Registry {found['reg']}")
            return "/discovery"
        match = _REGISTRY.match(path)
        if match is None or (match["sub"], match["rg"], match["reg"]) != (
            self.registry.subscription,
            self.registry.resource_group,
            self.registry.registry,
        ):
            raise ServiceError(404, "ResourceNotFound", f"Resource {path} not found.")
        return match["rest"] or ""

    def _asset_id(self, name: str, version: str | None = None) -> str:
        return self.registry.asset_id(name, version)

    def _type(self, kind: str) -> str:
        return f"Microsoft.MachineLearningServices/registries/{kind}"

    def _base(self, request: Request) -> str:
        """The registry's URL on the data plane the request reached."""
        scope = self.registry
        return (
            f"https://{self._host(request)}{MFE_PREFIX}/subscriptions/{scope.subscription}"
            f"/resourceGroups/{scope.resource_group}/{_PROVIDER}/registries/{scope.registry}"
        )

    def _page(self, request: Request, items: list[JsonDict]) -> Reply:
        reply = super()._page(request, items)
        if "nextLink" in reply.body:  # the next page on the data plane this one came from
            primary, called = f"https://{self.host}", f"https://{self._host(request)}"
            reply.body["nextLink"] = reply.body["nextLink"].replace(primary, called, 1)
        return reply

    # --- discovery -------------------------------------------------------------------

    def _discovery(self, _: Request, __: re.Match[str]) -> Reply:
        scope = self.registry
        return Reply(
            200,
            {
                "registryName": scope.registry,
                "tenantId": "00000000-0000-0000-0000-000000000000",
                "primaryRegion": scope.location,
                "regions": list(scope.regions),
                # what the SDK checks a requested region against (its keys); the entries'
                # form follows Microsoft's registry network docs, not verified
                "registryFqdns": {
                    region: {"uri": f"https://{region}.api.azureml.ms"} for region in scope.regions
                },
                "subscriptionId": scope.subscription,
                "resourceGroup": scope.resource_group,
                "workspaceName": None,
                "primaryRegionResourceProviderUri": f"https://{scope.dataplane_host}/",
            },
        )

    # --- long-running writes -----------------------------------------------------------

    def _put_container(self, request: Request, found: re.Match[str]) -> Reply:
        self.state.put_container(found["name"], json.loads(request.body).get("properties") or {})
        entity, versions = self.state.get_container(found["name"])
        return self._accepted(request, self._container_json(found["name"], entity, versions))

    def _put_version(self, request: Request, found: re.Match[str]) -> Reply:
        body = json.loads(request.body)
        properties = body.get("properties") or {}
        self._check_model_uri(found["name"], found["version"], properties.get("modelUri"))
        properties.pop("system_metadata", None)  # the SDK quirk in bodies._SDK_QUIRKS
        stored = Request(request.method, request.path, request.query, json.dumps(body).encode())
        reply = super()._put_version(stored, found)
        return self._accepted(request, reply.body)

    def _accepted(self, request: Request, body: JsonDict) -> Reply:
        """201 with the resource still provisioning and the operation to poll."""
        operation = f"{self._base(request)}/operations/op-{next(self._operations)}"
        body = {**body, "properties": {**body["properties"], "provisioningState": "Creating"}}
        # No Retry-After: azure-core reads 0 as "none given" and waits its polling interval
        headers = {"Azure-AsyncOperation": f"{operation}?api-version=2021-10-01-dataplanepreview"}
        return Reply(201, body, headers)

    def _operation(self, _: Request, found: re.Match[str]) -> Reply:
        # The write took effect when accepted: the operation is over at its first poll.
        if not found["id"].startswith("op-"):
            raise not_found(f"Operation {found['id']}")
        return Reply(200, {"status": "Succeeded"})

    # --- storage -----------------------------------------------------------------------

    def _check_model_uri(self, name: str, version: str, uri: str | None) -> None:
        if not uri:
            raise ServiceError(400, "UserError", "modelUri is required for a model version.")
        with self._storage_lock:
            ours = _container_of(uri) in self._containers_of.values()
        if not (ours and (urlsplit(uri).hostname or "").endswith(f".{BLOB_SUFFIX}")):
            raise ServiceError(
                400,
                "UserError",
                f"modelUri {uri} of {name}:{version} is not in the registry's storage "
                "(upload through tempdatarefs first).",
            )

    def _temp_ref(self, request: Request, found: re.Match[str]) -> Reply:
        body = json.loads(request.body or b"{}")
        if set(body) != _TEMPDATAREF_KEYS:
            raise ServiceError(400, "UserError", f"$: keys must be {sorted(_TEMPDATAREF_KEYS)}")
        asset = self.registry.asset_id(found["name"], found["version"])
        if body["assetId"] != asset or body["temporaryDataReferenceType"] != (
            "TemporaryBlobReference"
        ):
            raise ServiceError(400, "UserError", f"$.assetId: expected {asset}")
        if self._version_exists(found["name"], found["version"]):
            raise ServiceError(409, "UserError", f"Asset {asset} already exists.")
        with self._storage_lock:
            container = self._containers_of.setdefault(asset, f"reg-{uuid.uuid4().hex}")
        sas = self._sas(container, "racwdl")
        reference = {
            "blobUri": sas.split("?")[0],
            "storageAccountArmId": None,
            "credential": {"credentialType": "SAS", "sasUri": sas},
        }
        return Reply(
            200,
            {
                "blobReferenceForConsumption": reference,
                "temporaryDataReferenceId": asset,
                "temporaryDataReferenceType": "TemporaryBlobReference",
            },
        )

    def _data_ref(self, request: Request, found: re.Match[str]) -> Reply:
        body = json.loads(request.body)  # checked against its REST model by the route
        entity = self.state.get_version(found["name"], found["version"])
        uri = entity.properties.get("modelUri")
        if body.get("blobUri") != uri:
            raise ServiceError(400, "UserError", f"$.blobUri: not the storage of {uri}")
        reference = {
            "blobUri": uri,
            "storageAccountArmId": None,
            "credential": {"credentialType": "SAS", "sasUri": self._sas(_container_of(uri), "rl")},
        }
        return Reply(200, {"blobReferenceForConsumption": reference})

    def unclaimed_uploads(self, name: str) -> list[str]:
        """The versions of model ``name`` given upload storage (``tempdatarefs``) that
        never became a version: what an interrupted register left behind."""
        with self._storage_lock:
            reserved = list(self._containers_of)
        prefix = self.registry.asset_id(name) + "/versions/"
        return sorted(
            asset[len(prefix) :]
            for asset in reserved
            if asset.startswith(prefix) and not self._version_exists(name, asset[len(prefix) :])
        )

    def _version_exists(self, name: str, version: str) -> bool:
        return any(v == version for v, _ in self.state.versions(name))

    def _sas(self, container: str, permission: str) -> str:
        if self._storage is None:
            raise ServiceError(500, "InternalServerError", "this rig has no blob storage")
        return self._storage(container, permission)


def _container_of(uri: str) -> str:
    """The blob container of an ``https://ACCOUNT.blob.core.windows.net/CONTAINER/...`` URI."""
    return urlsplit(uri).path.lstrip("/").split("/", 1)[0]
