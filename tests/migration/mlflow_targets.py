"""MLflow as teams run it as a migration destination under transient faults: the session's
``mlflow server`` on PostgreSQL, artifacts in S3 (moto) or, when ``$MODELPORT_EXTRA_CASES``
names ``mlflow-postgres-gcs`` (as for its conformance case), in GCS (gcp-storage-emulator).

``mlflow server`` has no fault injection of its own, so the faults are the client's: its
backend is wrapped in a `FlakyBackend`, whose calls fail before they reach the server or
after the server took them (an answer lost on the way back), as in ``test_faults.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import modelport as mp
from tests.backends import extra_case_requested
from tests.backends.postgres_fixtures import MlflowOnGcs, MlflowOnPostgres
from tests.migration.flaky import FlakyBackend
from tests.migration.rigs import Destination, RigTarget


@dataclass
class MlflowDestination(Destination):
    flaky: FlakyBackend  # the client's backend: the faults are injected here

    def registry(self, retry: mp.RetryPolicy) -> mp.Registry:
        """A registry on the server whose calls meet the injected faults."""
        return mp.Registry(self.flaky, retry=retry)

    def inject_faults(self, rate: float, seed: int) -> None:
        self.flaky.inject(rate, seed)

    def injected(self) -> dict[str, int]:
        return dict(self.flaky.faults)

    def clear_faults(self) -> None:
        self.flaky.inject(0.0, 0)


def _open(server: MlflowOnPostgres | MlflowOnGcs) -> Destination:
    url = f"mlflow+{server.url}?page_size=3"  # small pages: listings take several calls
    return MlflowDestination(url, FlakyBackend(mp.connect(url).backend, rate=0.0))


MLFLOW_TARGETS = [RigTarget("mlflow-postgres", "mlflow_postgres_server", _open)]
if extra_case_requested("mlflow-postgres-gcs"):  # a server of its own: ~20 s to start
    MLFLOW_TARGETS.append(RigTarget("mlflow-postgres-gcs", "mlflow_gcs_server", _open))


def mlflow_target_params() -> list[Any]:
    return [pytest.param(target, id=target.id) for target in MLFLOW_TARGETS]
