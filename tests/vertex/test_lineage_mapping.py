"""vertex:// lineage mapping as pure functions: which run and datasets a version's ML
Metadata graph and job fields give, and how they complete the record's lineage."""

from __future__ import annotations

from datetime import datetime, timezone

from google.cloud.aiplatform_v1 import types

import modelport as mp
from modelport.backends.vertex import lineage
from modelport.testing.vertex.metadata import RESOURCE_ID

STORE = "projects/p/locations/l/metadataStores/default"
MODEL = f"{STORE}/artifacts/model-1"
JOB = "projects/p/locations/l/customJobs/42"


def _execution(name: str, second: int, **metadata: str) -> types.Execution:
    made = types.Execution(
        name=f"{STORE}/executions/{name}",
        create_time=datetime(2025, 1, 1, 0, 0, second, tzinfo=timezone.utc),
    )
    made.metadata = metadata
    return made


def _graph(*executions: types.Execution, inputs: list[types.Artifact]) -> types.LineageSubgraph:
    """Every execution outputs the model; the first one read ``inputs``."""
    events = [types.Event(artifact=MODEL, execution=x.name, type_=2) for x in executions]
    events += [types.Event(artifact=a.name, execution=executions[0].name, type_=1) for a in inputs]
    return types.LineageSubgraph(
        artifacts=[types.Artifact(name=MODEL, schema_title="google.VertexModel"), *inputs],
        executions=list(executions),
        events=events,
    )


def _dataset(name: str, schema: str = "system.Dataset", **metadata: str) -> types.Artifact:
    made = types.Artifact(name=f"{STORE}/artifacts/{name}", uri=f"gs://d/{name}")
    made.schema_title = schema
    made.metadata = metadata
    return made


def test_the_model_fields_name_the_run_before_ml_metadata() -> None:
    graph = _graph(_execution("train", 1, run="other"), inputs=[])
    model = {"pipeline_job": "projects/p/locations/l/pipelineJobs/7", "metadata_artifact": MODEL}
    assert lineage.native_lineage(model, graph).run == model["pipeline_job"]


def test_the_newest_producer_names_its_run_its_job_or_itself() -> None:
    model = {"metadata_artifact": MODEL}
    older, newer = _execution("a", 1, run="r-old"), _execution("b", 2, step=f"ran {JOB}")
    assert lineage.native_lineage(model, _graph(older, newer, inputs=[])).run == JOB
    plain = _execution("c", 3)
    assert lineage.native_lineage(model, _graph(plain, inputs=[])).run == plain.name


def test_datasets_are_the_producers_dataset_inputs() -> None:
    inputs = [
        _dataset("train", digest="sha256:ab", role="training"),
        _dataset("eval", "google.VertexDataset", role="evaluation"),
        _dataset("weights", "system.Model"),
    ]
    found = lineage.native_lineage(
        {"metadata_artifact": MODEL}, _graph(_execution("x", 1), inputs=inputs)
    )
    assert found.datasets == (
        mp.DatasetRef(uri="gs://d/eval", role="evaluation"),
        mp.DatasetRef(uri="gs://d/train", digest="sha256:ab", role="training"),
    )


def test_the_record_stays_authoritative() -> None:
    native = mp.Lineage(run=JOB, datasets=(mp.DatasetRef(uri="gs://d/x"),))
    given = mp.Lineage(run="mine", code=mp.CodeRef(commit="c0"))
    assert lineage.completed(given, native) == given.model_copy(
        update={"datasets": native.datasets}
    )
    assert lineage.completed(mp.Lineage(), native) == native


def test_ids_are_derived_and_fit_ml_metadata() -> None:
    dataset = mp.DatasetRef(uri="gs://d/x", digest="sha256:ab")
    assert lineage.execution_id("t") == lineage.execution_id("t") != lineage.execution_id("u")
    for made in (lineage.execution_id("t"), lineage.dataset_id(dataset)):
        assert RESOURCE_ID.fullmatch(made)
    assert lineage.dataset_metadata(dataset) == {"role": "training", "digest": "sha256:ab"}
