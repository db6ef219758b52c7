"""The workspace API of the fake: ARM model containers, versions and datastores."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from modelport.backends.azureml.transport import ARM_HOST

from .bodies import BodyError, check_body
from .faults import Fault, FaultInjector
from .http import Reply, Request
from .state import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    BLOB_CONTAINER,
    DEFAULT_DATASTORE,
    Entity,
    JsonDict,
    ServiceError,
    WorkspaceState,
    not_found,
)

# api-versions azure-ai-ml 1.35 sends for these paths; others are refused as the service does.
MODEL_API_VERSIONS = frozenset({"2023-08-01-preview"})
DATASTORE_API_VERSIONS = frozenset({"2024-10-01-preview"})

_PROVIDER = "providers/Microsoft.MachineLearningServices"
_WORKSPACE = re.compile(
    rf"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/{_PROVIDER}"
    r"/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_NAME = r"[^/]+"


@dataclass(frozen=True)
class WorkspaceScope:
    subscription: str
    resource_group: str
    workspace: str

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/{_PROVIDER}/workspaces/{self.workspace}"
        )


Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass(frozen=True)
class _Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    api_versions: frozenset[str]
    body_model: str | None
    handler: Handler


class WorkspaceApi:
    """Answers ARM requests for one workspace; counts them by route name in ``calls``."""

    def __init__(self, scope: WorkspaceScope, *, page_size: int, faults: FaultInjector) -> None:
        self.scope = scope
        self.state = WorkspaceState()
        self.calls: Counter[str] = Counter()
        self.page_size = page_size
        self.host = ARM_HOST  # the host the client called (for nextLink)
        self._faults = faults
        self._routes = self._build_routes()

    def route(
        self, name: str, method: str, path: str, handler: Handler, body: str | None = None
    ) -> _Route:
        """A route of ``method`` on ``path`` (under the scope) with its body's REST model."""
        pattern = re.compile(f"^{path}$")
        return _Route(name, method, pattern, self._api_versions(name), body, handler)

    def _build_routes(self) -> list[_Route]:
        route = self.route
        models = f"/models/(?P<name>{_NAME})"
        version = f"{models}/versions/(?P<version>{_NAME})"
        return [
            route("containers.list", "GET", "/models", self._list_containers),
            route("containers.get", "GET", models, self._get_container),
            route("containers.put", "PUT", models, self._put_container, "ModelContainer"),
            route("versions.list", "GET", f"{models}/versions", self._list_versions),
            route("versions.get", "GET", version, self._get_version),
            route("versions.put", "PUT", version, self._put_version, "ModelVersion"),
            route("versions.delete", "DELETE", version, self._delete_version),
            *self._scope_routes(),
        ]

    def _scope_routes(self) -> list[_Route]:
        """Routes only a workspace has: its datastores."""
        datastore = f"/datastores/(?P<name>{_NAME})"
        return [
            self.route("datastores.list", "GET", "/datastores", self._list_datastores),
            self.route("datastores.get", "GET", datastore, self._get_datastore),
            self.route(
                "datastores.listSecrets",
                "POST",
                f"{datastore}/listSecrets",
                self._list_secrets,
                "SecretExpiry",
            ),
        ]

    def _api_versions(self, route: str) -> frozenset[str]:
        return DATASTORE_API_VERSIONS if route.startswith("datastores") else MODEL_API_VERSIONS

    def handle(self, request: Request) -> Reply:
        try:
            return self._dispatch(request)
        except ServiceError as error:
            return Reply(error.status, error.body())

    def _dispatch(self, request: Request) -> Reply:
        rest = self._scope_rest(request.path)
        for route in self._routes:
            found = route.pattern.match(rest)
            if found and route.method == request.method:
                return self._run(route, request, found)
        raise ServiceError(404, "UserError", f"No route for {request.method} {rest}.")

    def _scope_rest(self, path: str) -> str:
        """The part of ``path`` after this workspace's ARM id (404 for another scope)."""
        match = _WORKSPACE.match(path)
        if match is None or (match["sub"], match["rg"], match["ws"]) != (
            self.scope.subscription,
            self.scope.resource_group,
            self.scope.workspace,
        ):
            raise ServiceError(404, "ResourceNotFound", f"Resource {path} not found.")
        return match["rest"] or ""

    def _asset_id(self, name: str, version: str | None = None) -> str:
        """The id the service gives a container (``version`` None) or a version."""
        base = f"{self.scope.arm_id}/models/{name}"
        return base if version is None else f"{base}/versions/{version}"

    def _run(self, route: _Route, request: Request, found: re.Match[str]) -> Reply:
        self.calls[route.name] += 1
        api_version = request.query.get("api-version")
        if api_version not in route.api_versions:
            raise ServiceError(
                400, "InvalidApiVersionParameter", f"The api-version '{api_version}' is invalid."
            )
        if route.body_model is not None:
            _check_request_body(request.body, route.body_model)
        fault = self._faults.take(request.method)
        if fault is Fault.THROTTLE:
            return Reply(429, _error("TooManyRequests", "Throttled."), {"Retry-After": "0"})
        if fault is Fault.UNAVAILABLE:
            return Reply(503, _error("ServiceUnavailable", "Try again."))
        reply = route.handler(request, found)
        return Reply(0, drop=True) if fault is Fault.LOST_ANSWER else reply

    def _type(self, kind: str) -> str:
        return f"Microsoft.MachineLearningServices/workspaces/{kind}"

    # --- model containers ------------------------------------------------------------

    def _container_json(self, name: str, entity: Entity, versions: list[str]) -> JsonDict:
        numbers = [int(v) for v in versions if v.isdigit()]
        latest = max(numbers, default=None)
        properties = {
            "description": None,
            "tags": {},
            "properties": {},
            "isArchived": False,
            **entity.properties,
            "latestVersion": None if latest is None else str(latest),
            "nextVersion": str((latest or 0) + 1),
            "provisioningState": "Succeeded",
        }
        return _resource(self._asset_id(name), name, self._type("models"), entity, properties)

    def _list_containers(self, request: Request, _: re.Match[str]) -> Reply:
        view = request.query.get("listViewType", "ActiveOnly")
        items = [
            self._container_json(name, entity, versions)
            for name, entity, versions in self.state.containers()
            if _in_view(bool(entity.properties.get("isArchived")), view)
        ]
        return self._page(request, items)

    def _get_container(self, _: Request, found: re.Match[str]) -> Reply:
        entity, versions = self.state.get_container(found["name"])
        return Reply(200, self._container_json(found["name"], entity, versions))

    def _put_container(self, request: Request, found: re.Match[str]) -> Reply:
        body = json.loads(request.body)
        self.state.put_container(found["name"], body.get("properties") or {})
        entity, versions = self.state.get_container(found["name"])
        return Reply(200, self._container_json(found["name"], entity, versions))

    # --- model versions --------------------------------------------------------------

    def _version_json(self, name: str, version: str, entity: Entity) -> JsonDict:
        properties = {**entity.properties, "provisioningState": "Succeeded"}
        kind = self._type("models/versions")
        return _resource(self._asset_id(name, version), version, kind, entity, properties)

    def _list_versions(self, request: Request, found: re.Match[str]) -> Reply:
        name = found["name"]
        listed = self.state.versions(name)
        listed = [(v, e) for v, e in listed if _matches(e.properties, request.query)]
        descending = request.query.get("$orderBy", "createdtime desc").lower().endswith("desc")
        listed.sort(key=lambda pair: pair[1].created, reverse=descending)
        items = [self._version_json(name, v, e) for v, e in listed]
        return self._page(request, items)

    def _get_version(self, _: Request, found: re.Match[str]) -> Reply:
        entity = self.state.get_version(found["name"], found["version"])
        return Reply(200, self._version_json(found["name"], found["version"], entity))

    def _put_version(self, request: Request, found: re.Match[str]) -> Reply:
        name, version = found["name"], found["version"]
        properties = json.loads(request.body).get("properties") or {}
        if not properties.get("modelUri"):
            raise ServiceError(400, "UserError", "modelUri is required for a model version.")
        entity = self.state.put_version(name, version, properties)
        status = 201 if entity.created == entity.modified else 200
        return Reply(status, self._version_json(name, version, entity))

    def _delete_version(self, _: Request, found: re.Match[str]) -> Reply:
        self.state.delete_version(found["name"], found["version"])
        return Reply(200)

    # --- datastores ------------------------------------------------------------------

    def _datastore_json(self) -> JsonDict:
        properties = {
            "datastoreType": "AzureBlob",
            "accountName": AZURITE_ACCOUNT,
            "containerName": BLOB_CONTAINER,
            "endpoint": "core.windows.net",
            "protocol": "https",
            "isDefault": True,
            "credentials": {"credentialsType": "AccountKey"},
            "serviceDataAccessAuthIdentity": "None",
            "tags": {},
            "properties": {},
        }
        arm_id = f"{self.scope.arm_id}/datastores/{DEFAULT_DATASTORE}"
        body = {"id": arm_id, "name": DEFAULT_DATASTORE, "properties": properties}
        body["type"] = "Microsoft.MachineLearningServices/workspaces/datastores"
        return body

    def _list_datastores(self, request: Request, _: re.Match[str]) -> Reply:
        return self._page(request, [self._datastore_json()])

    def _get_datastore(self, _: Request, found: re.Match[str]) -> Reply:
        if found["name"] != DEFAULT_DATASTORE:
            raise not_found(f"Datastore {found['name']}")
        return Reply(200, self._datastore_json())

    def _list_secrets(self, _: Request, found: re.Match[str]) -> Reply:
        if found["name"] != DEFAULT_DATASTORE:
            raise not_found(f"Datastore {found['name']}")
        return Reply(200, {"secretsType": "AccountKey", "key": AZURITE_KEY})

    # --- paging ----------------------------------------------------------------------

    def _page(self, request: Request, items: list[JsonDict]) -> Reply:
        start = _skip_offset(request.query.get("$skip"))
        size = min(int(request.query.get("$top") or self.page_size), self.page_size)
        page = items[start : start + size]
        body: JsonDict = {"value": page}
        if start + size < len(items):
            query = {**request.query, "$skip": f"offset-{start + size}"}
            body["nextLink"] = f"https://{self.host}{request.path}?{urlencode(query)}"
        return Reply(200, body)


