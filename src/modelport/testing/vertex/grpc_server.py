"""The registry served over gRPC: generic handlers that parse each request with the real
message class, refuse unknown fields, and answer with the real message classes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.cloud.aiplatform_v1 import types
from google.longrunning import operations_pb2
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet

MODEL_SERVICE = "google.cloud.aiplatform.v1.ModelService"
METADATA_SERVICE = "google.cloud.aiplatform.v1.MetadataService"
OPERATIONS_SERVICE = "google.longrunning.Operations"

# method -> (request class, response class); proto-plus classes or raw protobuf ones.
MODEL_METHODS: dict[str, tuple[Any, Any]] = {
    "UploadModel": (types.UploadModelRequest, operations_pb2.Operation),
    "GetModel": (types.GetModelRequest, types.Model),
    "ListModels": (types.ListModelsRequest, types.ListModelsResponse),
    "ListModelVersions": (types.ListModelVersionsRequest, types.ListModelVersionsResponse),
    "UpdateModel": (types.UpdateModelRequest, types.Model),
    "MergeVersionAliases": (types.MergeVersionAliasesRequest, types.Model),
    "DeleteModelVersion": (types.DeleteModelVersionRequest, operations_pb2.Operation),
}
# The part of ML Metadata modelport uses, and what a test needs to build a lineage graph.
METADATA_METHODS: dict[str, tuple[Any, Any]] = {
    "CreateArtifact": (types.CreateArtifactRequest, types.Artifact),
    "GetArtifact": (types.GetArtifactRequest, types.Artifact),
    "CreateExecution": (types.CreateExecutionRequest, types.Execution),
    "GetExecution": (types.GetExecutionRequest, types.Execution),
    "CreateContext": (types.CreateContextRequest, types.Context),
    "GetContext": (types.GetContextRequest, types.Context),
    "AddContextArtifactsAndExecutions": (
        types.AddContextArtifactsAndExecutionsRequest,
        types.AddContextArtifactsAndExecutionsResponse,
    ),
    "AddExecutionEvents": (types.AddExecutionEventsRequest, types.AddExecutionEventsResponse),
    "QueryArtifactLineageSubgraph": (
        types.QueryArtifactLineageSubgraphRequest,
        types.LineageSubgraph,
    ),
    "QueryExecutionInputsAndOutputs": (
        types.QueryExecutionInputsAndOutputsRequest,
        types.LineageSubgraph,
    ),
}
OPERATION_METHODS: dict[str, tuple[Any, Any]] = {
    "GetOperation": (operations_pb2.GetOperationRequest, operations_pb2.Operation),
}

Dispatch = Callable[[str, Any, grpc.ServicerContext], Any]


class UnknownFieldsError(ValueError):
    """A request carried fields its message does not define (a client newer than the fake,
    or a bug)."""


def unknown_fields(message: Message, path: str = "") -> list[str]:
    """Where ``message`` carries fields its class does not define, as dotted paths."""
    found = [f"{path or '<root>'}#{item.field_number}" for item in UnknownFieldSet(message)]
    for descriptor, value in message.ListFields():
        if descriptor.type != descriptor.TYPE_MESSAGE:
            continue
        where = f"{path}.{descriptor.name}" if path else descriptor.name
        if descriptor.message_type.GetOptions().map_entry:
            values = value.values() if _map_of_messages(descriptor) else []
        elif descriptor.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            found.extend(unknown_fields(item, where))
    return found


def _map_of_messages(descriptor: Any) -> bool:
    value_field = descriptor.message_type.fields_by_name["value"]
    return bool(value_field.type == value_field.TYPE_MESSAGE)


def _deserializer(request_class: Any) -> Callable[[bytes], Any]:
    raw = getattr(request_class, "pb", None)

    def parse(data: bytes) -> Any:
        if raw is not None:
            message = request_class.deserialize(data)
            pb = request_class.pb(message)
        else:
            message = pb = request_class.FromString(data)
        problems = unknown_fields(pb)
        if problems:
            raise UnknownFieldsError(f"unknown fields in the request: {', '.join(problems)}")
        return message

    return parse


def _serializer(response_class: Any) -> Callable[[Any], bytes]:
    if hasattr(response_class, "pb"):
        return lambda message: bytes(response_class.serialize(message))
    return lambda message: bytes(message.SerializeToString())


def _handler(method: str, classes: tuple[Any, Any], dispatch: Dispatch) -> grpc.RpcMethodHandler:
    request_class, response_class = classes
    parse = _deserializer(request_class)

    def behaviour(data: bytes, context: grpc.ServicerContext) -> Any:
        try:
            request = parse(data)
        except (UnknownFieldsError, DecodeError) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid request: {exc}")
        return dispatch(method, request, context)

    # Raw bytes in: the request is parsed inside, so a malformed one becomes INVALID_ARGUMENT.
    return grpc.unary_unary_rpc_method_handler(
        behaviour, request_deserializer=None, response_serializer=_serializer(response_class)
    )


def start_server(dispatch: Dispatch, workers: int = 16) -> tuple[grpc.Server, int]:
    """A gRPC server on a free 127.0.0.1 port serving the three services through
    ``dispatch``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    for service, methods in (
        (MODEL_SERVICE, MODEL_METHODS),
        (METADATA_SERVICE, METADATA_METHODS),
        (OPERATIONS_SERVICE, OPERATION_METHODS),
    ):
        handlers = {name: _handler(name, classes, dispatch) for name, classes in methods.items()}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port
