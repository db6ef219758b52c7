"""Fixtures of the Azure ML tests: one rig (the fake ARM API and Azurite) per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import modelport as mp
from modelport.testing.azureml import AzureMLService, Azurite, AzuriteNotInstalledError

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.001, max_wait=0.01, deadline=20)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    try:
        running = Azurite()
    except AzuriteNotInstalledError as missing:
        pytest.skip(str(missing))
    with running:
        yield running


@pytest.fixture(scope="session")
def azure_rig(azurite: Azurite) -> Iterator[AzureMLService]:
    with AzureMLService(azurite=azurite) as running:
        yield running


@pytest.fixture
def rig(azure_rig: AzureMLService) -> AzureMLService:
    azure_rig.reset()
    azure_rig.page_size = 20
    return azure_rig


@pytest.fixture
def registry(rig: AzureMLService) -> Iterator[mp.Registry]:
    reg = mp.connect(rig.url(page_size="3"), retry=FAST_RETRY)
    yield reg
    reg.close()


@pytest.fixture
def ml(rig: AzureMLService) -> Any:
    """A plain MLClient of the rig: what the studio, a pipeline or a notebook uses."""
    return rig.client()
