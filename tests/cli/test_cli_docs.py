"""The CLI page of the docs stays in step with the commands (the support matrix page is
checked in tests/unit/test_support_matrix.py)."""

from __future__ import annotations

import re
from pathlib import Path

from modelport.cli import command_names

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_docs_cli_page_documents_every_command_and_exit_code() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `modelport ([a-z -]+)`", text, flags=re.MULTILINE))
    assert headings == set(command_names())
    for code in (0, 1, 2, 3, 4):
        assert re.search(rf"^\| {code} \|", text, flags=re.MULTILINE)
