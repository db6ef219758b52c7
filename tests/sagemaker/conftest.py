"""Fixtures of the SageMaker backend tests: the session's rig (see
``tests/backends/sagemaker_fixtures.py``), a registry on it and a raw boto3 client."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

import modelport as mp
from tests.backends.sagemaker_fixtures import SageMakerRig

FAST_RETRY = mp.RetryPolicy(attempts=8, initial_wait=0.001, max_wait=0.01, deadline=20)


@pytest.fixture
def rig(sagemaker_rig: SageMakerRig) -> Iterator[SageMakerRig]:
    """The shared rig, with no faults left behind and its output contract checked."""
    sagemaker_rig.service.faults.reset()
    yield sagemaker_rig
    sagemaker_rig.service.faults.reset()
    assert sagemaker_rig.service.shape_errors == []
    assert sagemaker_rig.service.internal_errors == []


@pytest.fixture
def registry(rig: SageMakerRig) -> Iterator[mp.Registry]:
    reg = mp.connect(rig.url(page_size="4"), retry=FAST_RETRY)
    yield reg
    reg.close()


@pytest.fixture
def sm(rig: SageMakerRig) -> Any:
    """A plain boto3 SageMaker client of the rig: what a pipeline or the console does."""
    return rig.service.client()


def noise(chars: int) -> str:
    """Text that does not compress (modelport stores metadata zlib-compressed)."""
    return random.Random(chars).randbytes(chars // 2).hex()


def total_calls(rig: SageMakerRig) -> int:
    return sum(rig.service.calls.values())
