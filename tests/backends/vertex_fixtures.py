"""Session fixtures for vertex://: the offline Vertex registry rig over gRPC and
gcp-storage-emulator for GCS, both on 127.0.0.1, stopped at session end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from modelport.testing.vertex import GcsEmulator, VertexRegistryService


@dataclass(frozen=True)
class VertexRig:
    """The running rig: the ModelService and GCS."""

    service: VertexRegistryService
    gcs: GcsEmulator

    def new_bucket(self) -> str:
        bucket = f"modelport-{uuid.uuid4().hex[:12]}"
        self.gcs.create_bucket(bucket)
        return bucket

    def url(self, bucket: str, **options: str | None) -> str:
        """A vertex:// URL for a bucket of the rig (``gs://BUCKET/models``)."""
        return self.service.url(f"gs://{bucket}/models", self.gcs.endpoint, **options)


@pytest.fixture(scope="session")
def vertex_rig() -> Iterator[VertexRig]:
    with VertexRegistryService() as service, GcsEmulator() as gcs:
        yield VertexRig(service, gcs)
