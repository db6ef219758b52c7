"""A model handle that follows a stage: `modelport.Registry.watch`.

Serving code asks the handle for the loaded model on every request. Every ``refresh``
seconds the handle resolves its reference again; when the version changed it downloads
the new one, loads it, and swaps it in with one reference assignment, so a request sees
either the old model or the new one, never a half-loaded one. A failed refresh keeps
the current model serving.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from modelport.errors import InvalidInputError, ModelportError
from modelport.models import ModelVersion
from modelport.refs import parse_ref

if TYPE_CHECKING:
    from types import TracebackType

    from modelport.registry import Registry

T = TypeVar("T")
logger = logging.getLogger("modelport.watch")

CLOSE_TIMEOUT = 10.0  # seconds close() waits for a refresh in progress


@dataclass(frozen=True)
class _Served(Generic[T]):
    """What the handle serves: the version and its loaded object, swapped in together."""

    version: ModelVersion
    model: T
    files: Path | None  # the folder this handle downloaded it into; None: the artifact cache


class ModelHandle(Generic[T]):
    """The loaded model a reference such as ``fraud-detector@production`` points at.

    Build it with `modelport.Registry.watch`. `get` returns the loaded
    object; at the first call after ``refresh`` seconds (or, with ``background=True``,
    in a thread of its own every ``refresh`` seconds) the reference is resolved again and
    a new version is downloaded, passed to ``load`` and swapped in. One refresh runs at a
    time; meanwhile `get` keeps returning the current model.

    A refresh that fails (resolve, download or ``load``) keeps the current model,
    stores the exception in `last_error` and logs a warning on the
    ``modelport.watch`` logger. `get` raises only while no model was ever loaded.

    A version with a digest is loaded from the artifact cache
    (``Registry.download(ref)``): ``load`` must only read that folder, and should read
    what it needs, since the cache may evict it later. A version without a digest is
    downloaded into a temporary folder of the handle's own, kept while it or the model
    it replaced is served.

    ``clock`` (default `time.monotonic`) tells when a refresh is due; tests pass
    their own. The handle is thread-safe; `close` (or leaving a ``with`` block)
    stops the background thread and removes the handle's own folders.
    """

    def __init__(
        self,
        registry: Registry,
        ref: str,
        load: Callable[[Path], T],
        *,
        refresh: float = 60.0,
        background: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parse_ref(ref)  # a malformed reference fails here, not at the first request
        if not callable(load):
            raise InvalidInputError(
                f"load must be a callable taking the model's folder, got {type(load).__name__}",
                field="load",
            )
        self.registry = registry
        self.ref = ref
        self.refresh = _check_refresh(refresh)
        self._load = load
        self._clock = clock
        self._current: _Served[T] | None = None
        self._retired: Path | None = None  # the folder served before the current one
        self._last_error: Exception | None = None
        self._checked_at = -math.inf
        self._attempts = 0
        self._refreshing = threading.Lock()  # held by the one refresh that runs
        self._stopped = threading.Event()
        self._root: Path | None = None  # created on the first download
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._refresh_forever, name=f"modelport-watch {ref}", daemon=True
            )
            self._thread.start()

    def __repr__(self) -> str:
        served = self.version.ref if self.version is not None else "nothing"
        return f"ModelHandle({self.ref!r}, serving {served})"

    # -- what serving code calls ----------------------------------------------

    def get(self) -> T:
        """The loaded model; refreshes it first when due (on access, not in background)."""
        current = self._current
        if current is None:
            return self._first_load()
        if self._thread is None and not self._stopped.is_set() and self._due():
            # Only one caller refreshes; the others serve the current model meanwhile.
            if self._refreshing.acquire(blocking=False):
                try:
                    if self._due():  # not refreshed by another caller in between
                        self._refresh_locked()
                finally:
                    self._refreshing.release()
            current = self._current or current
        return current.model

    @property
    def version(self) -> ModelVersion | None:
        """The version being served, or None before the first successful load."""
        current = self._current
        return current.version if current is not None else None

    @property
    def last_error(self) -> Exception | None:
        """The error of the latest refresh, or None when it succeeded."""
        return self._last_error

    def refresh_now(self) -> ModelVersion | None:
        """Resolve the reference now (waiting for a refresh in progress); the version served."""
        with self._refreshing:
            self._refresh_locked()
        return self.version

    def close(self) -> None:
        """Stop refreshing: join the background thread (for up to ``CLOSE_TIMEOUT`` s) and
        remove the handle's own folders. `get` then returns the last model loaded."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(CLOSE_TIMEOUT)
            if self._thread.is_alive():
                logger.warning("%s: a refresh still runs after %ss", self.ref, CLOSE_TIMEOUT)
                return  # it still writes under the root: leave the files to it
        with self._refreshing:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None

    @property
    def closed(self) -> bool:
        return self._stopped.is_set()

    def __enter__(self) -> ModelHandle[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- refreshing ------------------------------------------------------------

    def _first_load(self) -> T:
        """Load under the lock; a caller that waited for a failed attempt gets its error."""
        attempts_before = self._attempts
        with self._refreshing:
            if self._current is None:
                failed_meanwhile = self._attempts != attempts_before
                if self._stopped.is_set():
                    raise ModelportError(f"the handle on {self.ref} is closed and holds no model")
                if not failed_meanwhile:
                    self._refresh_locked()
            current = self._current
        if current is None:
            assert self._last_error is not None  # an attempt ran and failed
            raise self._last_error
        return current.model

    def _due(self) -> bool:
        return self._clock() - self._checked_at >= self.refresh

    def _refresh_forever(self) -> None:
        while not self._stopped.is_set():
            with self._refreshing:
                if not self._stopped.is_set():
                    self._refresh_locked()
            self._stopped.wait(self.refresh)

    def _refresh_locked(self) -> None:
        """One refresh; the caller holds ``_refreshing``. Records, never raises, a failure."""
        self._attempts += 1
        self._checked_at = self._clock()
        current = self._current
        files: Path | None = None
        try:
            mv = self.registry.resolve(self.ref)
            if current is not None and _same_version(mv, current.version):
                self._last_error = None
                return
            files = None if mv.digest is not None else self._new_folder()
            # The exact version resolved above, even if the stage moves meanwhile.
            path = self.registry.download(mv.ref, files)
            model = self._load(path)
        except Exception as exc:
            if files is not None:
                shutil.rmtree(files, ignore_errors=True)
            self._last_error = exc
            served = current.version.ref if current is not None else "nothing"
            logger.warning("%s: refresh failed, still serving %s: %s", self.ref, served, exc)
            return
        self._current = _Served(mv, model, files)  # the swap: one reference assignment
        self._last_error = None
        self._retire(current)
        logger.info(
            "%s: serving %s (was %s)",
            self.ref,
            mv.ref,
            current.version.ref if current is not None else "nothing",
        )

    def _retire(self, previous: _Served[T] | None) -> None:
        """Keep the files of the model just replaced (requests in flight may still read
        them) and remove those of the one before it."""
        if self._retired is not None:
            shutil.rmtree(self._retired, ignore_errors=True)
        self._retired = previous.files if previous is not None else None

    def _new_folder(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="modelport-watch-"))
        return self._root / f"load-{self._attempts}"


def _same_version(a: ModelVersion, b: ModelVersion) -> bool:
    return (a.name, a.version) == (b.name, b.version)


def _check_refresh(refresh: object) -> float:
    if isinstance(refresh, bool) or not isinstance(refresh, (int, float)):
        raise InvalidInputError(
            f"refresh must be a number of seconds, got {type(refresh).__name__}", field="refresh"
        )
    if not math.isfinite(refresh) or refresh <= 0:
        raise InvalidInputError(
            f"refresh must be a positive number of seconds, got {refresh!r}", field="refresh"
        )
    return float(refresh)
