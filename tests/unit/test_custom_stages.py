"""Custom stages are declared in the policy: an undeclared stage is refused before any
backend call, with the closest known stage as a hint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.backends.base import Backend
from modelport.backends.memory import MemoryBackend
from modelport.policy import ENV_CUSTOM_STAGES
from tests.unit.conftest import FAST_RETRY, MODEL

DECLARED = mp.Policy(custom_stages={"shadow", "canary"})


def _record_calls(backend: object, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the public methods called on ``backend`` from now on."""
    calls: list[str] = []

    def recorded(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return method(*args, **kwargs)

        return record

    for name in dir(type(backend)):
        method = getattr(backend, name)
        if not name.startswith("_") and callable(method):
            monkeypatch.setattr(backend, name, recorded(name, method))
    return calls


def _with_policy(registry: mp.Registry, policy: mp.Policy) -> mp.Registry:
    return mp.Registry(registry.backend, policy=policy, retry=FAST_RETRY)


def test_a_declared_custom_stage_is_entered_and_resolved(registry: mp.Registry) -> None:
    declared = _with_policy(registry, DECLARED)
    assert declared.transition(f"{MODEL}/1", "shadow").stage == "shadow"
    assert declared.resolve(f"{MODEL}@shadow").version == "1"
    assert [mv.version for mv in declared.versions(MODEL, stage="shadow")] == ["1"]


@pytest.mark.parametrize(
    ("stage", "hint"),
    [("prod", "production"), ("dev", "development"), ("stagin", "staging"), ("canry", "canary")],
)
def test_an_undeclared_stage_is_refused_with_a_hint_before_any_call(
    registry: mp.Registry, stage: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = _with_policy(registry, DECLARED)
    calls = _record_calls(registry.backend, monkeypatch)
    with pytest.raises(mp.InvalidInputError) as caught:
        declared.transition(f"{MODEL}/1", stage)
    assert calls == []
    assert caught.value.field == "stage"
    assert f"did you mean {hint!r}?" in str(caught.value)
    assert ENV_CUSTOM_STAGES in str(caught.value)  # says how to declare it
    assert registry.resolve(f"{MODEL}/1").stage == "production"


@pytest.mark.parametrize(
    "call",
    [
        lambda reg: reg.rollback(MODEL, "prod"),
        lambda reg: reg.versions(MODEL, stage="prod"),
    ],
    ids=["rollback", "versions"],
)
def test_other_verbs_naming_a_stage_refuse_an_undeclared_one(
    registry: mp.Registry,
    call: Callable[[mp.Registry], object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _record_calls(registry.backend, monkeypatch)
    with pytest.raises(mp.InvalidInputError, match="did you mean 'production'") as caught:
        call(registry)
    assert (calls, caught.value.field) == ([], "stage")


def test_the_call_recorder_sees_a_call(
    registry: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _record_calls(registry.backend, monkeypatch)
    registry.resolve(f"{MODEL}/1")
    assert "get_version" in calls


def test_an_unrelated_word_gets_no_hint(registry: mp.Registry) -> None:
    with pytest.raises(mp.InvalidInputError, match="'xyz' is not declared\\. To use it") as caught:
        registry.transition(f"{MODEL}/1", "xyz")
    assert "did you mean" not in str(caught.value)


class _NoCustomStages(MemoryBackend):
    capabilities = MemoryBackend.capabilities - {mp.Capability.CUSTOM_STAGES}


def test_a_declared_stage_the_backend_cannot_hold_is_unsupported(model_dir: Path) -> None:
    backend: Backend = _NoCustomStages(mp.parse_url("memory://"))
    registry = mp.Registry(backend, policy=DECLARED, retry=FAST_RETRY)
    mv = registry.register(MODEL, model_dir)
    with pytest.raises(mp.UnsupportedOperation) as caught:
        registry.transition(mv.ref, "shadow")
    assert caught.value.capability == "custom_stages"
    with pytest.raises(mp.InvalidInputError):  # undeclared comes first: the typo is the news
        registry.transition(mv.ref, "shadw")


def test_an_alias_cannot_take_a_declared_stage_name(registry: mp.Registry) -> None:
    declared = _with_policy(registry, DECLARED)
    for word in ("canary", "production", "latest"):
        with pytest.raises(mp.InvalidInputError) as caught:
            declared.set_alias(f"{MODEL}/1", word)
        assert caught.value.field == "alias"
    assert declared.resolve(f"{MODEL}/1").aliases == ()


def test_connect_declares_the_stages_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_CUSTOM_STAGES, " shadow, canary ")
    assert mp.connect("memory://").policy.custom_stages == {"shadow", "canary"}
    explicit = mp.connect("memory://", policy=mp.Policy())  # an explicit policy wins
    assert explicit.policy.custom_stages == frozenset()


@pytest.mark.parametrize("value", ["shadow,,canary", "shadow,latest", "Shadow", "prod/eu"])
def test_a_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_CUSTOM_STAGES, value)
    with pytest.raises(mp.InvalidInputError) as caught:
        mp.connect("memory://")
    assert caught.value.field == ENV_CUSTOM_STAGES
    assert ENV_CUSTOM_STAGES in str(caught.value)


def test_an_empty_environment_value_declares_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_CUSTOM_STAGES, "  ")
    assert mp.Policy.from_env().custom_stages == frozenset()
