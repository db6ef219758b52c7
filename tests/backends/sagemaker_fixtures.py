"""Session fixtures for sagemaker://: the offline SageMaker registry rig and moto's S3 on
127.0.0.1, with dummy credentials in the environment (boto3's chain finds them there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SageMakerRig:
    """The running rig: the registry service, S3 and a bucket for artifacts."""

    service: SageMakerRegistryService
    s3: MotoS3Server
    bucket: str

    def url(self, **options: str | None) -> str:
        """A sagemaker:// URL for the rig; ``options`` add to, override (or with None,
        remove) the defaults."""
        query = {
            "bucket": self.bucket,
            "prefix": "models",
            "image": IMAGE,
            "endpoint_url": self.service.endpoint_url,
            "s3_endpoint_url": self.s3.endpoint_url,
        } | options
        kept = {key: value for key, value in query.items() if value is not None}
        return f"sagemaker://{REGION}?{urlencode(kept)}"


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


@pytest.fixture(scope="session")
def sagemaker_rig(aws_dummy_env: None) -> Iterator[SageMakerRig]:
    with SageMakerRegistryService(region=REGION) as service, MotoS3Server(REGION) as s3:
        bucket = f"modelport-{uuid.uuid4().hex[:12]}"
        s3.client().create_bucket(Bucket=bucket)
        yield SageMakerRig(service, s3, bucket)
