"""``sagemaker://`` URLs -> a typed configuration, checked before any network call.

Grammar: ``sagemaker://REGION?bucket=B&prefix=P&image=URI`` plus the optional
``endpoint_url``, ``s3_endpoint_url``, ``sts_endpoint_url`` (local rigs, VPC endpoints),
``profile`` (a named profile of the AWS config files), ``role`` (an IAM role ARN to
assume), ``page_size`` (1-100, listing page size), ``connect_timeout`` and
``read_timeout`` (seconds), ``gzip_level`` (0-9, default 0: model weights barely
compress and zlib runs at ~40 MB/s, a fraction of an S3 upload; raise it for text-heavy
models). REGION may be empty: boto3's own chain then picks it.

No boto3 import here: parsing a URL must stay cheap and work without the extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

from modelport.backends.kit.options import (
    DEFAULT_PREFIX,
    BackendOptions,
    HttpEndpoint,
    bad_url,
    endpoint_option,
    integer_option,
    matching,
    parse_options,
    seconds_option,
)
from modelport.urls import RegistryURL

REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d{1,2}")
# S3's rules for bucket names (no dots next to each other or to a hyphen, no IP addresses).
BUCKET = re.compile(
    r"(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)(?!.*\.-)(?!.*-\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
)
PREFIX = re.compile(r"[A-Za-z0-9!_.*'()/-]{0,512}")
IMAGE = re.compile(r"\S{1,255}")
PROFILE = re.compile(r"[A-Za-z0-9_.+-]{1,64}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


def _prefix_or_default(prefix: str) -> str:
    return prefix or DEFAULT_PREFIX


class SageMakerOptions(BackendOptions):
    """The query options of a ``sagemaker://`` URL; None means "boto3's default"."""

    bucket: Annotated[str, matching(BUCKET)] | None = Field(None, description="an S3 bucket name")
    prefix: Annotated[str, matching(PREFIX), AfterValidator(_prefix_or_default)] = Field(
        DEFAULT_PREFIX, description="an S3 key prefix"
    )
    image: Annotated[str, matching(IMAGE)] | None = Field(None, description="a container image URI")
    endpoint_url: HttpEndpoint | None = endpoint_option()
    s3_endpoint_url: HttpEndpoint | None = endpoint_option()
    sts_endpoint_url: HttpEndpoint | None = endpoint_option()
    profile: Annotated[str, matching(PROFILE)] | None = Field(
        None, description="a profile name of the AWS config files"
    )
    role: Annotated[str, matching(ROLE_ARN)] | None = Field(None, description="an IAM role ARN")
    # Each version on a page costs one DescribeModelPackage: a small page shows the first
    # few versions without describing fifty.
    page_size: int = integer_option(10, 1, 100)
    connect_timeout: float = seconds_option(10.0, 0.1, 600)
    read_timeout: float = seconds_option(60.0, 0.1, 3600)
    gzip_level: int = integer_option(0, 0, 9)


@dataclass(frozen=True)
class SageMakerConfig:
    """Everything a ``sagemaker://`` URL says: its region and its options."""

    region: str | None
    bucket: str | None
    prefix: str
    image: str | None
    endpoint_url: str | None
    s3_endpoint_url: str | None
    sts_endpoint_url: str | None
    profile: str | None
    role: str | None
    page_size: int
    connect_timeout: float
    read_timeout: float
    gzip_level: int

    def artifact_key(self, name: str, slot: str, filename: str) -> str:
        """``prefix/NAME/SLOT/filename``: where a registered artifact is uploaded."""
        parts = [p for p in (self.prefix.strip("/"), name, slot, filename) if p]
        return "/".join(parts)


def parse_config(url: RegistryURL) -> SageMakerConfig:
    """Check every part of a ``sagemaker://`` URL; raise `InvalidURLError` naming it."""
    options = parse_options(SageMakerOptions, url)
    if url.path.strip("/") or url.username or url.port:
        raise bad_url(url, "takes only a region as host, e.g. sagemaker://us-east-1?bucket=B")
    region = url.host or None
    if region is not None and not REGION.fullmatch(region):
        raise bad_url(url, f"region {region[:80]!r} is not a region like us-east-1", field="region")
    return SageMakerConfig(region=region, **options.model_dump())
