"""``SageMakerRegistryService``: the registry served as AWS JSON 1.1 over HTTP on localhost.

Every request is checked against botocore's service model and every response against the
operation's output shape before it is sent, so the fake cannot drift from the wire contract.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from botocore.model import OperationModel

from . import patterns
from .clients import make_client, sagemaker_model
from .errors import JsonDict, ServiceError
from .faults import FaultInjector
from .lifecycle import ThreadedServer
from .registry import ModelRegistry
from .shapes import ShapeChecker, to_wire

_TARGET_PREFIX = "SageMaker."


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    error_code: str | None = None


def _error_reply(error: ServiceError) -> _Reply:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    return _Reply(error.status, body, error.code)


def _parse_body(body: bytes) -> JsonDict:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError as exc:
        raise ServiceError("SerializationException", f"Request body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ServiceError("SerializationException", "Request body must be a JSON object")
    return parsed


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: Callable[[str | None, bytes], _Reply]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = cast(_HttpServer, self.server).app(self.headers.get("X-Amz-Target"), body)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if reply.error_code:
            self.send_header("x-amzn-ErrorType", reply.error_code)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is for test failures."""


class SageMakerRegistryService(ThreadedServer):
    """A local SageMaker model-registry service boto3 can talk to over HTTP."""

    def __init__(
        self, region: str = "us-east-1", account: str = "123456789012", seed: int = 0
    ) -> None:
        self.region = region
        self.account = account
        self.faults = FaultInjector(seed=seed)
        self.calls: Counter[str] = Counter()  # every request, by operation, faulted or not
        self.call_log: list[str] = []
        self.shape_errors: list[str] = []  # responses the fake refused to send (output check)
        self.internal_errors: list[str] = []  # exceptions inside the fake
        # Rewrites each successful result before the output check; lets tests corrupt output.
        self.output_hook: Callable[[str, JsonDict], JsonDict] | None = None
        self.checker = ShapeChecker(sagemaker_model())
        self.registry = ModelRegistry(self.checker.model, region, account)
        self._lock = threading.Lock()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SageMakerRegistryService:
        if self._server is None:
            patterns.prepare()  # not in a client's first call, which a test may be timing
            self._server = _HttpServer(self.handle)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SageMakerRegistryService is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client(self, **kwargs: Any) -> Any:
        """A boto3 ``sagemaker`` client for this service (dummy credentials); ``kwargs`` win."""
        return make_client("sagemaker", self.endpoint_url, self.region, kwargs)

    def reset(self) -> None:
        """Forget all resources, calls, faults and recorded errors."""
        with self._lock:
            self.registry = ModelRegistry(self.checker.model, self.region, self.account)
            self.calls.clear()
            self.call_log.clear()
            self.shape_errors.clear()
            self.internal_errors.clear()
        self.faults.reset()

    def handle(self, target: str | None, body: bytes) -> _Reply:
        """Serve one AWS JSON 1.1 request (the HTTP handler's entry point)."""
        operation = (target or "").removeprefix(_TARGET_PREFIX)
        with self._lock:
            self.calls[operation] += 1
            self.call_log.append(operation)
        fault = self.faults.draw(operation)
        if fault is not None and not fault.after_effect:
            return _error_reply(fault.error)
        reply = self._serve(target, operation, body)
        return _error_reply(fault.error) if fault is not None else reply

    def _serve(self, target: str | None, operation: str, body: bytes) -> _Reply:
        try:
            model = self._operation(target, operation)
            params = self.checker.decode_input(model, _parse_body(body))
            with self._lock:
                result = copy.deepcopy(self.registry.dispatch(operation, params))
            return self._respond(model, result)
        except ServiceError as error:
            return _error_reply(error)
        except Exception as exc:  # a bug in the fake must surface as a 500, not hang the client
            self.internal_errors.append(f"{operation}: {exc!r}")
            return _error_reply(ServiceError("InternalFailure", repr(exc), 500))

    def _operation(self, target: str | None, operation: str) -> OperationModel:
        model = self.checker.model
        if not (target or "").startswith(_TARGET_PREFIX) or operation not in model.operation_names:
            raise ServiceError("UnknownOperationException", f"Unknown operation: {target}")
        return model.operation_model(operation)

    def _respond(self, model: OperationModel, result: JsonDict) -> _Reply:
        if self.output_hook is not None:
            result = self.output_hook(model.name, result)
        problems = self.checker.problems(result, model.output_shape)
        if problems:
            self.shape_errors.extend(f"{model.name}: {problem}" for problem in problems)
            message = "The fake built a response its output shape forbids: " + "; ".join(problems)
            raise ServiceError("InternalFailure", message, 500)
        return _Reply(200, json.dumps(result, default=to_wire).encode())
