"""The resolve cache: deployment code resolves the same reference on every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from modelport.models import ModelVersion


class ResolveCache:
    """Resolved references kept for ``ttl`` seconds; the registry's own writes evict them."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ModelVersion]] = {}

    def get(self, ref: str) -> ModelVersion | None:
        entry = self._entries.get(ref)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        return None

    def put(self, ref: str, mv: ModelVersion) -> None:
        if self.ttl > 0:
            self._entries[ref] = (self._clock() + self.ttl, mv)

    def evict(self, name: str) -> None:
        for ref, (_, mv) in list(self._entries.items()):
            if mv.name == name or ref.startswith((f"{name}/", f"{name}@")):
                self._entries.pop(ref, None)
