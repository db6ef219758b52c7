"""GAPIC and storage clients for a ``vertex://`` URL. Credentials come from google.auth's
own chain (never stored, never printed); a plain-http endpoint is a local rig, reached
without credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from google.auth.credentials import AnonymousCredentials

from modelport.backends.vertex.config import VertexConfig


def model_client(config: VertexConfig) -> Any:
    """A ``ModelServiceClient`` on the URL's transport; no SDK retry (every call passes
    ``retry=None``)."""
    from google.cloud.aiplatform_v1 import ModelServiceClient

    if config.local and config.transport == "grpc":
        import grpc
        from google.cloud.aiplatform_v1.services.model_service.transports.grpc import (
            ModelServiceGrpcTransport,
        )

        channel = grpc.insecure_channel(urlsplit(config.endpoint).netloc)
        return ModelServiceClient(transport=ModelServiceGrpcTransport(channel=channel))
    options = {"api_endpoint": api_endpoint(config)}
    if config.local:
        return ModelServiceClient(
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            transport=config.transport,
            client_options=options,
        )
    return ModelServiceClient(transport=config.transport, client_options=options)


def api_endpoint(config: VertexConfig) -> str:
    if config.endpoint is None:
        return f"{config.location}-aiplatform.googleapis.com"
    if config.local or config.transport == "rest":
        return config.endpoint
    return urlsplit(config.endpoint).netloc or config.endpoint  # gRPC: host[:port]


def storage_client(config: VertexConfig) -> Any:
    from google.cloud.storage import Client

    if config.storage_endpoint is None:
        return Client(project=config.project)
    local = config.storage_endpoint.startswith("http://")
    return Client(
        project=config.project,
        credentials=AnonymousCredentials() if local else None,  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": config.storage_endpoint},
    )
