"""The generated support matrix, and the docs that must stay in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from modelport import support_matrix
from modelport.backends import BUILTIN, BackendEntry
from modelport.backends.base import Capability
from modelport.cli import command_names

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_support_matrix_is_what_the_generator_prints() -> None:
    expected = support_matrix.render_markdown(support_matrix.build())
    committed = (DOCS / "support-matrix.md").read_text(encoding="utf-8")
    assert committed == expected, (
        "docs/support-matrix.md is stale: run "
        "`python -m modelport.support_matrix > docs/support-matrix.md`"
    )


def test_columns_come_from_the_declared_capabilities() -> None:
    matrix = support_matrix.build()
    memory = next(c for c in matrix.columns if c.scheme == "memory")
    from modelport.backends.memory import MemoryBackend

    assert memory.capabilities == MemoryBackend.capabilities
    assert {c.scheme for c in matrix.columns} <= set(BUILTIN)


def test_a_backend_without_its_extra_says_so() -> None:
    entry = BackendEntry("modelport.backends.memory:MemoryBackend", "ghost", ("no_such_sdk_xyz",))
    column = support_matrix.column_for("ghost", entry)
    assert column is not None
    assert column.capabilities is None
    matrix = support_matrix.Matrix(columns=(column,), planned=())
    text = support_matrix.render_markdown(matrix)
    assert support_matrix.NOT_INSTALLED in text
    assert "`pip install 'modelport[ghost]'`" in text


def test_a_backend_module_missing_from_the_build_is_left_out() -> None:
    entry = BackendEntry("modelport.backends.no_such_backend:Nothing")
    assert support_matrix.column_for("nothing", entry) is None


def test_an_operation_needing_a_missing_capability_is_marked_no() -> None:
    column = support_matrix.Column("bare", "bare", None, frozenset({Capability.ALIASES}))
    matrix = support_matrix.Matrix(columns=(column,), planned=())
    cells = {op.needs: row[0] for op, row in matrix.operation_rows()}
    assert cells[None] == support_matrix.YES
    assert cells[Capability.ALIASES] == support_matrix.YES
    assert cells[Capability.REGISTER_URI] == support_matrix.NO
    assert cells[Capability.CUSTOM_STAGES] == support_matrix.NO


def test_every_capability_is_explained_and_shown() -> None:
    assert set(support_matrix.CAPABILITY_MEANINGS) == set(Capability)
    text = support_matrix.render_markdown(support_matrix.build())
    for capability in Capability:
        assert f"`{capability}`" in text


def test_docs_cli_page_documents_every_command_and_exit_code() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `modelport ([a-z -]+)`", text, flags=re.MULTILINE))
    assert headings == set(command_names())
    for code in (0, 1, 2, 3, 4):
        assert re.search(rf"^\| {code} \|", text, flags=re.MULTILINE)
