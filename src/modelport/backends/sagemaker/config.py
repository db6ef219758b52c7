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
from urllib.parse import urlsplit

from modelport.errors import InvalidURLError
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
DEFAULT_PREFIX = "modelport"
OPTIONS = frozenset(
    {
        "bucket",
        "prefix",
        "image",
        "endpoint_url",
        "s3_endpoint_url",
        "sts_endpoint_url",
        "profile",
        "role",
        "page_size",
        "connect_timeout",
        "read_timeout",
        "gzip_level",
    }
)


@dataclass(frozen=True)
class SageMakerConfig:
    """Everything a ``sagemaker://`` URL says; None means "boto3's default"."""

    region: str | None = None
    bucket: str | None = None
    prefix: str = DEFAULT_PREFIX
    image: str | None = None
    endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    profile: str | None = None
    role: str | None = None
    page_size: int = 50
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    gzip_level: int = 0

    def artifact_key(self, name: str, slot: str, filename: str) -> str:
        """``prefix/NAME/SLOT/filename``: where a registered artifact is uploaded."""
        parts = [p for p in (self.prefix.strip("/"), name, slot, filename) if p]
        return "/".join(parts)


def parse_config(url: RegistryURL) -> SageMakerConfig:
    """Check every part of a ``sagemaker://`` URL; raise :class:`InvalidURLError` naming it."""
    unknown = sorted(set(url.query) - OPTIONS)
    if unknown:
        raise _bad(
            url, unknown[0], f"unknown option {unknown[0]!r}; known: {', '.join(sorted(OPTIONS))}"
        )
    if url.path.strip("/") or url.username or url.port:
        raise _bad(url, "url", "takes only a region as host, e.g. sagemaker://us-east-1?bucket=B")
    query = url.query
    return SageMakerConfig(
        region=_matching(url, "region", url.host or None, REGION, "a region like us-east-1"),
        bucket=_matching(url, "bucket", query.get("bucket"), BUCKET, "an S3 bucket name"),
        prefix=_matching(url, "prefix", query.get("prefix"), PREFIX, "an S3 key prefix")
        or DEFAULT_PREFIX,
        image=_matching(url, "image", query.get("image"), IMAGE, "a container image URI"),
        endpoint_url=_endpoint(url, "endpoint_url"),
        s3_endpoint_url=_endpoint(url, "s3_endpoint_url"),
        sts_endpoint_url=_endpoint(url, "sts_endpoint_url"),
        profile=_matching(url, "profile", query.get("profile"), PROFILE, "a profile name"),
        role=_matching(url, "role", query.get("role"), ROLE_ARN, "an IAM role ARN"),
        page_size=int(_number(url, "page_size", 1, 100) or 50),
        connect_timeout=_number(url, "connect_timeout", 0.1, 600) or 10.0,
        read_timeout=_number(url, "read_timeout", 0.1, 3600) or 60.0,
        gzip_level=int(_number(url, "gzip_level", 0, 9) or 0),
    )


def _bad(url: RegistryURL, field: str, problem: str) -> InvalidURLError:
    return InvalidURLError(f"{url}: {problem}", field=field, url=str(url))


def _matching(
    url: RegistryURL, field: str, value: str | None, pattern: re.Pattern[str], what: str
) -> str | None:
    if value is None:
        return None
    if not pattern.fullmatch(value):
        raise _bad(url, field, f"{field} {value[:80]!r} is not {what}")
    return value


def _endpoint(url: RegistryURL, field: str) -> str | None:
    value = url.query.get(field)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise _bad(url, field, f"{field} {value[:80]!r} is not an http(s) URL")
    return value


def _number(url: RegistryURL, field: str, low: float, high: float) -> float | None:
    value = url.query.get(field)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high or (field in ("page_size", "gzip_level") and not value.isdigit()):
        raise _bad(url, field, f"{field} must be a number from {low:g} to {high:g}, got {value!r}")
    return number
