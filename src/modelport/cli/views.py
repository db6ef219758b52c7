"""The human text of records: a version, a table row, an event, a lineage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelport.models import Event, Lineage, ModelVersion

VERSIONS_HEADER = (
    f"{'VERSION':<8} {'STAGE':<12} {'APPROVAL':<9} {'CREATED':<16} {'DIGEST':<12} METRICS"
)


def version_lines(mv: ModelVersion) -> Iterator[str]:
    """The reference, then one indented ``label  value`` line per field that is set."""
    yield mv.ref
    rows: list[tuple[str, object]] = [
        ("stage", mv.stage),
        ("approval", mv.approval.value),
        ("artifact", mv.artifact_uri),
        ("digest", mv.digest),
        ("metrics", pairs_text(mv.metrics)),
        ("params", pairs_text(mv.params)),
        ("tags", pairs_text(mv.tags)),
        ("aliases", ", ".join(mv.aliases)),
        ("description", mv.description),
        ("created", mv.created_at.isoformat() if mv.created_at else None),
        ("updated", mv.updated_at.isoformat() if mv.updated_at else None),
        ("registry", mv.registry),
        ("native", mv.native),
    ]
    for label, value in rows:
        if value:
            yield f"  {label:<12}{value}"


def version_row(mv: ModelVersion) -> str:
    """One line of the ``versions`` table (see `VERSIONS_HEADER`)."""
    created = mv.created_at.strftime("%Y-%m-%d %H:%M") if mv.created_at else "-"
    digest = mv.digest.removeprefix("sha256:")[:12] if mv.digest else "-"
    return (
        f"{mv.version:<8} {mv.stage:<12} {mv.approval.value:<9} {created:<16} {digest:<12} "
        f"{pairs_text(mv.metrics)}"
    ).rstrip()


def event_row(event: Event) -> str:
    change = f"{event.from_ or '-'} -> {event.to or '-'}"
    line = f"{event.at.isoformat(timespec='seconds')}  {event.name}/{event.version}  "
    line += f"{event.kind.value:<12} {change}"
    if event.actor:
        line += f"  by {event.actor}"
    if event.reason:
        line += f"  ({event.reason})"
    return line


def lineage_lines(lineage: Lineage) -> Iterator[str]:
    if lineage.is_empty():
        yield "no lineage recorded"
        return
    if lineage.run:
        yield f"run         {lineage.run}"
    if lineage.code:
        code = lineage.code
        yield f"code        {code.repo or '?'} @ {code.commit or '?'}" + (
            f" ({code.branch})" if code.branch else ""
        )
    if lineage.ci:
        yield f"ci          {lineage.ci.provider} {lineage.ci.run_id or ''} {lineage.ci.url or ''}"
    for dataset in lineage.datasets:
        yield f"dataset     {dataset.role}: {dataset.uri}" + (
            f" ({dataset.digest})" if dataset.digest else ""
        )
    for parent in lineage.parents:
        yield f"parent      {parent.name}/{parent.version}" + (
            f" in {parent.registry}" if parent.registry else ""
        )
    if lineage.migrated_from:
        origin = lineage.migrated_from
        yield f"migrated    from {origin.name}/{origin.version} in {origin.registry}"


def pairs_text(values: dict[str, Any]) -> str:
    """``auc=0.9, f1=0.81``: sorted, numbers in their shortest form."""
    return ", ".join(
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in sorted(values.items())
    )
