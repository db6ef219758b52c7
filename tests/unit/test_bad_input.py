"""The bad-input table on memory://, one case a test: every malformed argument of the public
API gets a typed error that names the field concerned, and leaves the registry exactly as it
was. The table itself is shipped with the conformance suite
(``modelport.testing.conformance.bad_input_table``), which runs it on every backend; the URL
cases are here, as connect() meets them before any backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.errors import InvalidURLError, ModelportError
from modelport.testing.conformance.bad_input_table import CASES, Bad, Ctx
from tests.unit.conftest import MODEL

SECRET = "s3cr3t-Value"
MAX_MESSAGE_CHARS = 1000  # an oversized value must not be echoed back whole
AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
URL = InvalidURLError


def connect(url: Any) -> Callable[[Ctx], object]:
    return lambda c: mp.connect(url)


URLS = [
    Bad("url-empty", connect(""), URL, "url"),
    Bad("url-no-scheme", connect("nope"), URL, "url"),
    Bad("url-unknown-scheme", connect("ftp://x"), URL, "url"),
    Bad("url-uppercase-scheme", connect("MEMORY://"), URL, "url"),
    Bad("url-memory-host", connect("memory://host"), URL, "url"),
    Bad("url-memory-path", connect("memory:///some/path"), URL, "url"),
    Bad("url-page-size-0", connect("memory://?page_size=0"), URL, "page_size"),
    Bad("url-page-size-text", connect("memory://?page_size=ten"), URL, "page_size"),
    Bad("url-page-size-huge", connect("memory://?page_size=1001"), URL, "page_size"),
    Bad("url-unknown-option", connect("memory://?colour=red"), URL, "url"),
    Bad("url-leading-space", connect(" memory://"), URL, "url"),
    Bad("url-trailing-space", connect("memory:// "), URL, "url"),
    Bad("url-tab", connect("memory://\t"), URL, "url"),
    Bad("url-3000-chars", connect("memory://?x=" + "a" * 3000), URL, "url"),
    Bad("url-int", connect(3), URL, "url"),
    Bad("url-bytes", connect(b"memory://"), URL, "url"),
    Bad("url-bad-port", connect("memory://:99999"), URL, "url"),
    Bad("url-azureml-no-workspace", connect(f"azureml://{AZURE_SUBSCRIPTION}/rg"), URL, "url"),
    Bad("url-password", connect(f"memory://user:{SECRET}@host"), URL, "url"),
    Bad("url-token-unknown-scheme", connect(f"nope://h?token={SECRET}"), URL, "url"),
    Bad("url-sig-unknown-option", connect(f"memory://?sig={SECRET}"), URL, "url"),
    Bad(
        "url-mlflow-stage-mode",
        connect("mlflow+sqlite:///x.db?stage_mode=bogus"),
        URL,
        "stage_mode",
    ),
    Bad("url-mlflow-unknown-option", connect("mlflow+sqlite:///x.db?bogus=1"), URL, "url"),
    Bad("url-mlflow-transport", connect("mlflow+ftp://host"), URL, "url"),
]


def snapshot(reg: mp.Registry) -> dict[str, Any]:
    """Everything the public API shows: models, every version's full record and history."""
    state: dict[str, Any] = {}
    for name in reg.models():
        for mv in reg.versions(name):
            events = [e.model_dump(mode="json") for e in reg.history(mv.ref)]
            state[mv.ref] = (mv.neutral(), mv.model_dump(mode="json"), events)
    return state


def test_the_table_is_large_and_its_ids_unique() -> None:
    every = CASES + URLS
    assert len(every) >= 50
    assert len({case.id for case in every}) == len(every)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES + URLS])
def test_bad_input_raises_a_typed_error_naming_the_field_and_changes_nothing(
    case: Bad,
    registry: mp.Registry,
    model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "keep.txt").write_text("mine", encoding="utf-8")
    monkeypatch.chdir(work)
    before = snapshot(registry)

    with pytest.raises(case.error) as caught:
        case.call(Ctx(registry, MODEL, model_dir, tmp_path))

    error = caught.value
    assert isinstance(error, ModelportError)
    assert isinstance(error, ValueError)
    assert error.field is not None, f"no field on: {error}"
    assert error.field.startswith(case.field), f"field {error.field!r}: {error}"
    assert len(str(error)) <= MAX_MESSAGE_CHARS
    shown = f"{error} {error!r} {error.url} {error.model}"
    assert SECRET not in shown
    assert snapshot(registry) == before
    assert (work / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in work.iterdir()] == ["keep.txt"]  # no database file, no download
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
