"""Bad input on every backend (SPEC: a typed error naming the field, nothing written): the
whole table of `bad_input_table` against one model, refused before any write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.errors import ModelportError
from modelport.testing.conformance.bad_input_table import CASES, Bad, Ctx
from modelport.testing.conformance.counting import counting_methods

MAX_MESSAGE_CHARS = 1000  # an oversized value must not be echoed back whole
# The backend contract's writes: a refused input reaches none of them.
WRITES = (
    "create_version",
    "stage_artifact",
    "set_pointer",
    "delete_pointer",
    "write_stage",
    "write_approval",
    "append_events",
)


def _snapshot(registry: mp.Registry, name: str) -> dict[str, Any]:
    """Everything the public API shows of ``name``: every version's record and history."""
    return {
        mv.ref: (
            mv.model_dump(mode="json"),
            [e.model_dump(mode="json") for e in registry.history(mv.ref)],
        )
        for mv in registry.versions(name)
    }


def _problem(case: Bad, ctx: Ctx) -> str | None:
    """What is wrong with how the registry met ``case``; None if it refused it well."""
    try:
        case.call(ctx)
    except ModelportError as error:
        if not isinstance(error, case.error) or not isinstance(error, ValueError):
            return f"{type(error).__name__} ({error}), expected {case.error.__name__}"
        if error.field is None or not error.field.startswith(case.field):
            return f"field {error.field!r}, expected {case.field!r}... ({error})"
        if len(str(error)) > MAX_MESSAGE_CHARS:
            return f"a message of {len(str(error))} characters"
        return None
    except Exception as error:  # the finding: an error that is not ours
        return f"raw {type(error).__name__}: {error}"
    return "accepted"


def test_bad_input_is_refused_before_any_write(
    registry: mp.Registry,
    name: str,
    model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every case of the table, one after another on one model: the right typed error
    naming the field, no write reached the backend, the model reads as before and the
    working directory is untouched."""
    registry.register(name, model_dir, metrics={"f1": 0.8}, params={"depth": 3})
    registry.approve(f"{name}/1", reason="ok", actor="qa")
    registry.transition(f"{name}/1", "production", reason="go", actor="ci")
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    before = _snapshot(registry, name)
    problems: dict[str, str] = {}
    with counting_methods(registry.backend, WRITES) as writes:
        for case in CASES:
            scratch = tmp_path / case.id
            scratch.mkdir()
            writes.reset()
            found = _problem(case, Ctx(registry, name, model_dir, scratch))
            if found is None and writes.total:
                found = f"refused after writing: {dict(writes.calls)}"
            if found is not None:
                problems[case.id] = found
    assert problems == {}, "\n".join(f"{case}: {found}" for case, found in problems.items())
    assert _snapshot(registry, name) == before
    assert list(work.iterdir()) == []  # no database file, no download
