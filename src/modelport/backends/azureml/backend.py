"""``azureml://``: an Azure ML workspace's model registry through azure-ai-ml's ``MLClient``.

(``azureml://registry/NAME``, a registry, is `.registry.AzureMLRegistryBackend`: this
class over the registry's data-plane calls, `.models_api` hiding the difference.)

A model is a model container, a version its version (see `.translate` for the
mapping, `.storage` for the datastore's blobs). Calls go through the generated ARM
operations the ``MLClient`` itself uses (``model_versions``, ``model_containers``), built
with ``retry_total=0`` and the URL's ``timeout``. Calls per primitive (each retried as a
whole by the facade):

- ``get_version``: 1 pointer listing (blobs, `.storage`) + 1 version GET.
- ``latest_version``: 1 pointer listing + 1 version list (newest first, ``$top=1``).
- ``list_versions``: 1 pointer listing + 1 version list page.
- ``read_pointers``/``pointed_version``: 1 pointer listing (+1 version GET).
- Each read above costs 1 container GET more on a model whose pointers were never
  adopted (see below): its pointers are its container tags still.
- ``stage_members``: the version list, every page (stages are matched case-insensitively,
  as the studio writes ``Production``).
- ``read_events``: 1 version GET + a blob listing + 1 GET per event; ``read_stage_log``: a
  blob listing. The datastore costs 2 calls (get, listSecrets) once per backend.
- ``create_version``: 1 version list filtered on the register's ``mp-key`` property (a
  retry finds the version the first attempt made) + blob uploads + 1 container GET (its
  ``nextVersion``) + 1 version PUT (again on a 409: another register took the number)
  + the adoption of the model's pointers (1 blob upload, once per model and client).
- ``set_pointer``/``delete_pointer``: 1 blob upload, the pointer's own (one atomic write;
  delete leaves a tombstone), after 1 pointer listing the first time a client writes a
  model it has not seen adopted.
- ``write_stage``/``write_approval``: 1 version GET + 1 version PUT.

Pointers are blobs (`.storage`), each moved by one unconditional write of its own:
two clients moving two pointers lose neither move, and two moving one leave the last
writer's. Models from before kept them as container tags ``mp-pointer.NAME``: the first
modelport write of such a model (a register, a pointer move) adopts them, copying each
tag to a blob where none exists, writing the ``.adopted`` marker and then removing the
tags; until then reads find no marker and read the tags (1 container GET more).

Read-modify-writes of a version's body carry no ETag: the ARM model API azure-ai-ml uses
offers none. One backend serializes its own (threads sharing a registry lose nothing);
two clients writing different fields of one version at the same instant can lose one of
the two writes, the last PUT winning. The version's ``stage`` field is such a write, a
projection: where it and a pointer disagree the pointer wins.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from modelport.backends.azureml import session, translate
from modelport.backends.azureml.config import AzureMLConfig, AzureMLOptions, parse_config
from modelport.backends.azureml.errors import ERRORS
from modelport.backends.azureml.models_api import WorkspaceModels
from modelport.backends.azureml.storage import BlobStore
from modelport.backends.azureml.translate import AzureVersion
from modelport.backends.base import Backend, Capability, Page
from modelport.backends.kit.errors import Context
from modelport.backends.kit.pool import WorkerPool
from modelport.errors import (
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from modelport.models import Approval, Event, EventKind, ModelVersion, Stage, VersionDraft
from modelport.progress import OnBytes
from modelport.urls import RegistryURL

MAX_PAGE = 100
MAX_HINTS = 1024  # pointers whose last version a client remembers
CREATE_ATTEMPTS = 10  # version numbers taken by concurrent registers before giving up
POINTER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_SAFE_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class AzureMLBackend(Backend):
    options = AzureMLOptions
    capabilities = frozenset(
        {
            Capability.ALIASES,
            Capability.REGISTER_URI,
            Capability.CUSTOM_STAGES,
            Capability.NATIVE_STAGES,
        }
    )

    def __init__(self, url: RegistryURL, config: AzureMLConfig) -> None:
        self.url = url
        self.config = config
        self._shown = str(url)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one read-modify-write at a time
        self._adopted: set[str] = set()  # models seen with their pointers in blobs
        self._client: Any = None
        self._token: Any = None
        self._store: BlobStore | None = None
        self._models: Any = None
        self._workers = WorkerPool(4, "modelport-azureml")
        self._hints: dict[tuple[str, str], str] = {}  # (model, pointer) -> version last seen

    @classmethod
    def from_url(cls, url: RegistryURL) -> AzureMLBackend:
        config = parse_config(url)
        if config.registry is not None:
            from modelport.backends.azureml.registry import AzureMLRegistryBackend

            return AzureMLRegistryBackend(url, config)
        return cls(url, config)

    # -- reads ---------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        pages = self._call(self._ctx(), self._api().list_containers, list_view_type="All")
        items, token = self._page(pages, page_token, self._ctx())
        return Page([str(item.name) for item in items], token)

    def get_version(self, name: str, version: str) -> ModelVersion:
        # the pointers' error first: a missing model is ModelNotFound, not VersionNotFound
        pointers, found = self._workers.both(
            lambda: self.read_pointers(name), lambda: self._version(name, version)
        )
        return self._record(name, found, pointers)

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        pointers = self.read_pointers(name)
        items, token = self._page(
            self._list(name, order_by="createdtime asc", top=self.config.page_size),
            page_token,
            self._ctx(name),
        )
        return Page([self._record(name, _fields(i), pointers) for i in items], token)

    def latest_version(self, name: str) -> ModelVersion:
        pointers = self.read_pointers(name)
        items, _ = self._page(
            self._list(name, order_by="createdtime desc", top=1), None, self._ctx(name)
        )
        if not items:
            raise VersionNotFoundError(f"{self.url}: model {name!r} has no versions", model=name)
        return self._record(name, _fields(items[0]), pointers)

    def read_pointers(self, name: str) -> dict[str, str]:
        translate.check_name(name)
        pointers = self._blob_pointers(name)
        if pointers is None:  # never adopted: its container tags hold them still
            return translate.pointers_of(self._container(name).properties.tags or {})
        return pointers

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        """The pointer's version. The version the pointer named when this client last
        looked is fetched beside the pointer listing (a deployment resolves the same
        ``name@production`` again and again); it is used only if the listing still names
        it, else the named version is fetched after."""
        hint = self._hints.get((name, pointer))
        if hint is None:
            pointers, guessed = self.read_pointers(name), None
        else:
            pointers, guessed = self._workers.both(
                lambda: self.read_pointers(name), lambda: self._version_if_any(name, hint)
            )
        version = pointers.get(pointer)
        self._remember(name, pointer, version)
        if version is None:
            return None
        found = guessed if guessed is not None and version == hint else None
        return self._record(name, found or self._version(name, version), pointers)

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        pointers = self.read_pointers(name)
        records = [self._record(name, v, pointers) for v in self._all_versions(name)]
        return [record for record in records if record.stage == stage]

    def read_events(self, name: str, version: str) -> list[Event]:
        current = self._version(name, version)
        stored = self._events(name, version)
        if translate.written_by_modelport(current):
            return stored
        registration = translate.foreign_registration(name, current)
        later = [e for e in stored if e.id != registration.id]
        return sorted([registration, *later], key=lambda e: (e.at, e.id))

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, subject=store.location(name))):
            return store.stage_log(name, stage)

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        store = self._blobs()
        with ERRORS.translating(Context(self._shown, subject=uri)):
            store.fetch(uri, dest)

    def artifact_size(self, uri: str) -> int | None:
        store = self._blobs()
        with ERRORS.translating(Context(self._shown, subject=uri)):
            return store.size(uri)

    # -- writes --------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        translate.check_draft(draft)

    def validate_stage(self, stage: str) -> None:
        translate.check_stage(stage)

    def validate_pointer(self, pointer: str) -> None:
        if not POINTER_NAME.fullmatch(pointer):
            raise InvalidInputError(
                f"alias {pointer!r} cannot be an Azure ML container tag here "
                f"({POINTER_NAME.pattern})",
                field="alias",
            )

    def stage_artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> None:
        """Upload ahead: the folder is keyed by the idempotency key, so ``create_version``
        rewrites the same blobs."""
        self.validate_draft(draft)
        self._artifact(draft, on_bytes)

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        self.validate_draft(draft)
        key = translate.token(draft.name, draft.idempotency_key)
        version = self._version_by_key(draft.name, key) or self._put_new(draft, on_bytes)
        self._append_history(draft.name, version, draft.history)
        return self.get_version(draft.name, version)

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        self.validate_pointer(pointer)
        self._write_pointer(name, pointer, version)

    def delete_pointer(self, name: str, pointer: str) -> None:
        self._write_pointer(name, pointer, None)

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        def change(properties: Any) -> None:
            properties.stage = stage
            properties.is_archived = stage == Stage.ARCHIVED.value

        self._update_version(name, version, change)

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        def change(properties: Any) -> None:
            properties.tags = {**(properties.tags or {}), translate.APPROVAL_TAG: approval.value}

        self._update_version(name, version, change)

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            store.append(name, version, events)

    def close(self) -> None:
        self._workers.shutdown()
        with self._lock:
            self._client, self._store, self._models = None, None, None

    # -- helpers: writes -----------------------------------------------------

    def _artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> str:
        if not draft.source_is_local:
            return draft.source
        store = self._blobs()
        folder = f"{self.config.prefix}/{draft.name}/{_slot(draft.idempotency_key)}"
        with ERRORS.translating(self._ctx(draft.name, subject=folder)):
            return store.upload_folder(Path(draft.source), folder, on_bytes)

    def _put_new(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> str:
        """PUT the version under the container's next number; a 409 means a concurrent
        register took that number: read it again."""
        body = version_body(draft, self._artifact(draft, on_bytes))
        for _ in range(CREATE_ATTEMPTS):
            container, version = self._next_number(draft.name)
            try:
                self._call(
                    self._ctx(draft.name, version),
                    self._api().put_version,
                    draft.name,
                    version,
                    body,
                )
            except ConflictError:
                continue
            self._adopt_pointers(draft.name, container)
            return version
        raise self._numbers_taken(draft.name)

    def _next_number(self, name: str) -> tuple[Any | None, str]:
        """The model's container (None: a new model) and the number its next version takes."""
        container = self._container_if_any(name)
        return container, str(container.properties.next_version or "1") if container else "1"

    def _numbers_taken(self, name: str) -> ConflictError:
        return ConflictError(
            f"{self.url}: {name}: {CREATE_ATTEMPTS} version numbers in a row were taken "
            "by concurrent registers",
            model=name,
        )

    def _container_if_any(self, name: str) -> Any | None:
        try:
            return self._container(name)
        except ModelNotFoundError:
            return None

    def _version_by_key(self, name: str, key: str) -> str | None:
        """The version an earlier attempt of this register made, if any."""
        pages = self._list(name, top=1, properties=f"{translate.KEY_PROPERTY}={key}")
        items, _ = self._page(pages, None, self._ctx(name))
        return str(items[0].name) if items else None

    def _append_history(self, name: str, version: str, history: Sequence[Event]) -> None:
        """The draft's events; a version that already has events was made by an earlier
        attempt of this register, whose ``registered`` event stands."""
        if not history:
            return
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            stored = set(store.event_ids(name, version))
            events = [
                e
                for e in history
                if not (stored and e.kind is EventKind.REGISTERED and e.id not in stored)
            ]
            store.append(name, version, events)

    def _write_pointer(self, name: str, pointer: str, version: str | None) -> None:
        translate.check_name(name)
        with self._lock:
            adopted = name in self._adopted
        if not adopted and self._blob_pointers(name) is None:
            self._adopt_pointers(name, self._container(name))
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            store.write_pointer(name, pointer, version)

    def _adopt_pointers(self, name: str, container: Any | None) -> None:
        """Move the model's pointers from its container tags (``None``: a new model, none)
        to blobs, once: copy, mark adopted, then drop the tags (no reader needs them)."""
        tags = dict(container.properties.tags or {}) if container is not None else {}
        legacy = translate.pointers_of(tags)
        with self._lock:
            if name in self._adopted:
                return
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, subject=store.location(name))):
            store.adopt_pointers(name, legacy)
        if legacy:
            self._update_container_tags(name, dict.fromkeys(map(translate.pointer_tag, legacy)))
        with self._lock:
            self._adopted.add(name)

    def _update_container_tags(self, name: str, changes: dict[str, str | None]) -> None:
        with self._write_lock:
            self._put_container_tags(name, changes)

    def _put_container_tags(self, name: str, changes: dict[str, str | None]) -> None:
        container = self._container(name)
        tags = dict(container.properties.tags or {})
        for key, value in changes.items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
        container.properties.tags = tags
        self._call(self._ctx(name), self._api().put_container, name, container)

    def _update_version(self, name: str, version: str, change: Any) -> None:
        with self._write_lock:
            self._put_version(name, version, change)

    def _put_version(self, name: str, version: str, change: Any) -> None:
        current = self._rest_version(name, version)
        change(current.properties)
        self._call(self._ctx(name, version), self._api().put_version, name, version, current)

    # -- helpers: reads ------------------------------------------------------

    def _container(self, name: str) -> Any:
        translate.check_name(name)
        return self._call(self._ctx(name), self._api().get_container, name)

    def _blob_pointers(self, name: str) -> dict[str, str] | None:
        """The model's pointer blobs, or None if they were never adopted."""
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, subject=store.location(name))):
            pointers = store.read_pointers(name)
        if pointers is not None:
            with self._lock:
                self._adopted.add(name)
        return pointers

    def _version(self, name: str, version: str) -> AzureVersion:
        """The version's fields, read from its JSON: building the generated model and reading
        it back costs ~0.4 ms of CPU, a tenth of the whole GET, on every resolve."""
        body = self._call(self._ctx(name, version), self._api().get_version_body, name, version)
        return translate.version_of_body(body)

    def _version_if_any(self, name: str, version: str) -> AzureVersion | None:
        try:
            return self._version(name, version)
        except VersionNotFoundError:  # deleted since the hint was taken
            return None

    def _remember(self, name: str, pointer: str, version: str | None) -> None:
        with self._lock:
            if version is None:
                self._hints.pop((name, pointer), None)
                return
            if len(self._hints) >= MAX_HINTS and (name, pointer) not in self._hints:
                self._hints.pop(next(iter(self._hints)))  # the oldest: bounded memory
            self._hints[(name, pointer)] = version

    def _rest_version(self, name: str, version: str) -> Any:
        """The version as the REST model (``ModelVersion`` of the generated client)."""
        return self._call(self._ctx(name, version), self._api().get_version, name, version)

    def _list(self, name: str, **query: Any) -> Any:
        translate.check_name(name)
        return self._call(
            self._ctx(name), self._api().list_versions, name, list_view_type="All", **query
        )

    def _page(self, pager: Any, token: str | None, ctx: Context) -> tuple[list[Any], str | None]:
        with ERRORS.translating(ctx):
            pages = pager.by_page(continuation_token=token)
            items = list(next(pages, []))
            return items, pages.continuation_token or None

    def _all_versions(self, name: str) -> Iterator[AzureVersion]:
        token: str | None = None
        while True:
            pager = self._list(name, order_by="createdtime asc", top=MAX_PAGE)
            items, token = self._page(pager, token, self._ctx(name))
            yield from (_fields(item) for item in items)
            if token is None:
                return

    def _events(self, name: str, version: str) -> list[Event]:
        store = self._blobs()
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            return store.read_events(name, version)

    def _record(self, name: str, version: AzureVersion, pointers: dict[str, str]) -> ModelVersion:
        return translate.version_record(name, version, pointers, self._shown)

    # -- helpers: plumbing ---------------------------------------------------

    def _call(self, ctx: Context, method: Any, *args: Any, **kwargs: Any) -> Any:
        with ERRORS.translating(ctx):
            return method(*args, **kwargs)

    def _ml_client(self) -> Any:
        with self._lock:
            if self._client is None:
                with ERRORS.translating(self._ctx()):
                    self._token = session.credential(self.config)
                    self._client = self._new_client(self._token)
            return self._client

    def _new_client(self, token: Any) -> Any:
        return session.ml_client(self.config, token)

    def _api(self) -> Any:
        """The scope's model calls (`.models_api`): the generated operations MLClient.models
        itself calls, which expose the container tags, the properties filter and paging
        tokens its wrapper hides."""
        client = self._ml_client()
        with self._lock:
            if self._models is None:
                self._models = self._models_api(client)
            return self._models

    def _models_api(self, client: Any) -> Any:
        return WorkspaceModels(client, self.config.resource_group, self.config.workspace)

    def _blobs(self) -> BlobStore:
        client = self._ml_client()
        with self._lock:
            if self._store is None:
                with ERRORS.translating(self._ctx(subject="datastore")):
                    datastore = session.datastore_of(client, self.config.datastore)
                    container = session.container_client(self.config, datastore, self._token)
                listing = session.pointer_listing(self.config, container, datastore)
                self._store = BlobStore(
                    container, datastore.name, self.config.prefix, self.config.timeout, listing
                )
            return self._store

    def _ctx(
        self, name: str | None = None, version: str | None = None, subject: str | None = None
    ) -> Context:
        return Context(self._shown, name, version, subject)


def version_body(draft: VersionDraft, model_uri: str) -> Any:
    """The REST ``ModelVersion`` of a version modelport creates (``model_uri``: its files)."""
    from azure.ai.ml._restclient.arm_ml_service import models as rest

    tags, properties = translate.new_version_fields(draft)
    return rest.ModelVersion(
        properties=rest.ModelVersionProperties(
            model_uri=model_uri,
            model_type="custom_model",
            description=draft.description,
            tags=tags,
            properties=properties,
            stage=Stage.DEVELOPMENT.value,
            is_archived=False,
        )
    )


def _fields(rest: Any) -> AzureVersion:
    """The fields modelport reads of a generated ``ModelVersion`` (an item of a list)."""
    return translate.version_of_body(rest.as_dict())


def _slot(idempotency_key: str) -> str:
    """The blob folder of one register: the key itself when it is path-safe, else its hash."""
    if _SAFE_SLOT.fullmatch(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
