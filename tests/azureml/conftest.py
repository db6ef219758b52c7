"""Fixtures of the Azure ML tests: the session's rig (see ``tests/backends/azureml_fixtures.py``),
reset for each test, a registry on it and a plain MLClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import modelport as mp
from modelport.testing.azureml import AzureMLService

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.001, max_wait=0.01, deadline=20)


@pytest.fixture
def rig(azureml_rig: AzureMLService) -> AzureMLService:
    azureml_rig.reset()
    azureml_rig.page_size = 20
    return azureml_rig


@pytest.fixture
def registry(rig: AzureMLService) -> Iterator[mp.Registry]:
    reg = mp.connect(rig.url(page_size="3"), retry=FAST_RETRY)
    yield reg
    reg.close()


@pytest.fixture
def ml(rig: AzureMLService) -> Any:
    """A plain MLClient of the rig: what the studio, a pipeline or a notebook uses."""
    return rig.client()
