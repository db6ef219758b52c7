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
    from google.cloud.aiplatform_v1.services.model_service.transports.grpc import (
        ModelServiceGrpcTransport,
    )

    return _client(config, ModelServiceClient, ModelServiceGrpcTransport)


def metadata_client(config: VertexConfig) -> Any:
    """A ``MetadataServiceClient`` (ML Metadata, for lineage) like `model_client`."""
    from google.cloud.aiplatform_v1 import MetadataServiceClient
    from google.cloud.aiplatform_v1.services.metadata_service.transports.grpc import (
        MetadataServiceGrpcTransport,
    )

    return _client(config, MetadataServiceClient, MetadataServiceGrpcTransport)


def _client(config: VertexConfig, client_class: Any, grpc_transport: Any) -> Any:
    if config.local and config.transport == "grpc":
        import grpc

        channel = grpc.insecure_channel(urlsplit(config.endpoint).netloc)
        return client_class(transport=grpc_transport(channel=channel))
    options = {"api_endpoint": api_endpoint(config)}
    if config.local:
        return client_class(
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            transport=config.transport,
            client_options=options,
        )
    return client_class(transport=config.transport, client_options=options)


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
