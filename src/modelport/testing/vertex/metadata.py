"""The part of Vertex ML Metadata the rig serves: the ``default`` metadata store's
artifacts, executions, contexts and events, on the real proto messages.

Pure Python over ``google.cloud.aiplatform_v1.types``, like `.state`: every method takes
a request message and returns a response message or raises `RpcError`. Callers hold
one lock around each call.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import grpc
from google.cloud.aiplatform_v1 import types

from .rules import RpcError, invalid

STORE = "default"
RESOURCE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
_STORE_NAME = re.compile(r"projects/([^/]+)/locations/([^/]+)/metadataStores/([^/]+)")
MAX_SUBGRAPH = 1000  # the service refuses a lineage answer larger than this

Resource = TypeVar("Resource", types.Artifact, types.Execution, types.Context)


@dataclass
class _Store:
    artifacts: dict[str, types.Artifact] = field(default_factory=dict)
    executions: dict[str, types.Execution] = field(default_factory=dict)
    contexts: dict[str, types.Context] = field(default_factory=dict)
    events: list[types.Event] = field(default_factory=list)
    members: dict[str, set[str]] = field(default_factory=dict)  # context -> its resources


class MetadataState:
    """The ``default`` metadata store of one project and location."""

    def __init__(self, project: str, location: str) -> None:
        self.store_name = f"projects/{project}/locations/{location}/metadataStores/{STORE}"
        self._store = _Store()
        self._ids = itertools.count(1)
        self._clock = datetime(2025, 1, 1, tzinfo=timezone.utc)

    # -- what UploadModel does ----------------------------------------------

    def model_artifact(self, model: types.Model) -> str:
        """The ``google.VertexModel`` artifact the service makes for a new version; its
        name is the version's ``metadata_artifact``."""
        resource = f"{model.name}@{model.version_id}"
        artifact = types.Artifact(
            display_name=resource.rsplit("/", 1)[1],
            schema_title="google.VertexModel",
            schema_version="0.0.1",
            uri=f"https://aiplatform.googleapis.com/v1/{resource}",
            state=types.Artifact.State.LIVE,
        )
        artifact.metadata = {"resourceName": resource}
        return self._created(self._store.artifacts, "artifacts", artifact, "").name

    # -- artifacts, executions, contexts ------------------------------------

    def create_artifact(self, request: types.CreateArtifactRequest) -> types.Artifact:
        self._check_store(request.parent)
        artifact = request.artifact
        if not artifact.state:
            artifact.state = types.Artifact.State(types.Artifact.State.LIVE)
        return self._created(self._store.artifacts, "artifacts", artifact, request.artifact_id)

    def get_artifact(self, request: types.GetArtifactRequest) -> types.Artifact:
        return copy.deepcopy(self._get(self._store.artifacts, "Artifact", request.name))

    def create_execution(self, request: types.CreateExecutionRequest) -> types.Execution:
        self._check_store(request.parent)
        return self._created(
            self._store.executions, "executions", request.execution, request.execution_id
        )

    def get_execution(self, request: types.GetExecutionRequest) -> types.Execution:
        return copy.deepcopy(self._get(self._store.executions, "Execution", request.name))

    def create_context(self, request: types.CreateContextRequest) -> types.Context:
        self._check_store(request.parent)
        for parent in request.context.parent_contexts:
            self._get(self._store.contexts, "Context", parent)
        return self._created(self._store.contexts, "contexts", request.context, request.context_id)

    def get_context(self, request: types.GetContextRequest) -> types.Context:
        return copy.deepcopy(self._get(self._store.contexts, "Context", request.name))

    def add_context_artifacts_and_executions(
        self, request: types.AddContextArtifactsAndExecutionsRequest
    ) -> types.AddContextArtifactsAndExecutionsResponse:
        self._get(self._store.contexts, "Context", request.context)
        for name in request.artifacts:
            self._get(self._store.artifacts, "Artifact", name)
        for name in request.executions:
            self._get(self._store.executions, "Execution", name)
        members = self._store.members.setdefault(request.context, set())
        members.update(request.artifacts, request.executions)  # already there: skipped
        return types.AddContextArtifactsAndExecutionsResponse()

    # -- events and lineage -------------------------------------------------

    def add_execution_events(
        self, request: types.AddExecutionEventsRequest
    ) -> types.AddExecutionEventsResponse:
        self._get(self._store.executions, "Execution", request.execution)
        added = []
        for event in request.events:
            if event.execution and event.execution != request.execution:
                raise invalid("Event.execution must be empty or the request's execution.")
            if event.type_ not in (types.Event.Type.INPUT, types.Event.Type.OUTPUT):
                raise invalid("Event.type must be INPUT or OUTPUT.")
            self._get(self._store.artifacts, "Artifact", event.artifact)
            stored = types.Event(
                artifact=event.artifact,
                execution=request.execution,
                type_=event.type_,
                labels=dict(event.labels),
                event_time=event.event_time if "event_time" in event else self._now(),
            )
            added.append(stored)
        for stored in added:
            if not any(_same_edge(stored, known) for known in self._store.events):
                self._store.events.append(stored)
        return types.AddExecutionEventsResponse()

    def query_artifact_lineage_subgraph(
        self, request: types.QueryArtifactLineageSubgraphRequest
    ) -> types.LineageSubgraph:
        self._get(self._store.artifacts, "Artifact", request.artifact)
        if request.filter:
            raise invalid("The rig does not filter lineage subgraphs.")
        if request.max_hops < 0:
            raise invalid("max_hops must not be negative.")
        hops = request.max_hops if "max_hops" in request else None
        return self._subgraph({request.artifact}, set(), hops)

    def query_execution_inputs_and_outputs(
        self, request: types.QueryExecutionInputsAndOutputsRequest
    ) -> types.LineageSubgraph:
        self._get(self._store.executions, "Execution", request.execution)
        events = [e for e in self._store.events if e.execution == request.execution]
        return self._graph({e.artifact for e in events}, {request.execution}, events)

    def _subgraph(
        self, artifacts: set[str], executions: set[str], hops: int | None
    ) -> types.LineageSubgraph:
        """Walk events from ``artifacts``: each hop crosses one event (artifact <->
        execution); ``hops`` None walks to the transitive closure."""
        for _ in itertools.count() if hops is None else range(hops):
            touching = [
                e
                for e in self._store.events
                if e.artifact in artifacts or e.execution in executions
            ]
            reached = ({e.artifact for e in touching}, {e.execution for e in touching})
            if reached[0] <= artifacts and reached[1] <= executions:
                break
            artifacts |= reached[0]
            executions |= reached[1]
        events = [
            e for e in self._store.events if e.artifact in artifacts and e.execution in executions
        ]
        return self._graph(artifacts, executions, events)

    def _graph(
        self, artifacts: set[str], executions: set[str], events: Iterable[types.Event]
    ) -> types.LineageSubgraph:
        edges = list(events)
        if max(len(artifacts), len(executions), len(edges)) > MAX_SUBGRAPH:
            raise RpcError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"The lineage subgraph exceeds {MAX_SUBGRAPH} artifacts, executions or events.",
            )
        return types.LineageSubgraph(
            artifacts=[self._store.artifacts[name] for name in sorted(artifacts)],
            executions=[self._store.executions[name] for name in sorted(executions)],
            events=edges,
        )

    # -- plumbing -----------------------------------------------------------

    def _check_store(self, parent: str) -> None:
        match = _STORE_NAME.fullmatch(parent)
        if match is None:
            raise invalid(f"Invalid MetadataStore name: {parent}.")
        if parent != self.store_name:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"MetadataStore {parent} is not found.")

    def _created(
        self, table: dict[str, Resource], kind: str, message: Resource, wanted_id: str
    ) -> Resource:
        if wanted_id and not RESOURCE_ID.fullmatch(wanted_id):
            raise invalid(f"Invalid id {wanted_id!r}: it must match {RESOURCE_ID.pattern}.")
        name = f"{self.store_name}/{kind}/{wanted_id or next(self._ids)}"
        if name in table:
            raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f"{name} already exists.")
        stored = copy.deepcopy(message)
        stored.name = name
        stored.create_time = stored.update_time = self._now()
        stored.etag = "1"
        table[name] = stored
        return copy.deepcopy(stored)

    def _get(self, table: dict[str, Resource], kind: str, name: str) -> Resource:
        if not _STORE_NAME.match(name):
            raise invalid(f"Invalid {kind} name: {name}.")
        if name not in table:
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"{kind} {name} is not found.")
        return table[name]

    def _now(self) -> datetime:
        self._clock += timedelta(microseconds=1)
        return self._clock


def _same_edge(one: types.Event, other: types.Event) -> bool:
    return (one.artifact, one.execution, one.type_) == (
        other.artifact,
        other.execution,
        other.type_,
    )
