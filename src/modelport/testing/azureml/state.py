"""Workspace state of the fake: model containers, versions and datastores, under one lock."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

JsonDict = dict[str, Any]

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published, well-known development key (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEFAULT_DATASTORE = "workspaceblobstore"
BLOB_CONTAINER = "azureml-blobstore"


class ServiceError(Exception):
    """An error the service answers with: HTTP status, ARM error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> JsonDict:
        return {"error": {"code": self.code, "message": self.message, "details": []}}


def not_found(what: str) -> ServiceError:
    return ServiceError(404, "UserError", f"{what} not found.")


@dataclass
class Entity:
    properties: JsonDict
    created: datetime
    modified: datetime


@dataclass
class _Container:
    entity: Entity
    versions: dict[str, Entity] = field(default_factory=dict)


class _Clock:
    """Timestamps that always move forward, so 'latest' is never a tie."""

    def __init__(self) -> None:
        self._last = datetime.now(timezone.utc)

    def now(self) -> datetime:
        self._last = max(datetime.now(timezone.utc), self._last + timedelta(microseconds=1))
        return self._last


class WorkspaceState:
    """Model containers and versions of one workspace; every method is atomic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock = _Clock()
        self._containers: dict[str, _Container] = {}

    def reset(self) -> None:
        with self._lock:
            self._containers.clear()

    def put_container(self, name: str, properties: JsonDict) -> Entity:
        with self._lock:
            now = self._clock.now()
            container = self._containers.get(name)
            if container is None:
                container = _Container(Entity({}, now, now))
                self._containers[name] = container
            stored = {k: v for k, v in properties.items() if k in _CONTAINER_WRITABLE}
            container.entity.properties = {**container.entity.properties, **stored}
            container.entity.modified = now
            return _snapshot(container.entity)

    def get_container(self, name: str) -> tuple[Entity, list[str]]:
        """The container and its version ids."""
        with self._lock:
            container = self._require(name)
            return _snapshot(container.entity), list(container.versions)

    def containers(self) -> list[tuple[str, Entity, list[str]]]:
        with self._lock:
            return [
                (name, _snapshot(c.entity), list(c.versions))
                for name, c in sorted(self._containers.items())
            ]

    def put_version(self, name: str, version: str, properties: JsonDict) -> Entity:
        with self._lock:
            now = self._clock.now()
            container = self._containers.get(name)
            if container is None:
                container = _Container(Entity({}, now, now))
                self._containers[name] = container
            existing = container.versions.get(version)
            stored = {**VERSION_DEFAULTS, **copy.deepcopy(properties)}
            if existing is None:
                entity = Entity(stored, now, now)
                container.versions[version] = entity
                return _snapshot(entity)
            _refuse_immutable_change(name, version, existing.properties, stored)
            if "stage" not in properties and "stage" in existing.properties:
                stored["stage"] = existing.properties["stage"]  # archive re-PUTs without it
            existing.properties = stored
            existing.modified = now
            return _snapshot(existing)

    def get_version(self, name: str, version: str) -> Entity:
        with self._lock:
            entity = self._require(name).versions.get(version)
            if entity is None:
                raise not_found(f"Model version {name}:{version}")
            return _snapshot(entity)

    def versions(self, name: str) -> list[tuple[str, Entity]]:
        with self._lock:
            container = self._containers.get(name)
            if container is None:
                return []
            return [(v, _snapshot(e)) for v, e in container.versions.items()]

    def delete_version(self, name: str, version: str) -> None:
        with self._lock:
            container = self._require(name)
            if container.versions.pop(version, None) is None:
                raise not_found(f"Model version {name}:{version}")

    def _require(self, name: str) -> _Container:
        container = self._containers.get(name)
        if container is None:
            raise not_found(f"Model container {name}")
        return container


VERSION_DEFAULTS: JsonDict = {
    "description": None,
    "tags": {},
    "properties": {},
    "isAnonymous": False,
    "isArchived": False,
    "flavors": {},
}
_CONTAINER_WRITABLE = frozenset({"description", "tags", "properties", "isArchived"})
# Fields of a version that a later PUT may change: the rest are fixed at creation.
_VERSION_MUTABLE = frozenset({"description", "tags", "isArchived", "stage"})


def _refuse_immutable_change(name: str, version: str, old: JsonDict, new: JsonDict) -> None:
    for key in sorted(set(old) | set(new)):
        if key in _VERSION_MUTABLE or key not in new:
            continue
        if old.get(key) != new[key]:
            raise ServiceError(
                409,
                "UserError",
                f"Cannot change {key} of model version {name}:{version}: it is immutable.",
            )


def _snapshot(entity: Entity) -> Entity:
    return Entity(copy.deepcopy(entity.properties), entity.created, entity.modified)
