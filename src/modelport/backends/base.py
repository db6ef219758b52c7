"""The backend contract: the primitive operations a registry adapter implements.

A backend translates between the neutral model and one registry's SDK. It holds
no policy: approval rules, exclusive stages, history-based rollback, digest checks
and retries all live in :class:`modelport.registry.Registry`, which composes these
primitives. A backend raises only :mod:`modelport.errors` (translating its SDK's
exceptions, transient ones as :class:`TransientBackendError`) and never retries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from modelport.errors import UnsupportedOperation
from modelport.models import Event, ModelVersion, VersionChange, VersionDraft
from modelport.urls import RegistryURL

T = TypeVar("T")


class Capability(str, Enum):
    """What a backend can do beyond the primitives every backend has."""

    ALIASES = "aliases"  # name@alias resolves through the backend's own aliases
    REGISTER_URI = "register_uri"  # register an existing remote artifact URI as it is
    CUSTOM_STAGES = "custom_stages"  # stages beyond the four well-known ones
    NATIVE_STAGES = "native_stages"  # stages are visible in the backend's own UI/API
    NATIVE_APPROVAL = "native_approval"  # approval is the backend's own field, not a tag
    TRAINING_RUNS = "training_runs"  # lineage.run points at the backend's own runs/jobs

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_token`` is None on the last page."""

    items: Sequence[T]
    next_token: str | None = None


class Backend(ABC):
    """A registry adapter. Subclasses set ``capabilities`` and implement the primitives."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    url: RegistryURL

    @classmethod
    @abstractmethod
    def from_url(cls, url: RegistryURL) -> Backend:
        """Build from a parsed URL; validate its parts here, before any network call."""

    # -- reads ---------------------------------------------------------------

    @abstractmethod
    def list_models(self, page_token: str | None = None) -> Page[str]:
        """Names of the registered models, one page at a time."""

    @abstractmethod
    def get_version(self, name: str, version: str) -> ModelVersion:
        """One version; ``ModelNotFoundError``/``VersionNotFoundError`` if absent."""

    @abstractmethod
    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        """The model's versions, oldest first where the backend allows, one page at a time."""

    @abstractmethod
    def latest_version(self, name: str) -> ModelVersion:
        """The most recently created version."""

    @abstractmethod
    def stage_holders(self, name: str, stage: str) -> list[ModelVersion]:
        """The versions whose stage is ``stage`` (usually zero or one for exclusive stages)."""

    @abstractmethod
    def read_events(self, name: str, version: str) -> list[Event]:
        """The version's audit trail, oldest first."""

    @abstractmethod
    def fetch_artifact(self, uri: str, dest: Path) -> None:
        """Write the artifact at ``uri`` as files into the existing empty directory ``dest``."""

    # -- writes --------------------------------------------------------------

    @abstractmethod
    def create_version(self, draft: VersionDraft) -> ModelVersion:
        """Create the model if needed, store the artifact and the version's record.

        Stage is ``development``. A retry with the same ``draft.idempotency_key``
        must return the version the first attempt created rather than a second one.
        """

    @abstractmethod
    def update_version(self, name: str, version: str, change: VersionChange) -> ModelVersion:
        """Apply a stage and/or approval change and append its event, in as few writes as
        the backend allows; fields SDKs reset on update must be preserved. The facade
        retries a write whose answer was lost with the same event: an event equal to the
        last one recorded is not appended again."""

    # -- optional, gated by capabilities ---------------------------------------

    def get_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at (``Capability.ALIASES``)."""
        raise UnsupportedOperation(
            f"{self.url}: this backend has no aliases, so '{name}@{alias}' cannot resolve",
            capability=Capability.ALIASES.value,
            url=str(self.url),
        )

    def stage_artifact(self, draft: VersionDraft) -> None:  # noqa: B027 (optional hook)
        """Store the draft's local artifact ahead of ``create_version``, which then finds
        it in place. Lets a caller that must create versions in order (migration) upload
        their artifacts in parallel. By default ``create_version`` stores it."""

    def validate_draft(self, draft: VersionDraft) -> None:  # noqa: B027 (optional hook)
        """Check the backend's own naming rules and limits; raise ``InvalidInputError``."""

    def validate_stage(self, stage: str) -> None:  # noqa: B027 (optional hook)
        """Check that the backend can hold ``stage``; raise ``InvalidInputError``."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections and servers."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.url)!r})"
