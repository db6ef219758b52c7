"""The Registry facade: policy, exclusive stages, history, rollback and integrity.

It composes the primitives of `modelport.backends.base.Backend` and holds
every rule that must behave the same on every backend.
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from modelport.artifact_cache import ArtifactCache
from modelport.artifacts import publish, staging_dir
from modelport.backends.base import Backend, Capability
from modelport.cache import ResolveCache
from modelport.destinations import (
    download_target,
    fetch_target,
    follow_umask,
    read_marker,
    sweep_stale,
    write_marker,
)
from modelport.digest import UnreadableArchiveError, describe_kind, digest_path
from modelport.errors import (
    IntegrityError,
    InvalidInputError,
    ModelportError,
    PolicyViolationError,
    UnsupportedOperation,
    VersionNotFoundError,
)
from modelport.models import (
    WELL_KNOWN_STAGES,
    Approval,
    Event,
    EventKind,
    Lineage,
    ModelVersion,
    Stage,
    VersionDraft,
    derived_event_id,
    enters,
    leaves,
)
from modelport.policy import MetricGate, Policy, evaluate_gates
from modelport.progress import ByteCount, OnBytes, ProgressSink, tree_size, watching
from modelport.refs import REFERENCE_WORDS, ModelRef, RefKind, parse_ref
from modelport.retry import RetryPolicy
from modelport.scratch import scratch_dir
from modelport.secrets import Scrubber
from modelport.validation import (
    MAX_ACTOR_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_REASON_CHARS,
    check_metrics,
    check_model_name,
    check_stage,
    check_strings,
    check_text,
)
from modelport.watch import ModelHandle

logger = logging.getLogger("modelport.registry")
T = TypeVar("T")
_URI_PREFIXES = ("runs:/", "models:/")


class Registry:
    """One model registry behind one neutral API. Build it with `modelport.connect`."""

    def __init__(
        self,
        backend: Backend,
        *,
        policy: Policy | None = None,
        retry: RetryPolicy | None = None,
        cache_ttl: float = 0.0,
    ) -> None:
        self.backend = backend
        self.policy = policy or Policy()
        self.retry = retry or RetryPolicy()
        self.cache = ResolveCache(cache_ttl)
        self._scrubber = Scrubber.from_texts([backend.url.raw])
        self._artifact_cache: ArtifactCache | None = None

    @property
    def url(self) -> str:
        """The registry URL with secrets redacted."""
        return str(self.backend.url)

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.backend.capabilities

    def __repr__(self) -> str:
        return f"Registry({self.url!r})"

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    # -- register ------------------------------------------------------------

    def register(
        self,
        name: str,
        source: str | os.PathLike[str],
        *,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        lineage: Lineage | None = None,
        actor: str | None = None,
        idempotency_key: str | None = None,
        progress: ProgressSink | None = None,
    ) -> ModelVersion:
        """Register a local directory/file/``.tar.gz`` or a URI as the model's next version.

        ``progress``, if given, is advanced by the local artifact's bytes as the backend
        sends them (all of them once the version exists, if its SDK reports nothing
        sooner), then by one version (see `modelport.progress`)."""
        draft = self._draft(
            name, source, metrics, params, tags, description, lineage, actor, idempotency_key
        )
        if progress is None:
            return self._create(draft)
        sent = tree_size(Path(draft.source)) if draft.source_is_local else 0
        progress.expect(versions=1, nbytes=sent)
        count = ByteCount(progress, limit=sent)
        mv = self._create(draft, on_bytes=count)
        count.settle(sent)
        progress.advance(versions=1)
        return mv

    def import_version(
        self,
        record: ModelVersion,
        source: str | os.PathLike[str],
        *,
        history: Sequence[Event] = (),
        idempotency_key: str | None = None,
    ) -> ModelVersion:
        """Create the next version of ``record.name`` carrying another registry's record.

        Migration's write: the new version gets ``record``'s metrics, params, tags,
        description, lineage and approval, and ``history`` as its audit trail (in place of
        a ``registered`` event). The artifact at ``source`` must have ``record.digest``
        when that is set, else ``IntegrityError`` is raised before anything is written.
        The version starts in ``development``: set its stage with `transition`
        once it exists, so the policy applies as it does to every other version.
        """
        return self._create(self._import_draft(record, source, history, idempotency_key))

    def _create(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        self.backend.validate_draft(draft)
        mv = self._call(lambda: self.backend.create_version(draft, on_bytes=on_bytes))
        self.cache.evict(draft.name)
        return self._reconciled(mv)

    def prepare_import(
        self,
        record: ModelVersion,
        source: str | os.PathLike[str],
        *,
        idempotency_key: str,
        on_bytes: OnBytes | None = None,
    ) -> None:
        """Store the artifact of a later `import_version` with the same key now.

        Migration calls it from parallel workers so that uploads overlap while versions
        are still created in order; backends without the hook store nothing here. The
        artifact is taken to have ``record.digest`` (when set) without being read here:
        `import_version` checks it before it creates anything, and a caller that finds
        it wrong first calls `discard_import`. ``on_bytes`` is told the bytes sent.
        """
        draft = self._import_draft(record, source, (), idempotency_key, claimed=True)
        self._call(lambda: self.backend.stage_artifact(draft, on_bytes))

    def discard_import(
        self, record: ModelVersion, source: str | os.PathLike[str], *, idempotency_key: str
    ) -> None:
        """Remove what `prepare_import` stored for an artifact that will not be imported."""
        draft = self._import_draft(record, source, (), idempotency_key, claimed=True)
        self._call(lambda: self.backend.discard_staged(draft))

    def local_files(self, record: ModelVersion) -> Path | None:
        """The folder holding the artifact of ``record`` (a version this registry
        returned) on this machine, when the registry keeps its files there (MLflow with
        local artifacts), to read in place and never write; else None. Not verified."""
        return self._call(lambda: self.backend.local_files(record.artifact_uri))

    def _import_draft(
        self,
        record: ModelVersion,
        source: str | os.PathLike[str],
        history: Sequence[Event],
        idempotency_key: str | None,
        *,
        claimed: bool = False,
    ) -> VersionDraft:
        """The draft of an import; with ``claimed``, its digest is the record's, unread."""
        draft = self._draft(
            record.name,
            source,
            record.metrics,
            record.params,
            record.tags,
            record.description,
            record.lineage,
            None,
            idempotency_key,
            digest=record.digest if claimed else None,
        )
        _check_digest(record, draft.digest, "nothing was registered")
        trail = tuple(e.model_copy(update={"name": record.name, "version": ""}) for e in history)
        return draft.model_copy(update={"approval": record.approval, "history": trail})

    def _draft(
        self,
        name: str,
        source: str | os.PathLike[str],
        metrics: Mapping[str, float] | None,
        params: Mapping[str, Any] | None,
        tags: Mapping[str, str] | None,
        description: str | None,
        lineage: Lineage | None,
        actor: str | None,
        idempotency_key: str | None,
        *,
        digest: str | None = None,
    ) -> VersionDraft:
        """A checked draft; its digest is computed from ``source`` unless given."""
        check_model_name(name)
        checked = {
            "metrics": check_metrics(metrics),
            "params": check_strings(params, "params"),
            "tags": check_strings(tags, "tags"),
            "description": (
                None
                if description is None
                else check_text(description, "description", MAX_DESCRIPTION_CHARS)
            ),
            "lineage": _check_lineage(lineage),
        }
        source_text, is_local = self._check_source(name, source)
        if digest is None:
            digest = self._digest_of(source_text, is_local)
        key = _idempotency_key(idempotency_key)
        event = Event(
            id=derived_event_id("registered", name, key),  # a retried register: one event
            kind=EventKind.REGISTERED,
            name=name,
            version="",
            to=Stage.DEVELOPMENT.value,
            actor=_actor(actor),
        )
        return VersionDraft(
            name=name,
            source=source_text,
            source_is_local=is_local,
            digest=digest,
            history=(event,),
            idempotency_key=key,
            **checked,
        )

    def _check_source(self, name: str, source: object) -> tuple[str, bool]:
        if isinstance(source, os.PathLike):
            source = os.fspath(source)
        if not isinstance(source, str) or not source.strip():
            raise InvalidInputError(
                f"source for {name!r} must be a local path or a URI, got {source!r}",
                field="source",
                model=name,
            )
        if "://" in source or source.startswith(_URI_PREFIXES):
            if Capability.REGISTER_URI not in self.capabilities:
                raise UnsupportedOperation(
                    f"{self.url} cannot register an existing URI ({source!r}); "
                    "pass a local path instead",
                    capability=Capability.REGISTER_URI.value,
                    url=self.url,
                )
            return source, False
        path = Path(source).expanduser()
        if not (path.is_file() or path.is_dir()):
            kind = describe_kind(path)
            shown = "does not exist" if kind == "missing" else f"is {kind}, not a file or folder"
            raise InvalidInputError(
                f"source {source!r} for {name!r} {shown}", field="source", model=name
            )
        if path.is_dir() and not any(p.is_file() for p in path.rglob("*")):
            raise InvalidInputError(
                f"source directory {source!r} for {name!r} holds no files",
                field="source",
                model=name,
            )
        return str(path.resolve()), True

    def _digest_of(self, source: str, is_local: bool) -> str:
        if is_local:
            return digest_path(Path(source))
        with scratch_dir("digest") as tmp:
            self._call(lambda: self.backend.fetch_artifact(source, _emptied(tmp)))
            return digest_path(tmp)

    # -- stage and approval --------------------------------------------------

    def transition(
        self, ref: str, stage: str | Stage, *, reason: str | None = None, actor: str | None = None
    ) -> ModelVersion:
        """Move a version to ``stage`` under the policy; an exclusive stage changes holder.
        A stage beyond the well-known four must be declared in ``policy.custom_stages``."""
        stage = self.policy.check_declared(_stage_value(stage))
        self._check_stage_supported(stage)
        _check_note(reason, actor)
        mv = self._exact(ref)
        if mv.stage == stage:
            return mv
        problems = self.policy.violations(mv, stage)
        if problems:
            raise PolicyViolationError(
                "; ".join(problems), model=mv.name, version=mv.version, field="stage"
            )
        return self._move(mv, stage, reason=reason, actor=actor)

    def approve(
        self, ref: str, *, reason: str | None = None, actor: str | None = None
    ) -> ModelVersion:
        return self._set_approval(ref, Approval.APPROVED, EventKind.APPROVED, reason, actor)

    def reject(
        self, ref: str, *, reason: str | None = None, actor: str | None = None
    ) -> ModelVersion:
        """Reject a version. A version in staging or a custom stage is archived with it; the
        production holder must be replaced (or rolled back) first."""
        _check_note(reason, actor)
        mv = self._exact(ref)
        if mv.stage == Stage.PRODUCTION.value:
            raise PolicyViolationError(
                f"{mv.ref} holds production: roll back or promote another version before "
                "rejecting it",
                model=mv.name,
                version=mv.version,
                field="approval",
            )
        rejected = self._set_approval(mv.ref, Approval.REJECTED, EventKind.REJECTED, reason, actor)
        if rejected.stage not in (Stage.DEVELOPMENT.value, Stage.ARCHIVED.value):
            return self._move(rejected, Stage.ARCHIVED.value, reason="rejected", actor=actor)
        return rejected

    def rollback(
        self,
        name: str,
        stage: str | Stage = Stage.PRODUCTION,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> ModelVersion:
        """Give ``stage`` back to the version that held it before the current holder.
        Reads that stage's own history only, whatever the number of versions."""
        check_model_name(name)
        stage = self.policy.check_declared(_stage_value(stage))
        _check_note(reason, actor)
        current = self._holder(name, stage)
        log = self._call(lambda: self.backend.read_stage_log(name, stage))
        tenure = _stage_tenure(log, stage)
        if current is not None:
            while tenure and tenure[-1] == current.version:
                tenure.pop()
        if not tenure:
            raise VersionNotFoundError(
                f"{name!r} has no earlier holder of {stage} to roll back to",
                model=name,
                field="stage",
            )
        previous = self._exact(f"{name}/{tenure[-1]}")
        problems = self.policy.violations(previous, stage)
        if problems:
            raise PolicyViolationError(
                "rollback refused: " + "; ".join(problems), model=name, version=previous.version
            )
        displaced = current.version if current else None
        why = reason or (f"rollback from {current.ref}" if current else "rollback")
        return self._move(previous, stage, reason=why, actor=actor, rolled_back=displaced)

    # -- aliases -------------------------------------------------------------

    def set_alias(
        self, ref: str, alias: str, *, reason: str | None = None, actor: str | None = None
    ) -> ModelVersion:
        """Point ``alias`` at the version ``ref`` names (one atomic write); ``name@alias``
        then resolves to it. An alias held by another version moves."""
        self._require(Capability.ALIASES, f"cannot set alias {alias!r}")
        alias = self._check_alias(alias)
        _check_note(reason, actor)
        mv = self._exact(ref)
        event = Event(
            kind=EventKind.ALIASED,
            name=mv.name,
            version=mv.version,
            to=alias,
            actor=_actor(actor),
            reason=reason,
        )
        try:
            self._call(lambda: self.backend.append_events(mv.name, mv.version, [event]))
            self._call(lambda: self.backend.set_pointer(mv.name, alias, mv.version))
        finally:
            self.cache.evict(mv.name)
        return self._exact(mv.ref)

    def remove_alias(
        self, name: str, alias: str, *, reason: str | None = None, actor: str | None = None
    ) -> None:
        """Remove ``alias`` from the model; ``VersionNotFoundError`` if it has no such alias."""
        self._require(Capability.ALIASES, f"cannot remove alias {alias!r}")
        check_model_name(name)
        alias = self._check_alias(alias)
        _check_note(reason, actor)
        version = self._call(lambda: self.backend.read_pointers(name)).get(alias)
        if version is None:
            raise VersionNotFoundError(
                f"model {name!r} has no alias {alias!r}", model=name, field="alias"
            )
        event = Event(
            kind=EventKind.UNALIASED,
            name=name,
            version=version,
            from_=alias,
            actor=_actor(actor),
            reason=reason,
        )
        try:
            self._call(lambda: self.backend.append_events(name, version, [event]))
            self._call(lambda: self.backend.delete_pointer(name, alias))
        finally:
            self.cache.evict(name)

    def _check_alias(self, alias: object) -> str:
        alias = check_stage(alias, "alias")  # the same shape as a stage name
        if alias in self.policy.stages:
            raise InvalidInputError(
                f"alias {alias!r} is a stage name; choose another name", field="alias"
            )
        if alias in REFERENCE_WORDS:
            raise InvalidInputError(
                f"{alias!r} already means something in a reference, not an alias", field="alias"
            )
        self.backend.validate_pointer(alias)
        return alias

    def _require(self, capability: Capability, what: str) -> None:
        if capability not in self.capabilities:
            raise UnsupportedOperation(
                f"{self.url} has no {capability}: {what}", capability=capability.value, url=self.url
            )

    # -- writes: the pointer protocol ----------------------------------------

    def _set_approval(
        self, ref: str, approval: Approval, kind: EventKind, reason: str | None, actor: str | None
    ) -> ModelVersion:
        _check_note(reason, actor)
        mv = self._exact(ref)
        if mv.approval is approval:
            return mv
        event = Event(
            kind=kind,
            name=mv.name,
            version=mv.version,
            from_=mv.approval.value,
            to=approval.value,
            actor=_actor(actor),
            reason=reason,
        )
        name, version = mv.name, mv.version
        try:
            self._log_once(event, _APPROVAL_KINDS)
            self._call(lambda: self.backend.write_approval(name, version, approval, reason))
        finally:
            self.cache.evict(name)
        return self._exact(mv.ref)

    def _move(
        self,
        mv: ModelVersion,
        stage: str,
        *,
        reason: str | None,
        actor: str | None,
        rolled_back: str | None = None,
    ) -> ModelVersion:
        """Record the transition, then for an exclusive stage move its pointer (one atomic
        write) and let the holder bring the stage fields in line; for another stage, set
        the version's stage field."""
        name, version = mv.name, mv.version
        event = Event(
            kind=EventKind.TRANSITIONED,
            name=name,
            version=version,
            from_=mv.stage,
            to=stage,
            actor=_actor(actor),
            reason=reason,
            rolled_back=rolled_back,
        )
        backend = self.backend
        holds = True
        try:
            event = self._log_once(event, frozenset({EventKind.TRANSITIONED}))
            if self._is_pointer_stage(stage):
                self._call(lambda: backend.set_pointer(name, stage, version))
            if self._is_pointer_stage(mv.stage):
                self._release(name, version, mv.stage)
            if self._is_pointer_stage(stage):
                holds = self._converge(name, stage, version, actor, reason)
            else:
                self._call(lambda: backend.write_stage(name, version, stage, reason))
        finally:
            self.cache.evict(name)
        if not holds:  # a concurrent promotion won: read what this version is now
            return self._exact(mv.ref)
        aliases = tuple(a for a in mv.aliases if a != stage)
        return mv.model_copy(update={"stage": stage, "aliases": aliases, "updated_at": event.at})

    def _log_once(self, event: Event, kinds: frozenset[EventKind]) -> Event:
        """Append ``event`` unless the version's last event of ``kinds`` is the same change
        left unfinished (logged, then the process died before the write that follows):
        the version still reads the old value, so that change never happened twice and
        the run again finishes it under the first event. Safe because every move away
        from a stage or an approval logs an event on the version that moves, and a
        version's creation here (registered, migrated) ends what its trail said before."""
        name, version = event.name, event.version
        logged = self._call(lambda: self.backend.read_events(name, version))
        last = next((e for e in reversed(logged) if e.kind in kinds | _FRESH_STARTS), None)
        if last is not None and _same_change(last, event):
            return last
        self._call(lambda: self.backend.append_events(name, version, [event]))
        return event

    def _release(self, name: str, version: str, stage: str) -> None:
        """Let go of ``stage``'s pointer if it still names ``version`` (a promotion of
        another version may have moved it meanwhile: then it is not ours to delete)."""
        if self._pointer(name, stage) == version:
            self._call(lambda: self.backend.delete_pointer(name, stage))

    def _converge(
        self, name: str, stage: str, me: str, actor: str | None, reason: str | None
    ) -> bool:
        """After a pointer write, repair toward the pointer (and say whether ``me`` holds
        the stage): every version the stage's log shows entering and not leaving, other
        than the holder, is retired (archived, with one exit event whose id every client
        derives the same way, so concurrent repairs record it once). Each writer logs its
        entry before its pointer write, so the last pointer writer reads every entry when
        it re-reads: a repairer that finds the pointer moved on stops, leaving the rest to
        that writer. If the pointer is gone (a concurrent release), the newest entrant
        takes it: a winner every client computes alike."""
        backend = self.backend
        holder = self._pointer(name, stage)
        log = self._call(lambda: backend.read_stage_log(name, stage))
        open_entries = _open_entries(log, stage)
        repaired = holder is None and bool(open_entries)
        if repaired:
            newest = max(open_entries.values(), key=lambda e: (e.at, e.id))
            holder = newest.version
            self._call(lambda: backend.set_pointer(name, stage, newest.version))
        if holder is None or (holder != me and not repaired):
            return False  # the writer that moved the pointer last sees itself here, after
            # every other writer's entry was logged: that one repairs them all
        if holder == me:  # entering: its stage field reads another stage still
            self._call(lambda: self.backend.write_stage(name, me, stage, reason))
        else:
            self._project(name, holder, stage, None)
        for entry in sorted(open_entries.values(), key=lambda e: (e.at, e.id)):
            if entry.version == holder:
                continue
            if self._pointer(name, stage) != holder:
                return False  # a later writer moved it: its repair covers every entry
            self._retire(entry, stage, holder, actor)
        return holder == me

    def _pointer(self, name: str, stage: str) -> str | None:
        return self._call(lambda: self.backend.read_pointers(name)).get(stage)

    def _project(self, name: str, version: str, stage: str, reason: str | None) -> None:
        """Write the version's own stage field if it does not read ``stage`` already (a
        read costs less than a write, and writes are what contend)."""
        if self._call(lambda: self.backend.get_version(name, version)).stage != stage:
            self._call(lambda: self.backend.write_stage(name, version, stage, reason))

    def _retire(self, entry: Event, stage: str, holder: str | None, actor: str | None) -> None:
        name, version = entry.name, entry.version
        successor = f" by {name}/{holder}" if holder else ""
        exit_event = Event(
            id=derived_event_id("exit", name, version, entry.id),
            kind=EventKind.TRANSITIONED,
            name=name,
            version=version,
            from_=stage,
            to=Stage.ARCHIVED.value,
            actor=_actor(actor),
            reason=f"replaced{successor}",
        )
        self._call(lambda: self.backend.append_events(name, version, [exit_event]))
        archived = Stage.ARCHIVED.value  # an open entrant's field never reads archived yet
        self._call(lambda: self.backend.write_stage(name, version, archived, exit_event.reason))

    def _is_pointer_stage(self, stage: str) -> bool:
        return stage in self.policy.exclusive_stages

    def _check_stage_supported(self, stage: str) -> None:
        if stage not in WELL_KNOWN_STAGES and Capability.CUSTOM_STAGES not in self.capabilities:
            raise UnsupportedOperation(
                f"{self.url} has no custom stages; {stage!r} is not one of "
                f"{', '.join(sorted(WELL_KNOWN_STAGES))}",
                capability=Capability.CUSTOM_STAGES.value,
                url=self.url,
            )
        self.backend.validate_stage(stage)

    # -- reads ---------------------------------------------------------------

    def resolve(self, ref: str) -> ModelVersion:
        """The version a reference points at; cached for ``cache_ttl`` seconds if set."""
        cached = self.cache.get(ref) if type(ref) is str else None
        if cached is not None:
            return cached
        mv = self._lookup(parse_ref(ref))
        self.cache.put(ref, mv)
        return mv

    def download(
        self,
        ref: str,
        dest: str | os.PathLike[str] | None = None,
        *,
        overwrite: bool = False,
        progress: ProgressSink | None = None,
    ) -> Path:
        """Download the artifact into directory ``dest``, verifying its digest first.

        ``dest`` must be missing, empty or an earlier download (it holds the marker
        ``.modelport.json``), else ``overwrite=True``: download replaces it as a whole.
        Files land in a staging directory beside ``dest`` and are moved into place only
        once complete and verified; on any failure ``dest`` is as it was. A ``dest`` that
        already holds this digest is kept as it is: nothing is transferred.

        Without ``dest`` the files go to the local artifact cache, keyed by digest and
        shared by every process (`modelport.artifact_cache`); the folder returned
        is the cache's own, not to be modified.

        ``progress``, if given, is told the bytes to expect where the backend can size the
        artifact (for an ETA), advanced by the bytes as they arrive (sampled in the
        staging folder), then by one version; by one version and no bytes when nothing
        was transferred.
        """
        if progress is not None:
            progress.expect(versions=1)
        if dest is None:
            return self._download_cached(ref, overwrite, progress)
        target = download_target(dest, overwrite=overwrite)
        mv = self.resolve(ref)
        if _holds(target, mv):
            _advance(progress)
            return target
        sweep_stale(target)
        with staging_dir(target) as staged:
            consequence = f"nothing was written to {str(target)!r}"
            self._fetch_verified(mv, staged, consequence, progress, sized=True)
            _advance(progress)
            write_marker(staged, self.url, mv)
            follow_umask(staged)
            publish(staged, target)
        return target

    def watch(
        self,
        ref: str,
        load: Callable[[Path], T],
        *,
        refresh: float = 60.0,
        background: bool = False,
    ) -> ModelHandle[T]:
        """A handle serving ``load(path)`` of the version ``ref`` points at, following it:
        every ``refresh`` seconds (on access, or in a thread with ``background=True``) a
        new version is downloaded, loaded and swapped in atomically. See
        `modelport.watch.ModelHandle`."""
        return ModelHandle(self, ref, load, refresh=refresh, background=background)

    @property
    def artifact_cache(self) -> ArtifactCache:
        """The local artifact cache, as the environment describes it when first used."""
        if self._artifact_cache is None:
            self._artifact_cache = ArtifactCache.from_environment()
        return self._artifact_cache

    def _download_cached(
        self, ref: str, overwrite: bool, progress: ProgressSink | None = None
    ) -> Path:
        if overwrite:
            raise InvalidInputError(
                "overwrite applies to a destination; a download into the cache replaces "
                "nothing, so name dest or leave overwrite out",
                field="overwrite",
            )
        mv = self.resolve(ref)
        if mv.digest is None:
            raise InvalidInputError(
                f"{mv.ref} records no digest, so its files cannot be cached by content; "
                "name a destination directory (dest) to download it",
                model=mv.name,
                version=mv.version,
                field="dest",
            )
        consequence = "nothing was kept in the artifact cache"

        def fill(staged: Path) -> None:  # not called on a cache hit: no bytes then
            self._fetch_verified(mv, staged, consequence, progress, sized=True)

        path = self.artifact_cache.get(mv.digest, fill)
        _advance(progress)
        return path

    def fetch(
        self,
        record: ModelVersion,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressSink | None = None,
    ) -> Path:
        """Fetch the artifact of ``record`` (a version this registry returned) into the
        directory ``dest``, new or empty, and verify its digest.

        Unlike `download` it resolves nothing and lays out the artifact's files
        only, for a caller that stages artifacts itself (migration). A transient fault
        restarts the fetch from an empty ``dest``; on any failure ``dest`` is left empty.
        ``progress``, if given, is advanced by the bytes as they arrive, no versions.
        """
        if not isinstance(record, ModelVersion):
            raise InvalidInputError(
                f"record must be a modelport.ModelVersion, got {type(record).__name__}",
                field="record",
            )
        target = fetch_target(dest)
        try:
            consequence = f"nothing was kept in {str(target)!r}"
            self._fetch_verified(record, target, consequence, progress)
        except BaseException:
            _emptied(target)
            raise
        return target

    def _fetch_verified(
        self,
        mv: ModelVersion,
        into: Path,
        consequence: str,
        progress: ProgressSink | None = None,
        *,
        sized: bool = False,
    ) -> None:
        try:
            self._fetch_counted(mv, into, progress, sized=sized)
        except UnreadableArchiveError as exc:
            raise IntegrityError(
                f"{mv.ref}: the stored artifact is damaged ({exc}); {consequence}",
                model=mv.name,
                version=mv.version,
                field="artifact",
                url=self.url,
            ) from None
        if mv.digest is not None:
            _check_digest(mv, digest_path(into), consequence)

    def _fetch_counted(
        self, mv: ModelVersion, into: Path, progress: ProgressSink | None, *, sized: bool = False
    ) -> None:
        """Fetch into ``into``; with ``progress``, advance it by the bytes landing there,
        having told it the bytes to expect first with ``sized`` (one call or a few).

        Sampled here rather than reported by the backend: ``into`` is the facade's own
        folder, so this works the same on every backend and counts only bytes that
        arrived. A retry empties ``into``; the count only reports past its high-water mark.
        """

        def fetch() -> None:
            self.backend.fetch_artifact(mv.artifact_uri, _emptied(into))

        if progress is None:
            self._call(fetch)
            return
        expected = self._expected_size(mv) if sized else None
        if expected:
            progress.expect(nbytes=expected)
        count = ByteCount(progress)
        with watching(into, count):
            self._call(fetch)
        landed = tree_size(into)
        count.settle(landed)
        if expected and expected != landed:
            progress.expect(nbytes=landed - expected)  # an estimate: the bar ends on the truth

    def _expected_size(self, mv: ModelVersion) -> int | None:
        """The backend's estimate of the artifact's bytes, for an ETA; None when it has
        none or cannot tell (the download goes on without one)."""
        try:
            return self._call(lambda: self.backend.artifact_size(mv.artifact_uri))
        except ModelportError as exc:
            logger.debug("no size for %s: %s", mv.ref, exc)
            return None

    def lineage(self, ref: str) -> Lineage:
        """The version's lineage: its record's, completed with what the backend itself
        knows (a lineage graph, say: read here only, never on resolve)."""
        mv = self.resolve(ref)
        return self._call(lambda: self.backend.read_lineage(mv))

    def history(self, ref: str) -> list[Event]:
        """The audit trail of one version (``name/3``, ``name@production``) or of the whole
        model (``name``), oldest first."""
        if isinstance(ref, str) and "/" not in ref and "@" not in ref:
            check_model_name(ref, "ref")
            events = [e for mv in self.versions(ref) for e in self._events(mv)]
            return sorted(events, key=lambda e: e.at)
        return self._events(self._exact(ref))

    def versions(self, name: str, *, stage: str | Stage | None = None) -> Iterator[ModelVersion]:
        """The model's versions, lazily, one backend page at a time (arguments are checked
        at the call, not at the first ``next``)."""
        check_model_name(name)
        wanted = None if stage is None else self.policy.check_declared(_stage_value(stage))
        return self._pages(name, wanted)

    def _pages(self, name: str, wanted: str | None) -> Iterator[ModelVersion]:
        token: str | None = None
        while True:
            page = self._call(partial(self.backend.list_versions, name, token))
            pointers = _Pointers(lambda: self._call(lambda: self.backend.read_pointers(name)))
            for mv in (self._reconciled(item, pointers) for item in page.items):
                if wanted is None or mv.stage == wanted:
                    yield mv
            token = page.next_token
            if token is None:
                return

    def models(self) -> Iterator[str]:
        token: str | None = None
        while True:
            page = self._call(partial(self.backend.list_models, token))
            yield from page.items
            token = page.next_token
            if token is None:
                return

    def gate(self, ref: str, gates: list[str]) -> list[str]:
        """Failures of the version against metric gates such as ``"f1>=0.78"`` (empty: pass)."""
        parsed = [MetricGate.parse(g, "metric") for g in gates]
        return evaluate_gates(self.resolve(ref), parsed)

    # -- helpers -------------------------------------------------------------

    def _exact(self, ref: str) -> ModelVersion:
        """Resolve without the cache: writes must act on the current record."""
        return self._lookup(parse_ref(ref))

    def _lookup(self, ref: ModelRef) -> ModelVersion:
        backend = self.backend
        if ref.kind is RefKind.VERSION:
            return self._reconciled(self._call(lambda: backend.get_version(ref.name, ref.value)))
        if ref.kind is RefKind.LATEST:
            return self._reconciled(self._call(lambda: backend.latest_version(ref.name)))
        aliased = ref.kind is RefKind.LABEL and Capability.ALIASES in self.capabilities
        if aliased and not self._is_pointer_stage(ref.value):
            found = self._call(lambda: backend.pointed_version(ref.name, ref.value))
            if found is not None:
                return self._reconciled(found)
        holder = self._holder(ref.name, ref.value)
        if holder is not None:
            return holder
        raise VersionNotFoundError(
            f"no version of {ref.name!r} is in {ref.value!r}", model=ref.name, field="stage"
        )

    def _holder(self, name: str, stage: str) -> ModelVersion | None:
        """The version in ``stage``: the pointer's for an exclusive stage; else (or when
        the model has no such pointer: a model managed outside modelport, with MLflow's
        legacy stages, say) the most recently changed version whose stage field reads it."""
        if self._is_pointer_stage(stage):
            found = self._call(lambda: self.backend.pointed_version(name, stage))
            if found is not None:
                return self._reconciled(found)
        members = self._call(lambda: self.backend.stage_members(name, stage))
        pointers = _Pointers(lambda: self._call(lambda: self.backend.read_pointers(name)))
        holders = [
            mv for mv in (self._reconciled(m, pointers) for m in members) if mv.stage == stage
        ]
        return max(holders, key=_recency) if holders else None

    def _reconciled(self, mv: ModelVersion, pointers: _Pointers | None = None) -> ModelVersion:
        """The record as the pointers say: a version holding an exclusive stage's pointer
        is in that stage; one whose stage field names an exclusive stage whose pointer
        names another version was replaced (archived); ``aliases`` lists the other
        pointers it holds. Where the model has no pointer for that stage (managed outside
        modelport), the stage field stands; finding that out costs one more read."""
        exclusive = self.policy.exclusive_stages
        held = [s for s in mv.aliases if s in exclusive]
        stage = min(held, key=_stage_rank) if held else mv.stage
        if not held and mv.stage in exclusive:
            known = pointers or _Pointers(
                lambda: self._call(lambda: self.backend.read_pointers(mv.name))
            )
            if mv.stage in known.get():
                stage = Stage.ARCHIVED.value
        aliases = tuple(a for a in mv.aliases if a not in exclusive)
        if stage == mv.stage and aliases == mv.aliases:
            return mv
        return mv.model_copy(update={"stage": stage, "aliases": aliases})

    def _events(self, mv: ModelVersion) -> list[Event]:
        return self._call(lambda: self.backend.read_events(mv.name, mv.version))

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return self.retry.call(fn)
        except ModelportError as exc:  # an SDK may echo the raw URL, secrets and all
            raise self._scrubber.clean(exc)  # noqa: B904 - its own chain, scrubbed


class _Pointers:
    """A model's pointers, read at most once, and only if asked for."""

    def __init__(self, read: Callable[[], dict[str, str]]) -> None:
        self._read = read
        self._pointers: dict[str, str] | None = None

    def get(self) -> dict[str, str]:
        if self._pointers is None:
            self._pointers = self._read()
        return self._pointers


_STAGE_ORDER = {Stage.PRODUCTION.value: 0, Stage.STAGING.value: 1}


def _stage_rank(stage: str) -> tuple[int, str]:
    """Production outranks staging outranks custom stages, for a version holding two."""
    return _STAGE_ORDER.get(stage, 2), stage


_APPROVAL_KINDS = frozenset({EventKind.APPROVED, EventKind.REJECTED})
# A version (re)created here: what its trail said before (a migrated trail) is not pending.
_FRESH_STARTS = frozenset({EventKind.REGISTERED, EventKind.MIGRATED})


def _same_change(logged: Event, event: Event) -> bool:
    return (logged.kind, logged.from_, logged.to, logged.rolled_back) == (
        event.kind,
        event.from_,
        event.to,
        event.rolled_back,
    )


def _open_entries(log: list[Event], stage: str) -> dict[str, Event]:
    """Per version, its entry into ``stage`` that no exit followed."""
    open_entries: dict[str, Event] = {}
    for event in log:
        if enters(event, stage):
            open_entries[event.version] = event
        elif leaves(event, stage):
            open_entries.pop(event.version, None)
    return open_entries


def _recency(mv: ModelVersion) -> tuple[float, int, str]:
    stamp = mv.updated_at.timestamp() if mv.updated_at else 0.0
    number = int(mv.version) if mv.version.isdigit() else -1
    return stamp, number, mv.version


def _stage_tenure(events: list[Event], stage: str) -> list[str]:
    """Replay the stage's history into a stack of holders: a promotion pushes, a rollback pops."""
    stack: list[str] = []
    for event in events:
        if not enters(event, stage):
            continue
        if event.rolled_back is not None and stack and stack[-1] == event.rolled_back:
            stack.pop()
        if not stack or stack[-1] != event.version:
            stack.append(event.version)
    return stack


def _holds(target: Path, mv: ModelVersion) -> bool:
    """Whether ``target`` is an earlier download of exactly this content (checked by
    hashing the local files, so a file changed since is noticed)."""
    marker = read_marker(target) if target.is_dir() else None
    if marker is None or mv.digest is None or marker.get("digest") != mv.digest:
        return False
    return digest_path(target) == mv.digest


def _advance(progress: ProgressSink | None) -> None:
    """One version done (its bytes were advanced as they arrived)."""
    if progress is not None:
        progress.advance(versions=1)


def _check_digest(mv: ModelVersion, actual: str | None, consequence: str) -> None:
    """Raise ``IntegrityError`` when ``mv`` records a digest and ``actual`` differs."""
    if mv.digest is not None and actual != mv.digest:
        raise IntegrityError(
            f"{mv.ref}: artifact digest {actual} differs from the recorded {mv.digest}; "
            + consequence,
            model=mv.name,
            version=mv.version,
            field="digest",
        )


def _emptied(path: Path) -> Path:
    """``path`` as an empty directory: a retried fetch starts again from nothing."""
    for child in path.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    return path


def _actor(actor: str | None) -> str:
    if actor is not None:
        return check_text(actor, "actor", MAX_ACTOR_CHARS)
    try:
        return os.environ.get("MODELPORT_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _check_note(reason: str | None, actor: str | None) -> None:
    """The reason and actor a write records, checked before the write starts."""
    if reason is not None:
        check_text(reason, "reason", MAX_REASON_CHARS)
    if actor is not None:
        check_text(actor, "actor", MAX_ACTOR_CHARS)


def _stage_value(stage: object) -> object:
    return stage.value if isinstance(stage, Stage) else stage


def _idempotency_key(key: object) -> str:
    if key is None or key == "":  # none given: this register call is its own identity
        return uuid.uuid4().hex
    return check_text(key, "idempotency_key", 256)


def _check_lineage(lineage: object) -> Lineage:
    if lineage is None:
        return Lineage()
    if not isinstance(lineage, Lineage):
        raise InvalidInputError(
            f"lineage must be a modelport.Lineage, got {type(lineage).__name__}", field="lineage"
        )
    return lineage
