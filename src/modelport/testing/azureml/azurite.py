"""Azurite (Microsoft's storage emulator, npm ``azurite``) as a child process, blob only.

Pinned to ``azurite@3.35.0``: 3.37+ needs Node >= 22. azure-storage-blob sends an
``x-ms-version`` newer than Azurite knows, hence ``--skipApiVersionCheck``; ``--loose``
ignores headers it does not model. The process is started on a free 127.0.0.1 port and
stopped by its own PID, never by name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

AZURITE_VERSION = "3.35.0"
INSTALL_DIR = Path.home() / ".cache" / "modelport-azurite"
START_TIMEOUT = 30.0


class AzuriteNotInstalledError(RuntimeError):
    """No ``azurite-blob`` executable was found."""


def azurite_executable() -> str:
    """``$MODELPORT_AZURITE``, the pinned install under ``~/.cache``, or one on PATH."""
    candidates = [
        os.environ.get("MODELPORT_AZURITE", ""),
        str(INSTALL_DIR / "node_modules" / ".bin" / "azurite-blob"),
        shutil.which("azurite-blob") or "",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AzuriteNotInstalledError(
        f"azurite-blob not found: npm install --prefix {INSTALL_DIR} azurite@{AZURITE_VERSION}"
        " (or set MODELPORT_AZURITE to its azurite-blob)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Azurite:
    """Azurite's blob service on 127.0.0.1, in memory, for the life of the context."""

    def __init__(self, executable: str | None = None) -> None:
        self._executable = executable or azurite_executable()
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Azurite:
        self.port = _free_port()
        self._workdir = tempfile.TemporaryDirectory(prefix="modelport-azurite-")
        command = [
            self._executable,
            "--blobHost=127.0.0.1",
            f"--blobPort={self.port}",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--inMemoryPersistence",
            "--loose",
            "--silent",
        ]
        self._process = subprocess.Popen(  # cwd: Azurite writes its debug files there
            command,
            cwd=self._workdir.name,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._await_port()
        return self

    def _await_port(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = (self._process.stderr.read() if self._process.stderr else b"").decode()
                raise RuntimeError(f"Azurite exited with {self._process.returncode}: {error}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Azurite did not listen on port {self.port} in {START_TIMEOUT}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
