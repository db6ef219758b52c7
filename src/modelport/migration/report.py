"""What migration plans, does and finds: immutable, JSON-serialisable records.

``model_dump(mode="json")`` of each gives the JSON form the CLI prints for CI;
``ok`` and the counts are part of it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import Enum

from pydantic import ConfigDict, computed_field

from modelport.models import Approval, Frozen


class _Record(Frozen):
    # Computed fields (ok, counts) are in the JSON form; reading it back ignores them.
    model_config = ConfigDict(extra="ignore")


class Action(str, Enum):
    """What the plan does with one source version."""

    CREATE = "create"  # not at the destination yet
    UPDATE = "update"  # there with the same digest; its stage or approval is brought in line
    SKIP = "skip"  # there with the same digest, stage and approval
    CONFLICT = "conflict"  # there under the same provenance, with a different digest

    def __str__(self) -> str:
        return self.value


class Outcome(str, Enum):
    """What applying the plan did with one source version."""

    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    FAILED = "failed"
    BLOCKED = "blocked"  # not tried: an earlier version of the model failed (order is kept)

    def __str__(self) -> str:
        return self.value


class PlanItem(_Record):
    """One source version and what the plan does with it."""

    name: str
    version: str
    action: Action
    digest: str | None
    stage: str
    approval: Approval
    dst_version: str | None = None
    changes: tuple[str, ...] = ()  # for an update, e.g. "stage: development -> production"
    note: str | None = None  # why a conflict; what differs but cannot be written

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def line(self) -> str:
        target = f" -> {self.name}/{self.dst_version}" if self.dst_version else ""
        detail = "; ".join([*self.changes, *([self.note] if self.note else [])])
        tail = f" ({detail})" if detail else ""
        return f"{self.action.value:<8} {self.ref}{target} [{self.stage}, {self.approval}]{tail}"


class MigrationPlan(_Record):
    """Every selected source version, in source order, with its action."""

    source: str
    destination: str
    items: tuple[PlanItem, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when nothing conflicts."""
        return not any(item.action is Action.CONFLICT for item in self.items)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.action.value for item in self.items)
        return {action.value: found[action.value] for action in Action}

    def summary(self) -> str:
        counts = ", ".join(f"{n} to {a}" for a, n in self.counts.items())
        lines = [f"plan {self.source} -> {self.destination}: {counts}"]
        lines += [f"  {item.line()}" for item in self.items]
        return "\n".join(lines)


class AliasNotCopied(_Record):
    """An alias of a source version that its copy does not hold, and why."""

    alias: str
    reason: str


class VersionResult(_Record):
    """What happened to one source version. ``aliases_not_copied``: the source version's
    aliases the destination could not take (it has no aliases, or refuses the name)."""

    name: str
    version: str
    action: Action
    outcome: Outcome
    dst_version: str | None = None
    digest: str | None = None
    bytes: int = 0
    error: str | None = None
    aliases_not_copied: tuple[AliasNotCopied, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


_FAILURES = (Outcome.FAILED, Outcome.CONFLICT, Outcome.BLOCKED)


class MigrationReport(_Record):
    """The plan and, unless it was a dry run, what applying it did."""

    source: str
    destination: str
    dry_run: bool
    plan: MigrationPlan
    results: tuple[VersionResult, ...] = ()
    started_at: datetime
    seconds: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when every version is at the destination, in line with the source."""
        if self.dry_run:
            return self.plan.ok
        return not any(result.outcome in _FAILURES for result in self.results)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        found = Counter(result.outcome.value for result in self.results)
        return {outcome.value: found[outcome.value] for outcome in Outcome}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def bytes_copied(self) -> int:
        return sum(result.bytes for result in self.results)

    def failures(self) -> list[VersionResult]:
        return [result for result in self.results if result.outcome in _FAILURES]

    def aliases_not_copied(self) -> dict[str, tuple[str, ...]]:
        """Per source version (``name/3``), the aliases its copy does not hold. They do
        not make the report fail: the destination cannot hold them."""
        return {
            r.ref: tuple(a.alias for a in r.aliases_not_copied)
            for r in self.results
            if r.aliases_not_copied
        }

    def summary(self) -> str:
        if self.dry_run:
            return "dry run, nothing changed\n" + self.plan.summary()
        counts = ", ".join(f"{n} {o}" for o, n in self.counts.items() if n)
        megabytes = self.bytes_copied / 1e6
        rate = megabytes / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"migrate {self.source} -> {self.destination}: {counts or 'nothing to do'}",
            f"  {megabytes:.1f} MB copied in {self.seconds:.1f} s ({rate:.1f} MB/s)",
        ]
        lines += [f"  {r.outcome.value.upper()} {r.ref}: {r.error}" for r in self.failures()]
        lines += [
            f"  ALIAS NOT COPIED {r.name}@{a.alias} (of {r.ref}): {a.reason}"
            for r in self.results
            for a in r.aliases_not_copied
        ]
        lines.append("ok" if self.ok else "NOT ok")
        return "\n".join(lines)


class VersionDifference(_Record):
    """A source version and its migrated copy, with the fields that differ."""

    src_version: str
    dst_version: str
    fields: tuple[str, ...]


class ModelDiff(_Record):
    """One model on both sides, versions matched by provenance (``migrated_from``)."""

    name: str
    only_in_src: tuple[str, ...] = ()
    only_in_dst: tuple[str, ...] = ()
    differing: tuple[VersionDifference, ...] = ()
    duplicated: tuple[str, ...] = ()  # source versions with more than one copy

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_sync(self) -> bool:
        return not (self.only_in_src or self.only_in_dst or self.differing or self.duplicated)

    def lines(self) -> list[str]:
        if self.in_sync:
            return [f"  {self.name}: in sync"]
        out = [f"  {self.name}:"]
        if self.only_in_src:
            out.append(f"    only in source: {', '.join(self.only_in_src)}")
        if self.only_in_dst:
            out.append(f"    only in destination: {', '.join(self.only_in_dst)}")
        out += [
            f"    {d.src_version} -> {d.dst_version} differs in {', '.join(d.fields)}"
            for d in self.differing
        ]
        if self.duplicated:
            out.append(f"    copied more than once: {', '.join(self.duplicated)}")
        return out


class RegistryDiff(_Record):
    """What differs between two registries, model by model."""

    source: str
    destination: str
    models: tuple[ModelDiff, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when every model is in sync."""
        return all(model.in_sync for model in self.models)

    def summary(self) -> str:
        lines = [f"diff {self.source} -> {self.destination}:"]
        for model in self.models:
            lines += model.lines()
        lines.append("in sync" if self.ok else "differs")
        return "\n".join(lines)
