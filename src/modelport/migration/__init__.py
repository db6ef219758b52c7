"""Migration between any two registries, through the public Registry API alone (SPEC 5).

``plan`` decides, version by version, what to create, update, skip or flag as a
conflict, from the provenance (``lineage.migrated_from``) of the destination's
versions; ``migrate`` applies it; ``diff`` shows what differs. ``src`` and ``dst`` are
registries or URLs (then opened with `modelport.connect` and closed afterwards).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from modelport.errors import InvalidInputError
from modelport.migration.apply import Migration, default_actor, idempotency_key
from modelport.migration.planning import (
    Selection,
    connected,
    make_plan,
    planned_versions,
    registry_diff,
)
from modelport.migration.progress import Progress
from modelport.migration.report import (
    Action,
    AliasNotCopied,
    MigrationPlan,
    MigrationReport,
    ModelDiff,
    Outcome,
    PlanItem,
    RegistryDiff,
    VersionDifference,
    VersionResult,
)
from modelport.models import utc_now
from modelport.progress import ProgressSink
from modelport.registry import Registry
from modelport.validation import check_text

__all__ = [
    "Action",
    "AliasNotCopied",
    "MigrationPlan",
    "MigrationReport",
    "ModelDiff",
    "Outcome",
    "PlanItem",
    "RegistryDiff",
    "VersionDifference",
    "VersionResult",
    "diff",
    "idempotency_key",
    "migrate",
    "plan",
]


def plan(
    src: Registry | str,
    dst: Registry | str,
    *,
    models: Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
    versions: Sequence[str] | None = None,
) -> MigrationPlan:
    """What ``migrate`` would do, changing nothing.

    ``models`` selects models by name (default: all of the source's), ``stages`` selects
    versions by their source stage, ``versions`` by version (``"3"`` in every selected
    model, or ``"name/3"``).
    """
    selection = Selection.of(models, stages, versions)
    with connected(src) as source, connected(dst) as destination:
        return make_plan(source, destination, planned_versions(source, destination, selection))


def migrate(
    src: Registry | str,
    dst: Registry | str,
    *,
    models: Sequence[str] | None = None,
    stages: Sequence[str] | None = None,
    versions: Sequence[str] | None = None,
    dry_run: bool = False,
    workers: int = 4,
    progress: bool | ProgressSink | None = None,
    actor: str | None = None,
) -> MigrationReport:
    """Copy the selected versions from ``src`` to ``dst`` and return what happened.

    Each version is copied with its artifact (digest verified), metrics, params, tags,
    description, lineage (plus ``migrated_from``), approval and audit trail (plus a
    ``migrated`` event); then it gets its source stage under the destination's policy,
    and its aliases where the destination has them (the report lists those it could
    not copy: ``report.aliases_not_copied()``).
    Safe to re-run after a crash or a failure: finished versions are skipped, the rest
    done, nothing duplicated. ``dry_run`` returns the plan and changes nothing;
    ``progress`` draws a progress line on stderr (default: when it is a terminal), or
    is a `modelport.progress.ProgressSink` to advance (drawing nothing itself).
    A version that cannot be copied is reported, not raised: check ``report.ok``.
    """
    selection = Selection.of(models, stages, versions)
    _check_workers(workers)
    started, clock = utc_now(), time.monotonic()
    with connected(src) as source, connected(dst) as destination:
        planned = planned_versions(source, destination, selection)
        the_plan = make_plan(source, destination, planned)
        results: list[VersionResult] = []
        if not dry_run:
            sink, shown = _progress_sinks(progress, len(planned))
            sink.expect(versions=len(planned))
            migration = Migration(
                source,
                destination,
                workers=workers,
                progress=sink,
                actor=default_actor() if actor is None else check_text(actor, "actor", 256),
            )
            try:
                results = migration.run(planned)
            finally:
                if shown is not None:
                    shown.close()
        return MigrationReport(
            source=source.url,
            destination=destination.url,
            dry_run=dry_run,
            plan=the_plan,
            results=tuple(results),
            started_at=started,
            seconds=round(time.monotonic() - clock, 3),
        )


def diff(
    src: Registry | str, dst: Registry | str, *, models: Sequence[str] | None = None
) -> RegistryDiff:
    """Per model: versions only in ``src``, only in ``dst``, and copies that differ
    (digest, stage, approval, metadata), matched by provenance."""
    with connected(src) as source, connected(dst) as destination:
        return registry_diff(source, destination, models)


def _progress_sinks(
    progress: bool | ProgressSink | None, total: int
) -> tuple[ProgressSink, Progress | None]:
    """Where the run reports, and the line migrate draws (and closes) itself: none
    when the caller passed a sink of its own."""
    if progress is None or isinstance(progress, bool):
        line = Progress(total, enabled=Progress.wanted(progress))
        return line, line
    return progress, None


def _check_workers(workers: object) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise InvalidInputError(
            f"workers must be an integer from 1 to 64, got {workers!r}", field="workers"
        )
