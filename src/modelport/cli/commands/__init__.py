"""Every verb of the CLI, one module per verb or small family, in the order ``--help``
lists them. A module holds its handlers, their arguments and a ``COMMANDS`` tuple."""

from __future__ import annotations

from collections.abc import Iterator

from modelport.cli.commands import (
    about,
    alias,
    cache,
    gate,
    lifecycle,
    migrate,
    probe,
    reads,
    register,
)
from modelport.cli.commands.common import Command, Family

COMMANDS: tuple[Command | Family, ...] = (
    *register.COMMANDS,
    *lifecycle.COMMANDS,
    *reads.COMMANDS,
    *cache.COMMANDS,
    *alias.COMMANDS,
    *gate.COMMANDS,
    *probe.COMMANDS,
    *migrate.COMMANDS,
    *about.COMMANDS,
)


def command_names() -> Iterator[str]:
    """Each verb as typed: ``register``, ..., ``alias set``, ``alias remove``."""
    for entry in COMMANDS:
        if isinstance(entry, Family):
            yield from (f"{entry.name} {command.name}" for command in entry.commands)
        else:
            yield entry.name


__all__ = ["COMMANDS", "Command", "Family", "command_names"]
