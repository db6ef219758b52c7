"""Session fixtures for vertex://: the offline Vertex registry rig (one for gRPC, one for
REST) and gcp-storage-emulator for GCS, all on 127.0.0.1, stopped at session end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from modelport.testing.vertex import GcsEmulator, VertexRegistryService


@dataclass(frozen=True)
class VertexRig:
    """The running rig: the ModelService and ML Metadata (`service`), and GCS behind its
    fault-injecting proxy (`gcs`, faults in `gcs.faults`)."""

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


@pytest.fixture(scope="session")
def vertex_rest_rig(vertex_rig: VertexRig) -> Iterator[VertexRig]:
    """A second registry (its own service state), reached over REST; GCS shared. Two rigs,
    so that migrating between the gRPC and the REST case moves between two registries."""
    with VertexRegistryService() as service:
        yield VertexRig(service, vertex_rig.gcs)
