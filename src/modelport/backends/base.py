"""The backend contract: the primitive operations a registry adapter implements.

A backend translates between the neutral model and one registry's SDK. It holds
no policy: approval rules, exclusive stages, history-based rollback, digest checks
and retries all live in `modelport.registry.Registry`, which composes these
primitives. A backend raises only `modelport.errors` (translating its SDK's
exceptions, transient ones as `TransientBackendError`) and never retries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from modelport.backends.kit.options import BackendOptions
from modelport.errors import UnsupportedOperation
from modelport.models import Approval, Event, Lineage, ModelVersion, VersionDraft
from modelport.progress import OnBytes
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
    """A registry adapter. Subclasses set ``capabilities`` and implement the primitives.

    The write model (SPEC 4b), which every backend follows:

    - **Pointers.** An exclusive stage (``production``) or an alias is one named pointer
      per model, moved by one atomic write (`set_pointer`): MLflow registered-model
      aliases, SageMaker group tags, Vertex version aliases, ``memory://`` under its lock.
      The facade decides which stages are pointers; a backend stores any name it is given.
    - **Projections.** A version's native stage field (`write_stage`) is what the
      backend's own console shows. Records report it as ``stage``, and report in
      ``aliases`` every pointer the version holds (stage pointers included): the facade
      reconciles the two, and where they disagree the pointer wins.
    - **Events** are appended under their own key, ``event.id`` (`append_events`),
      never merged into a shared value; appending an id that exists changes nothing
      visible beyond that one event. Transitions are also found by stage
      (`read_stage_log`), so rollback reads one stage's history, not every version's.
    - **Per-field writes.** `write_stage` touches the stage, `write_approval`
      the approval; neither re-sends a value it read earlier.
    - **Constant-cost reads.** ``get_version``, ``latest_version``, ``pointed_version`` and
      one page of ``list_versions`` cost a number of calls that does not grow with the
      number of versions.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # The typed query options of its URLs (kit.options), for docs and checks that walk them.
    options: ClassVar[type[BackendOptions] | None] = None
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
    def read_pointers(self, name: str) -> dict[str, str]:
        """Every pointer of the model: pointer name -> version. One call."""

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        """The version ``pointer`` names, or None. Backends that can do it in one call
        (MLflow's alias lookup) override this."""
        version = self.read_pointers(name).get(pointer)
        return None if version is None else self.get_version(name, version)

    @abstractmethod
    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        """The versions whose native stage field reads ``stage`` (a stage that is not a
        pointer: ``archived``, custom stages). May scan the model."""

    @abstractmethod
    def read_events(self, name: str, version: str) -> list[Event]:
        """The version's audit trail, oldest first."""

    @abstractmethod
    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        """Every ``transitioned`` event of the model into or out of ``stage``, oldest
        first; costs O(that stage's history), not O(versions). Entries carry ``id``,
        ``version``, ``from``, ``to``, ``at`` and ``rolled_back``; actor and reason may
        be left out."""

    @abstractmethod
    def fetch_artifact(self, uri: str, dest: Path) -> None:
        """Write the artifact at ``uri`` as files into the existing empty directory ``dest``."""

    # -- writes --------------------------------------------------------------

    @abstractmethod
    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        """Create the model if needed, store the artifact, the version's record and
        ``draft.history`` as its first events. Stage is ``development``. A retry with the
        same ``draft.idempotency_key`` returns the version the first attempt created.

        ``on_bytes``, if given, is called with the bytes of a local artifact as they are
        sent, where the SDK tells (a transfer callback, a wrapped file object); a backend
        whose SDK does not may never call it. It only reports: counting, capping and
        drawing are the caller's (`modelport.progress.ByteCount`)."""

    @abstractmethod
    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        """Point ``pointer`` at ``version``: one atomic write (last writer wins)."""

    @abstractmethod
    def delete_pointer(self, name: str, pointer: str) -> None:
        """Remove ``pointer``; no error if it is absent."""

    @abstractmethod
    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        """Set the version's native stage field, and nothing else."""

    @abstractmethod
    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        """Set the version's approval, and nothing else."""

    @abstractmethod
    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        """Store each event under its own key (``event.id``), indexed by stage for
        `read_stage_log`. Idempotent: a retry writes the same keys."""

    # -- optional hooks ------------------------------------------------------

    def stage_artifact(  # noqa: B027 (optional hook)
        self, draft: VersionDraft, on_bytes: OnBytes | None = None
    ) -> None:
        """Store the draft's local artifact ahead of ``create_version``, which then finds
        it in place. Lets a caller that must create versions in order (migration) upload
        their artifacts in parallel. By default ``create_version`` stores it. The draft's
        digest is the one claimed for the artifact, checked before ``create_version``."""

    def discard_staged(self, draft: VersionDraft) -> None:  # noqa: B027 (optional hook)
        """Remove what `stage_artifact` stored for a draft whose version will not be
        created (its artifact did not have the claimed digest), so that nothing finds it
        in place later. By default nothing: ``create_version`` stores the artifact again."""

    def artifact_size(self, uri: str) -> int | None:
        """About how many bytes fetching ``uri`` lays out, when a call or two can tell
        (for a progress bar's ETA; asked only when one is drawn); by default None."""
        del uri
        return None

    def local_files(self, uri: str) -> Path | None:
        """The folder holding the artifact at ``uri`` on this machine, when the store
        keeps its files there (read in place, never written: a migration's source); by
        default None, and callers fetch a copy."""
        del uri
        return None

    def validate_draft(self, draft: VersionDraft) -> None:  # noqa: B027 (optional hook)
        """Check the backend's own naming rules and limits; raise ``InvalidInputError``."""

    def validate_stage(self, stage: str) -> None:  # noqa: B027 (optional hook)
        """Check that the backend can hold ``stage``; raise ``InvalidInputError``."""

    def validate_pointer(self, pointer: str) -> None:
        """Check that the backend can hold an alias named ``pointer``; raise
        ``InvalidInputError``. The facade asks only a backend with ``aliases``, which
        must override this (`CAPABILITY_BINDINGS`); by default there are none."""
        raise UnsupportedOperation(
            f"{self.url} holds no aliases ({pointer!r})",
            capability=Capability.ALIASES.value,
            url=str(self.url),
        )

    def read_lineage(self, record: ModelVersion) -> Lineage:
        """The version's lineage: the record's, completed with what the backend itself
        knows (its lineage graph, say). Read when lineage is asked for, never on resolve;
        by default the record's."""
        return record.lineage

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections and servers."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.url)!r})"


