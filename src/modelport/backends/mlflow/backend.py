"""``mlflow+...://``: the MLflow Model Registry through ``MlflowClient``.

Pointers (exclusive stages such as ``production``, and aliases) are registered-model
aliases, moved by one atomic ``set_registered_model_alias``: plain MLflow code loads
``models:/NAME@production``. A version's own stage field is the ``modelport.stage`` tag,
or MLflow's deprecated stage with ``stage_mode=legacy``. Approval, events, digest, metrics,
params and lineage live in ``modelport.*`` version tags (see `.tags`). A local
artifact becomes an MLflow 3 logged model under a run of its own, with the metrics and
params.

Calls per primitive: ``get_version``, ``pointed_version``, ``read_pointers`` 1;
``latest_version`` and one page of ``list_versions`` 2; ``read_stage_log`` 1 per 1000
versions that ever touched the stage; ``set_pointer``, ``write_stage``,
``write_approval`` 1; ``append_events`` 1 per tag (an event and its stage marks).
A version plain MLflow code registered costs one more read (its run) per version.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelport.artifacts import link_tree
from modelport.backends.base import Backend, Capability, Page
from modelport.backends.kit.errors import Context
from modelport.backends.mlflow import tags as T
from modelport.backends.mlflow.config import (
    RESERVED_ALIAS,
    LocalStore,
    MlflowConfig,
    MlflowOptions,
    parse_config,
)
from modelport.backends.mlflow.errors import ERRORS, is_missing_alias
from modelport.backends.mlflow.translate import (
    STAGE_TO_LEGACY,
    RawVersion,
    RunFacts,
    Translator,
    aliases_by_version,
    raw_version,
    run_facts,
)
from modelport.errors import (
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    NotFoundError,
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
    derived_event_id,
    utc_now,
)
from modelport.progress import OnBytes, growth_of
from modelport.scratch import process_alive, scratch_dir
from modelport.urls import RegistryURL

if TYPE_CHECKING:
    from modelport.backends.mlflow.storage import Resolved

MAX_PARAMS_PER_BATCH = 100  # MLflow's log_batch limits
MAX_METRICS_PER_BATCH = 1000
SCAN_PAGE = 1000
PROCESS_TAG = "modelport.process"  # HOST:PID of the register that made a run
_MLFLOW_RUN_ID = re.compile(r"[0-9a-f]{32}")
_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class MlflowBackend(Backend):
    options = MlflowOptions
    capabilities = frozenset(
        {
            Capability.ALIASES,
            Capability.REGISTER_URI,
            Capability.CUSTOM_STAGES,
            Capability.NATIVE_STAGES,
            Capability.TRAINING_RUNS,
        }
    )

    def __init__(self, url: RegistryURL, config: MlflowConfig) -> None:
        self.url = url
        self.config = config
        self._label = str(url)  # redacted once, not on every record
        self._translate = Translator(config, self._label)
        self._client: Any = None
        self._lock = threading.Lock()
        self._experiments: dict[str, str] = {}
        self._marks: set[tuple[str, str, str]] = set()  # stage marks known to be written

    @classmethod
    def from_url(cls, url: RegistryURL) -> MlflowBackend:
        return cls(url, parse_config(url))

    @property
    def client(self) -> Any:
        """The ``MlflowClient`` for reads: see `open_client`."""
        return self.open_client(create=False)

    def open_client(self, *, create: bool = False) -> Any:
        """The ``MlflowClient``, made on first use. MLflow is imported only here (it takes
        seconds), so URLs and references are checked without it. MLflow creates a local
        store it does not find: only a write (``create``) may, so a mistyped path fails a
        read instead of leaving an empty database behind."""
        with self._lock:
            if self._client is None:
                for store in self.config.local_stores:
                    _check_local_store(store, create=create, url=self._label)
                from modelport.backends.mlflow import transport

                with self._sdk():
                    try:
                        self._client = transport.make_client(
                            self.config.tracking_uri, self.config.registry_uri, create=create
                        )
                    except transport.NoMlflowTables as exc:
                        raise _no_store(self._label, "database", exc.where, "name") from None
            return self._client

    @property
    def _writer(self) -> Any:
        """MLflow's registry client, for writes to models modelport has just read: the
        public ``MlflowClient`` write methods first fetch the whole registered model to
        refuse prompts, which doubles every write's requests (and SQL writes contend)."""
        return self.client._get_registry_client()

    @property
    def tracking_uri(self) -> str:
        return str(self.client.tracking_uri)

    @property
    def registry_uri(self) -> str:
        return str(getattr(self.client, "_registry_uri", None) or self.tracking_uri)

    # -- reads ---------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        with self._sdk():
            page = self.client.search_registered_models(
                max_results=self.config.page_size, page_token=page_token
            )
        return Page([str(model.name) for model in page], page.token or None)

    def get_version(self, name: str, version: str) -> ModelVersion:
        return self._neutral(self._raw(name, version))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        aliases = self._aliases(name)
        with self._sdk(model=name):
            page = self.client.search_model_versions(
                _name_filter(name),
                max_results=self.config.page_size,
                order_by=["version_number ASC"],
                page_token=page_token,
            )
        records = [self._neutral(raw_version(e, aliases.get(str(e.version), ()))) for e in page]
        return Page(records, page.token or None)

    def latest_version(self, name: str) -> ModelVersion:
        aliases = self._aliases(name)
        with self._sdk(model=name):
            page = self.client.search_model_versions(
                _name_filter(name), max_results=1, order_by=["version_number DESC"]
            )
        if not page:
            raise VersionNotFoundError(f"{self.url}: model {name!r} has no versions", model=name)
        entity = page[0]
        return self._neutral(raw_version(entity, aliases.get(str(entity.version), ())))

    def read_pointers(self, name: str) -> dict[str, str]:
        with self._sdk(model=name):
            model = self.client.get_registered_model(name)
        return {str(alias): str(version) for alias, version in (model.aliases or {}).items()}

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        try:
            with self._sdk(model=name):
                entity = self.client.get_model_version_by_alias(name, pointer)
        except InvalidInputError as exc:
            if is_missing_alias(exc.__cause__ or exc):
                return None
            raise
        return self._neutral(raw_version(entity))

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        """A search by the stage tag; a scan for development, which untagged versions
        (registered by plain MLflow code) are in, and in legacy mode."""
        by_tag = self.config.stage_mode == "alias" and stage != Stage.DEVELOPMENT.value
        found = self._scan(name, f"tags.`{T.STAGE}` = '{stage}'" if by_tag else None)
        return [mv for mv in found if mv.stage == stage]

    def read_events(self, name: str, version: str) -> list[Event]:
        raw = self._raw(name, version)
        events = T.decode_events(raw.tags, raw.name, raw.version)
        if not T.has_record(raw.tags) and not any(e.kind is EventKind.REGISTERED for e in events):
            events.insert(0, _registered_in_mlflow(raw))
        return events

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        query = f"{_name_filter(name)} and tags.`{T.stage_log_key(stage)}` = '1'"
        events: list[Event] = []
        for entity in self._search(name, query):
            raw = raw_version(entity, ())
            events.extend(
                e
                for e in T.decode_events(raw.tags, raw.name, raw.version)
                if e.kind is EventKind.TRANSITIONED and stage in (e.from_, e.to)
            )
        return sorted(events, key=lambda e: (e.at, e.id))

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        from modelport.backends.mlflow import storage

        with self._sdk(field="uri"):
            resolved = storage.resolve(self.client, uri)
            storage.download(resolved.location, dest, self.tracking_uri, self.registry_uri)

    def artifact_size(self, uri: str) -> int | None:
        from modelport.backends.mlflow import storage

        with self._sdk(field="uri"):
            resolved = storage.resolve(self.client, uri)
            return storage.size(resolved.location, self.tracking_uri, self.registry_uri)

    def local_files(self, uri: str) -> Path | None:
        from modelport.backends.mlflow import storage

        with self._sdk(field="uri"):
            resolved = storage.resolve(self.client, uri)
            return storage.local_folder(resolved.location, self.tracking_uri, self.registry_uri)

    # -- writes --------------------------------------------------------------

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        self.open_client(create=True)  # the one primitive that may start a new store
        existing = self._by_idempotency_key(draft)
        if existing is not None:
            return existing
        self._ensure_model(draft.name)
        if draft.source_is_local:
            source, lineage = self._log_local(draft, on_bytes)
        else:
            source, lineage = self._remote(draft)
        with self._sdk(model=draft.name):
            entity = self.client.create_model_version(
                draft.name,
                source.location,
                run_id=source.run_id,
                model_id=source.model_id,
                tags=T.draft_tags(draft, lineage),
                description=draft.description,
                await_creation_for=0,
            )
        return self._neutral(raw_version(entity, ()))

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        with self._sdk(model=name, version=version, field="alias"):
            self._writer.set_registered_model_alias(name, pointer, version)

    def delete_pointer(self, name: str, pointer: str) -> None:
        try:
            with self._sdk(model=name, field="alias"):
                self._writer.delete_registered_model_alias(name, pointer)
        except (InvalidInputError, VersionNotFoundError) as exc:
            if not is_missing_alias(exc.__cause__ or exc):
                raise

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        with self._sdk(model=name, version=version):
            if self.config.stage_mode == "legacy":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)  # the mode is a choice
                    self._writer.transition_model_version_stage(
                        name, version, STAGE_TO_LEGACY[stage], archive_existing_versions=False
                    )
            else:
                self._writer.set_model_version_tag(name, version, T.STAGE, stage)

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        with self._sdk(model=name, version=version):
            self._writer.set_model_version_tag(name, version, T.APPROVAL, approval.value)

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        """One write per event, plus the stage marks this client has not written or seen
        on that version yet (marks are never removed, so remembering them is safe)."""
        with self._sdk(model=name, version=version):
            for event in events:
                for key, value in T.event_tags(event).items():
                    mark = (name, version, key)
                    if key.startswith(T.STAGE_LOG) and mark in self._marks:
                        continue
                    self._writer.set_model_version_tag(name, version, key, value)
                    if key.startswith(T.STAGE_LOG):
                        self._marks.add(mark)

    # -- validation ------------------------------------------------------------

    def validate_draft(self, draft: VersionDraft) -> None:
        for field, keys in (
            ("metrics", draft.metrics),
            ("params", draft.params),
            ("tags", draft.tags),
        ):
            for key in keys:
                if _mlflow_rejects_key(key):
                    raise InvalidInputError(
                        f"{field} key {key!r} is not valid in MLflow: keys are file-like paths, "
                        "so no '//', leading '/', trailing '/', '.' or '..' parts",
                        field=field,
                        model=draft.name,
                    )

    def validate_pointer(self, pointer: str) -> None:
        if RESERVED_ALIAS.fullmatch(pointer):
            raise InvalidInputError(
                f"{self.url}: alias {pointer!r} is reserved by MLflow, where 'latest' and "
                "'v<digits>' name versions; choose another name",
                field="alias",
            )

    def validate_stage(self, stage: str) -> None:
        if self.config.stage_mode == "legacy" and stage not in STAGE_TO_LEGACY:
            raise InvalidInputError(
                f"{self.url}: stage_mode=legacy holds MLflow's stages only (development, "
                f"staging, production, archived), not {stage!r}; use stage_mode=alias for "
                "custom stages",
                field="stage",
            )
        if RESERVED_ALIAS.fullmatch(stage):
            raise InvalidInputError(
                f"{self.url}: stage {stage!r} is reserved by MLflow, where 'latest' and "
                "'v<digits>' name versions; choose another name",
                field="stage",
            )

    # -- helpers: reading ------------------------------------------------------

    def _raw(self, name: str, version: str) -> RawVersion:
        if not version.isdigit():
            self._aliases(name)  # a missing model is reported as such
            raise VersionNotFoundError(
                f"{self.url}: model {name!r} has no version {version!r} (MLflow versions are "
                "integers)",
                model=name,
                version=version,
            )
        try:
            with self._sdk(model=name, version=version):
                return raw_version(self.client.get_model_version(name, version))
        except VersionNotFoundError:
            self._aliases(name)  # MLflow says "version not found" for a missing model too
            raise

    def _aliases(self, name: str) -> dict[str, list[str]]:
        """The model's aliases by version; raises ModelNotFoundError for a missing model."""
        with self._sdk(model=name):
            return aliases_by_version(self.client.get_registered_model(name))

    def _scan(self, name: str, extra_filter: str | None) -> Iterator[ModelVersion]:
        aliases = self._aliases(name)
        query = _name_filter(name) + (f" and {extra_filter}" if extra_filter else "")
        for entity in self._search(name, query):
            yield self._neutral(raw_version(entity, aliases.get(str(entity.version), ())))

    def _search(self, name: str, query: str) -> Iterator[Any]:
        """Every model version matching ``query``, in pages of the largest size."""
        token: str | None = None
        while True:
            with self._sdk(model=name):
                page = self.client.search_model_versions(
                    query, max_results=SCAN_PAGE, page_token=token
                )
            yield from page
            token = page.token or None
            if token is None:
                return

    def _neutral(self, raw: RawVersion) -> ModelVersion:
        facts = None
        if raw.run_id and not T.has_record(raw.tags):
            facts = self._run_facts(raw.run_id)  # a version plain MLflow code registered
        return self._translate(raw, facts)

    def _run_facts(self, run_id: str) -> RunFacts | None:
        try:
            with self._sdk():
                return run_facts(self.client.get_run(run_id))
        except NotFoundError:
            return None  # the run was deleted: the version still reads

    def _by_idempotency_key(self, draft: VersionDraft) -> ModelVersion | None:
        key = T.idempotency_value(draft.idempotency_key)
        query = f"{_name_filter(draft.name)} and tags.`{T.IDEMPOTENCY}` = '{key}'"
        with self._sdk(model=draft.name):
            found = list(self.client.search_model_versions(query, max_results=1))
        return self.get_version(draft.name, str(found[0].version)) if found else None

    # -- helpers: writing ------------------------------------------------------

    def _ensure_model(self, name: str) -> None:
        try:
            with self._sdk(model=name):
                self.client.create_registered_model(name)
        except ConflictError:
            pass  # it exists already: the usual case from the second version on

    def _log_local(self, draft: VersionDraft, on_bytes: OnBytes | None) -> tuple[Resolved, Lineage]:
        """A run with the metrics and params, and a logged model holding the files."""
        from modelport.backends.mlflow.storage import Resolved

        lineage = self._enriched(draft.lineage)
        experiment_id = self._experiment_id(draft.name)
        with self._sdk(model=draft.name):
            self._fail_abandoned_runs(experiment_id)
            run = self.client.create_run(
                experiment_id, run_name=f"register-{draft.name}", tags=_run_tags(draft, lineage)
            )
            run_id = str(run.info.run_id)
            try:
                model = self.client.create_logged_model(
                    experiment_id,
                    name=draft.name,
                    source_run_id=run_id,
                    tags={T.IDEMPOTENCY: T.idempotency_value(draft.idempotency_key)},
                )
                self._log_values(run_id, str(model.model_id), draft)
                with scratch_dir("upload") as tmp, self._sent(model, on_bytes):
                    link_tree(Path(draft.source), tmp)  # links, not a copy of a large artifact
                    self.client.log_model_artifacts(model.model_id, str(tmp))
                self.client.finalize_logged_model(model.model_id, "READY")
            except BaseException:
                self._end_run(run_id, "FAILED")
                raise
            self._end_run(run_id, "FINISHED")
        return Resolved(str(model.artifact_location), run_id, str(model.model_id)), lineage

    def _sent(self, model: Any, on_bytes: OnBytes | None) -> AbstractContextManager[None]:
        """Report the bytes as MLflow's SDK copies them, which it does without a hook:
        by the growth of the logged model's folder where the store is this machine's
        file system; elsewhere (S3, a server) nothing is reported until the end."""
        from modelport.backends.mlflow import storage

        location = str(model.artifact_location)
        folder = storage.local_root(location, self.tracking_uri, self.registry_uri)
        if on_bytes is None or folder is None:
            return contextlib.nullcontext()
        return growth_of(folder, on_bytes)

    def _fail_abandoned_runs(self, experiment_id: str) -> None:
        """End as FAILED the runs a register on this machine left RUNNING when its process
        was killed (its PID is in the run's tags and no longer runs); never a live one's."""
        host = socket.gethostname()
        query = f"attributes.status = 'RUNNING' and tags.`{PROCESS_TAG}` LIKE '{host}:%'"
        for run in self.client.search_runs([experiment_id], query, max_results=100):
            pid = str(run.data.tags.get(PROCESS_TAG, "")).rpartition(":")[2]
            if pid.isdigit() and not process_alive(int(pid)):
                self._end_run(str(run.info.run_id), "FAILED")

    def _log_values(self, run_id: str, model_id: str, draft: VersionDraft) -> None:
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        metrics = [
            Metric(key, value, now, 0, model_id=model_id) for key, value in draft.metrics.items()
        ]
        params = [Param(key, value) for key, value in draft.params.items()]
        for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=metrics[start : start + MAX_METRICS_PER_BATCH])
        for start in range(0, len(params), MAX_PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=params[start : start + MAX_PARAMS_PER_BATCH])

    def _end_run(self, run_id: str, status: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.set_terminated(run_id, status)
        except MlflowException:
            if status == "FINISHED":
                raise

    def _remote(self, draft: VersionDraft) -> tuple[Resolved, Lineage]:
        """A URI registered as it is; ``models:/`` is resolved here because MLflow's SQL
        store resolves it with the process-wide default client, not this one."""
        from modelport.backends.mlflow import storage

        with self._sdk(model=draft.name, field="source"):
            resolved = storage.resolve(self.client, draft.source)
        if not draft.source.startswith("models:/"):
            resolved = storage.Resolved(draft.source, resolved.run_id, resolved.model_id)
        return resolved, self._enriched(draft.lineage)

    def _enriched(self, lineage: Lineage) -> Lineage:
        """Fill the datasets and code of a lineage naming a run of this server from it."""
        run = lineage.run or ""
        if not _MLFLOW_RUN_ID.fullmatch(run) or (lineage.datasets and lineage.code):
            return lineage  # no run, another system's run (a job ARN, say), or nothing to fill
        facts = self._run_facts(run)
        if facts is None:
            return lineage
        return lineage.model_copy(
            update={
                "datasets": lineage.datasets or facts.lineage.datasets,
                "code": lineage.code or facts.lineage.code,
            }
        )

    def _experiment_id(self, model: str) -> str:
        name = self.config.experiment or model
        if name in self._experiments:
            return self._experiments[name]
        with self._sdk(model=model):
            experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            experiment_id = str(experiment.experiment_id)
        else:
            experiment_id = self._create_experiment(name, model)
        self._experiments[name] = experiment_id
        return experiment_id

    def _create_experiment(self, name: str, model: str) -> str:
        try:
            with self._sdk(model=model):
                return str(
                    self.client.create_experiment(
                        name, artifact_location=self._artifact_location(name)
                    )
                )
        except ConflictError:  # another process created it meanwhile
            with self._sdk(model=model):
                return str(self.client.get_experiment_by_name(name).experiment_id)

    def _artifact_location(self, experiment: str) -> str | None:
        root = self.config.artifact_root
        if root is None:
            return None
        folder = experiment if _SAFE_FOLDER.fullmatch(experiment) else _digest(experiment)
        return posixpath.join(root.rstrip("/"), folder)

    def _sdk(
        self, *, model: str | None = None, version: str | None = None, field: str | None = None
    ) -> AbstractContextManager[None]:
        return ERRORS.translating(Context(self._label, model, version, field=field))


def _name_filter(name: str) -> str:
    return f"name='{name}'"


def _run_tags(draft: VersionDraft, lineage: Lineage) -> dict[str, str]:
    """Tags MLflow's UI shows for a run: who registered it, the code, the training run."""
    tags = {
        T.IDEMPOTENCY: T.idempotency_value(draft.idempotency_key),
        PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}",  # for a rerun to reclaim it
    }
    registered = next((e for e in draft.history if e.kind is EventKind.REGISTERED), None)
    if registered is not None and registered.actor:
        tags["mlflow.user"] = registered.actor
    if lineage.code is not None:
        for key, value in (
            ("mlflow.source.git.commit", lineage.code.commit),
            ("mlflow.source.git.repoURL", lineage.code.repo),
            ("mlflow.source.git.branch", lineage.code.branch),
        ):
            if value:
                tags[key] = value
    if lineage.run:
        tags["modelport.training_run"] = lineage.run
    return tags


