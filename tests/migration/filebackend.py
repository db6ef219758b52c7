"""memory:// whose state outlives the process: a persistent registry for the kill test that
needs no service. Every write saves the whole state atomically (temporary file, then
rename), so a SIGKILL leaves the last complete state, as a transactional store would."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path

from modelport.backends.memory import MemoryBackend
from modelport.models import Approval, Event, ModelVersion, VersionDraft
from modelport.progress import OnBytes
from modelport.urls import parse_url

SCHEME = "pickle:"


class FileBackend(MemoryBackend):
    def __init__(self, path: Path) -> None:
        super().__init__(parse_url(f"memory://?file={path.name}"))
        self.path = path
        if path.exists():
            with path.open("rb") as stream:
                self._models, self._blobs, self._by_key, self.instance = pickle.load(stream)

    def create_version(self, draft: VersionDraft, on_bytes: OnBytes | None = None) -> ModelVersion:
        with self._lock:
            mv = super().create_version(draft, on_bytes)
            self._save()
            return mv

    def set_pointer(self, name: str, pointer: str, version: str) -> None:
        self._saved(lambda: super(FileBackend, self).set_pointer(name, pointer, version))

    def delete_pointer(self, name: str, pointer: str) -> None:
        self._saved(lambda: super(FileBackend, self).delete_pointer(name, pointer))

    def write_stage(self, name: str, version: str, stage: str, reason: str | None) -> None:
        self._saved(lambda: super(FileBackend, self).write_stage(name, version, stage, reason))

    def write_approval(
        self, name: str, version: str, approval: Approval, reason: str | None
    ) -> None:
        self._saved(
            lambda: super(FileBackend, self).write_approval(name, version, approval, reason)
        )

    def append_events(self, name: str, version: str, events: Sequence[Event]) -> None:
        self._saved(lambda: super(FileBackend, self).append_events(name, version, events))

    def _saved(self, write: Callable[[], None]) -> None:
        with self._lock:
            write()
            self._save()

    def _save(self) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        with partial.open("wb") as stream:
            pickle.dump((self._models, self._blobs, self._by_key, self.instance), stream)
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(self.path)
