"""Every Python snippet of the README and the docs runs, in a fresh folder holding a small
``./model``, as a new user would paste it; the README's command-line block runs in order
with exit code 0 at each step.

A snippet that names a cloud (``sagemaker://``, ``vertex://``, ``azureml://``) connects for
real, so its URL is checked in full, then runs its verbs on a ``memory://`` stand-in: no
cloud is reachable from a test. A fragment that cannot run alone says so in an HTML
comment right above it: ``<!-- snippet: not run, REASON -->``.

Snippets assume what a reader has: a registry (the embedded default, and each cloud's
stand-in) where ``fraud-detector`` has two versions, the second in production, and ``reg``
connected to the default when a snippet uses it without connecting.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
import modelport.connection
from modelport.cli import main
from modelport.urls import parse_url

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```(?P<lang>\w+)\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!-- snippet: not run, (?P<reason>[^>]+?) -->\s*$")
RUN_FOR_REAL = ("memory", "mlflow")


@dataclass(frozen=True)
class Snippet:
    page: Path
    line: int
    lang: str
    code: str
    not_run: str | None  # the reason a fragment is not run

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def snippets(lang: str) -> Iterator[Snippet]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for found in BLOCK.finditer(text):
            if found["lang"] != lang:
                continue
            before = text[: found.start()].rstrip("\n").rsplit("\n", 1)[-1]
            reason = NOT_RUN.search(before)
            line = text.count("\n", 0, found.start()) + 1
            yield Snippet(page, line, lang, found["code"], reason and reason["reason"])


def _params(lang: str) -> list[Any]:
    return [
        pytest.param(s, id=s.id, marks=[pytest.mark.skip(reason=s.not_run)] if s.not_run else [])
        for s in snippets(lang)
    ]


def seed(reg: mp.Registry) -> mp.Registry:
    """``fraud-detector`` 1 and 2, the second approved and in production."""
    for f1 in (0.80, 0.82):
        mv = reg.register("fraud-detector", "./model", metrics={"f1": f1})
    reg.approve(mv.ref)
    reg.transition(mv.ref, "production")
    return reg


def _write_model(folder: Path) -> None:
    model = folder / "model"
    (model / "weights").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (model / "weights" / "w.bin").write_bytes(b"weights" * 100)


@pytest.fixture(scope="module")
def seeded_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """./mlflow.db seeded once (creating an MLflow database takes seconds); each test gets
    a copy. Its artifacts stay here, where the database says they are."""
    folder = tmp_path_factory.mktemp("seeded")
    _write_model(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        with mp.connect("mlflow+sqlite:///mlflow.db") as reg:
            seed(reg)
    return folder / "mlflow.db"


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded_default: Path) -> Path:
    """A fresh working folder with ./model and a seeded ./mlflow.db (the embedded default),
    and no registry chosen by the environment."""
    _write_model(tmp_path)
    shutil.copyfile(seeded_default, tmp_path / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    for name in ("MODELPORT_REGISTRY", "MLFLOW_TRACKING_URI", "MODELPORT_CUSTOM_STAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODELPORT_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _offline_connect(url: Any = None, **options: Any) -> mp.Registry:
    """The real connect (the URL is checked in full); a cloud's verbs run on a seeded
    memory:// stand-in."""
    registry = modelport.connection.connect(url, **options)
    if parse_url(registry.backend.url.raw).base_scheme in RUN_FOR_REAL:
        return registry
    registry.close()
    return seed(modelport.connection.connect("memory://", **options))


def test_every_page_with_code_is_read() -> None:
    assert len(list(snippets("python"))) >= 10
    assert all(s.not_run is None or len(s.not_run) > 10 for s in snippets("python"))


@pytest.mark.parametrize("snippet", _params("python"))
def test_python_snippet_runs(
    snippet: Snippet, user_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mp, "connect", _offline_connect)
    namespace: dict[str, Any] = {"mp": mp, "url": "memory://", "__name__": "snippet"}
    if not re.search(r"^reg = ", snippet.code, re.MULTILINE):
        namespace["reg"] = mp.connect()
    exec(compile(snippet.code, snippet.id, "exec"), namespace)  # our own docs, as users run them


README_COMMANDS = [s for s in snippets("bash") if s.page.name == "README.md"][-1]


def test_the_readme_command_line_block_runs_in_order(user_folder: Path) -> None:
    lines = [line for line in README_COMMANDS.code.splitlines() if line.startswith("modelport ")]
    assert len(lines) >= 3
    for line in lines:
        result = main(shlex.split(line)[1:])
        assert result == 0, f"{line!r} exited {result}"
