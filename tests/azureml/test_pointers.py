"""azureml:// pointers as blobs (issue 11): each pointer moves by one atomic write of its
own, so two clients moving two pointers at once lose neither move; models whose pointers
are container tags (written before) still read, and are adopted on their next write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import Model

import modelport as mp
from modelport.backends.azureml.backend import AzureMLBackend
from modelport.testing.azureml import AzureMLService
from modelport.testing.conformance import counting_methods

from .conftest import FAST_RETRY

NAME = "fraud"
ROUNDS = 20
BLOB_METHODS = ("upload_blob", "download_blob", "list_blob_names", "list_blobs")
PLAIN_PATH = "azureml://datastores/workspaceblobstore/paths/elsewhere/model.pkl"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"weights")
    return folder


@pytest.fixture
def other_client(rig: AzureMLService) -> Any:
    reg = mp.connect(rig.url(page_size="3"), retry=FAST_RETRY)
    yield reg
    reg.close()


def test_two_clients_moving_two_pointers_at_once_lose_no_move(
    registry: mp.Registry, other_client: mp.Registry, artifact: Path
) -> None:
    first, second = (registry.register(NAME, artifact).version for _ in range(2))
    for round_ in range(ROUNDS):
        champion, challenger = (first, second) if round_ % 2 else (second, first)
        _in_step(
            lambda: registry.set_alias(f"{NAME}/{champion}", "champion"),  # noqa: B023
            lambda: other_client.set_alias(f"{NAME}/{challenger}", "challenger"),  # noqa: B023
        )

        pointers = _backend(registry).read_pointers(NAME)
        assert (pointers["champion"], pointers["challenger"]) == (champion, challenger), round_


def test_tag_pointers_from_before_read_and_are_adopted_on_the_next_write(
    rig: AzureMLService, registry: mp.Registry, ml: Any, artifact: Path
) -> None:
    registry.register(NAME, artifact)
    registry.register(NAME, artifact)
    _forget_adoption(registry)
    _put_container_tags(rig, ml, {"mp-pointer.production": "1", "team": "risk"})

    before = registry.resolve(f"{NAME}@production").version
    registry.set_alias(f"{NAME}/2", "champion")

    assert before == "1"
    assert registry.resolve(f"{NAME}@production").version == "1"
    assert registry.resolve(f"{NAME}@champion").version == "2"
    assert _container_tags(rig, ml) == {"team": "risk"}  # the tag pointer was moved out


def test_a_deleted_pointer_stays_deleted_when_an_old_tag_is_adopted_later(
    rig: AzureMLService, registry: mp.Registry, ml: Any, artifact: Path
) -> None:
    registry.register(NAME, artifact)
    backend = _backend(registry)
    backend.set_pointer(NAME, "champion", "1")
    backend.delete_pointer(NAME, "champion")
    _put_container_tags(rig, ml, {"mp-pointer.champion": "1"})  # a stale tag, as if unseen

    backend._blobs().adopt_pointers(NAME, {"champion": "1"})  # a slow client's adoption

    assert backend.read_pointers(NAME) == {}


def test_a_plain_version_in_production_without_a_pointer_resolves_by_its_stage(
    registry: mp.Registry, ml: Any
) -> None:
    ml.models.create_or_update(Model(name=NAME, version="1", path=PLAIN_PATH, stage="Production"))

    assert registry.resolve(f"{NAME}@production").version == "1"


def test_a_stage_resolves_with_one_listing_and_one_version_get_and_moves_with_one_write(
    rig: AzureMLService, registry: mp.Registry, artifact: Path
) -> None:
    registry.register(NAME, artifact)
    registry.approve(f"{NAME}/1")
    registry.transition(f"{NAME}/1", "production")
    backend = _backend(registry)
    rig.calls.clear()

    store = backend._blobs()
    assert store.listing is not None  # the datastore has a key: pointers are read signed
    with (
        counting_methods(store.container, BLOB_METHODS) as blobs,
        counting_methods(store.listing, ["list"]) as listings,
    ):
        assert registry.resolve(f"{NAME}@production").version == "1"
        backend.set_pointer(NAME, "champion", "1")

    assert dict(rig.calls) == {"versions.get": 1}
    assert dict(listings.calls) == {"list": 1}  # the pointer listing, by the short path
    assert dict(blobs.calls) == {"upload_blob": 1}  # the move, through the SDK


def _in_step(*writes: Callable[[], object]) -> None:
    """Run the writes in threads released together; re-raise the first failure."""
    start = threading.Barrier(len(writes))
    failures: list[BaseException] = []

    def run(write: Callable[[], object]) -> None:
        start.wait(10)
        try:
            write()
        except BaseException as exc:  # reported to the test below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(write,)) for write in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if failures:
        raise failures[0]


def _backend(reg: mp.Registry) -> AzureMLBackend:
    assert isinstance(reg.backend, AzureMLBackend)
    return reg.backend


def _forget_adoption(reg: mp.Registry) -> None:
    """Make the model look as it did before pointer blobs: no marker, none seen adopted."""
    backend = _backend(reg)
    container = backend._blobs().container
    pointers = f"{backend.config.prefix}/{NAME}/.modelport/pointers/"
    for key in list(container.list_blob_names(name_starts_with=pointers)):
        container.delete_blob(key)
    backend._adopted.clear()


def _put_container_tags(rig: AzureMLService, ml: Any, tags: dict[str, str]) -> None:
    from azure.ai.ml._restclient.arm_ml_service import models as rest

    operations = ml.models._model_container_operation
    body = rest.ModelContainer(properties=rest.ModelContainerProperties(tags=tags))
    operations.create_or_update(rig.scope.resource_group, rig.scope.workspace, NAME, body)


def _container_tags(rig: AzureMLService, ml: Any) -> dict[str, str]:
    operations = ml.models._model_container_operation
    container = operations.get(rig.scope.resource_group, rig.scope.workspace, NAME)
    return dict(container.properties.tags or {})
