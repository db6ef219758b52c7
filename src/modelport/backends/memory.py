"""``memory://``: the in-process reference backend.

Complete (every capability), with all state held by the instance: two
``connect("memory://")`` calls give two independent registries. Artifacts are kept
as bytes. ``memory://?page_size=N`` sets the listing page size (paging tests).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

from modelport.artifacts import materialize
from modelport.backends.base import Backend, Capability, Page
from modelport.backends.kit.options import BackendOptions, integer_option, parse_options
from modelport.digest import iter_directory
from modelport.errors import (
    InvalidInputError,
    InvalidURLError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelport.models import (
    Approval,
    Event,
    EventKind,
    ModelVersion,
    VersionDraft,
    utc_now,
)
from modelport.progress import OnBytes
from modelport.scratch import scratch_dir
from modelport.urls import RegistryURL

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class MemoryOptions(BackendOptions):
    """``memory://?page_size=N``."""

    page_size: int = integer_option(DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)


@dataclass
class _Stored:
    record: ModelVersion  # stage is the projection; aliases are filled in on read
    events: dict[str, Event] = field(default_factory=dict)  # by id, in append order


@dataclass
class _Model:
    versions: dict[str, _Stored] = field(default_factory=dict)
    pointers: dict[str, str] = field(default_factory=dict)
    transitions: dict[str, Event] = field(default_factory=dict)  # by id: the stage log


