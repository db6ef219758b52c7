"""Session fixtures for azureml://: the offline Azure ML rig (a strict local ARM model API)
and Azurite for the datastore's blobs, both on 127.0.0.1, stopped at session end (Azurite
by its PID)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelport.testing.azureml import AzureMLService, Azurite, AzuriteNotInstalledError


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    try:
        running = Azurite()
    except AzuriteNotInstalledError as missing:
        pytest.skip(str(missing))
    with running:
        yield running


@pytest.fixture(scope="session")
def azureml_rig(azurite: Azurite) -> Iterator[AzureMLService]:
    with AzureMLService(azurite=azurite) as service:
        yield service
