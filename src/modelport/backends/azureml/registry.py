"""``azureml://registry/NAME``: an Azure ML registry through ``MLClient(registry_name=...)``.

The workspace backend's reads, writes, mapping (`.translate`) and errors, over the calls
the SDK makes for a registry (`.models_api.RegistryModels`): discovery once per backend
(in the ``MLClient`` constructor), then the registry's regional data plane. What differs:

- Artifacts: a registry has no datastore. As ``models.create_or_update`` does, a version's
  files go to the registry's own storage: ``tempdatarefs`` for ``NAME:VERSION`` gives a
  container SAS, the folder is uploaded there (``SLOT/``, the register's key) and the
  version's ``modelUri`` is that folder's blob URL. The number is chosen first (the
  container's ``nextVersion``); a number another register took (409 from
  ``tempdatarefs`` or from the PUT) moves on to the next. Nothing is uploaded ahead
  (``stage_artifact``): the storage belongs to one version number. Reading one asks
  ``datarefs`` for a read SAS, as ``models.download`` does; that needs the version, so
  ``fetch_artifact`` serves URIs of versions this backend has read (the facade always
  reads the version first).
- Versions and containers are written through long-running operations, awaited up to
  ``timeout``.
- The audit trail (events, stage log) and the pointers: the same blob layout as a
  workspace (`.storage`), in the registry's own storage, in the container of one
  reserved temporary data reference, ``PREFIX-state:1`` (``tempdatarefs`` is "create or
  get": every client gets the same container, with a fresh SAS). It is the one place a
  registry gives its clients to write to, reached with the credentials the SDK uses.
  Known risk: the service calls these references temporary; that it keeps one that never
  becomes a version was not verified against the real service. No version can take the
  name meanwhile: a model called ``PREFIX-state`` would meet a 409 at version 1.
- Only local artifacts register (no ``register_uri``): a registry takes files only through
  its own upload references.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelport.backends.azureml import session
from modelport.backends.azureml.backend import (
    CREATE_ATTEMPTS,
    AzureMLBackend,
    _slot,
    version_body,
)
from modelport.backends.azureml.errors import ERRORS
from modelport.backends.azureml.listing import SasListing
from modelport.backends.azureml.models_api import RegistryModels
from modelport.backends.azureml.storage import BlobStore
from modelport.backends.azureml.translate import AzureVersion
from modelport.backends.base import Capability
from modelport.backends.kit.errors import Context
from modelport.errors import ConflictError, InvalidInputError
from modelport.models import ModelVersion, VersionDraft
from modelport.progress import OnBytes

STATE_VERSION = "1"
SAS_RENEWAL = 30 * 60.0  # seconds: a state SAS is asked for again well before it expires


class SasBlobStore(BlobStore):
    """A `BlobStore` on one container of the registry's storage, reached with a SAS."""

    def __init__(
        self,
        container: Any,
        url: str,
        prefix: str,
        timeout: float,
        listing: SasListing | None = None,
    ) -> None:
        super().__init__(container, "", prefix, timeout, listing)
        self.url = url.split("?", 1)[0]

    def uri(self, path: str) -> str:
        return f"{self.url}/{path}"


class AzureMLRegistryBackend(AzureMLBackend):
    capabilities = AzureMLBackend.capabilities - {Capability.REGISTER_URI}

    def __init__(self, url: Any, config: Any) -> None:
        super().__init__(url, config)
        self._owners: dict[str, tuple[str, str]] = {}  # modelUri -> (name, version)
        self._state_since = 0.0

    # -- scope plumbing --------------------------------------------------------------

    def _new_client(self, token: Any) -> Any:
        return session.registry_client(self.config, token)

    def _models_api(self, client: session.RegistryClient) -> RegistryModels:
        return RegistryModels(client, str(self.config.registry), self.config.timeout)

    def _registry(self) -> RegistryModels:
        api = self._api()
        assert isinstance(api, RegistryModels)
        return api

    def _blobs(self) -> BlobStore:
        """The state container (events, stage log, pointers), its SAS renewed in time."""
        api = self._registry()
        with self._lock:
            if self._store is not None and time.monotonic() - self._state_since < SAS_RENEWAL:
                return self._store
        state = f"{self.config.prefix}-state"
        with ERRORS.translating(self._ctx(subject="the registry's state storage")):
            sas = api.upload_sas(state, STATE_VERSION)
            if sas is None:
                raise ConflictError(
                    f"{self.url}: a model version {state}:{STATE_VERSION} holds the name "
                    "of modelport's state storage in this registry",
                    model=state,
                )
            store = self._sas_store(sas, listed=True)
        with self._lock:
            self._store, self._state_since = store, time.monotonic()
            return store

    def _sas_store(self, sas: str, *, listed: bool = False) -> SasBlobStore:
        """A store on the SAS URL ``sas``; ``listed``: its pointers read by the short path."""
        container = session.sas_container_client(self.config, sas)
        listing = session.sas_listing(self.config, container, sas) if listed else None
        return SasBlobStore(container, sas, self.config.prefix, self.config.timeout, listing)

    # -- artifacts -------------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        super().validate_draft(draft)
        if not draft.source_is_local:
            raise InvalidInputError(
                "an Azure ML registry takes local artifacts only (uploaded to its own "
                f"storage), not {draft.source[:100]!r}",
                field="source",
                model=draft.name,
            )

    def stage_artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> None:
        """Nothing ahead: the registry's upload storage belongs to one version number."""
        del on_bytes
        self.validate_draft(draft)

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        with self._stored(uri) as (store, path):
            store.fetch_path(path, dest, shown=uri)

    def artifact_size(self, uri: str) -> int | None:
        with self._stored(uri) as (store, path):
            return store.size_of_path(path)

    @contextmanager
    def _stored(self, uri: str) -> Iterator[tuple[SasBlobStore, str]]:
        """The store holding ``uri`` (reached with the read SAS the registry hands out
        for the version owning it) and its path there; errors read as the version's."""
        owner = self._owners.get(uri)
        if owner is None:
            raise InvalidInputError(
                f"{uri[:100]!r} is not the artifact of a version read through {self._shown}",
                field="uri",
            )
        with ERRORS.translating(Context(self._shown, *owner, subject=uri)):
            store = self._sas_store(self._registry().read_sas(*owner, uri))
            yield store, uri[len(store.url) + 1 :]

    def _record(self, name: str, version: AzureVersion, pointers: dict[str, str]) -> ModelVersion:
        if version.path:
            with self._lock:
                self._owners[version.path] = (name, version.version)
        return super()._record(name, version, pointers)

    # -- creating a version ------------------------------------------------------------

    def _put_new(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> str:
        """Take the next number: its upload storage (409: taken), the files, the PUT
        (409: taken between the two). Files sent again under a later number are told to
        ``on_bytes`` again (the facade's count caps them)."""
        for _ in range(CREATE_ATTEMPTS):
            container, version = self._next_number(draft.name)
            ctx = self._ctx(draft.name, version)
            sas = self._call(ctx, self._registry().upload_sas, draft.name, version)
            if sas is None:
                continue
            store = self._sas_store(sas)
            with ERRORS.translating(ctx):
                uri = store.upload_folder(
                    Path(draft.source), _slot(draft.idempotency_key), on_bytes
                )
            try:
                body = version_body(draft, uri)
                self._call(ctx, self._api().put_version, draft.name, version, body)
            except ConflictError:
                continue
            self._adopt_pointers(draft.name, container)  # marks the model's pointers as blobs
            return version
        raise self._numbers_taken(draft.name)
