"""Declared capabilities agree with the methods: over every registered backend, and a
toy backend that gets them wrong is caught."""

from __future__ import annotations

import pytest

import modelport as mp
import modelport.backends as backends
from modelport.backends.base import CAPABILITY_BINDINGS, Backend, Capability, check_capabilities
from modelport.backends.memory import MemoryBackend


@pytest.mark.parametrize("scheme", sorted(backends.registered()))
def test_every_registered_backend_declares_what_it_implements(scheme: str) -> None:
    entry = backends.registered()[scheme]
    missing = backends.missing_modules(entry)
    if missing:
        pytest.skip(f"{scheme}:// not checked: {', '.join(missing)} not installed")
    assert check_capabilities(backends.import_backend(entry)) == []


def test_every_capability_is_bound_to_hooks_the_contract_has() -> None:
    assert set(CAPABILITY_BINDINGS) == set(Capability)
    for binding in CAPABILITY_BINDINGS.values():
        assert binding.needs
        for hook in binding.hooks:
            assert hook not in Backend.__abstractmethods__  # a primitive binds nothing
            assert callable(getattr(Backend, hook))


class _AliasesWithoutTheirHook(MemoryBackend):
    validate_pointer = Backend.validate_pointer  # as if memory had never written it


class _HookWithoutAliases(MemoryBackend):
    capabilities = MemoryBackend.capabilities - {Capability.ALIASES}


def test_declaring_aliases_without_their_hook_is_caught() -> None:
    assert check_capabilities(_AliasesWithoutTheirHook) == [
        "_AliasesWithoutTheirHook declares aliases but does not implement "
        "validate_pointer(), which aliases requires"
    ]


def test_the_hook_without_declaring_aliases_is_caught() -> None:
    assert check_capabilities(_HookWithoutAliases) == [
        "_HookWithoutAliases implements validate_pointer(), which only aliases uses, "
        "but does not declare aliases"
    ]


def test_the_default_hook_refuses_aliases_at_run_time_too() -> None:
    reg = mp.Registry(_AliasesWithoutTheirHook.from_url(mp.parse_url("memory://")))
    with pytest.raises(mp.UnsupportedOperation) as caught:
        reg.set_alias("m/1", "champion")
    assert caught.value.capability == "aliases"


class _Unfinished(Backend):
    capabilities = frozenset({Capability.ALIASES})

    def validate_pointer(self, pointer: str) -> None:
        """Any name."""


def test_unimplemented_primitives_are_named() -> None:
    problems = check_capabilities(_Unfinished)
    assert "_Unfinished leaves the primitive set_pointer() unimplemented" in problems
    assert len(problems) == len(Backend.__abstractmethods__)


def test_capabilities_that_are_not_capability_values_are_refused() -> None:
    class Stringly(MemoryBackend):
        capabilities = frozenset({"aliases"})  # type: ignore[assignment]

    (problem,) = check_capabilities(Stringly)
    assert "Stringly.capabilities must be a frozenset of Capability" in problem


def test_a_class_that_is_not_a_backend_is_refused() -> None:
    assert check_capabilities(dict) == ["dict is not a modelport Backend"]
