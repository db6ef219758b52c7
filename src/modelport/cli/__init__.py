"""The ``modelport`` command line: one subcommand per registry verb, for people and for CI.

``main(argv)`` returns the exit code (see `EXIT_CODES`) instead of exiting, so
tests and other tools can call it in-process. Importing the CLI stays cheap: the
registry, its backends and their SDKs are imported inside the commands.

A tour, in reading order:

- ``app``: ``main``: parse, run the handler, map errors to exit codes;
- ``exits``: the exit codes and which error gets which;
- ``parser``: global options and one subparser per command;
- ``commands/``: one module per verb or small family (``register``, ``lifecycle``,
  ``reads``, ``alias``, ``gate``, ``migrate``, ``about``), each with its handlers,
  their arguments and a ``COMMANDS`` tuple (``common`` and ``arguments`` hold what
  several share);
- ``output``, ``views``: JSON or human text; ``parsing``: option values;
  secrets are kept out of everything printed by `modelport.secrets.Scrubber`.
"""

from __future__ import annotations

from modelport.cli.app import main
from modelport.cli.commands import COMMANDS, Command, Family, command_names
from modelport.cli.exits import EXIT_CODES, ExitCode, exit_code_for
from modelport.cli.parser import build_parser
from modelport.secrets import secrets_in

__all__ = [
    "COMMANDS",
    "EXIT_CODES",
    "Command",
    "ExitCode",
    "Family",
    "build_parser",
    "command_names",
    "exit_code_for",
    "main",
    "secrets_in",
]
