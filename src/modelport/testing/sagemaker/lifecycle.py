"""The base of the local servers: ``start``/``stop`` and use as a context manager."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

ServerT = TypeVar("ServerT", bound="ThreadedServer")


class ThreadedServer:
    """Start/stop/context-manager plumbing shared by the two servers."""

    def start(self) -> ThreadedServer:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self: ServerT) -> ServerT:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
