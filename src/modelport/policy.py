"""The registry's promotion policy and metric gates."""

from __future__ import annotations

import difflib
import math
import operator
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from pydantic import Field, ValidationInfo, field_validator

from modelport.errors import InvalidInputError
from modelport.models import WELL_KNOWN_STAGES, Approval, ModelVersion, UserInput
from modelport.refs import REFERENCE_WORDS
from modelport.validation import check_stage

ENV_CUSTOM_STAGES = "MODELPORT_CUSTOM_STAGES"

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

    ``custom_stages`` declares the stages beyond development, staging, production and
    archived that versions may enter, e.g. ``{"shadow", "canary"}``; any other stage is
    refused as a likely typo. ``gates`` maps a target stage to metric conditions, e.g.
    ``{"production": {"f1": ">=0.78"}}``. Every stage the policy names must be
    well-known or declared.
    """

    custom_stages: frozenset[str] = frozenset()  # first: the checks below read it
    approval_required_for: frozenset[str] = frozenset({"production"})
    block_rejected: bool = True
    exclusive_stages: frozenset[str] = frozenset({"staging", "production"})
    gates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("custom_stages")
    @classmethod
    def _custom_stages_valid(cls, stages: frozenset[str]) -> frozenset[str]:
        for stage in stages:
            check_stage(stage, "custom stage")
            if stage in WELL_KNOWN_STAGES:
                raise ValueError(
                    f"{stage!r} is a well-known stage: declare only stages beyond "
                    f"{', '.join(sorted(WELL_KNOWN_STAGES))}"
                )
            if stage in REFERENCE_WORDS:
                raise ValueError(
                    f"{stage!r} already means something in a reference (name@{stage}); "
                    "choose another name"
                )
        return stages

    @field_validator("approval_required_for", "exclusive_stages")
    @classmethod
    def _stages_valid(cls, stages: frozenset[str], info: ValidationInfo) -> frozenset[str]:
        for stage in stages:
            _require_declared(check_stage(stage, "policy stage"), info)
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
    def _gates_valid(
        cls, gates: dict[str, dict[str, str]], info: ValidationInfo
    ) -> dict[str, dict[str, str]]:
        for stage, conditions in gates.items():
            _require_declared(check_stage(stage, "policy.gates stage"), info)
            for metric, condition in conditions.items():
                MetricGate.from_condition(metric, condition, f"policy.gates[{stage!r}]")
        return gates

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Policy:
        """The default policy, declaring the comma-separated custom stages of
        ``$MODELPORT_CUSTOM_STAGES`` (``shadow,canary``) if it is set."""
        raw = (os.environ if environ is None else environ).get(ENV_CUSTOM_STAGES, "")
        if not raw.strip():
            return cls()
        try:
            return cls(custom_stages=frozenset(item.strip() for item in raw.split(",")))
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"${ENV_CUSTOM_STAGES}={raw[:80]!r}: {exc}", field=ENV_CUSTOM_STAGES
            ) from None

    @property
    def stages(self) -> frozenset[str]:
        """Every stage a version may enter: the well-known ones and the declared ones."""
        return WELL_KNOWN_STAGES | self.custom_stages

    def check_declared(self, stage: object, field: str = "stage") -> str:
        """``stage`` if it is well-known or declared, else `InvalidInputError`
        naming ``field`` with the closest stage as a hint."""
        stage = check_stage(stage, field)
        if stage not in self.stages:
            raise InvalidInputError(
                f"{field} {stage!r} is not declared{_did_you_mean(stage, self.stages)} "
                "To use it as a custom stage, declare it in the policy: "
                f"Policy(custom_stages={{{stage!r}}}) or {ENV_CUSTOM_STAGES}={stage}",
                field=field,
            )
        return stage

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


def _require_declared(stage: str, info: ValidationInfo) -> None:
    declared = info.data.get("custom_stages", frozenset())
    if stage not in WELL_KNOWN_STAGES and stage not in declared:
        raise ValueError(f"{stage!r} is neither a well-known stage nor one of custom_stages")


def _did_you_mean(stage: str, known: Collection[str]) -> str:
    """`` (did you mean 'production'?).`` for ``prod``; a plain ``.`` when nothing is close."""
    candidates = sorted(known)
    close = [k for k in candidates if k.startswith(stage)]
    close = close or difflib.get_close_matches(stage, candidates, n=1)
    return f" (did you mean {close[0]!r}?)." if close else "."


def evaluate_gates(mv: ModelVersion, gates: list[MetricGate]) -> list[str]:
    """Failures of ``mv`` against ad-hoc gates (the CLI's ``gate`` command)."""
    return [f"{mv.ref}: {f}" for gate in gates if (f := gate.failure(mv.metrics))]
