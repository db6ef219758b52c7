"""The registry served over REST, as the GAPIC REST transport speaks it: JSON over HTTP/1.1
on the routes of the client's own ``google.api.http`` rules (read from the transport, so
they cannot drift), requests parsed strictly into the real messages (unknown fields
refused), errors in Google's JSON error shape with the HTTP status of their gRPC code."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import grpc
from google.cloud.aiplatform_v1.services.metadata_service.transports.rest_base import (
    _BaseMetadataServiceRestTransport as MetadataRestRules,
)
from google.cloud.aiplatform_v1.services.model_service.transports.rest_base import (
    _BaseModelServiceRestTransport as RestRules,
)
from google.protobuf import json_format
from google.protobuf.message import Message

from .grpc_server import METADATA_METHODS, MODEL_METHODS, OPERATION_METHODS
from .rules import RpcError

# What the service answers, by gRPC code (google.rpc.Code's HTTP mapping).
HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
_FIELD = re.compile(r"\{([a-z_.]+)(?:=([^}]*))?\}")
# The transport's system parameter: JSON answers, enums as numbers (either is read back).
_SYSTEM_PARAMETERS = {"$alt"}

Answer = Callable[[str, Any], tuple[Any, RpcError | None]]


@dataclass(frozen=True)
class Route:
    """One HTTP rule: a method, a path pattern binding request fields, and its body."""

    rpc: str
    http_method: str
    pattern: re.Pattern[str]
    fields: tuple[str, ...]  # request fields bound by the path, in order
    body: str | None  # "*", a field name, or None
    request_class: Any

    def parse(self, path: str, query: str, body: bytes) -> Any:
        """The request message, strict on field names; ``ParseError`` on anything else."""
        match = self.pattern.fullmatch(path)
        assert match is not None
        proto_plus = hasattr(self.request_class, "pb")
        message: Message = self.request_class.pb()() if proto_plus else self.request_class()
        if self.body and body:
            target = message if self.body == "*" else getattr(message, self.body)
            json_format.Parse(body, target, ignore_unknown_fields=False)
        json_format.ParseDict(_query_fields(query), message, ignore_unknown_fields=False)
        for field, value in zip(self.fields, match.groups(), strict=True):
            _set_field(message, field, unquote(value))
        return self.request_class.wrap(message) if proto_plus else message


def _rule(rpc: str, transport: Any) -> dict[str, str]:
    """The first HTTP rule of ``rpc`` in the GAPIC REST transport (the one it calls)."""
    rules: list[dict[str, str]] = getattr(transport, f"_Base{rpc}")._get_http_options()
    return rules[0]


def _pattern(uri: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    fields: list[str] = []
    regex, last = "", 0
    for match in _FIELD.finditer(uri):
        regex += re.escape(uri[last : match.start()])
        fields.append(match.group(1))
        template = match.group(2) or "*"
        parts = [
            ".+" if part == "**" else "[^/:]+" if part == "*" else re.escape(part)
            for part in template.split("/")
        ]
        regex += "(" + "/".join(parts) + ")"
        last = match.end()
    regex += re.escape(uri[last:])
    return re.compile(regex), tuple(fields)


def routes() -> list[Route]:
    """Every route the rig serves: the model and metadata methods, and GetOperation."""
    table = []
    services = [
        (MODEL_METHODS | OPERATION_METHODS, RestRules),
        (METADATA_METHODS, MetadataRestRules),
    ]
    for rpc, request_class, transport in (
        (rpc, classes[0], transport)
        for methods, transport in services
        for rpc, classes in methods.items()
    ):
        rule = _rule(rpc, transport)
        pattern, fields = _pattern(rule["uri"])
        table.append(
            Route(rpc, rule["method"].upper(), pattern, fields, rule.get("body"), request_class)
        )
    return table


def _query_fields(query: str) -> dict[str, Any]:
    """Query parameters as a JSON object (``a.b=1`` nests; a repeated key is a list)."""
    fields: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in _SYSTEM_PARAMETERS:
            continue
        *parents, leaf = key.split(".")
        node = fields
        for parent in parents:
            node = node.setdefault(parent, {})
        if leaf in node:
            existing = node[leaf]
            node[leaf] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[leaf] = value
    return fields


def _set_field(message: Message, dotted: str, value: str) -> None:
    *parents, leaf = dotted.split(".")
    for parent in parents:
        message = getattr(message, parent)
    setattr(message, leaf, value)


def _json(message: Any) -> bytes:
    raw = type(message).pb(message) if hasattr(type(message), "pb") else message
    text: str = json_format.MessageToJson(raw)
    return text.encode()


def _error(code: grpc.StatusCode, message: str) -> tuple[int, bytes]:
    status = HTTP_STATUS.get(code, 500)
    body = {"error": {"code": status, "message": message, "status": code.name}}
    return status, json.dumps(body).encode()


class RestFace:
    """An HTTP/1.1 server on a free 127.0.0.1 port answering through ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._routes = routes()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, http_method: str, target: str, body: bytes) -> tuple[int, bytes]:
        split = urlsplit(target)
        route = next(
            (
                r
                for r in self._routes
                if r.http_method == http_method and r.pattern.fullmatch(split.path)
            ),
            None,
        )
        if route is None:
            return _error(grpc.StatusCode.NOT_FOUND, f"no route for {http_method} {split.path}")
        try:
            request = route.parse(split.path, split.query, body)
        except (json_format.ParseError, ValueError, TypeError, AttributeError) as exc:
            return _error(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid request: {exc}")
        result, error = self._answer(route.rpc, request)
        if error is not None:
            return _error(error.code, error.message)
        return 200, _json(result)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        face = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the transport's session expects

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = face.respond(self.command, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read .calls

        return Handler
