"""The offline cloud rigs as migration destinations: how to reach one and how to make its
service fail transiently, behind one interface, so that a migration test body is the same
for every rig.

Each :class:`RigTarget` gets its running rig from the session fixtures of
``tests/backends/*_fixtures.py``. A test takes a target's destination with
:meth:`RigTarget.destination`, which clears any fault left by an earlier test.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.testing.azureml import AzureMLService, Fault
from tests.backends.vertex_fixtures import VertexRig
from tests.migration.conftest import govern, history_shape, register_versions, snapshot


@dataclass
class Destination(ABC):
    """One registry on a rig (its URL) and the rig's fault injection."""

    url: str

    @abstractmethod
    def inject_faults(self, rate: float, seed: int) -> None:
        """Fail a share ``rate`` of the service's calls (seeded), some after their effect."""

    @abstractmethod
    def injected(self) -> dict[str, int]:
        """The faults injected so far, by kind."""

    @abstractmethod
    def clear_faults(self) -> None:
        """No more faults."""

    def leftovers(self, name: str) -> list[str]:
        """What writes for model ``name`` left in the service's storage that no version
        uses, where the rig can tell (none it cannot)."""
        return []


@dataclass
class VertexDestination(Destination):
    rig: VertexRig

    def inject_faults(self, rate: float, seed: int) -> None:
        faults = self.rig.service.faults
        faults.reset()
        faults.rng.seed(seed)
        # Throttling at rate/2, else a server error: rate/2 of all calls in all.
        faults.throttle_rate = rate / 2
        faults.error_rate = (rate / 2) / (1 - rate / 2)
        faults.after_effect = True  # every fault answers a call that took effect

    def injected(self) -> dict[str, int]:
        return dict(self.rig.service.faults.injected)

    def clear_faults(self) -> None:
        self.rig.service.faults.reset()


@dataclass
class AzureMLDestination(Destination):
    rig: AzureMLService

    def inject_faults(self, rate: float, seed: int) -> None:
        faults = self.rig.faults
        faults.clear()
        each = 1 - (1 - rate) ** (1 / 3)  # three independent draws add up to ``rate``
        faults.at_rate(Fault.THROTTLE, each, seed=seed)
        faults.at_rate(Fault.UNAVAILABLE, each, seed=seed)
        faults.at_rate(Fault.LOST_ANSWER, each, seed=seed)

    def injected(self) -> dict[str, int]:
        return {fault.name: count for fault, count in self.rig.faults.injected.items()}

    def clear_faults(self) -> None:
        self.rig.faults.clear()

    def leftovers(self, name: str) -> list[str]:
        return self.rig.unclaimed_uploads(name)  # a registry's upload references


@dataclass(frozen=True)
class RigTarget:
    id: str
    fixture: str  # the session fixture of the running rig
    open: Callable[[Any], Destination]  # a fresh registry on that rig

    def destination(self, request: pytest.FixtureRequest) -> Destination:
        destination = self.open(request.getfixturevalue(self.fixture))
        destination.clear_faults()
        return destination


def _vertex(rig: VertexRig) -> Destination:
    return VertexDestination(rig.url(rig.new_bucket(), page_size="3"), rig)


def _azureml(rig: AzureMLService) -> Destination:
    return AzureMLDestination(rig.url(page_size="3"), rig)


def _azureml_registry(rig: AzureMLService) -> Destination:
    # the same service and faults as the workspace: only the scope (and URL) differs
    return AzureMLDestination(rig.registry_url(page_size="3"), rig)


TARGETS = [
    RigTarget("vertex", "vertex_rig", _vertex),
    RigTarget("azureml", "azureml_rig", _azureml),
    RigTarget("azureml-registry", "azureml_rig", _azureml_registry),
]


def target_params() -> list[Any]:
    return [pytest.param(target, id=target.id) for target in TARGETS]


# -- twin models: a clean copy and a copy under test, compared field by field -----------


def twin_names() -> tuple[str, str]:
    """Two model names no other test uses (the rigs are shared by the session): one for
    the uninterrupted reference run, one for the run under test."""
    tag = uuid.uuid4().hex[:8]
    return f"reference-{tag}", f"tested-{tag}"


def populate_twins(reg: mp.Registry, workdir: Path, names: Sequence[str], count: int) -> None:
    """The same ``count`` versions under each name: stages, approvals, a rejection (see
    :func:`govern`) and an alias on version 3."""
    for name in names:
        register_versions(reg, name, count, workdir / name)
        govern(reg, name, count)
        reg.set_alias(f"{name}/3", "champion", actor="alice")


def copies(reg: mp.Registry, name: str) -> list[Any]:
    """Each version's neutral record and history shape, in order, with the model's name
    (also in descriptions and lineage) masked: what must match between the twins."""
    made = []
    for record in snapshot(reg, [name])[name]:
        trail = history_shape(reg, f"{name}/{record['version']}")
        made.append(json.loads(json.dumps([record, trail]).replace(name, "<model>")))
    return made