class MemoryBackend(Backend):
    options = MemoryOptions
    capabilities = frozenset(Capability)

    def __init__(self, url: RegistryURL, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self.url = url
        self.page_size = page_size
        self.instance = uuid.uuid4().hex[:12]
        self._lock = threading.RLock()
        self._models: dict[str, _Model] = {}
        self._blobs: dict[str, dict[str, bytes]] = {}  # artifact uri -> relative path -> bytes
        self._by_key: dict[str, tuple[str, str]] = {}  # idempotency key -> (name, version)

    @classmethod
    def from_url(cls, url: RegistryURL) -> MemoryBackend:
        if url.host or url.path.strip("/"):
            raise InvalidURLError(
                f"{url}: memory:// takes no host or path", field="url", url=str(url)
            )
        return cls(url, page_size=parse_options(MemoryOptions, url).page_size)

    # -- reads ---------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        with self._lock:
            return self._page(sorted(self._models), page_token)

    def get_version(self, name: str, version: str) -> ModelVersion:
        with self._lock:
            return self._shown(name, self._stored(name, version))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        with self._lock:
            model = self._model(name)
            records = [self._shown(name, s) for s in model.versions.values()]
        return self._page(records, page_token)

    def latest_version(self, name: str) -> ModelVersion:
        with self._lock:
            model = self._model(name)
            if not model.versions:
                raise VersionNotFoundError(f"model {name!r} has no versions", model=name)
            return self._shown(name, list(model.versions.values())[-1])

    def read_pointers(self, name: str) -> dict[str, str]:
        with self._lock:
            return dict(self._model(name).pointers)

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        with self._lock:
            model = self._model(name)
            return [
                self._shown(name, s) for s in model.versions.values() if s.record.stage == stage
            ]

    def read_events(self, name: str, version: str) -> list[Event]:
        with self._lock:
            return sorted(self._stored(name, version).events.values(), key=lambda e: e.at)

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        with self._lock:
            log = self._model(name).transitions.values()
            return sorted((e for e in log if stage in (e.from_, e.to)), key=lambda e: e.at)

    def artifact_size(self, uri: str) -> int | None:
        with self._lock:
            files = self._blobs.get(uri)
        return None if files is None else sum(len(data) for data in files.values())

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        with self._lock:
            files = self._blobs.get(uri)
        if files is None:
            local = _local_path(uri)
            if local is None:
                raise VersionNotFoundError(f"{self.url}: no artifact at {uri!r}", field="uri")
            materialize(local, dest)
            return
        for relative, data in files.items():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    # -- writes --------------------------------------------------------------

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        with self._lock:
            if draft.idempotency_key in self._by_key:
                return self.get_version(*self._by_key[draft.idempotency_key])
            model = self._models.setdefault(draft.name, _Model())
            version = str(len(model.versions) + 1)
            uri = self._store_artifact(draft, version, on_bytes)
            now = utc_now()
            record = ModelVersion(
                name=draft.name,
                version=version,
                approval=draft.approval,
                artifact_uri=uri,
                digest=draft.digest,
                metrics=draft.metrics,
                params=draft.params,
                tags=draft.tags,
                description=draft.description,
                lineage=draft.lineage,
                created_at=now,
                updated_at=now,
                registry=str(self.url),
                native=f"{self.instance}/{draft.name}/{version}",
            )
            model.versions[version] = _Stored(record)
            self.append_events(draft.name, version, draft.history)
            self._by_key[draft.idempotency_key] = (draft.name, version)
            return self._shown(draft.name, model.versions[version])

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        with self._lock:
            self._stored(name, version)
            self._model(name).pointers[pointer] = version

    def delete_pointer(self, name: str, pointer: str) -> None:
        with self._lock:
            self._model(name).pointers.pop(pointer, None)

    def validate_pointer(self, pointer: str) -> None:
        """Any alias the facade accepts: pointers are keys of a dict here."""

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        self._update(name, version, stage=stage)

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        self._update(name, version, approval=approval)

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        with self._lock:
            model = self._model(name)
            stored = self._stored(name, version)
            for event in events:
                placed = event.model_copy(update={"name": name, "version": version})
                stored.events[event.id] = placed
                if placed.kind is EventKind.TRANSITIONED:
                    model.transitions[event.id] = placed

    def _update(self, name: str, version: str, **fields: object) -> None:
        with self._lock:
            stored = self._stored(name, version)
            stored.record = stored.record.model_copy(update={**fields, "updated_at": utc_now()})

    def _shown(self, name: str, stored: _Stored) -> ModelVersion:
        """The stored record with the pointers that name it (called under the lock)."""
        version = stored.record.version
        held = tuple(sorted(p for p, v in self._models[name].pointers.items() if v == version))
        return (
            stored.record
            if held == stored.record.aliases
            else (stored.record.model_copy(update={"aliases": held}))
        )

    # -- helpers -------------------------------------------------------------

    def _store_artifact(self, draft: VersionDraft, version: str, on_bytes: OnBytes | None) -> str:
        if not draft.source_is_local:
            if _local_path(draft.source) is None and draft.source not in self._blobs:
                raise InvalidInputError(
                    f"memory:// can register local paths, file:// URIs and its own artifacts, "
                    f"not {draft.source!r}",
                    field="source",
                    model=draft.name,
                )
            return draft.source
        uri = f"memory://{self.instance}/{draft.name}/{version}"
        with scratch_dir("upload") as tmp:
            materialize(Path(draft.source), tmp)
            self._blobs[uri] = {rel: _read(full, on_bytes) for rel, full in iter_directory(tmp)}
        return uri

    def _model(self, name: str) -> _Model:
        model = self._models.get(name)
        if model is None:
            raise ModelNotFoundError(f"{self.url}: no model named {name!r}", model=name)
        return model

    def _stored(self, name: str, version: str) -> _Stored:
        with self._lock:
            stored = self._model(name).versions.get(version)
        if stored is None:
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r}",
                model=name,
                version=version,
            )
        return stored

    def _page(self, items: list[T], page_token: str | None) -> Page[T]:
        start = int(page_token) if page_token else 0
        end = start + self.page_size
        return Page(items[start:end], str(end) if end < len(items) else None)


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file://"):
        path = Path(url2pathname(urlsplit(uri).path))
        return path if path.exists() else None
    return None


def _read(path: Path, on_bytes: OnBytes | None) -> bytes:
    """A file's bytes, reported once stored: storing them is this backend's upload."""
    data = path.read_bytes()
    if on_bytes is not None:
        on_bytes(len(data))
    return data
