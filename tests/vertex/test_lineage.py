"""vertex:// lineage through ML Metadata: a graph built with the plain
``MetadataServiceClient`` reads as lineage through modelport, and what modelport writes
reads back through the plain client (over gRPC and over REST)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud.aiplatform_v1 import types

import modelport as mp
from modelport.backends.vertex.backend import VertexBackend
from modelport.testing.vertex.grpc_server import METADATA_METHODS
from tests.backends.vertex_fixtures import VertexRig

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.01, max_wait=0.2, deadline=30)
DATASET = mp.DatasetRef(uri="gs://data/train.parquet", digest="sha256:ab", role="training")


@pytest.fixture(params=["grpc", "rest"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rig(vertex_rig: VertexRig) -> Iterator[VertexRig]:
    vertex_rig.service.faults.reset()
    yield vertex_rig
    vertex_rig.service.faults.reset()


@pytest.fixture
def registry(rig: VertexRig, transport: str) -> mp.Registry:
    return mp.connect(rig.url(rig.new_bucket(), transport=transport), retry=FAST_RETRY)


def _backend(reg: mp.Registry) -> VertexBackend:
    assert isinstance(reg.backend, VertexBackend)
    return reg.backend


def _metadata_calls(rig: VertexRig) -> int:
    return sum(rig.service.calls[method] for method in METADATA_METHODS)


def _upload(rig: VertexRig, reg: mp.Registry, name: str, transport: str) -> Any:
    """A version uploaded with the plain ModelServiceClient, as a pipeline step would."""
    client = rig.service.client(transport)
    request = types.UploadModelRequest(
        parent=_backend(reg).config.parent,
        model_id=name,
        model=types.Model(display_name=name, artifact_uri="gs://elsewhere/model"),
    )
    model = client.upload_model(request=request).result().model
    return client.get_model(name=f"{model}@1")


def _pipeline_graph(rig: VertexRig, model_artifact: str, transport: str) -> str:
    """A pipeline run's context holding a training step that read a dataset and wrote the
    model's artifact, built with the plain MetadataServiceClient; the job's name."""
    client, store = rig.service.metadata_client(transport), rig.service.metadata_store
    job_id = f"train-{uuid.uuid4().hex[:8]}"
    job = f"projects/{rig.service.project}/locations/{rig.service.location}/pipelineJobs/{job_id}"
    dataset = client.create_artifact(
        parent=store,
        artifact=types.Artifact(
            schema_title="system.Dataset",
            uri=DATASET.uri,
            metadata={"digest": DATASET.digest, "role": DATASET.role},
        ),
    )
    context = client.create_context(
        parent=store,
        context=types.Context(schema_title="system.PipelineRun", display_name=job_id),
        context_id=job_id,
    )
    step = client.create_execution(
        parent=store,
        execution=types.Execution(
            schema_title="system.ContainerExecution",
            display_name="train",
            metadata={"pipeline_job_resource_name": job},
        ),
    )
    client.add_context_artifacts_and_executions(
        context=context.name, artifacts=[dataset.name, model_artifact], executions=[step.name]
    )
    events = [
        types.Event(artifact=dataset.name, type_=types.Event.Type.INPUT),
        types.Event(artifact=model_artifact, type_=types.Event.Type.OUTPUT),
    ]
    client.add_execution_events(execution=step.name, events=events)
    return job


def test_a_graph_built_without_modelport_is_its_lineage(
    rig: VertexRig, registry: mp.Registry, name: str, transport: str
) -> None:
    model = _upload(rig, registry, name, transport)
    assert model.metadata_artifact.startswith(rig.service.metadata_store + "/artifacts/")
    job = _pipeline_graph(rig, model.metadata_artifact, transport)
    before = _metadata_calls(rig)
    mv = registry.resolve(f"{name}/1")
    assert _metadata_calls(rig) == before  # resolve never reads the lineage graph
    assert mv.lineage == mp.Lineage()
    lineage = registry.lineage(f"{name}/1")
    assert (lineage.run, lineage.datasets) == (job, (DATASET,))


def test_what_modelport_writes_reads_back_through_the_plain_client(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path, transport: str
) -> None:
    run = f"projects/{rig.service.project}/locations/{rig.service.location}/customJobs/42"
    given = mp.Lineage(run=run, datasets=(DATASET,), code=mp.CodeRef(commit="abc123"))
    mv = registry.register(name, model_dir, lineage=given, idempotency_key="reg-1")
    again = registry.register(name, model_dir, lineage=given, idempotency_key="reg-1")
    assert again.version == mv.version
    artifact = rig.service.client(transport).get_model(name=mv.native).metadata_artifact
    client = rig.service.metadata_client(transport)
    near = types.QueryArtifactLineageSubgraphRequest(artifact=artifact, max_hops=1)
    (execution,) = client.query_artifact_lineage_subgraph(request=near).executions
    graph = client.query_execution_inputs_and_outputs(execution=execution.name)
    assert len(graph.events) == 2  # the retried register added nothing
    assert (execution.schema_title, dict(execution.metadata)) == (
        "system.Run",
        {"run": run, "code_commit": "abc123"},
    )
    inputs = [_input(graph, e.artifact) for e in graph.events if e.type_ == e.Type.INPUT]
    assert inputs == [(DATASET.uri, {"digest": DATASET.digest, "role": DATASET.role})]
    assert registry.lineage(mv.ref) == mv.lineage


def test_lineage_writes_whose_answers_are_lost_duplicate_nothing(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path, transport: str
) -> None:
    rig.service.faults.methods = set(METADATA_METHODS)
    rig.service.faults.fail_next(3, grpc.StatusCode.UNAVAILABLE, after_effect=True)
    mv = registry.register(name, model_dir, lineage=mp.Lineage(run="r-1", datasets=(DATASET,)))
    assert sum(rig.service.faults.injected.values()) == 3
    artifact = rig.service.client(transport).get_model(name=mv.native).metadata_artifact
    client = rig.service.metadata_client(transport)
    near = types.QueryArtifactLineageSubgraphRequest(artifact=artifact, max_hops=1)
    (execution,) = client.query_artifact_lineage_subgraph(request=near).executions
    assert len(client.query_execution_inputs_and_outputs(execution=execution.name).events) == 2


def test_lineage_that_vertex_does_not_hold_writes_nothing_and_reads_the_record(
    rig: VertexRig, registry: mp.Registry, name: str, model_dir: Path
) -> None:
    before = _metadata_calls(rig)
    mv = registry.register(name, model_dir, lineage=mp.Lineage(code=mp.CodeRef(commit="c0")))
    assert _metadata_calls(rig) == before
    assert registry.lineage(mv.ref) == mv.lineage


def _input(graph: Any, name: str) -> tuple[str, dict[str, Any]]:
    artifact = next(a for a in graph.artifacts if a.name == name)
    return artifact.uri, dict(artifact.metadata)


def test_the_rig_refuses_unknown_metadata_fields_over_rest(rig: VertexRig) -> None:
    url = f"{rig.service.rest_endpoint}/v1/{rig.service.metadata_store}/artifacts"
    body = json.dumps({"uri": "gs://x", "lineageColour": "red"}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    refused.value.close()
