"""``VertexRegistryService``: the registry served over gRPC and REST on 127.0.0.1 (GCS:
`.gcs`)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import grpc
from google.auth.credentials import AnonymousCredentials

from .faults import FaultInjector
from .gcs import PROJECT, GcsEmulator
from .grpc_server import METADATA_METHODS, start_server
from .metadata import MetadataState
from .rest_server import RestFace
from .rules import RpcError
from .state import ModelRegistryState

__all__ = ["LOCATION", "PROJECT", "GcsEmulator", "VertexRegistryService", "vertex_url"]
LOCATION = "us-central1"


class VertexRegistryService:
    """A local Vertex AI ModelService (and the Operations service its LROs poll) that the
    plain GAPIC client talks to over gRPC. Use as a context manager."""

    def __init__(self, project: str = PROJECT, location: str = LOCATION, seed: int = 0) -> None:
        self.project = project
        self.location = location
        self.faults = FaultInjector(seed=seed)
        self.calls: Counter[str] = Counter()  # every request, by method, faulted or not
        self.internal_errors: list[str] = []  # exceptions inside the fake
        self.state, self.metadata = _states(project, location)
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self._port = 0
        self._rest: RestFace | None = None

    def __enter__(self) -> VertexRegistryService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> VertexRegistryService:
        if self._server is None:
            self._server, self._port = start_server(self._dispatch)
            self._rest = RestFace(self._answer)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None
        if self._rest is not None:
            self._rest.stop()
            self._rest = None

    @property
    def target(self) -> str:
        """``127.0.0.1:PORT``: what a gRPC channel connects to."""
        if self._server is None:
            raise RuntimeError("VertexRegistryService is not started")
        return f"127.0.0.1:{self._port}"

    @property
    def endpoint(self) -> str:
        """The ``endpoint=`` of a ``vertex://`` URL for this rig."""
        return f"http://{self.target}"

    @property
    def rest_endpoint(self) -> str:
        """The ``endpoint=`` of a ``vertex://...&transport=rest`` URL for this rig."""
        if self._rest is None:
            raise RuntimeError("VertexRegistryService is not started")
        return f"http://127.0.0.1:{self._rest.port}"

    @property
    def lro_polls(self) -> int:
        """How many GetOperation polls an upload takes to finish (0: done at once)."""
        return self.state.lro_polls

    @lro_polls.setter
    def lro_polls(self, polls: int) -> None:
        with self._lock:
            self.state.lro_polls = polls

    def client(self, transport: str = "grpc") -> Any:
        """A plain ``aiplatform_v1.ModelServiceClient`` pointed at this rig, over gRPC or
        (``transport="rest"``) over REST."""
        from google.cloud.aiplatform_v1 import ModelServiceClient

        if transport == "rest":
            return ModelServiceClient(
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                transport="rest",
                client_options={"api_endpoint": self.rest_endpoint},
            )
        from google.cloud.aiplatform_v1.services.model_service.transports.grpc import (
            ModelServiceGrpcTransport,
        )

        channel = grpc.insecure_channel(self.target)
        return ModelServiceClient(transport=ModelServiceGrpcTransport(channel=channel))

    def metadata_client(self, transport: str = "grpc") -> Any:
        """A plain ``aiplatform_v1.MetadataServiceClient`` pointed at this rig."""
        from google.cloud.aiplatform_v1 import MetadataServiceClient

        if transport == "rest":
            return MetadataServiceClient(
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                transport="rest",
                client_options={"api_endpoint": self.rest_endpoint},
            )
        from google.cloud.aiplatform_v1.services.metadata_service.transports.grpc import (
            MetadataServiceGrpcTransport,
        )

        channel = grpc.insecure_channel(self.target)
        return MetadataServiceClient(transport=MetadataServiceGrpcTransport(channel=channel))

    @property
    def metadata_store(self) -> str:
        """The ``default`` metadata store's resource name."""
        return self.metadata.store_name

    def url(
        self, bucket: str, storage_endpoint: str, *, transport: str = "grpc", **options: str | None
    ) -> str:
        """A ``vertex://`` URL for this rig over ``transport`` (``grpc`` or ``rest``);
        ``options`` add to, override (or with None, remove) the defaults."""
        if transport == "rest":
            endpoint = self.rest_endpoint
            options = {"transport": "rest", **options}
        else:
            endpoint = self.endpoint
        return vertex_url(
            self.project, self.location, endpoint, bucket, storage_endpoint, **options
        )

    def reset(self) -> None:
        """Forget every model, operation, call, fault and recorded error."""
        with self._lock:
            polls = self.state.lro_polls
            self.state, self.metadata = _states(self.project, self.location)
            self.state.lro_polls = polls
            self.calls.clear()
            self.internal_errors.clear()
        self.faults.reset()

    def _dispatch(self, method: str, request: Any, context: grpc.ServicerContext) -> Any:
        result, error = self._answer(method, request)
        if error is not None:
            context.abort(error.code, error.message)
        return result

    def _answer(self, method: str, request: Any) -> tuple[Any, RpcError | None]:
        """What either face answers: counted, faults drawn, then run (or run, then lost)."""
        with self._lock:
            self.calls[method] += 1
        fault = self.faults.draw(method)
        if fault is not None and not fault.after_effect:
            return None, RpcError(fault.code, fault.message)
        result, error = self._run(method, request)
        if error is not None:
            return None, error
        if fault is not None:
            return None, RpcError(fault.code, fault.message)
        return result, None

    def _run(self, method: str, request: Any) -> tuple[Any, RpcError | None]:
        served = self.metadata if method in METADATA_METHODS else self.state
        handler = getattr(served, _snake(method))
        try:
            with self._lock:
                return handler(request), None
        except RpcError as error:
            return None, error
        except Exception as exc:  # a bug in the fake surfaces as INTERNAL, never a hang
            self.internal_errors.append(f"{method}: {exc!r}")
            return None, RpcError(grpc.StatusCode.INTERNAL, f"the rig failed: {exc!r}")


def _states(project: str, location: str) -> tuple[ModelRegistryState, MetadataState]:
    """A model registry whose uploads make their artifact in the metadata store."""
    state, metadata = ModelRegistryState(project, location), MetadataState(project, location)
    state.make_artifact = metadata.model_artifact
    return state, metadata


def vertex_url(
    project: str,
    location: str,
    endpoint: str,
    bucket: str,
    storage_endpoint: str,
    /,
    **options: str | None,
) -> str:
    query = {
        "bucket": bucket,
        "endpoint": endpoint,
        "storage_endpoint": storage_endpoint,
    } | options
    kept = {key: value for key, value in query.items() if value is not None}
    return f"vertex://{project}/{location}?{urlencode(kept)}"


def _snake(method: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in method).lstrip("_")
