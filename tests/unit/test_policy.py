"""Metric gates and the promotion policy."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from modelport.errors import InvalidInputError
from modelport.models import Approval, ModelVersion
from modelport.policy import MetricGate, Policy, evaluate_gates


def version(approval: Approval = Approval.PENDING, **metrics: float) -> ModelVersion:
    return ModelVersion(
        name="fraud", version="3", approval=approval, artifact_uri="memory://x", metrics=metrics
    )


@pytest.mark.parametrize(
    ("text", "metric", "op", "threshold"),
    [
        ("f1>=0.78", "f1", ">=", 0.78),
        ("  f1 >= 0.78  ", "f1", ">=", 0.78),
        ("auc>0.9", "auc", ">", 0.9),
        ("latency_ms<=120", "latency_ms", "<=", 120.0),
        ("loss<1e-3", "loss", "<", 0.001),
        ("drift!=0", "drift", "!=", 0.0),
        ("eval/acc==1", "eval/acc", "==", 1.0),
        ("delta>=-0.5", "delta", ">=", -0.5),
        ("val.f1:macro>=+.5", "val.f1:macro", ">=", 0.5),
    ],
)
def test_gates_parse(text: str, metric: str, op: str, threshold: float) -> None:
    gate = MetricGate.parse(text)
    assert (gate.metric, gate.op, gate.threshold) == (metric, op, threshold)
    assert MetricGate.parse(str(gate)) == gate


@pytest.mark.parametrize(
    "text", ["f1>>0.7", "f1>=abc", "", "f1 >= nan", "f1>=inf", "f1>=1e999", "f1=>0.7", ">=1"]
)
def test_malformed_gates_name_the_field(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        MetricGate.parse(text, field="--metric")
    assert caught.value.field == "--metric"


@pytest.mark.parametrize(
    ("gate", "value", "passes"),
    [
        ("f1>=0.78", 0.78, True),
        ("f1>=0.78", 0.7799, False),
        ("f1>0.78", 0.78, False),
        ("f1<=0.5", 0.5, True),
        ("f1<0.5", 0.5, False),
        ("f1==0.5", 0.5, True),
        ("f1!=0.5", 0.5, False),
        ("f1!=0.5", 0.6, True),
    ],
)
def test_gates_evaluate(gate: str, value: float, passes: bool) -> None:
    failure = MetricGate.parse(gate).failure({"f1": value})
    assert (failure is None) == passes
    if not passes:
        assert failure is not None
        assert "f1" in failure


def test_a_missing_metric_fails_its_gate_and_says_so() -> None:
    failure = MetricGate.parse("auc>=0.9").failure({"f1": 1.0})
    assert failure is not None
    assert "'auc' is missing" in failure


def test_evaluate_gates_lists_every_failure_with_the_version() -> None:
    gates = [MetricGate.parse(g) for g in ("f1>=0.8", "auc>=0.9", "loss<=1")]
    failures = evaluate_gates(version(f1=0.7, loss=0.5), gates)
    assert len(failures) == 2
    assert all(f.startswith("fraud/3: ") for f in failures)
    assert evaluate_gates(version(f1=0.9, auc=0.95, loss=0.1), gates) == []


def test_default_policy_requires_approval_for_production_only() -> None:
    policy = Policy()
    pending = version()
    assert policy.violations(pending, "staging") == []
    assert policy.violations(pending, "my-canary") == []
    (problem,) = policy.violations(pending, "production")
    assert "must be approved" in problem
    assert "fraud/3" in problem
    assert policy.violations(version(Approval.APPROVED), "production") == []


def test_a_rejected_version_cannot_be_promoted_but_can_be_archived() -> None:
    rejected = version(Approval.REJECTED)
    for stage in ("staging", "production", "custom-stage"):
        (problem,) = Policy().violations(rejected, stage)
        assert "rejected" in problem
    assert Policy().violations(rejected, "archived") == []
    assert Policy().violations(rejected, "development") == []
    assert Policy(block_rejected=False).violations(rejected, "staging") == []


def test_policy_gates_block_a_stage() -> None:
    policy = Policy(gates={"production": {"f1": ">=0.8", "auc": ">0.9"}})
    approved = version(Approval.APPROVED, f1=0.85, auc=0.8)
    (problem,) = policy.violations(approved, "production")
    assert "auc" in problem
    assert policy.violations(approved, "staging") == []
    assert [str(g) for g in policy.gates_for("production")] == ["f1>=0.8", "auc>0.9"]


def test_policy_is_immutable() -> None:
    with pytest.raises(ValidationError):
        Policy().block_rejected = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "mentions"),
    [
        ({"approval_required_for": frozenset({"Production"})}, "policy stage"),
        ({"exclusive_stages": frozenset({"prod uction"})}, "policy stage"),
        ({"gates": {"Production": {"f1": ">=0.8"}}}, "policy.gates stage"),
        ({"gates": {"production": {"f1": "at least 0.8"}}}, "policy.gates['production']"),
        ({"gates": {"production": {"f1": ">=nan"}}}, "policy.gates['production']"),
        ({"unknown_rule": True}, "unknown_rule"),
        ({"custom_stages": frozenset({"latest"})}, "means something in a reference"),
        ({"custom_stages": frozenset({"production"})}, "well-known stage"),
        ({"custom_stages": frozenset({""})}, "custom stage ''"),
        ({"custom_stages": frozenset({" shadow"})}, "custom stage ' shadow'"),
        ({"custom_stages": frozenset({"shadow/eu"})}, "custom stage 'shadow/eu'"),
        ({"custom_stages": frozenset({"shadow@eu"})}, "custom stage 'shadow@eu'"),
        ({"custom_stages": "shadow"}, "custom_stages"),
        ({"exclusive_stages": frozenset({"production", "canary"})}, "custom_stages"),
        ({"approval_required_for": frozenset({"prod"})}, "custom_stages"),
        ({"gates": {"prod": {"f1": ">=0.8"}}}, "custom_stages"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_setting(
    kwargs: dict[str, object], mentions: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(mentions)):  # pydantic's ValidationError
        Policy(**kwargs)


def test_declared_custom_stages_may_be_exclusive_gated_and_need_approval() -> None:
    policy = Policy(
        custom_stages=frozenset({"canary"}),
        exclusive_stages=frozenset({"production", "canary"}),
        approval_required_for=frozenset({"canary"}),
        gates={"canary": {"f1": ">=0.8"}},
    )
    assert policy.stages == {"development", "staging", "production", "archived", "canary"}
    assert policy.check_declared("canary") == "canary"
    problems = policy.violations(version(f1=0.5), "canary")
    assert len(problems) == 2  # approval and the gate


def test_check_declared_hints_at_the_closest_stage() -> None:
    with pytest.raises(InvalidInputError, match="did you mean 'production'") as caught:
        Policy().check_declared("prod", "--stage")
    assert caught.value.field == "--stage"
    with pytest.raises(InvalidInputError, match="not a valid stage"):
        Policy().check_declared("Prod")


def test_from_env_reads_the_comma_separated_stages() -> None:
    policy = Policy.from_env({"MODELPORT_CUSTOM_STAGES": "shadow , canary"})
    assert policy.custom_stages == {"shadow", "canary"}
    assert Policy.from_env({}) == Policy()
