"""``vertex://`` URLs -> a typed configuration, checked before any network call.

Grammar: ``vertex://PROJECT/LOCATION?bucket=gs://B/P`` plus the optional ``endpoint``
(a regional or private endpoint ``host[:port]`` or ``https://host``; ``http://host:port``
is a local rig, reached without credentials), ``transport`` (``grpc``, the SDK's
default, or ``rest``), ``storage_endpoint`` (a GCS emulator), ``image`` (a serving
container image for uploaded versions), ``timeout`` (seconds per call), ``lro_timeout``
(seconds an upload may take) and ``page_size`` (1-100). Credentials come only from
google.auth's own chain, except for ``http://`` endpoints (local rigs: anonymous).

No google import here: parsing a URL must stay cheap and work without the extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from modelport.backends.kit.options import (
    DEFAULT_PREFIX,
    CloudCallOptions,
    HttpEndpoint,
    bad_url,
    endpoint_option,
    http_url,
    matching,
    parse_options,
    seconds_option,
)
from modelport.urls import RegistryURL

PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
LOCATION = re.compile(r"[a-z]+-[a-z]+\d{1,2}|global")
# GCS bucket names (dotted names allowed), then an optional object prefix.
GCS_URI = re.compile(r"gs://([a-z0-9][a-z0-9_.-]{1,220}[a-z0-9])(/[^\s#?]*)?")
HOST_PORT = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?")
IMAGE = re.compile(r"\S{1,1024}")


def _endpoint(value: str) -> str:
    if HOST_PORT.fullmatch(value):
        return value
    return http_url(value)


def _gcs_uri(value: str) -> str:
    if not GCS_URI.fullmatch(value):
        raise ValueError("not a gs://BUCKET[/PREFIX] URI")
    return value


class VertexOptions(CloudCallOptions):
    """The query options of a ``vertex://`` URL."""

    bucket: Annotated[str, AfterValidator(_gcs_uri)] | None = Field(
        None, description="a gs://BUCKET[/PREFIX] URI"
    )
    endpoint: Annotated[str, AfterValidator(_endpoint)] | None = Field(
        None, description="host[:port] or an http(s) URL without a query"
    )
    storage_endpoint: HttpEndpoint | None = endpoint_option()
    transport: Literal["grpc", "rest"] = Field("grpc", description="'grpc' or 'rest'")
    image: Annotated[str, matching(IMAGE)] | None = Field(None, description="a container image URI")
    lro_timeout: float = seconds_option(600.0, 1, 7200)


@dataclass(frozen=True)
class VertexConfig:
    """Everything a ``vertex://`` URL says."""

    project: str
    location: str
    bucket: str | None  # the bucket name alone
    prefix: str
    endpoint: str | None
    storage_endpoint: str | None
    transport: str
    image: str | None
    timeout: float
    lro_timeout: float
    page_size: int

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    @property
    def local(self) -> bool:
        """A plain-http endpoint: a local rig, reached without credentials."""
        return self.endpoint is not None and self.endpoint.startswith("http://")

    def model_resource(self, model_id: str) -> str:
        return f"{self.parent}/models/{model_id}"

    def artifact_prefix(self, name: str, slot: str) -> str:
        """``PREFIX/NAME/SLOT``: the folder one register uploads its files into."""
        return "/".join(p for p in (self.prefix, name, slot) if p)


def parse_config(url: RegistryURL) -> VertexConfig:
    """Check every part of a ``vertex://`` URL; raise `InvalidURLError` naming it."""
    options = parse_options(VertexOptions, url)
    parts = [p for p in url.path.split("/") if p]
    if url.username or url.port or len(parts) != 1:
        raise bad_url(url, "must be vertex://PROJECT/LOCATION, e.g. vertex://my-proj/us-central1")
    project, location = url.host, parts[0]
    if not PROJECT.fullmatch(project):
        raise bad_url(url, f"{project[:80]!r} is not a Google Cloud project id", field="project")
    if not LOCATION.fullmatch(location):
        raise bad_url(
            url, f"{location[:80]!r} is not a location like us-central1", field="location"
        )
    bucket, prefix = None, DEFAULT_PREFIX
    if options.bucket is not None:
        split = urlsplit(options.bucket)
        bucket, prefix = split.netloc, split.path.strip("/") or DEFAULT_PREFIX
    values = options.model_dump(exclude={"bucket"})
    return VertexConfig(project=project, location=location, bucket=bucket, prefix=prefix, **values)
