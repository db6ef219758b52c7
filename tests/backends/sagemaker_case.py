"""sagemaker:// in the conformance suite, against the offline rig and moto's S3."""

from __future__ import annotations

import io
import tarfile

import boto3
import pytest

import modelport as mp
from modelport.backends.sagemaker.backend import SageMakerBackend
from modelport.backends.sagemaker.storage import split_s3_uri
from tests.backends.case import BackendCase, never
from tests.backends.sagemaker_fixtures import SageMakerRig
from tests.conformance.settings import FAST_RETRY


def _rig(request: pytest.FixtureRequest) -> SageMakerRig:
    rig = request.getfixturevalue("sagemaker_rig")
    assert isinstance(rig, SageMakerRig)
    return rig


def _open(request: pytest.FixtureRequest) -> mp.Registry:
    return mp.connect(_rig(request).url(page_size="3"), retry=FAST_RETRY)


def _set_alias(reg: mp.Registry, name: str, version: str, alias: str) -> None:
    raise mp.UnsupportedOperation(
        "SageMaker model packages have no aliases", capability=mp.Capability.ALIASES.value
    )


def _tamper(reg: mp.Registry, mv: mp.ModelVersion) -> None:
    """Overwrite the stored model.tar.gz with a valid archive of different content."""
    backend = reg.backend
    assert isinstance(backend, SageMakerBackend)
    bucket, key = split_s3_uri(mv.artifact_uri)
    s3 = boto3.client("s3", endpoint_url=backend.config.s3_endpoint_url)
    data = b"tampered weights"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("weights/w.bin")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


CASES = [
    BackendCase(
        "sagemaker",
        _open,
        _set_alias,
        _tamper,
        gaps={
            "test_alias_resolves_where_the_backend_has_aliases": never(
                "SageMaker Model Package Groups have no aliases; name@label resolves "
                "ModelLifeCycle stages only"
            ),
        },
    )
]
