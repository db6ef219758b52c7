"""Reading both sides: the source's versions in order, the destination's copies by
provenance (``lineage.migrated_from``), and from them the plan and the diff.

Everything here only reads; nothing writes to either registry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from modelport.backends.base import Capability
from modelport.errors import InvalidInputError, ModelNotFoundError
from modelport.migration.report import (
    Action,
    MigrationPlan,
    ModelDiff,
    PlanItem,
    RegistryDiff,
    VersionDifference,
)
from modelport.models import Approval, ModelVersion
from modelport.registry import Registry
from modelport.validation import check_model_name, check_stage, check_version

# The parts of a record migration carries over, compared by plan and diff; aliases too
# where the destination has them (see ``differing_fields``).
COMPARED_FIELDS = (
    "digest",
    "stage",
    "approval",
    "metrics",
    "params",
    "tags",
    "description",
    "lineage",
)
SYNCED_FIELDS = ("stage", "approval", "aliases")  # what a re-run can still bring in line
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


@contextmanager
def connected(registry: Registry | str) -> Iterator[Registry]:
    """``registry`` itself, or the registry a URL names (closed again afterwards)."""
    if isinstance(registry, Registry):
        yield registry
        return
    from modelport.connection import connect

    opened = connect(registry)
    try:
        yield opened
    finally:
        opened.close()


@dataclass(frozen=True)
class Planned:
    """A plan item with the records it was decided from."""

    item: PlanItem
    source: ModelVersion
    copy: ModelVersion | None  # the destination's copy, when there is one


@dataclass(frozen=True)
class Selection:
    """Which source versions to migrate; ``None`` selects everything."""

    models: tuple[str, ...] | None
    stages: frozenset[str] | None
    versions: frozenset[str] | None  # "3" (of every model) or "name/3"

    @classmethod
    def of(
        cls,
        models: Sequence[str] | None,
        stages: Sequence[str] | None,
        versions: Sequence[str] | None,
    ) -> Selection:
        return cls(
            models=None if models is None else tuple(_checked_models(models)),
            stages=None if stages is None else frozenset(_checked_list(stages, check_stage)),
            versions=None if versions is None else frozenset(_checked_versions(versions)),
        )

    def wants(self, mv: ModelVersion) -> bool:
        if self.stages is not None and mv.stage not in self.stages:
            return False
        return self.versions is None or bool({mv.version, mv.ref} & self.versions)


def _checked_list(values: object, check: Callable[[object], str]) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInputError(f"expected a list of strings, got {values!r}", field="selection")
    return [check(value) for value in values]


def _checked_models(models: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(_checked_list(models, check_model_name)))


def _checked_versions(versions: Sequence[str]) -> list[str]:
    def check(value: object) -> str:
        if isinstance(value, str) and "/" in value:
            name, _, version = value.partition("/")
            return f"{check_model_name(name, 'versions')}/{check_version(version, 'versions')}"
        return check_version(value, "versions")

    return _checked_list(versions, check)


# -- listing -------------------------------------------------------------------------


def source_versions(src: Registry, name: str) -> list[ModelVersion]:
    """The model's versions, oldest first (numeric versions by number)."""
    return sorted(src.versions(name), key=_age)


def _age(mv: ModelVersion) -> tuple[int, int, datetime, str]:
    if mv.version.isdigit():
        return 0, int(mv.version), _EPOCH, mv.version
    return 1, 0, mv.created_at or _EPOCH, mv.version


def versions_or_none(registry: Registry, name: str) -> list[ModelVersion] | None:
    """The model's versions oldest first, or None when the registry has no such model."""
    try:
        return source_versions(registry, name)
    except ModelNotFoundError:
        return None


def copies_by_source(
    dst_versions: Sequence[ModelVersion], src_url: str, name: str
) -> dict[str, list[ModelVersion]]:
    """The destination's versions migrated from ``src_url``'s model ``name``, keyed by the
    source version (a list: more than one copy would be a duplicate)."""
    copies: dict[str, list[ModelVersion]] = defaultdict(list)
    for mv in dst_versions:
        origin = mv.lineage.migrated_from
        if origin is not None and origin.registry == src_url and origin.name == name:
            copies[origin.version].append(mv)
    return copies


def differing_fields(
    source: ModelVersion, copy: ModelVersion, *, aliases: bool = False
) -> tuple[str, ...]:
    """The carried-over fields in which ``copy`` differs from ``source``; with
    ``aliases`` (the destination has them), ``aliases`` when the copy lacks one of the
    source's (an alias set on the copy alone is the destination's own)."""
    left, right = source.neutral(), copy.neutral()
    fields = [f for f in COMPARED_FIELDS if f != "digest" and left[f] != right[f]]
    if aliases and not set(source.aliases) <= set(copy.aliases):
        fields.append("aliases")
    if digest_differs(source, copy):
        fields.insert(0, "digest")
    return tuple(fields)


