"""The registry's promotion policy and metric gates."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import Field, field_validator

from modelport.errors import InvalidInputError
from modelport.models import Approval, ModelVersion, UserInput
from modelport.validation import check_stage

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_CONDITION = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*")
_GATE = re.compile(r"\s*([A-Za-z0-9_][A-Za-z0-9_.:/-]*)\s*((?:>=|<=|==|!=|>|<).*)")


@dataclass(frozen=True)
class MetricGate:
    """``f1 >= 0.78``: a condition a version's metric must meet."""

    metric: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text: object, field: str = "gate") -> MetricGate:
        """Parse ``"f1>=0.78"``."""
        match = _GATE.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidInputError(
                f"{field} {text!r} is not a metric gate like 'f1>=0.78'", field=field
            )
        return cls.from_condition(match.group(1), match.group(2), field)

    @classmethod
    def from_condition(cls, metric: str, condition: object, field: str = "gate") -> MetricGate:
        """Parse the condition part, ``">=0.78"``, for ``metric``."""
        match = _CONDITION.fullmatch(condition) if isinstance(condition, str) else None
        if match is None:
            raise InvalidInputError(
                f"{field} for metric {metric!r}: {condition!r} is not a condition like '>=0.78'",
                field=field,
            )
        try:
            threshold = float(match.group(2))
        except ValueError:
            raise InvalidInputError(
                f"{field} for metric {metric!r}: {match.group(2)!r} is not a number", field=field
            ) from None
        if not math.isfinite(threshold):
            raise InvalidInputError(
                f"{field} for metric {metric!r}: threshold must be finite", field=field
            )
        return cls(metric, match.group(1), threshold)

    def failure(self, metrics: Mapping[str, float]) -> str | None:
        """Why ``metrics`` fail this gate, or None when they pass."""
        value = metrics.get(self.metric)
        if value is None:
            return f"metric {self.metric!r} is missing (gate {self})"
        if not _OPERATORS[self.op](value, self.threshold):
            return f"{self.metric}={value:g} fails {self}"
        return None

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"


class Policy(UserInput):
    """Rules the facade enforces on every transition.

    ``gates`` maps a target stage to metric conditions, e.g.
    ``{"production": {"f1": ">=0.78"}}``.
    """

    approval_required_for: frozenset[str] = frozenset({"production"})
    block_rejected: bool = True
    exclusive_stages: frozenset[str] = frozenset({"staging", "production"})
    gates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("approval_required_for", "exclusive_stages")
    @classmethod
    def _stages_valid(cls, stages: frozenset[str]) -> frozenset[str]:
        for stage in stages:
            check_stage(stage, "policy stage")
        return stages

    @field_validator("exclusive_stages")
    @classmethod
    def _pointers_possible(cls, stages: frozenset[str]) -> frozenset[str]:
        shared = stages & {"development", "archived"}
        if shared:
            raise ValueError(f"{sorted(shared)[0]} holds many versions and cannot be exclusive")
        return stages

    @field_validator("gates")
    @classmethod
    def _gates_valid(cls, gates: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for stage, conditions in gates.items():
            check_stage(stage, "policy.gates stage")
            for metric, condition in conditions.items():
                MetricGate.from_condition(metric, condition, f"policy.gates[{stage!r}]")
        return gates

    def gates_for(self, stage: str) -> list[MetricGate]:
        return [MetricGate.from_condition(m, c) for m, c in self.gates.get(stage, {}).items()]

    def violations(self, mv: ModelVersion, stage: str) -> list[str]:
        """Every reason this policy forbids moving ``mv`` into ``stage``."""
        problems: list[str] = []
        promotes = stage not in ("development", "archived")
        if promotes and self.block_rejected and mv.approval is Approval.REJECTED:
            problems.append(f"{mv.ref} is rejected and cannot be promoted to {stage}")
        elif stage in self.approval_required_for and mv.approval is not Approval.APPROVED:
            problems.append(f"{mv.ref} must be approved before {stage} (it is {mv.approval})")
        for gate in self.gates_for(stage):
            failure = gate.failure(mv.metrics)
            if failure:
                problems.append(f"{mv.ref}: {failure}")
        return problems


def evaluate_gates(mv: ModelVersion, gates: list[MetricGate]) -> list[str]:
    """Failures of ``mv`` against ad-hoc gates (the CLI's ``gate`` command)."""
    return [f"{mv.ref}: {f}" for gate in gates if (f := gate.failure(mv.metrics))]
