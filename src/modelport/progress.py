"""What long calls report their progress to: a sink the caller passes in.

Library calls draw nothing; a caller that wants a bar (the CLI does, on a terminal)
passes an object with ``advance``. Backends give no streaming hook, so a download or
register reports its bytes once its artifact is complete, and a migration once per
version: progress moves per artifact, not per chunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ProgressSink(Protocol):
    """Told how much work there is, then how much is done as it gets done; may be
    called from several threads."""

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        """Work known to lie ahead (added to what was expected so far)."""

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        """Work done since the last call."""


def tree_size(path: Path) -> int:
    """The bytes of the file at ``path``, or of every file under the folder ``path``."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
