"""vertex:// in the conformance suite: against the offline rig over gRPC and over REST
(``transport=rest``, the same service state), GCS on gcp-storage-emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from google.cloud.aiplatform_v1 import types

import modelport as mp
from modelport.backends.vertex.backend import VertexBackend
from modelport.backends.vertex.naming import model_id
from modelport.backends.vertex.storage import split_gcs_uri
from modelport.backends.vertex.translate import BUDGET
from modelport.testing.conformance import (
    FAST_RETRY,
    PAGE_SIZE,
    BackendCase,
    CallCounter,
    counting_methods,
)
from tests.backends.vertex_fixtures import VertexRig

GAPIC_METHODS = (
    "get_model",
    "list_models",
    "list_model_versions",
    "upload_model",
    "update_model",
    "merge_version_aliases",
)
STORAGE_METHODS = ("bucket", "list_blobs")


def _opener(rig_fixture: str, transport: str) -> Callable[[pytest.FixtureRequest], mp.Registry]:
    def open_registry(request: pytest.FixtureRequest) -> mp.Registry:
        rig: VertexRig = request.getfixturevalue(rig_fixture)
        url = rig.url(rig.new_bucket(), transport=transport, page_size=str(PAGE_SIZE))
        return mp.connect(url, retry=FAST_RETRY)

    return open_registry


def _backend(reg: mp.Registry) -> VertexBackend:
    assert isinstance(reg.backend, VertexBackend)
    return reg.backend


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    _backend(reg).set_pointer(name, alias, version)


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Overwrite the first stored file with other bytes."""
    bucket, folder = split_gcs_uri(mv.artifact_uri)
    client = _backend(reg)._gcs().client
    first = sorted(b.name for b in client.list_blobs(bucket, prefix=folder + "/"))[0]
    client.bucket(bucket).blob(first).upload_from_string(b"tampered weights")


def _place_artifact(reg: mp.Registry, source: Path) -> str:
    """Upload the folder's files to the registry's bucket with the GCS client, as a
    training job writes its output, and return the folder's gs:// URI."""
    backend = _backend(reg)
    bucket = backend._gcs().client.bucket(backend.config.bucket)
    folder = f"training-output/{uuid.uuid4().hex[:10]}"
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        bucket.blob(f"{folder}/{path.relative_to(source).as_posix()}").upload_from_filename(
            str(path)
        )
    return f"gs://{backend.config.bucket}/{folder}"


def _corrupt_metadata(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Garble the record's first label and one stored event, as a hand edit might."""
    from google.protobuf.field_mask_pb2 import FieldMask

    backend = _backend(reg)
    client = backend._model_client()
    current = client.get_model(name=mv.native)
    labels = dict(current.labels) | {BUDGET.key(0): "notzlib"}
    client.update_model(
        model=types.Model(name=mv.native, labels=labels),
        update_mask=FieldMask(paths=["labels"]),
    )
    store = backend._store(mv.name)
    prefix = f"models/{mv.name}/.modelport/events/{mv.version}/"
    event = next(iter(store.client.list_blobs(store.bucket, prefix=prefix)))
    store.client.bucket(store.bucket).blob(event.name).upload_from_string(b"not json")


def _seed(reg: mp.Registry, name: str, count: int, source: Path) -> None:
    """Plain versions, uploaded with the GAPIC client as a pipeline would."""
    backend = _backend(reg)
    client = backend._model_client()
    parent = backend.config.parent
    uri = f"gs://{backend.config.bucket}/seed"
    first = types.UploadModelRequest(
        parent=parent,
        model_id=model_id(name),
        model=types.Model(display_name=name, artifact_uri=uri),
    )
    model = client.upload_model(request=first).result().model
    for _ in range(count - 1):
        later = types.UploadModelRequest(
            parent=parent,
            parent_model=model,
            model=types.Model(display_name=name, artifact_uri=uri),
        )
        client.upload_model(request=later).result()


@contextmanager
def _count_calls(reg: mp.Registry) -> Iterator[CallCounter]:
    """Every GAPIC call and every storage call the backend starts."""
    backend = _backend(reg)
    with ExitStack() as stack:
        gapic = stack.enter_context(counting_methods(backend._model_client(), GAPIC_METHODS))
        storage = stack.enter_context(counting_methods(backend._gcs().client, STORAGE_METHODS))
        both = CallCounter()
        yield both
        both.calls.update(gapic.calls)
        both.calls.update(storage.calls)


CASES = [
    BackendCase(
        id=case_id,
        scheme="vertex",
        open=_opener(rig, transport),
        set_alias=_set_alias,
        tamper=_tamper,
        seed=_seed,
        count_calls=_count_calls,
        corrupt_metadata=_corrupt_metadata,
        place_artifact=_place_artifact,
    )
    for case_id, rig, transport in (
        ("vertex", "vertex_rig", "grpc"),
        ("vertex-rest", "vertex_rest_rig", "rest"),
    )
]
