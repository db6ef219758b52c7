"""Faults: one retry layer (the facade's), throttling and lost answers leave exactly the
packages and events a fault-free run would, and network failures are classified."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.backends.sagemaker.backend import SageMakerBackend
from tests.backends.sagemaker_fixtures import SageMakerRig

PATIENT = mp.RetryPolicy(attempts=40, initial_wait=0.001, max_wait=0.005, deadline=60)
NO_RETRY = mp.RetryPolicy(attempts=1)


def _packages(sm: Any, name: str) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=name, ModelPackageType="Versioned"
    )
    return [s for page in pages for s in page["ModelPackageSummaryList"]]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ThrottlingException", mp.TransientBackendError),
        ("InternalFailure", mp.TransientBackendError),
        ("ServiceUnavailable", mp.TransientBackendError),
    ],
)
def test_botocore_does_not_retry_the_facade_does(
    rig: SageMakerRig, model_dir: Path, name: str, code: str, error: type[Exception]
) -> None:
    once = mp.connect(rig.url(), retry=NO_RETRY)
    mv = once.register(name, model_dir)
    before = rig.service.calls["DescribeModelPackage"]
    rig.service.faults.operations = {"DescribeModelPackage"}  # not the ListTags beside it
    rig.service.faults.fail_next(1, code)
    with pytest.raises(error) as caught:
        once.resolve(mv.ref)
    assert code in str(caught.value)
    assert rig.service.calls["DescribeModelPackage"] == before + 1  # one attempt, no more
    rig.service.faults.fail_next(2, code)
    patient = mp.connect(rig.url(), retry=PATIENT)
    assert patient.resolve(mv.ref).version == mv.version
    assert rig.service.calls["DescribeModelPackage"] == before + 4


def test_twenty_versions_under_30_percent_throttling_end_exactly_right(
    rig: SageMakerRig, sm: Any, model_dir: Path, name: str
) -> None:
    reg = mp.connect(rig.url(), retry=PATIENT)
    rig.service.faults.throttle_rate = 0.3
    for i in range(20):
        mv = reg.register(name, model_dir, metrics={"i": i})
        reg.approve(mv.ref, reason="QA passed", actor="qa")
        if i % 2 == 0:
            reg.transition(mv.ref, "staging", actor="ci")
        reg.transition(mv.ref, "production", actor="ci")
    throttled = rig.service.faults.injected["ThrottlingException"]
    rig.service.faults.reset()
    assert throttled > 100  # the faults really happened
    packages = _packages(sm, name)
    assert sorted(p["ModelPackageVersion"] for p in packages) == list(range(1, 21))
    stages = {p["ModelPackageVersion"]: p["ModelLifeCycle"]["Stage"] for p in packages}
    assert stages == {v: "Production" if v == 20 else "Archived" for v in range(1, 21)}
    assert {p["ModelApprovalStatus"] for p in packages} == {"Approved"}
    assert [mv.metrics["i"] for mv in reg.versions(name)] == [float(i) for i in range(20)]
    last = [(e.kind.value, e.to) for e in reg.history(f"{name}/20")]
    assert last == [
        ("registered", "development"),
        ("approved", "approved"),
        ("transitioned", "production"),
    ]
    fourth = [(e.kind.value, e.to) for e in reg.history(f"{name}/5")]
    assert fourth == [
        ("registered", "development"),
        ("approved", "approved"),
        ("transitioned", "staging"),
        ("transitioned", "production"),
        ("transitioned", "archived"),
    ]


def test_a_lost_create_answer_does_not_make_a_duplicate(
    rig: SageMakerRig, sm: Any, model_dir: Path, name: str
) -> None:
    reg = mp.connect(rig.url(), retry=PATIENT)
    reg.register(name, model_dir)  # the group exists: the next create is the only one
    rig.service.faults.operations = {"CreateModelPackage"}
    rig.service.faults.fail_next(2, "InternalFailure", after_effect=True)
    before = rig.service.calls["CreateModelPackage"]
    mv = reg.register(name, model_dir)
    assert rig.service.calls["CreateModelPackage"] == before + 3  # created, then found twice
    assert mv.version == "2"
    assert len(_packages(sm, name)) == 2


def test_lost_update_answers_record_each_event_once(
    rig: SageMakerRig, model_dir: Path, name: str
) -> None:
    reg = mp.connect(rig.url(), retry=PATIENT)
    mv = reg.register(name, model_dir)
    rig.service.faults.operations = {"UpdateModelPackage"}
    rig.service.faults.fail_next(1, "ServiceUnavailable", after_effect=True)
    reg.transition(mv.ref, "staging", reason="smoke")
    rig.service.faults.fail_next(1, "ServiceUnavailable", after_effect=True)
    reg.approve(mv.ref, reason="ok")
    kinds = [(e.kind.value, e.to) for e in reg.history(mv.ref)]
    assert kinds == [
        ("registered", "development"),
        ("transitioned", "staging"),
        ("approved", "approved"),
    ]


def test_lost_answers_everywhere_still_leave_one_package_per_register(
    rig: SageMakerRig, sm: Any, model_dir: Path, name: str
) -> None:
    reg = mp.connect(rig.url(), retry=PATIENT)
    rig.service.faults.after_effect = True
    rig.service.faults.error_rate = 0.25
    for _ in range(8):
        mv = reg.register(name, model_dir)
        reg.approve(mv.ref)
        reg.transition(mv.ref, "production")
    lost = sum(rig.service.faults.injected.values())
    rig.service.faults.reset()
    assert lost > 10
    packages = _packages(sm, name)
    assert len(packages) == 8
    assert [p["ModelLifeCycle"]["Stage"] for p in packages].count("Production") == 1
    for version in range(1, 9):
        kinds = [e.kind.value for e in reg.history(f"{name}/{version}")]
        assert kinds.count("approved") == 1
        assert kinds.count("registered") == 1


# -- the network ---------------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_a_server_that_does_not_answer_is_a_timeout(rig: SageMakerRig, silent_port: int) -> None:
    reg = mp.connect(
        rig.url(endpoint_url=f"http://127.0.0.1:{silent_port}", read_timeout="0.2"), retry=NO_RETRY
    )
    with pytest.raises(mp.BackendTimeoutError) as caught:
        reg.resolve("fraud/1")
    assert isinstance(caught.value, mp.TransientBackendError)


def test_a_refused_connection_is_transient(rig: SageMakerRig) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    reg = mp.connect(rig.url(endpoint_url=f"http://127.0.0.1:{closed}"), retry=NO_RETRY)
    with pytest.raises(mp.TransientBackendError):
        reg.resolve("fraud/1")


def test_missing_credentials_are_an_authentication_error(
    rig: SageMakerRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    reg = mp.connect(rig.url(), retry=NO_RETRY)
    with pytest.raises(mp.AuthenticationError) as caught:
        reg.resolve("fraud/1")
    assert "credentials" in str(caught.value)


def test_a_role_is_assumed_through_sts(rig: SageMakerRig, model_dir: Path, name: str) -> None:
    role = "arn:aws:iam::123456789012:role/deployer"
    reg = mp.connect(
        rig.url(role=role, sts_endpoint_url=rig.s3.endpoint_url),  # moto's server speaks STS
        retry=NO_RETRY,
    )
    mv = reg.register(name, model_dir)
    assert reg.resolve(mv.ref).version == "1"
    backend = reg.backend
    assert isinstance(backend, SageMakerBackend)
    credentials = backend._session().get_credentials()
    assert credentials.method == "modelport-assume-role"
    assert credentials.get_frozen_credentials().access_key != "testing"


def test_a_client_token_sagemaker_refuses_to_reuse_finds_the_earlier_package(
    rig: SageMakerRig, sm: Any, model_dir: Path, name: str
) -> None:
    reg = mp.connect(rig.url(), retry=PATIENT)
    reg.register(name, model_dir)
    rig.service.faults.operations = {"CreateModelPackage"}
    rig.service.faults.fail_next(1, "ConflictException", after_effect=True)  # created, refused
    assert reg.register(name, model_dir).version == "2"
    rig.service.faults.fail_next(1, "ConflictException")  # refused, nothing created
    with pytest.raises(mp.ConflictError):
        reg.register(name, model_dir)
    assert len(_packages(sm, name)) == 2