@dataclass(frozen=True)
class Binding:
    """What declaring a capability commits a backend to.

    ``hooks`` are optional methods that serve this capability alone: a backend that
    declares it overrides each one, a backend that does not overrides none (the facade
    never calls them there, so an override is a forgotten declaration or dead code).
    ``needs`` is what else the capability rests on: primitives every backend has, whose
    behaviour only the conformance suite can show (the support matrix requires it).
    """

    hooks: tuple[str, ...]
    needs: str


CAPABILITY_BINDINGS: Mapping[Capability, Binding] = {
    Capability.ALIASES: Binding(
        ("validate_pointer",),
        "set_alias, remove_alias and NAME@ALIAS move and read pointers, the primitives "
        "exclusive stages use too (set_pointer, delete_pointer, read_pointers, "
        "pointed_version); what aliases add is the backend's rule for the names it holds",
    ),
    Capability.REGISTER_URI: Binding(
        (),
        "create_version and stage_artifact store a draft whose source is a remote URI as it "
        "is, and fetch_artifact reads that URI back",
    ),
    Capability.CUSTOM_STAGES: Binding(
        (),
        "write_stage, stage_members and read_stage_log hold any stage name; validate_stage "
        "(asked for every stage) refuses the names the backend cannot hold",
    ),
    Capability.NATIVE_STAGES: Binding(
        (), "write_stage writes the field the backend's own console shows"
    ),
    Capability.NATIVE_APPROVAL: Binding(
        (), "write_approval writes the backend's own approval field, not a tag"
    ),
    Capability.TRAINING_RUNS: Binding(
        (), "create_version links the version to the backend's own run or job in lineage.run"
    ),
}


def check_capabilities(backend_class: type) -> list[str]:
    """What is wrong with ``backend_class``'s declared capabilities, as sentences naming
    the class, the capability and the method; empty when declarations and methods agree."""
    name = backend_class.__qualname__
    if not issubclass(backend_class, Backend):
        return [f"{name} is not a modelport Backend"]
    declared = backend_class.capabilities
    if not isinstance(declared, frozenset) or not all(isinstance(c, Capability) for c in declared):
        return [f"{name}.capabilities must be a frozenset of Capability, got {declared!r}"]
    problems = [
        f"{name} leaves the primitive {method}() unimplemented"
        for method in sorted(getattr(backend_class, "__abstractmethods__", ()))
    ]
    for capability, binding in CAPABILITY_BINDINGS.items():
        for hook in binding.hooks:
            overridden = getattr(backend_class, hook) is not getattr(Backend, hook)
            if capability in declared and not overridden:
                problems.append(
                    f"{name} declares {capability!s} but does not implement {hook}(), "
                    f"which {capability!s} requires"
                )
            elif overridden and capability not in declared:
                problems.append(
                    f"{name} implements {hook}(), which only {capability!s} uses, "
                    f"but does not declare {capability!s}"
                )
    return problems