def _check_request_body(raw: bytes, model: str) -> None:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ServiceError(400, "UserError", f"Request body is not JSON: {exc}") from exc
    try:
        check_body(body, model)
    except BodyError as exc:
        raise ServiceError(400, "UserError", str(exc)) from exc


def _skip_offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.startswith("offset-") or not token[len("offset-") :].isdigit():
        raise ServiceError(400, "UserError", f"Invalid $skip token '{token}'.")
    return int(token[len("offset-") :])


def _in_view(archived: bool, view: str) -> bool:
    return {"ActiveOnly": not archived, "ArchivedOnly": archived, "All": True}.get(view, False)


def _matches(properties: JsonDict, query: dict[str, str]) -> bool:
    archived = bool(properties.get("isArchived"))
    if not _in_view(archived, query.get("listViewType", "ActiveOnly")):
        return False
    if "stage" in query and properties.get("stage") != query["stage"]:
        return False
    return _has(properties.get("tags") or {}, query.get("tags", "")) and _has(
        properties.get("properties") or {}, query.get("properties", "")
    )


def _has(values: JsonDict, conditions: str) -> bool:
    """``k1=v1,k2``: every key present, with the value where one is given."""
    for condition in filter(None, conditions.split(",")):
        key, _, value = condition.partition("=")
        if key not in values or (value and values[key] != value):
            return False
    return True


def _error(code: str, message: str) -> JsonDict:
    return {"error": {"code": code, "message": message, "details": []}}


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _resource(arm_id: str, name: str, kind: str, entity: Entity, properties: JsonDict) -> JsonDict:
    return {
        "id": arm_id,
        "name": name,
        "type": kind,
        "systemData": {
            "createdAt": _timestamp(entity.created),
            "createdBy": "modelport-rig",
            "createdByType": "User",
            "lastModifiedAt": _timestamp(entity.modified),
            "lastModifiedBy": "modelport-rig",
            "lastModifiedByType": "User",
        },
        "properties": properties,
    }