def _registered_in_mlflow(raw: RawVersion) -> Event:
    """The registration of a version plain MLflow code created, for its history."""
    millis = raw.created_ms or raw.updated_ms
    return Event(
        id=derived_event_id("registered-in-mlflow", raw.name, raw.version),
        kind=EventKind.REGISTERED,
        name=raw.name,
        version=raw.version,
        to=Stage.DEVELOPMENT.value,
        reason="registered in MLflow",
        at=datetime.fromtimestamp(millis / 1000, tz=timezone.utc) if millis else utc_now(),
    )


def _check_local_store(store: LocalStore, *, create: bool, url: str) -> None:
    """A write makes the folder of a new store (SQLite creates a file, not its folder);
    a read of a store that is not there is refused, naming the path. The error is a
    ModelNotFoundError: no model is there, and a migration's plan reads it as "nothing
    copied yet", so a first migration into a new database still runs and creates it."""
    if store.path.exists():
        return
    if create:
        store.path.parent.mkdir(parents=True, exist_ok=True)
        return
    raise _no_store(url, store.kind, str(store.path), "path")


def _no_store(url: str, kind: str, where: str, mistyped: str) -> ModelNotFoundError:
    """The error of a read that found no MLflow store: a ModelNotFoundError, as no model is
    there, so a migration's plan reads it as "nothing copied yet" (see above)."""
    return ModelNotFoundError(
        f"{url}: no MLflow {kind} at {where} (a read does not create one; "
        f"check the {mistyped}, or register a model to start a new one)",
        url=url,
        field="url",
    )


def _mlflow_rejects_key(key: str) -> bool:
    """MLflow treats metric, param and tag keys as paths and refuses non-canonical ones."""
    norm = posixpath.normpath(key)
    return norm != key or norm == "." or norm.startswith(("..", "/"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
