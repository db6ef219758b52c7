"""MLflow's records into the neutral model.

MLflow's entities are untyped here: `raw_version` and `run_facts` read
them once into small typed records (normalising what differs between the SQL and
REST stores, such as ``version`` as int or str), and everything else works on those.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from modelport.backends.kit.records import labelled_approval
from modelport.backends.mlflow import tags as T
from modelport.backends.mlflow.config import MlflowConfig
from modelport.models import CodeRef, DatasetRef, Lineage, ModelVersion, Stage
from modelport.validation import STAGE

LEGACY_TO_STAGE = {
    "None": Stage.DEVELOPMENT.value,
    "Staging": Stage.STAGING.value,
    "Production": Stage.PRODUCTION.value,
    "Archived": Stage.ARCHIVED.value,
}
STAGE_TO_LEGACY = {stage: legacy for legacy, stage in LEGACY_TO_STAGE.items()}
GIT_COMMIT = "mlflow.source.git.commit"
GIT_REPO = "mlflow.source.git.repoURL"
GIT_BRANCH = "mlflow.source.git.branch"
DATASET_CONTEXT = "mlflow.data.context"


@dataclass(frozen=True)
class RawVersion:
    """What modelport reads of an MLflow model version."""

    name: str
    version: str
    source: str
    run_id: str | None
    tags: dict[str, str]
    aliases: tuple[str, ...]
    legacy_stage: str
    description: str | None
    created_ms: int | None
    updated_ms: int | None

    def key(self) -> tuple[object, ...]:
        """Everything the neutral record is made from, hashable."""
        return (
            self.name, self.version, self.source, self.run_id, tuple(self.tags.items()),
            self.aliases, self.legacy_stage, self.description, self.created_ms, self.updated_ms,
        )  # fmt: skip


@dataclass(frozen=True)
class RunFacts:
    """What a version modelport did not register borrows from its MLflow run."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    lineage: Lineage = field(default_factory=Lineage)


def raw_version(entity: Any, aliases: Iterable[str] | None = None) -> RawVersion:
    """Read an ``mlflow.entities.model_registry.ModelVersion``; ``aliases`` replaces its own
    (``search_model_versions`` returns none, so callers pass the model's alias map)."""
    held = entity.aliases if aliases is None else aliases
    return RawVersion(
        name=str(entity.name),
        version=str(entity.version),  # int over SQL, str over REST
        source=str(entity.source or ""),
        run_id=str(entity.run_id) if entity.run_id else None,
        tags={str(k): str(v) for k, v in (entity.tags or {}).items()},
        aliases=tuple(sorted(str(a) for a in held or ())),
        legacy_stage=str(entity.current_stage or "None"),
        description=str(entity.description) if entity.description else None,
        created_ms=_int_or_none(entity.creation_timestamp),
        updated_ms=_int_or_none(entity.last_updated_timestamp),
    )


def aliases_by_version(registered_model: Any) -> dict[str, list[str]]:
    """``RegisteredModel.aliases`` ({alias: version}) turned around, versions as str."""
    result: dict[str, list[str]] = {}
    for alias, version in (registered_model.aliases or {}).items():
        result.setdefault(str(version), []).append(str(alias))
    return result


def run_facts(run: Any) -> RunFacts:
    """Metrics, params and lineage of an ``mlflow.entities.Run``."""
    run_tags = {str(k): str(v) for k, v in (run.data.tags or {}).items()}
    code = CodeRef(
        repo=run_tags.get(GIT_REPO),
        commit=run_tags.get(GIT_COMMIT),
        branch=run_tags.get(GIT_BRANCH),
    )
    inputs = run.inputs.dataset_inputs if run.inputs else []
    lineage = Lineage(
        run=str(run.info.run_id),
        datasets=tuple(_dataset(item) for item in inputs or ()),
        code=code if code != CodeRef() else None,
    )
    return RunFacts(
        metrics={str(k): float(v) for k, v in (run.data.metrics or {}).items()},
        params={str(k): str(v) for k, v in (run.data.params or {}).items()},
        lineage=lineage,
    )


