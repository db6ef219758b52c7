"""azureml:// in the conformance suite: a workspace on the offline rig (the strict local
ARM model API), blobs on Azurite."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import Model

import modelport as mp
from modelport.backends.azureml.backend import AzureMLBackend
from modelport.backends.azureml.storage import datastore_uri, split_datastore_uri
from modelport.testing.azureml import AzureMLService
from modelport.testing.conformance import (
    FAST_RETRY,
    PAGE_SIZE,
    BackendCase,
    CallCounter,
    counting_methods,
    never,
)

API_METHODS = (
    "get_container",
    "list_containers",
    "put_container",
    "get_version",
    "list_versions",
    "put_version",
)
BLOB_METHODS = ("upload_blob", "download_blob", "list_blob_names", "list_blobs")


def _open(request: pytest.FixtureRequest) -> mp.Registry:
    rig: AzureMLService = request.getfixturevalue("azureml_rig")
    return mp.connect(rig.url(page_size=str(PAGE_SIZE)), retry=FAST_RETRY)


def _backend(reg: mp.Registry) -> AzureMLBackend:
    assert isinstance(reg.backend, AzureMLBackend)
    return reg.backend


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    _backend(reg).set_pointer(name, alias, version)


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Overwrite the first stored file with other bytes."""
    _, folder = split_datastore_uri(mv.artifact_uri)
    container = _backend(reg)._blobs().container
    first = sorted(container.list_blob_names(name_starts_with=folder + "/"))[0]
    container.upload_blob(first, b"tampered weights", overwrite=True)


def _place_artifact(reg: mp.Registry, source: Path) -> str:
    """Upload the folder's files to the default datastore's container with the blob
    client, as a job writes its outputs, and return the folder's azureml:// path."""
    store = _backend(reg)._blobs()
    folder = f"training-output/{uuid.uuid4().hex[:10]}"
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        store.container.upload_blob(
            f"{folder}/{path.relative_to(source).as_posix()}", path.read_bytes()
        )
    return datastore_uri(store.datastore, folder)


def _seed(reg: mp.Registry, name: str, count: int, source: Path) -> None:
    """Plain versions, created with the MLClient as a pipeline would."""
    client = _backend(reg)._ml_client()
    for number in range(1, count + 1):
        model = Model(
            name=name,
            version=str(number),
            path="azureml://datastores/workspaceblobstore/paths/seed/model.pkl",
        )
        client.models.create_or_update(model)


def call_counter(api_methods: tuple[str, ...]) -> Callable[[mp.Registry], Any]:
    """A ``count_calls`` hook: every model-API call (``api_methods``) and every blob call
    of the audit-trail storage the backend starts (a workspace's or a registry's), its
    signed pointer listing (``list``) included."""

    @contextmanager
    def count_calls(reg: mp.Registry) -> Iterator[CallCounter]:
        backend: Any = reg.backend
        store = backend._blobs()
        with ExitStack() as stack:
            counters = [
                stack.enter_context(counting_methods(backend._api(), api_methods)),
                stack.enter_context(counting_methods(store.container, BLOB_METHODS)),
            ]
            if store.listing is not None:  # the pointers' signed listing, beside the SDK
                counters.append(stack.enter_context(counting_methods(store.listing, ["list"])))
            every = CallCounter()
            yield every
            for counter in counters:
                every.calls.update(counter.calls)

    return count_calls


GAPS = {
    "test_corrupt_metadata_leaves_the_version_readable_and_writable": never(
        "version properties are immutable after create: no hand edit can garble "
        "the record modelport keeps there",
        raises=NotImplementedError,
    ),
}


CASES = [
    BackendCase(
        id="azureml",
        scheme="azureml",
        open=_open,
        set_alias=_set_alias,
        tamper=_tamper,
        seed=_seed,
        count_calls=call_counter(API_METHODS),
        place_artifact=_place_artifact,
        gaps=GAPS,
    )
]
