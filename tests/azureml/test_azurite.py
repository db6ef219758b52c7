"""The rig's blobs: Azurite as a child process, reached through the rig's transport."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from modelport.testing.azureml import AzureMLService, Azurite

CONTAINER = "azureml-blobstore"


@pytest.fixture(scope="module")
def service(azurite: Azurite) -> Iterator[AzureMLService]:
    with AzureMLService(azurite=azurite) as running:
        yield running


def test_blobs_round_trip_through_the_datastore_account(service: AzureMLService) -> None:
    container = service.blob_service().get_container_client(CONTAINER)

    container.upload_blob("fraud/1/model.pkl", b"weights")

    assert container.download_blob("fraud/1/model.pkl").readall() == b"weights"


def test_reset_empties_the_container(service: AzureMLService) -> None:
    container = service.blob_service().get_container_client(CONTAINER)
    container.upload_blob("left/behind.txt", b"x", overwrite=True)

    service.reset()

    assert list(container.list_blob_names()) == []


def test_azurite_stops_by_its_pid(azurite: Azurite) -> None:
    with Azurite() as running:
        process = running._process
        assert process is not None
        assert process.poll() is None

    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
