"""A Backend proxy that injects transient faults, before or after the call takes effect
(a request lost on the way in, or an answer lost on the way out), and records the order
of writes so tests can check what was visible when."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from modelport import TransientBackendError
from modelport.backends.base import Backend, Page
from modelport.models import Approval, Event, ModelVersion, VersionDraft
from modelport.progress import OnBytes
from modelport.urls import RegistryURL

T = TypeVar("T")


class FlakyBackend(Backend):
    """Delegates to ``inner``; each call fails with probability ``rate``, half of the
    failures before the call reaches ``inner`` and half after it took effect."""

    def __init__(
        self,
        inner: Backend,
        rate: float,
        seed: int = 0,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.on_write = on_write  # called with "create_version:before", ...:after, ...
        self.url = inner.url
        self.capabilities = inner.capabilities  # type: ignore[misc]
        self.rate = rate
        self.faults: Counter[str] = Counter()
        self.writes: list[tuple[str, str, str]] = []  # ("created"|"changed", name, version)
        self.seed = seed
        self._rolls: dict[str, random.Random] = {}  # one stream per operation: the faults an
        # operation gets do not depend on how threads interleave with other operations
        self._lock = threading.Lock()

    def inject(self, rate: float, seed: int) -> None:
        """From now on fail ``rate`` of the calls, drawn afresh from ``seed``, and count
        from zero: a run under faults that follows a clean run on the same client."""
        with self._lock:
            self.rate, self.seed = rate, seed
            self._rolls.clear()
            self.faults.clear()

    @classmethod
    def from_url(cls, url: RegistryURL) -> Backend:
        raise NotImplementedError("wrap an existing backend instead")

    def _through(self, operation: str, call: Callable[[], T]) -> T:
        with self._lock:
            rolls = self._rolls.setdefault(operation, random.Random(f"{self.seed}:{operation}"))
            roll = rolls.random()
        if roll < self.rate / 2:
            self._fault(f"{operation}:before")
        result = call()
        if roll < self.rate:
            self._fault(f"{operation}:after")
        return result

    def _fault(self, where: str) -> None:
        with self._lock:
            self.faults[where] += 1
        raise TransientBackendError(f"injected fault ({where})")

    # -- reads ---------------------------------------------------------------------

    def list_models(self, page_token: str | None = None) -> Page[str]:
        return self._through("list_models", lambda: self.inner.list_models(page_token))

    def get_version(self, name: str, version: str) -> ModelVersion:
        return self._through("get_version", lambda: self.inner.get_version(name, version))

    def list_versions(self, name: str, page_token: str | None = None) -> Page[ModelVersion]:
        return self._through("list_versions", lambda: self.inner.list_versions(name, page_token))

    def latest_version(self, name: str) -> ModelVersion:
        return self._through("latest_version", lambda: self.inner.latest_version(name))

    def read_pointers(self, name: str) -> dict[str, str]:
        return self._through("read_pointers", lambda: self.inner.read_pointers(name))

    def pointed_version(self, name: str, pointer: str) -> ModelVersion | None:
        return self._through("pointed_version", lambda: self.inner.pointed_version(name, pointer))

    def stage_members(self, name: str, stage: str) -> list[ModelVersion]:
        return self._through("stage_members", lambda: self.inner.stage_members(name, stage))

    def read_events(self, name: str, version: str) -> list[Event]:
        return self._through("read_events", lambda: self.inner.read_events(name, version))

    def read_stage_log(self, name: str, stage: str) -> list[Event]:
        return self._through("read_stage_log", lambda: self.inner.read_stage_log(name, stage))

    def fetch_artifact(self, uri: str, dest: Path) -> None:
        self._through("fetch_artifact", lambda: self.inner.fetch_artifact(uri, dest))

    # -- writes --------------------------------------------------------------------

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        def create() -> ModelVersion:
            mv = self._write("create_version", lambda: self.inner.create_version(draft, on_bytes))
            with self._lock:
                self.writes.append(("created", mv.name, mv.version))
            return mv

        return self._through("create_version", create)

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        self._change(
            "set_pointer", name, version, lambda: self.inner.set_pointer(name, pointer, version)
        )

    def delete_pointer(self, name: str, pointer: str) -> None:
        self._change("delete_pointer", name, "", lambda: self.inner.delete_pointer(name, pointer))

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        self._change(
            "write_stage",
            name,
            version,
            lambda: self.inner.write_stage(name, version, stage, reason),
        )

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        self._change(
            "write_approval",
            name,
            version,
            lambda: self.inner.write_approval(name, version, approval, reason),
        )

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        self._change(
            "append_events", name, version, lambda: self.inner.append_events(name, version, events)
        )

    def _change(self, operation: str, name: str, version: str, call: Callable[[], None]) -> None:
        """A write to an existing version (or model): recorded, then made."""

        def change() -> None:
            with self._lock:
                self.writes.append(("changed", name, version))
            self._write(operation, call)

        self._through(operation, change)

    def _write(self, operation: str, call: Callable[[], T]) -> T:
        if self.on_write is not None:
            self.on_write(f"{operation}:before")
        result = call()
        if self.on_write is not None:
            self.on_write(f"{operation}:after")
        return result

    def validate_draft(self, draft: VersionDraft) -> None:
        self.inner.validate_draft(draft)

    def validate_stage(self, stage: str) -> None:
        self.inner.validate_stage(stage)

    def validate_pointer(self, pointer: str) -> None:
        self.inner.validate_pointer(pointer)

    def close(self) -> None:
        self.inner.close()
