"""GCS for the rig: gcp-storage-emulator (PyPI) in memory, behind a small HTTP proxy on
127.0.0.1 that injects faults (the emulator has none).

Every request to ``GcsEmulator.endpoint`` goes through the proxy, which draws a fault
(`StorageFaults`, ``gcs.faults``: 429, 503, or either after the effect: the request
reaches the emulator, its answer is replaced) and counts requests by HTTP method
(``gcs.calls``). The emulator's own address in its answers (resumable upload sessions,
``mediaLink``) is rewritten to the proxy's, so no request goes round it.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.auth.credentials import AnonymousCredentials

from modelport.testing.faults import CallFilter, TransientFaults

PROJECT = "modelport-rig"
UPSTREAM_TIMEOUT = 30.0  # seconds the proxy waits for the emulator
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)
_OWN_HEADERS = frozenset({"server", "date"})  # the proxy's answer carries its own
_MESSAGES = {429: "The rate of change requests is too high.", 503: "Service Unavailable"}


@dataclass(frozen=True)
class StorageFault:
    status: int  # the HTTP status answered
    after_effect: bool  # True: the request reached the emulator, its answer is lost


class StorageFaults(TransientFaults[StorageFault, int]):
    """Faults on GCS requests as HTTP statuses: throttling is 429, server errors 503;
    ``methods`` limits them to some HTTP methods (``GET``, ``POST``, ``PUT``, ...)."""

    methods = CallFilter()
    throttling = 429
    server_errors: Sequence[int] = (503,)

    def reset(self) -> None:
        """No more faults, and the seeded draws start over from ``seed``."""
        super().reset()
        self.rng.seed(self.seed)

    def _fault(self, code: int, after_effect: bool) -> StorageFault:
        return StorageFault(code, after_effect)

    def _kind(self, fault: StorageFault) -> str:
        return f"http-{fault.status}"


class GcsEmulator:
    """gcp-storage-emulator in memory on a free 127.0.0.1 port, reached through a
    fault-injecting proxy on another one. Use as a context manager."""

    def __init__(self, seed: int = 0) -> None:
        self.faults = StorageFaults(seed=seed)
        self.calls: Counter[str] = Counter()  # requests by HTTP method, faulted or not
        self._server: Any = None
        self._proxy: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> GcsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> GcsEmulator:
        if self._server is None:
            from gcp_storage_emulator.server import create_server

            self._server = create_server("127.0.0.1", 0, in_memory=True)
            self._server.start()
            self._proxy = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
            self._proxy.daemon_threads = True
            threading.Thread(target=self._proxy.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._proxy is not None:
            self._proxy.shutdown()
            self._proxy.server_close()
            self._proxy = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint(self) -> str:
        """The proxy's address: what clients use (faults apply)."""
        if self._proxy is None:
            raise RuntimeError("GcsEmulator is not started")
        return f"http://127.0.0.1:{self._proxy.server_address[1]}"

    @property
    def emulator_endpoint(self) -> str:
        """The emulator's own address (no faults, not counted)."""
        if self._server is None:
            raise RuntimeError("GcsEmulator is not started")
        return f"http://127.0.0.1:{self._server._api._httpd.server_address[1]}"

    def client(self, project: str = PROJECT) -> Any:
        """A plain ``google.cloud.storage.Client`` of the emulator (through the proxy)."""
        from google.cloud.storage import Client

        return Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.endpoint},
        )

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(bucket)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """One request as the emulator answers it, its address rewritten to the proxy's."""
        upstream = http.client.HTTPConnection(
            "127.0.0.1", int(self.emulator_endpoint.rsplit(":", 1)[1]), timeout=UPSTREAM_TIMEOUT
        )
        try:
            upstream.request(method, path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            dropped = _HOP_BY_HOP | _OWN_HEADERS
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
        finally:
            upstream.close()
        own, shown = self.emulator_endpoint.encode(), self.endpoint.encode()
        if "json" in (response.getheader("Content-Type") or ""):
            data = data.replace(own, shown)
        kept = [(k, v.replace(own.decode(), shown.decode())) for k, v in kept]
        return _Answer(response.status, kept, data)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """What the proxy answers: counted, a fault drawn, then forwarded (or forwarded and
        its answer replaced by the fault)."""
        with self._lock:
            self.calls[method] += 1
        fault = self.faults.draw(method)
        if fault is not None and not fault.after_effect:
            return _fault_answer(fault)
        answer = self.forward(method, path, headers, body)
        return answer if fault is None else _fault_answer(fault)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _fault_answer(fault: StorageFault) -> _Answer:
    message = _MESSAGES.get(fault.status, "error")
    body = json.dumps({"error": {"code": fault.status, "message": message}}).encode()
    return _Answer(fault.status, [("Content-Type", "application/json; charset=UTF-8")], body)


def _handler(gcs: GcsEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the storage client's session expects
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            answer = gcs.answer(self.command, self.path, headers, body)
            self.send_response(answer.status)
            for key, value in answer.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read .calls

    return Handler