def to_model_version(
    raw: RawVersion, config: MlflowConfig, registry: str, run: RunFacts | None = None
) -> ModelVersion:
    """The neutral record: modelport's tags where present, else what MLflow itself knows."""
    record = T.decode_record(raw.tags)
    if record is None:
        facts = run or RunFacts(lineage=Lineage(run=raw.run_id))
        record = T.Record(facts.metrics, facts.params, facts.lineage)
    lineage = record.lineage
    if lineage.run is None and raw.run_id:
        lineage = lineage.model_copy(update={"run": raw.run_id})
    return ModelVersion(
        name=raw.name,
        version=raw.version,
        stage=stage_of(raw, config),
        approval=labelled_approval(raw.tags.get(T.APPROVAL)),
        artifact_uri=raw.source,
        digest=raw.tags.get(T.DIGEST),
        metrics=record.metrics,
        params=record.params,
        tags=T.user_tags(raw.tags),
        description=raw.description,
        lineage=lineage,
        aliases=raw.aliases,
        created_at=_time(raw.created_ms),
        updated_at=_updated(raw),
        registry=registry,
        native=f"models:/{raw.name}/{raw.version}",
    )


class Translator:
    """`to_model_version` with a memory: an unchanged MLflow record gives the same
    immutable ModelVersion, so repeated reads (``resolve`` in a deployment loop) skip the
    JSON and validation work. Every read still asks MLflow; only the translation is kept."""

    def __init__(self, config: MlflowConfig, registry: str, size: int = 512) -> None:
        self.config = config
        self.registry = registry
        self.size = size
        self._memo: OrderedDict[tuple[object, ...], ModelVersion] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, raw: RawVersion, run: RunFacts | None = None) -> ModelVersion:
        if run is not None:  # the run's metrics may change under the same version record
            return to_model_version(raw, self.config, self.registry, run)
        key = raw.key()
        with self._lock:
            known = self._memo.get(key)
            if known is not None:
                self._memo.move_to_end(key)
                return known
        record = to_model_version(raw, self.config, self.registry)
        with self._lock:
            self._memo[key] = record
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        return record


def stage_of(raw: RawVersion, config: MlflowConfig) -> str:
    """The native stage field: MLflow's deprecated stage in legacy mode, else the
    ``modelport.stage`` tag. Exclusive stages are aliases (pointers), which the facade
    reads from ``aliases`` and which win over this field."""
    if config.stage_mode == "legacy":
        return LEGACY_TO_STAGE.get(raw.legacy_stage, Stage.DEVELOPMENT.value)
    tagged = raw.tags.get(T.STAGE)
    if tagged is None or not STAGE.fullmatch(tagged):
        return Stage.DEVELOPMENT.value
    return tagged


def _dataset(item: Any) -> DatasetRef:
    dataset = item.dataset
    context = {str(t.key): str(t.value) for t in item.tags or ()}.get(DATASET_CONTEXT)
    return DatasetRef(
        uri=_dataset_uri(str(dataset.source or ""), str(dataset.name or "")),
        digest=str(dataset.digest) if dataset.digest else None,
        role=context or "training",
    )


def _dataset_uri(source: str, name: str) -> str:
    """MLflow keeps a dataset's source as JSON such as ``{"uri": "s3://..."}``."""
    try:
        data = json.loads(source)
    except ValueError:
        return source or name
    if isinstance(data, Mapping):
        for key in ("uri", "url", "path", "table_name"):
            if data.get(key):
                return str(data[key])
    return source or name


def _updated(raw: RawVersion) -> datetime | None:
    """MLflow does not bump the version's timestamp for tags and aliases; events do."""
    candidates = [t for t in (_time(raw.updated_ms), T.last_event_at(raw.tags)) if t]
    return max(candidates) if candidates else None


def _time(millis: int | None) -> datetime | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None
