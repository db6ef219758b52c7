"""Applying a plan: copy each version through local staging, register it, then set its
stage, then its aliases (where the destination has aliases).

Models are migrated in parallel; within a model, versions are registered one after the
other in source order (so the destination numbers them in the same order) while the
next versions' artifacts are fetched ahead on a pool of fetchers. At most
``workers + 1`` artifacts are staged on disk at once, so memory and disk stay bounded
whatever the number of versions.

When the source keeps its files on this machine (MLflow with local artifacts), a
version's artifact is uploaded straight from them, with no staged copy, and hashed beside
the upload; the digest is checked before the version is created, and an upload whose
bytes did not match is removed.

Every write is safe to repeat: a version's idempotency key is derived from its source
registry, name and version, so a retried or re-run create returns the version the first
attempt made, and the plan of a re-run sees finished versions by their provenance.
A version gets its stage only after it exists, with its artifact stored and verified.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import tempfile
import threading
from collections import deque
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from modelport.digest import remembered_digest
from modelport.errors import ConflictError, IntegrityError, InvalidInputError, UnsupportedOperation
from modelport.migration.planning import Planned
from modelport.migration.report import Action, AliasNotCopied, Outcome, VersionResult
from modelport.models import Approval, Event, EventKind, MigratedFrom, ModelVersion
from modelport.progress import ByteCount, ProgressSink, tree_size
from modelport.registry import Registry
from modelport.scratch import make_scratch_dir

MAX_REASON_CHARS = 1000


def idempotency_key(src_url: str, name: str, version: str) -> str:
    """The same key for every attempt to copy one source version (32 hex characters, which
    every backend's idempotency token accepts)."""
    text = "\n".join(("modelport-migrate/1", src_url, name, version))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def default_actor() -> str:
    try:
        return os.environ.get("MODELPORT_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Staged:
    """A source version's artifact laid out on local disk, and its audit trail."""

    path: Path
    size: int
    history: list[Event]
    owned: bool = True  # False: the source registry's own files, read in place, kept


class Migration:
    """One apply run from ``src`` to ``dst``; ``run`` returns a result per plan entry."""

    def __init__(
        self, src: Registry, dst: Registry, *, workers: int, progress: ProgressSink, actor: str
    ) -> None:
        self.src = src
        self.dst = dst
        self.workers = max(1, workers)
        self.progress = progress
        self.actor = actor
        self.lookahead = self.workers + 1
        self._permits = threading.BoundedSemaphore(self.lookahead)  # staged artifacts on disk
        self._stopping = threading.Event()  # set when the run is abandoned (Ctrl-C, a bug)

    def run(self, planned: list[Planned]) -> list[VersionResult]:
        chains: dict[str, list[Planned]] = {}
        for entry in planned:
            chains.setdefault(entry.item.name, []).append(entry)
        if not chains:
            return []
        root = make_scratch_dir("migrate")  # removes what killed migrations left
        try:
            with (
                ThreadPoolExecutor(self.workers, "modelport-fetch") as fetchers,
                ThreadPoolExecutor(min(self.workers, len(chains)), "modelport-model") as models,
            ):
                futures = [
                    models.submit(self._chain, chain, fetchers, root) for chain in chains.values()
                ]
                try:
                    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                    errors = [error for f in done if (error := f.exception()) is not None]
                    if errors:
                        raise errors[0]
                    return [result for future in futures for result in future.result()]
                except BaseException:
                    self._stopping.set()  # the other threads finish their current version only
                    raise
        finally:
            shutil.rmtree(root, ignore_errors=True)

    # -- one model -------------------------------------------------------------------

    def _chain(
        self, entries: list[Planned], fetchers: ThreadPoolExecutor, root: Path
    ) -> list[VersionResult]:
        """The model's versions in order, with artifacts fetched ahead. After a version
        fails to be created, the later ones are not created: a re-run must be able to
        create them after it, in order."""
        results: list[VersionResult] = []
        window: deque[tuple[Planned, Future[Staged] | None]] = deque()
        upcoming = deque(entries)
        blocked_by: str | None = None
        try:
            while (upcoming or window) and not self._stopping.is_set():
                self._fill(window, upcoming, fetchers, root, fetching=blocked_by is None)
                if not window:
                    continue  # stopping
                entry, staged = window.popleft()
                result = self._settle(entry, staged, blocked_by)
                if result.outcome is Outcome.FAILED and result.dst_version is None:
                    blocked_by = entry.item.ref
                results.append(result)
                self.progress.advance(versions=1)
        finally:
            for _, staged in window:  # left over when stopping
                if staged is not None:
                    self._discard(staged)
        return results

    def _fill(
        self,
        window: deque[tuple[Planned, Future[Staged] | None]],
        upcoming: deque[Planned],
        fetchers: ThreadPoolExecutor,
        root: Path,
        *,
        fetching: bool,
    ) -> None:
        """Move entries into the window, starting the fetch of each one to create."""
        while upcoming and len(window) < self.lookahead:
            to_fetch = fetching and upcoming[0].item.action is Action.CREATE
            if to_fetch and not self._reserve(wait=not window):
                return  # the disk budget is used up; fetch this one later
            entry = upcoming.popleft()
            staged = fetchers.submit(self._stage, entry, root) if to_fetch else None
            window.append((entry, staged))

    def _settle(
        self, entry: Planned, staged: Future[Staged] | None, blocked_by: str | None
    ) -> VersionResult:
        try:
            if blocked_by is not None and entry.item.action is Action.CREATE:
                return _result(entry, Outcome.BLOCKED, error=f"{blocked_by} failed first")
            return self._apply(entry, staged)
        except BaseException:
            # Ctrl-C (or a bug) in this chain stops the others at once, not once the main
            # thread notices: each then finishes the version it is creating, no more.
            self._stopping.set()
            raise
        finally:
            if staged is not None:
                self._discard(staged)

    def _reserve(self, *, wait: bool) -> bool:
        """A permit to stage one more artifact; waits for one (while the run goes on) only
        if ``wait``. Only a chain with nothing staged waits, so chains cannot deadlock."""
        if not wait:
            return self._permits.acquire(blocking=False)
        while not self._permits.acquire(timeout=0.1):
            if self._stopping.is_set():
                return False
        return True

    def _apply(self, entry: Planned, staged: Future[Staged] | None) -> VersionResult:
        action = entry.item.action
        if action is Action.SKIP:
            assert entry.copy is not None  # a skip always has a copy
            uncopied = self._copy_aliases(entry.source, entry.copy)  # the plan found none to set
            return _result(entry, Outcome.SKIPPED, entry.copy.version, aliases_not_copied=uncopied)
        if action is Action.CONFLICT:
            return _result(entry, Outcome.CONFLICT, entry.item.dst_version, entry.item.note)
        if action is Action.UPDATE:
            assert entry.copy is not None  # an update always has a copy
            return self._sync(entry, entry.copy, Outcome.UPDATED)
        assert staged is not None  # a create is always staged
        try:
            artifact = staged.result()
            copy = self._create(entry.source, artifact)
        except Exception as exc:  # reported per version; the run goes on
            return _result(entry, Outcome.FAILED, error=_describe(exc))
        result = self._sync(entry, copy, Outcome.CREATED)
        return result.model_copy(update={"bytes": artifact.size})

    # -- steps -----------------------------------------------------------------------

    def _stage(self, entry: Planned, root: Path) -> Staged:
        """Fetch the artifact into a fresh directory under ``root``, digest verified."""
        source = entry.source
        if self._stopping.is_set():
            raise RuntimeError("migration abandoned")
        in_place = self.src.local_files(source) if source.digest is not None else None
        if in_place is not None:
            return self._stage_in_place(source, in_place)

        path = Path(tempfile.mkdtemp(prefix="version-", dir=root))
        try:
            # Retried, and the digest verified, by the registry; the bytes advance the bar as
            # they arrive (the fetch is where a version's bytes move, whichever the backends).
            self.src.fetch(source, path, progress=self.progress)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        # Upload now, in this worker: versions are created in order later, uploads need not be.
        self.dst.prepare_import(self._record(source), path, idempotency_key=self._key(source))
        return Staged(path, size, self.src.history(source.ref))

    def _stage_in_place(self, source: ModelVersion, folder: Path) -> Staged:
        """Upload from the source registry's own ``folder`` while it is hashed beside
        the upload: no copy, and the hash costs no time of its own. The version is created
        only from a folder with the recorded digest (`Registry.import_version` checks it
        again, from the hashes kept here); an upload of other bytes is removed."""
        record, key = self._record(source), self._key(source)
        size = tree_size(folder)
        count = ByteCount(self.progress, limit=size)
        with ThreadPoolExecutor(1, "modelport-hash") as hasher:
            hashed = hasher.submit(remembered_digest, folder)
            self.dst.prepare_import(record, folder, idempotency_key=key, on_bytes=count)
            digest = hashed.result()
        if digest != source.digest:
            self.dst.discard_import(record, folder, idempotency_key=key)
            raise IntegrityError(
                f"{source.ref}: the stored artifact has digest {digest}, not the recorded "
                f"{source.digest}; nothing was registered",
                model=source.name,
                version=source.version,
                field="digest",
            )
        count.settle(size)
        return Staged(folder, size, self.src.history(source.ref), owned=False)

    def _discard(self, staged: Future[Staged]) -> None:
        try:
            found = staged.result()
            if found.owned:
                shutil.rmtree(found.path, ignore_errors=True)
        except Exception:  # a failed fetch cleaned up after itself
            pass
        finally:
            self._permits.release()

    def _record(self, source: ModelVersion) -> ModelVersion:
        """The source's record with its provenance, as the copy will carry it."""
        origin = MigratedFrom(
            registry=self.src.url, name=source.name, version=source.version, digest=source.digest
        )
        return source.model_copy(
            update={"lineage": source.lineage.model_copy(update={"migrated_from": origin})}
        )

    def _key(self, source: ModelVersion) -> str:
        return idempotency_key(self.src.url, source.name, source.version)

    def _create(self, source: ModelVersion, artifact: Staged) -> ModelVersion:
        """Register the verified copy; its digest is checked against the source's first."""
        record = self._record(source)
        migrated = Event(
            kind=EventKind.MIGRATED,
            name=source.name,
            version=source.version,
            from_=self.src.url,
            to=self.dst.url,
            actor=self.actor,
            reason=_clip(f"copy of {source.ref}"),
        )
        return self.dst.import_version(
            record,
            artifact.path,
            history=[*artifact.history, migrated],
            idempotency_key=self._key(source),
        )

    def _sync(self, entry: Planned, copy: ModelVersion, done: Outcome) -> VersionResult:
        """Bring the copy's approval and stage in line with the source's, under the
        destination's policy (a refusal is this version's failure, never bypassed), then
        its aliases."""
        try:
            copy = self._align(entry.source, copy)
        except Exception as exc:  # reported per version; the run goes on
            return _result(entry, Outcome.FAILED, copy.version, f"stage/approval: {_describe(exc)}")
        try:
            uncopied = self._copy_aliases(entry.source, copy)
        except Exception as exc:
            return _result(entry, Outcome.FAILED, copy.version, f"aliases: {_describe(exc)}")
        return _result(entry, done, copy.version, aliases_not_copied=uncopied)

    def _copy_aliases(self, source: ModelVersion, copy: ModelVersion) -> tuple[AliasNotCopied, ...]:
        """Point the source version's aliases at its copy. What the destination refuses
        before any call (it has no aliases, or not that name) is returned, not raised."""
        refused = []
        for alias in (a for a in source.aliases if a not in copy.aliases):
            try:
                self.dst.set_alias(copy.ref, alias, reason=self._note(source), actor=self.actor)
            except (UnsupportedOperation, InvalidInputError) as exc:
                refused.append(AliasNotCopied(alias=alias, reason=str(exc)))
        return tuple(refused)

    def _note(self, source: ModelVersion) -> str:
        return _clip(f"migration of {source.ref} from {self.src.url}")

    def _align(self, source: ModelVersion, copy: ModelVersion) -> ModelVersion:
        note = {"reason": self._note(source), "actor": self.actor}
        if source.approval is Approval.APPROVED and copy.approval is not Approval.APPROVED:
            copy = self.dst.approve(copy.ref, **note)
        if source.stage != copy.stage:
            copy = self.dst.transition(copy.ref, source.stage, **note)
        if source.approval is Approval.REJECTED and copy.approval is not Approval.REJECTED:
            copy = self.dst.reject(copy.ref, **note)
        if source.approval is Approval.PENDING and copy.approval is not Approval.PENDING:
            raise ConflictError(
                f"{copy.ref} is {copy.approval} at the destination and pending at the source; "
                "no verb returns a version to pending",
                model=copy.name,
                version=copy.version,
                field="approval",
            )
        return copy


def _result(
    entry: Planned,
    outcome: Outcome,
    dst_version: str | None = None,
    error: str | None = None,
    *,
    aliases_not_copied: tuple[AliasNotCopied, ...] = (),
) -> VersionResult:
    item = entry.item
    return VersionResult(
        name=item.name,
        version=item.version,
        action=item.action,
        outcome=outcome,
        dst_version=dst_version,
        digest=item.digest,
        error=error,
        aliases_not_copied=aliases_not_copied,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."
