"""Counting calls at a backend's SDK boundary, for the constant-cost read tests."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class CallCounter:
    """How many calls crossed a boundary, by name; thread-safe."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


@contextmanager
def counting_methods(target: Any, names: Iterable[str]) -> Iterator[CallCounter]:
    """Wrap the named methods of one object (not its class) so each call is counted."""
    counter = CallCounter()
    originals = {name: getattr(target, name) for name in names}

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counter.record(name)
            return method(*args, **kwargs)

        return counted

    for name, method in originals.items():
        setattr(target, name, wrap(name, method))
    try:
        yield counter
    finally:
        for name in originals:
            delattr(target, name)  # the class attribute shows through again


def public_methods(target: Any) -> list[str]:
    return [
        name
        for name in dir(type(target))
        if not name.startswith("_") and callable(getattr(type(target), name, None))
    ]
