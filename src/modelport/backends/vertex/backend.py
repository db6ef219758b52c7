"""``vertex://``: the Vertex AI Model Registry on the GAPIC ``ModelServiceClient``.

A model is a Vertex ``Model``, a version its ``version_id`` (see `.translate` for
the mapping, `.naming` for model ids, `.storage` for GCS). Every GAPIC call
passes ``retry=None`` and the URL's ``timeout``; uploads are awaited for ``lro_timeout``.
Calls per primitive (each retried as a whole by the facade):

- ``get_version``: 1 ``GetModel`` (``ID@VERSION``; +1 ``GetModel`` only when it is missing,
  to say whether the model or the version is).
- ``latest_version``: 1 ``ListModelVersions`` (newest first, 1 result).
- ``pointed_version``: 1 ``GetModel`` (``ID@ALIAS``; +1 when absent, as above).
- ``list_versions``: 1 ``ListModelVersions`` page (versions carry their aliases).
- ``read_pointers``: ``ListModelVersions`` pages of the versions labelled ``mp-held``
  (those that ever held a pointer), whatever the number of versions.
- ``stage_members``: ``ListModelVersions`` pages filtered on ``mp-stage`` (every
  version for ``development``, which foreign versions read as).
- ``read_events``: 1 ``GetModel`` + GCS list + 1 GET per event; ``read_stage_log``: GCS
  list pages only.
- ``create_version``: 1 ``ListModelVersions`` (the register's ``mp-key``: a retry finds
  the version the first attempt made) + GCS uploads + ``UploadModel`` (+ polls) + 1
  ``GetModel`` + the history's objects.
- ``set_pointer``: 1 ``MergeVersionAliases`` (+1 ``GetModel`` + 1 ``UpdateModel`` the
  first time a version holds a pointer: its ``mp-held`` label).
- ``delete_pointer``: 1 ``GetModel`` + 1 ``MergeVersionAliases`` (``-alias``).
- ``write_stage``/``write_approval``: 1 ``GetModel`` + 1 ``UpdateModel`` of the labels
  with the etag read (again on a stale etag: no concurrent label write is lost).
- ``append_events``: per event 1 GCS object + 1 per stage it enters or leaves.
- ``read_lineage`` (``Registry.lineage`` only): 1 ``GetModel`` + 1
  ``QueryArtifactLineageSubgraph`` when the version has a metadata artifact.
- ``create_version`` with a run or datasets in its lineage adds 1 ``CreateExecution`` + 1
  ``CreateArtifact`` per dataset + 1 ``AddExecutionEvents`` (see `.lineage`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import timezone
from pathlib import Path
from typing import Any

from modelport.backends.base import Backend, Capability, Page
from modelport.backends.kit.errors import Context
from modelport.backends.vertex import lineage, naming, translate
from modelport.backends.vertex.config import VertexConfig, VertexOptions, parse_config
from modelport.backends.vertex.errors import ERRORS, is_stale
from modelport.backends.vertex.session import metadata_client, model_client, storage_client
from modelport.backends.vertex.storage import GcsStore
from modelport.errors import (
    ConflictError,
    ModelNotFoundError,
    ModelportError,
    VersionNotFoundError,
)
from modelport.models import (
    Approval,
    Event,
    EventKind,
    Lineage,
    ModelVersion,
    Stage,
    VersionDraft,
)
from modelport.progress import OnBytes
from modelport.urls import RegistryURL

JsonDict = dict[str, Any]
MAX_PAGE = 100
LABEL_WRITE_ATTEMPTS = 20  # read-modify-write rounds against concurrent label writers
_SAFE_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PLAIN_FIELDS = (
    "name",
    "version_id",
    "artifact_uri",
    "version_description",
    "description",
    "display_name",
    "pipeline_job",
    "training_pipeline",
    "metadata_artifact",
)
_TIME_FIELDS = ("version_create_time", "version_update_time")


class VertexBackend(Backend):
    options = VertexOptions
    capabilities = frozenset(
        {
            Capability.ALIASES,
            Capability.REGISTER_URI,
            Capability.CUSTOM_STAGES,
            Capability.NATIVE_STAGES,
            Capability.TRAINING_RUNS,  # the run is written to ML Metadata (see `.lineage`)
        }
    )

    def __init__(self, url: RegistryURL, config: VertexConfig) -> None:
        self.url = url
        self.config = config
        self._shown = str(url)
        self._lock = threading.Lock()
        self._client: Any = None
        self._metadata: Any = None  # the MetadataServiceClient, made when lineage needs it
        self._storage: Any = None
        self._pending: dict[str, Any] = {}  # register token -> its unfinished upload
        self._held: set[tuple[str, str]] = set()  # versions known to carry mp-held

    @classmethod
    def from_url(cls, url: RegistryURL) -> VertexBackend:
        return cls(url, parse_config(url))

    # -- reads ---------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        from google.cloud.aiplatform_v1 import types

        request = types.ListModelsRequest(
            parent=self.config.parent, page_size=self.config.page_size, page_token=page_token or ""
        )
        pager = self._call(self._ctx(), "list_models", request=request)
        names = [
            naming.neutral_name(m.name.rsplit("/", 1)[1], m.display_name) for m in pager.models
        ]
        return Page(names, pager.next_page_token or None)

    def get_version(self, name: str, version: str) -> ModelVersion:
        _check_version_id(self.url, name, version)
        return self._read_record(name, self._get_message(name, version))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        models, token = self._versions_page(name, page_token, size=self.config.page_size)
        return Page([self._record(name, m) for m in models], token)

    def latest_version(self, name: str) -> ModelVersion:
        models, _ = self._versions_page(name, None, size=1, order_by="create_time desc")
        if not models:
            raise VersionNotFoundError(f"{self.url}: model {name!r} has no versions", model=name)
        return self._record(name, models[0])

    def read_pointers(self, name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        held = f"labels.{translate.HELD_LABEL}={translate.HELD}"
        for model in self._all_versions(name, held, ["version_id", "version_aliases"]):
            for alias in translate.aliases_of(list(model["version_aliases"])):
                found[alias] = str(model["version_id"])
        return found

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        try:
            return self._read_record(name, self._get_message(name, pointer))
        except VersionNotFoundError:
            return None

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        where = (
            "" if stage == Stage.DEVELOPMENT.value else f"labels.{translate.STAGE_LABEL}={stage}"
        )
        records = [self._record(name, m) for m in self._all_versions(name, where)]
        return [record for record in records if record.stage == stage]

    def read_events(self, name: str, version: str) -> list[Event]:
        model = self._version(name, version)
        if translate.written_by_modelport(model["labels"]):
            return self._stored_events(name, version)
        registration = translate.foreign_registration(model, name)
        if self.config.bucket is None:
            return [registration]
        later = [e for e in self._stored_events(name, version) if e.id != registration.id]
        return sorted([registration, *later], key=lambda e: (e.at, e.id))

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        store = self._store(name)
        with ERRORS.translating(self._ctx(name, subject=store.location(name))):
            return store.stage_log(name, stage)

    def read_lineage(self, record: ModelVersion) -> Lineage:
        model = self._version(record.name, record.version)
        artifact = str(model["metadata_artifact"])
        subgraph = None
        if artifact:
            from google.cloud.aiplatform_v1 import types

            request = types.QueryArtifactLineageSubgraphRequest(
                artifact=artifact, max_hops=lineage.LINEAGE_HOPS
            )
            subgraph = self._meta_call(
                self._ctx(record.name, record.version, subject=artifact),
                "query_artifact_lineage_subgraph",
                request=request,
            )
        return lineage.completed(record.lineage, lineage.native_lineage(model, subgraph))

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        with ERRORS.translating(Context(self._shown, subject=uri)):
            self._gcs().fetch(uri, dest)

    def artifact_size(self, uri: str) -> int | None:
        with ERRORS.translating(Context(self._shown, subject=uri)):
            return self._gcs().size(uri)

    # -- writes --------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        translate.check_draft(draft, self.config.bucket)

    def validate_stage(self, stage: str) -> None:
        translate.check_stage(stage)
        translate.check_bucket(self.config.bucket)  # a transition appends an event

    def validate_pointer(self, pointer: str) -> None:
        naming.check_alias(pointer)

    def stage_artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> None:
        """Upload ahead: the folder is keyed by the idempotency key, so ``create_version``
        rewrites the same objects."""
        self.validate_draft(draft)
        self._artifact(draft, on_bytes)

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        self.validate_draft(draft)
        key = translate.token(draft.name, draft.idempotency_key)
        version = self._finish_pending(draft.name, key)
        if version is None:
            exists, version = self._version_by_key(draft.name, key)
            if version is None:
                version = self._upload(draft, key, exists, on_bytes)
        model = self._version(draft.name, version)
        self._write_lineage(draft, key, version, str(model["metadata_artifact"]))
        self._append_history(draft.name, version, draft.history)
        return self._record(draft.name, model)

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        naming.check_alias(pointer)
        self._mark_held(name, version)
        self._call(
            self._ctx(name, version),
            "merge_version_aliases",
            name=self._resource(name, version),
            version_aliases=[pointer],
        )

    def delete_pointer(self, name: str, pointer: str) -> None:
        try:
            holder = self._get(name, pointer)
        except VersionNotFoundError:
            return
        self._call(
            self._ctx(name, str(holder["version_id"])),
            "merge_version_aliases",
            name=self._resource(name, str(holder["version_id"])),
            version_aliases=[f"-{pointer}"],
        )

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        self._write_label(name, version, translate.STAGE_LABEL, stage)

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        self._write_label(name, version, translate.APPROVAL_LABEL, approval.value)

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        store = self._store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            store.append(name, version, events)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            metadata, self._metadata = self._metadata, None
            storage, self._storage = self._storage, None
        for gapic in (client, metadata):
            if gapic is not None:
                gapic.transport.close()
        if storage is not None:
            storage.close()

    # -- helpers: writes -----------------------------------------------------

    def _artifact(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> str:
        if not draft.source_is_local:
            return draft.source
        folder = self.config.artifact_prefix(draft.name, _slot(draft.idempotency_key))
        store = self._gcs()
        with ERRORS.translating(
            self._ctx(draft.name, subject=f"gs://{self.config.bucket}/{folder}")
        ):
            return store.upload_folder(Path(draft.source), folder, on_bytes)

    def _upload(self, draft: VersionDraft, key: str, exists: bool, on_bytes: OnBytes | None) -> str:
        """Upload the version, and await it; a lost answer is found again by its key."""
        from google.cloud.aiplatform_v1 import types

        if not exists:
            naming.check_new_model_name(draft.name)
        model = types.Model(
            display_name=draft.name,
            artifact_uri=self._artifact(draft, on_bytes),
            labels=translate.upload_labels(draft),
            version_description=translate.version_description(draft),
        )
        if self.config.image:
            model.container_spec = types.ModelContainerSpec(image_uri=self.config.image)
        request = types.UploadModelRequest(parent=self.config.parent, model=model)
        if exists:
            request.parent_model = self._model_resource(draft.name)
        else:
            request.model_id = naming.model_id(draft.name)
        try:
            operation = self._call(self._ctx(draft.name), "upload_model", request=request)
        except ConflictError:
            if exists:
                raise
            request.model_id = ""  # another client created the model meanwhile
            request.parent_model = self._model_resource(draft.name)
            operation = self._call(self._ctx(draft.name), "upload_model", request=request)
        self._pending[key] = operation
        version = self._finish_pending(draft.name, key)
        assert version is not None
        return version

    def _finish_pending(self, name: str, key: str) -> str | None:
        """The version an unfinished upload of this register made, once it is done."""
        operation = self._pending.get(key)
        if operation is None:
            return None
        try:
            with ERRORS.translating(self._ctx(name)):
                response = operation.result(timeout=self.config.lro_timeout, retry=None)
        except Exception:
            if operation.operation.done:  # it failed: a retry uploads again
                self._pending.pop(key, None)
            raise
        self._pending.pop(key, None)
        return str(response.model_version_id)

    def _version_by_key(self, name: str, key: str) -> tuple[bool, str | None]:
        """(does the model exist, the version an earlier attempt of this register made)."""
        try:
            models, _ = self._versions_page(
                name, None, size=1, where=f"labels.{translate.KEY_LABEL}={key}"
            )
        except ModelNotFoundError:
            return False, None
        return True, (str(models[0]["version_id"]) if models else None)

    def _write_lineage(self, draft: VersionDraft, key: str, version: str, artifact: str) -> None:
        """The draft's run and datasets as an ML Metadata execution that made the version's
        artifact; every write is found again by a retry (see `.lineage`)."""
        if not artifact or not lineage.wants_writing(draft.lineage):
            return
        from google.cloud.aiplatform_v1 import types

        ctx = self._ctx(draft.name, version, subject=artifact)
        store = artifact.split("/artifacts/", 1)[0]
        execution = types.Execution(
            display_name=f"modelport register {draft.name}/{version}"[:128],
            schema_title=lineage.RUN_SCHEMA,
            state=types.Execution.State.COMPLETE,
            metadata=lineage.run_metadata(draft.lineage),
        )
        run = self._created(ctx, store, "execution", execution, lineage.execution_id(key))
        events = [types.Event(artifact=artifact, type_=types.Event.Type.OUTPUT)]
        for dataset in draft.lineage.datasets:
            made = types.Artifact(
                display_name=dataset.uri[:128],
                uri=dataset.uri,
                schema_title=lineage.DATASET_SCHEMA,
                metadata=lineage.dataset_metadata(dataset),
            )
            name = self._created(ctx, store, "artifact", made, lineage.dataset_id(dataset))
            events.append(types.Event(artifact=name, type_=types.Event.Type.INPUT))
        self._meta_call(ctx, "add_execution_events", execution=run, events=events)

    def _created(self, ctx: Context, store: str, kind: str, message: Any, wanted_id: str) -> str:
        """Create an ``execution`` or ``artifact`` under its own id; one already there (made
        by an earlier attempt, or the same dataset for another version) is taken as it is."""
        with contextlib.suppress(ConflictError):
            request = {"parent": store, kind: message, f"{kind}_id": wanted_id}
            self._meta_call(ctx, f"create_{kind}", **request)
        return f"{store}/{kind}s/{wanted_id}"

    def _append_history(self, name: str, version: str, history: Sequence[Event]) -> None:
        """The draft's events; a version that already has events was made by an earlier
        attempt of this register, whose ``registered`` event stands. Events already stored
        are not written again (a stored event's stage-log entries were written before it),
        so each retry under faults writes only what is left."""
        if not history:
            return
        store = self._store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            stored = set(store.event_ids(name, version))
            events = [
                e
                for e in history
                if e.id not in stored and not (stored and e.kind is EventKind.REGISTERED)
            ]
            store.append(name, version, events)

    def _mark_held(self, name: str, version: str) -> None:
        if (name, version) in self._held:
            return
        self._write_label(name, version, translate.HELD_LABEL, translate.HELD)
        self._held.add((name, version))

    def _write_label(self, name: str, version: str, key: str, value: str) -> None:
        """One label of one version, read-modify-write on the version's etag: a concurrent
        write of another label is never undone (a stale etag reads again)."""
        from google.cloud.aiplatform_v1 import types
        from google.protobuf.field_mask_pb2 import FieldMask

        resource = self._resource(name, version)
        for _ in range(LABEL_WRITE_ATTEMPTS):
            current = self._call(self._ctx(name, version), "get_model", name=resource)
            if current.labels.get(key) == value:
                return
            labels = translate.with_label(dict(current.labels), key, value)
            update = types.Model(name=resource, labels=labels, etag=current.etag)
            try:
                self._call(
                    self._ctx(name, version),
                    "update_model",
                    model=update,
                    update_mask=FieldMask(paths=["labels"]),
                )
                return
            except ConflictError as exc:
                if exc.__cause__ is None or not is_stale(exc.__cause__):
                    raise
        raise ConflictError(
            f"{self.url}: {name}/{version}: its labels kept changing under "
            f"{LABEL_WRITE_ATTEMPTS} attempts to set {key}",
            model=name,
            version=version,
        )

    # -- helpers: reads ------------------------------------------------------

    def _version(self, name: str, version: str) -> JsonDict:
        _check_version_id(self.url, name, version)
        return self._get(name, version)

    def _get(self, name: str, which: str) -> JsonDict:
        return _fields(self._get_message(name, which))

    def _get_message(self, name: str, which: str) -> Any:
        """``ID@which`` (a version id or an alias) as its protobuf message; a miss says
        whether the model exists."""
        try:
            model = self._call(
                self._ctx(name, which), "get_model", name=self._resource(name, which)
            )
        except VersionNotFoundError:
            self._call(self._ctx(name), "get_model", name=self._model_resource(name))
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {which!r}", model=name, version=which
            ) from None
        return type(model).pb(model)

    def _versions_page(
        self,
        name: str,
        token: str | None,
        *,
        size: int,
        where: str = "",
        order_by: str = "",
        read_mask: list[str] | None = None,
    ) -> tuple[list[JsonDict], str | None]:
        from google.cloud.aiplatform_v1 import types
        from google.protobuf.field_mask_pb2 import FieldMask

        request = types.ListModelVersionsRequest(
            name=self._model_resource(name),
            page_size=size,
            page_token=token or "",
            filter=where,
            order_by=order_by,
        )
        if read_mask:
            request.read_mask = FieldMask(paths=read_mask)
        pager = self._call(self._ctx(name), "list_model_versions", request=request)
        return [_fields(type(m).pb(m)) for m in pager.models], pager.next_page_token or None

    def _all_versions(
        self, name: str, where: str, read_mask: list[str] | None = None
    ) -> Iterator[JsonDict]:
        token: str | None = None
        while True:
            models, token = self._versions_page(
                name, token, size=MAX_PAGE, where=where, read_mask=read_mask
            )
            yield from models
            if token is None:
                return

    def _record(self, name: str, model: JsonDict) -> ModelVersion:
        return translate.version_from_model(model, name, self._shown)

    def _read_record(self, name: str, message: Any) -> ModelVersion:
        """``message``'s neutral record, translated once per distinct message (a serving
        process reads the same version again and again; translating it was most of a
        resolve's own time), with dicts of its own for the caller."""
        # not deterministic: two encodings of one message only cost a miss, never a wrong hit
        serialized = getattr(message, "_pb", message).SerializeToString()  # proto-plus or raw
        record = copy.copy(_translated(serialized, name, self._shown))
        fields = record.__dict__  # a shallow copy's own: give it dicts of its own too
        for mutable in ("metrics", "params", "tags"):
            fields[mutable] = dict(fields[mutable])
        return record

    def _stored_events(self, name: str, version: str) -> list[Event]:
        store = self._store(name)
        with ERRORS.translating(self._ctx(name, version, subject=store.location(name))):
            return store.read_events(name, version)

    # -- helpers: plumbing ---------------------------------------------------

    def _model_resource(self, name: str) -> str:
        return self.config.model_resource(naming.model_id(name))

    def _resource(self, name: str, which: str) -> str:
        return f"{self._model_resource(name)}@{which}"

    def _call(self, ctx: Context, method: str, **request: Any) -> Any:
        client = self._model_client()
        try:  # ERRORS.translating spelt out: every resolve passes here, the context manager costs
            return getattr(client, method)(**request, retry=None, timeout=self.config.timeout)
        except ModelportError:
            raise
        except ERRORS.catches as exc:
            raise ERRORS.error_for(exc, ctx) from exc

    def _meta_call(self, ctx: Context, method: str, **request: Any) -> Any:
        with self._lock:
            if self._metadata is None:
                with ERRORS.translating(self._ctx()):
                    self._metadata = metadata_client(self.config)
            client = self._metadata
        with ERRORS.translating(ctx):
            return getattr(client, method)(**request, retry=None, timeout=self.config.timeout)

    def _model_client(self) -> Any:
        with self._lock:
            if self._client is None:
                with ERRORS.translating(self._ctx()):
                    self._client = model_client(self.config)
            return self._client

    def _gcs(self) -> GcsStore:
        with self._lock:
            if self._storage is None:
                with ERRORS.translating(self._ctx()):
                    self._storage = storage_client(self.config)
            client = self._storage
        return GcsStore(client, self.config.bucket or "", self.config.prefix, self.config.timeout)

    def _store(self, name: str) -> GcsStore:
        """The audit trail's store; ``InvalidInputError`` naming ``bucket`` when the URL has
        none, before any call."""
        translate.check_bucket(self.config.bucket, name)
        return self._gcs()

    def _ctx(
        self, name: str | None = None, version: str | None = None, subject: str | None = None
    ) -> Context:
        return Context(self._shown, name, version, subject)


def _check_version_id(url: object, name: str, version: str) -> None:
    if not version.isdigit():
        raise VersionNotFoundError(
            f"{url}: model {name!r} has no version {version!r} (Vertex versions are numbers)",
            model=name,
            version=version,
        )


@functools.lru_cache(maxsize=512)
def _translated(serialized: bytes, name: str, shown: str) -> ModelVersion:
    """The neutral record of a serialized ``Model`` (a pure function of its arguments,
    remembered for the last 512; metadata that does not decode is logged once per message)."""
    from google.cloud.aiplatform_v1 import types

    message = types.Model.pb().FromString(serialized)
    return translate.version_from_model(_fields(message), name, shown)


def _fields(message: Any) -> JsonDict:
    """The fields modelport reads of a ``Model``'s protobuf message (not its proto-plus
    wrapper, whose per-field marshalling costs ten times more), as plain values."""
    fields: JsonDict = {field: getattr(message, field) for field in _PLAIN_FIELDS}
    fields["labels"] = dict(message.labels)
    fields["version_aliases"] = list(message.version_aliases)
    for field in _TIME_FIELDS:
        held = message.HasField(field)
        fields[field] = getattr(message, field).ToDatetime(timezone.utc) if held else None
    return fields


def _slot(idempotency_key: str) -> str:
    """The GCS folder of one register: the key itself when it is path-safe, else its hash."""
    if _SAFE_SLOT.fullmatch(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
