"""The neutral model: what every backend's records are translated into.

All classes are immutable pydantic v2 models; ``model_dump(mode="json")`` gives
their JSON form, which is also what backends store where they lack a native field.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelport.errors import InvalidInputError
from modelport.validation import check_stage


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class UserInput(Frozen):
    """A model users build themselves: a bad value raises `InvalidInputError`
    naming the field (a ``ModelportError``), not pydantic's ``ValidationError``."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise input_error(type(self).__name__, exc) from None


def input_error(model: str, exc: ValidationError) -> InvalidInputError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    field = f"{model}.{where}" if where else model
    return InvalidInputError(f"{field}: {first['msg']}", field=field)


class Stage(str, Enum):
    """The well-known stages. Custom stages are plain strings matching ``[a-z][a-z0-9-]{0,30}``."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"

    def __str__(self) -> str:
        return self.value


WELL_KNOWN_STAGES = frozenset(stage.value for stage in Stage)


class Approval(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return self.value


class EventKind(str, Enum):
    REGISTERED = "registered"
    TRANSITIONED = "transitioned"
    APPROVED = "approved"
    REJECTED = "rejected"
    MIGRATED = "migrated"
    ALIASED = "aliased"
    UNALIASED = "unaliased"

    def __str__(self) -> str:
        return self.value


class DatasetRef(UserInput):
    """A dataset a model was trained or evaluated on."""

    uri: str
    digest: str | None = None
    role: str = "training"


class CodeRef(UserInput):
    """The code version that produced a model."""

    repo: str | None = None
    commit: str | None = None
    branch: str | None = None


class CIRun(UserInput):
    """The CI job a training ran in, as its provider names it."""

    provider: str
    run_id: str | None = None
    url: str | None = None


class VersionRef(UserInput):
    """A model version, possibly in another registry (``registry`` is a redacted URL)."""

    name: str
    version: str
    registry: str | None = None


class MigratedFrom(Frozen):
    """Where a migrated version came from: the provenance migration keys on."""

    registry: str
    name: str
    version: str
    digest: str | None = None


class Lineage(UserInput):
    """What a model version was made from."""

    run: str | None = None
    datasets: tuple[DatasetRef, ...] = ()
    code: CodeRef | None = None
    ci: CIRun | None = None
    parents: tuple[VersionRef, ...] = ()
    migrated_from: MigratedFrom | None = None

    @classmethod
    def from_env(
        cls, *, run: str | None = None, path: str = ".", env: Mapping[str, str] | None = None
    ) -> Lineage:
        """Capture the git commit and remote of ``path`` and the CI job's variables (of
        ``env``, default the process environment); credentials in remotes are dropped."""
        from modelport.environment import detect  # git and CI code, loaded when used

        code, ci = detect(path, env)
        code_ref = CodeRef(repo=code.repo, commit=code.commit, branch=code.branch)
        return cls(
            run=run,
            code=None if code_ref == CodeRef() else code_ref,
            ci=None if ci is None else CIRun(provider=ci.provider, run_id=ci.run_id, url=ci.url),
        )

    def is_empty(self) -> bool:
        return self == Lineage()


def new_event_id() -> str:
    return uuid.uuid4().hex


def derived_event_id(*parts: str) -> str:
    """An id every client computes the same way from the same facts, so two clients that
    record the same consequence (one tenure ending, say) write one event, not two."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class Event(Frozen):
    """One entry of a version's audit trail, stored in the backend itself under its own
    key (``id``): appending never rewrites another event, and a retried append of the
    same event lands on the same key."""

    id: str = Field(default_factory=new_event_id, pattern=r"^[0-9a-f]{32}$")
    kind: EventKind
    name: str
    version: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    actor: str | None = None
    reason: str | None = None
    at: datetime = Field(default_factory=utc_now)
    rolled_back: str | None = None  # on a rollback: the version that lost the stage


class ModelVersion(Frozen):
    """One version of a registered model, as every backend presents it."""

    name: str
    version: str
    stage: str = Stage.DEVELOPMENT.value
    approval: Approval = Approval.PENDING
    artifact_uri: str
    digest: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    lineage: Lineage = Field(default_factory=Lineage)
    aliases: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    registry: str = ""
    native: str | None = None

    @field_validator("stage", mode="before")
    @classmethod
    def _stage_value(cls, value: Any) -> Any:
        return value.value if isinstance(value, Stage) else value

    @field_validator("stage")
    @classmethod
    def _stage_valid(cls, value: str) -> str:
        return check_stage(value)

    @property
    def ref(self) -> str:
        """The reference ``name/version`` that points at exactly this version."""
        return f"{self.name}/{self.version}"

    def neutral(self) -> dict[str, Any]:
        """The record without what differs by place: native ids (including the backend's own
        run, which a backend such as MLflow creates to hold metrics), timestamps, provenance."""
        data = self.model_dump(
            mode="json", exclude={"created_at", "updated_at", "registry", "native", "artifact_uri"}
        )
        data["lineage"].pop("migrated_from", None)
        data["lineage"].pop("run", None)
        return data


class VersionDraft(Frozen):
    """What the facade hands a backend to create a version: validated, digest computed.

    ``source`` is a local path (``source_is_local``) or a URI the backend registers
    as it is. ``idempotency_key`` is stable across retries of the same register.
    """

    name: str
    source: str
    source_is_local: bool
    digest: str | None
    metrics: dict[str, float] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    lineage: Lineage = Field(default_factory=Lineage)
    approval: Approval = Approval.PENDING
    history: tuple[Event, ...] = ()
    idempotency_key: str


def enters(event: Event, stage: str) -> bool:
    """Whether ``event`` moved its version into ``stage``."""
    return event.kind is EventKind.TRANSITIONED and event.to == stage and event.from_ != stage


def leaves(event: Event, stage: str) -> bool:
    """Whether ``event`` moved its version out of ``stage``."""
    return event.kind is EventKind.TRANSITIONED and event.from_ == stage and event.to != stage