def digest_differs(source: ModelVersion, copy: ModelVersion) -> bool:
    """A copy differs in content if it records another source digest or holds other bytes.
    (A source version without a digest gets one computed at the destination.)"""
    origin = copy.lineage.migrated_from
    recorded = origin.digest if origin is not None else None
    return recorded != source.digest or (source.digest is not None and copy.digest != source.digest)


# -- plan ----------------------------------------------------------------------------


def planned_versions(src: Registry, dst: Registry, selection: Selection) -> list[Planned]:
    """Every selected source version with what to do with it, model by model, in order."""
    if src.backend is dst.backend:
        raise InvalidInputError("source and destination are the same registry", field="dst")
    names = selection.models if selection.models is not None else tuple(src.models())
    aliases = has_aliases(dst)
    planned: list[Planned] = []
    for name in names:
        versions = [mv for mv in source_versions(src, name) if selection.wants(mv)]
        if not versions:
            continue
        copies = copies_by_source(versions_or_none(dst, name) or [], src.url, name)
        planned += [_decide(mv, copies.get(mv.version, []), aliases) for mv in versions]
    return planned


def has_aliases(registry: Registry) -> bool:
    """Whether migration can copy aliases to ``registry`` (else the report lists them)."""
    return Capability.ALIASES in registry.capabilities


def _decide(source: ModelVersion, copies: list[ModelVersion], aliases: bool) -> Planned:
    base = {
        "name": source.name,
        "version": source.version,
        "digest": source.digest,
        "stage": source.stage,
        "approval": source.approval,
    }
    if not copies:
        return Planned(PlanItem(action=Action.CREATE, **base), source, None)
    copy = copies[0]
    fields = differing_fields(source, copy, aliases=aliases)
    if "digest" in fields:
        held = f"destination holds digest {copy.digest}, source {source.digest}"
        item = PlanItem(action=Action.CONFLICT, dst_version=copy.version, note=held, **base)
        return Planned(item, source, copy)
    changes = tuple(
        f"{f}: {_text(getattr(copy, f))} -> {_text(getattr(source, f))}"
        for f in SYNCED_FIELDS
        if f in fields
    )
    unsynced = [f for f in fields if f not in SYNCED_FIELDS]
    note = f"{', '.join(unsynced)} differ; migration does not rewrite them" if unsynced else None
    action = Action.UPDATE if changes else Action.SKIP
    item = PlanItem(action=action, dst_version=copy.version, changes=changes, note=note, **base)
    return Planned(item, source, copy)


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return value.value if isinstance(value, Approval) else str(value)


def make_plan(src: Registry, dst: Registry, planned: Sequence[Planned]) -> MigrationPlan:
    return MigrationPlan(source=src.url, destination=dst.url, items=tuple(p.item for p in planned))


# -- diff ----------------------------------------------------------------------------


def registry_diff(src: Registry, dst: Registry, models: Sequence[str] | None) -> RegistryDiff:
    if models is None:
        names = sorted(set(src.models()) | set(dst.models()))
        return RegistryDiff(
            source=src.url,
            destination=dst.url,
            models=tuple(model_diff(src, dst, name, must_exist=False) for name in names),
        )
    return RegistryDiff(
        source=src.url,
        destination=dst.url,
        models=tuple(model_diff(src, dst, n, must_exist=True) for n in _checked_models(models)),
    )


def model_diff(src: Registry, dst: Registry, name: str, *, must_exist: bool) -> ModelDiff:
    src_versions = versions_or_none(src, name)
    dst_versions = versions_or_none(dst, name)
    if must_exist and src_versions is None and dst_versions is None:
        raise ModelNotFoundError(
            f"neither {src.url} nor {dst.url} has a model {name!r}", model=name
        )
    copies = copies_by_source(dst_versions or [], src.url, name)
    matched = {id(mv) for group in copies.values() for mv in group}
    aliases = has_aliases(dst)
    differing = []
    for mv in src_versions or []:
        group = copies.get(mv.version)
        fields = differing_fields(mv, group[0], aliases=aliases) if group else ()
        if group and fields:
            pair = VersionDifference(
                src_version=mv.version, dst_version=group[0].version, fields=fields
            )
            differing.append(pair)
    return ModelDiff(
        name=name,
        only_in_src=tuple(mv.version for mv in src_versions or [] if mv.version not in copies),
        only_in_dst=tuple(mv.version for mv in dst_versions or [] if id(mv) not in matched),
        differing=tuple(differing),
        duplicated=tuple(v for v, group in copies.items() if len(group) > 1),
    )
