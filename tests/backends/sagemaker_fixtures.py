"""Session fixtures for sagemaker://: the offline SageMaker registry rig with moto's S3, and
moto's own server standing in for both SageMaker and S3, all on 127.0.0.1 with dummy
credentials in the environment (boto3's chain finds them there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from modelport.testing.sagemaker import MotoS3Server, SageMakerRegistryService

REGION = "us-east-1"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"
DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def sagemaker_url(endpoint: str, s3_endpoint: str, bucket: str, /, **options: str | None) -> str:
    """A sagemaker:// URL; ``options`` add to, override (or with None, remove) the defaults."""
    query = {
        "bucket": bucket,
        "prefix": "models",
        "image": IMAGE,
        "endpoint_url": endpoint,
        "s3_endpoint_url": s3_endpoint,
    } | options
    kept = {key: value for key, value in query.items() if value is not None}
    return f"sagemaker://{REGION}?{urlencode(kept)}"


@dataclass(frozen=True)
class SageMakerRig:
    """The running rig: the registry service, S3 and a bucket for artifacts."""

    service: SageMakerRegistryService
    s3: MotoS3Server
    bucket: str

    def url(self, **options: str | None) -> str:
        return sagemaker_url(
            self.service.endpoint_url, self.s3.endpoint_url, self.bucket, **options
        )


@dataclass(frozen=True)
class SageMakerMoto:
    """moto's server (SageMaker and S3 on one port) and a bucket for artifacts."""

    server: MotoS3Server
    bucket: str

    def url(self, **options: str | None) -> str:
        endpoint = self.server.endpoint_url
        return sagemaker_url(endpoint, endpoint, self.bucket, **options)

    def sagemaker(self) -> Any:
        """A plain boto3 SageMaker client of moto: what a pipeline or the console does."""
        from modelport.testing.sagemaker.clients import make_client

        return make_client("sagemaker", self.server.endpoint_url, REGION, {})


@pytest.fixture(scope="session")
def aws_dummy_env() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in DUMMY_ENV}
    os.environ.update(DUMMY_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _new_bucket(s3: MotoS3Server) -> str:
    bucket = f"modelport-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def sagemaker_rig(aws_dummy_env: None) -> Iterator[SageMakerRig]:
    with SageMakerRegistryService(region=REGION) as service, MotoS3Server(REGION) as s3:
        yield SageMakerRig(service, s3, _new_bucket(s3))


@pytest.fixture(scope="session")
def sagemaker_moto(aws_dummy_env: None) -> Iterator[SageMakerMoto]:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port, stopped at session end."""
    with MotoS3Server(REGION) as server:
        yield SageMakerMoto(server, _new_bucket(server))
