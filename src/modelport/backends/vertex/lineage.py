"""Lineage in Vertex ML Metadata: what modelport reads back and what it writes.

Vertex makes a ``google.VertexModel`` artifact in the region's ``default`` metadata store
for every uploaded version and names it in the version's ``metadata_artifact``. Reading
(only when asked, ``Registry.lineage``: never on resolve) takes one ``GetModel`` and one
``QueryArtifactLineageSubgraph`` of that artifact (two hops: the executions that touch
it, and their other artifacts), and completes the record's lineage, which stays
authoritative for what the user gave:

- ``run``, the first found of: the record's; ``Model.pipeline_job``;
  ``Model.training_pipeline``; the producing execution's ``run`` metadata; a Vertex job
  named in that execution's metadata (``.../pipelineJobs/ID``, ``customJobs``,
  ``trainingPipelines``, ``hyperparameterTuningJobs``); the execution itself.
- ``datasets``: the record's; else the producing execution's input artifacts of schema
  ``system.Dataset`` or ``google.VertexDataset`` (``uri``, and ``digest``/``role``
  from their metadata).

The producing execution is the newest one with an ``OUTPUT`` event to the model's
artifact. ML Metadata has no query from an execution to the contexts holding it: a
pipeline run's context is reached through ``Model.pipeline_job`` (which Vertex sets for
models a pipeline uploads) or the job the execution's metadata names.

Writing (at register, when the draft's lineage has a run or datasets, and Vertex gave
the version an artifact): one ``system.Run`` execution (id derived from the register's
idempotency key; metadata ``run``, and the code's repository and commit), one
``system.Dataset`` artifact per dataset (id derived from its uri, digest and role), and
``AddExecutionEvents``: the datasets as inputs, the model's artifact as output. Every
write is idempotent: a retried register finds its execution and artifacts (ALREADY_EXISTS)
and adds the same events.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from modelport.errors import InvalidInputError
from modelport.models import DatasetRef, Lineage

RUN_SCHEMA = "system.Run"
DATASET_SCHEMA = "system.Dataset"
DATASET_SCHEMAS = frozenset({DATASET_SCHEMA, "google.VertexDataset"})
LINEAGE_HOPS = 2  # artifact -> its executions -> their other artifacts
INPUT, OUTPUT = 1, 2  # google.cloud.aiplatform.v1.Event.Type
_JOB = re.compile(
    r"projects/[^/]+/locations/[^/]+/"
    r"(?:pipelineJobs|customJobs|trainingPipelines|hyperparameterTuningJobs)/[^/\s]+"
)


def wants_writing(lineage: Lineage) -> bool:
    """Whether a register has lineage worth a place in ML Metadata."""
    return bool(lineage.run or lineage.datasets)


def execution_id(register_token: str) -> str:
    """The execution of one register: the same for every retry of it."""
    return "mp-run-" + hashlib.sha256(register_token.encode()).hexdigest()[:40]


def dataset_id(dataset: DatasetRef) -> str:
    facts = "\n".join((dataset.uri, dataset.digest or "", dataset.role))
    return "mp-dataset-" + hashlib.sha256(facts.encode()).hexdigest()[:40]


def run_metadata(lineage: Lineage) -> dict[str, str]:
    facts = {
        "run": lineage.run,
        "code_repo": lineage.code.repo if lineage.code else None,
        "code_commit": lineage.code.commit if lineage.code else None,
    }
    return {key: value for key, value in facts.items() if value}


def dataset_metadata(dataset: DatasetRef) -> dict[str, str]:
    return {"role": dataset.role} | ({"digest": dataset.digest} if dataset.digest else {})


def native_lineage(model: Mapping[str, Any], subgraph: Any | None) -> Lineage:
    """What Vertex knows of a version's lineage: its job fields, and the execution that
    produced its artifact in ``subgraph`` (a ``LineageSubgraph``, or None)."""
    run = model.get("pipeline_job") or model.get("training_pipeline") or None
    producer = _producer(subgraph, str(model.get("metadata_artifact") or ""))
    if producer is None:
        return Lineage(run=run)
    return Lineage(run=run or _run_of(producer), datasets=_inputs(subgraph, producer.name))


def completed(recorded: Lineage, native: Lineage) -> Lineage:
    """The record's lineage, its empty run and datasets filled from Vertex's."""
    return recorded.model_copy(
        update={"run": recorded.run or native.run, "datasets": recorded.datasets or native.datasets}
    )


def _producer(subgraph: Any | None, artifact: str) -> Any | None:
    if subgraph is None or not artifact:
        return None
    makers = {e.execution for e in subgraph.events if e.artifact == artifact and e.type_ == OUTPUT}
    found = [x for x in subgraph.executions if x.name in makers]
    return max(found, key=lambda x: (x.create_time, x.name)) if found else None


def _run_of(execution: Any) -> str:
    metadata = _plain(execution.metadata)
    if isinstance(metadata.get("run"), str) and metadata["run"]:
        return str(metadata["run"])
    jobs = (_JOB.search(value) for value in metadata.values() if isinstance(value, str))
    return next((job.group(0) for job in jobs if job), str(execution.name))


def _inputs(subgraph: Any, execution: str) -> tuple[DatasetRef, ...]:
    wanted = {e.artifact for e in subgraph.events if e.execution == execution and e.type_ == INPUT}
    datasets = (
        _dataset(a)
        for a in sorted(subgraph.artifacts, key=lambda a: a.name)
        if a.name in wanted and a.schema_title in DATASET_SCHEMAS and a.uri
    )
    return tuple(dict.fromkeys(d for d in datasets if d is not None))


def _dataset(artifact: Any) -> DatasetRef | None:
    metadata = _plain(artifact.metadata)
    facts = {key: metadata[key] for key in ("digest", "role") if isinstance(metadata.get(key), str)}
    try:
        return DatasetRef(uri=artifact.uri, **facts)
    except InvalidInputError:
        return None  # a value modelport cannot hold (an overlong uri, say): left out


def _plain(struct: Any) -> dict[str, Any]:
    """A proto-plus ``Struct`` field (a mapping) as a plain dict."""
    return dict(struct) if isinstance(struct, Mapping | Iterable) and struct else {}
