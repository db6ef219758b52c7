"""The HTTP plumbing of the fake: a threaded server handing parsed requests to an app."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    host: str = ""  # the Host header: the host the client called (RoutingTransport keeps it)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (a lost answer)


App = Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = dict(parse_qsl(parts.query))
        request = Request(self.command, parts.path, query, body, self.headers.get("Host", ""))
        reply = cast(_Server, self.server).app(request)
        if reply.drop:
            self.close_connection = True
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is for test failures."""


class LocalServer:
    """Serves ``app`` on a free 127.0.0.1 port from a daemon thread."""

    def __init__(self, app: App) -> None:
        self._server = _Server(app)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
