"""The argparse parser: global options, one subparser per command, the help epilog."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any, NoReturn

from modelport.cli.commands import COMMANDS, Command, Family
from modelport.cli.exits import EXIT_CODES, UsageError
from modelport.cli.output import PROG

EMBEDDED_DEFAULT_HINT = "mlflow+sqlite:///mlflow.db"  # modelport.connection.EMBEDDED_DEFAULT


class Parser(argparse.ArgumentParser):
    """Raises `UsageError` instead of exiting, so ``main`` can return the code."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    from modelport import __version__

    parser = Parser(
        prog=PROG,
        description="One provider-neutral CLI over ML model registries.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser, in_subcommand=False)
    verbs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for entry in COMMANDS:
        sub = add_subcommand(verbs, entry.name, entry.summary)
        if isinstance(entry, Family):
            add_family(sub, entry)
        else:
            add_command(sub, entry)
    return parser


def add_subcommand(verbs: Any, name: str, summary: str) -> argparse.ArgumentParser:
    """A subparser that also takes the global options (after the verb)."""
    sub: argparse.ArgumentParser = verbs.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=exit_codes_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(sub, in_subcommand=True)
    return sub


def add_command(sub: argparse.ArgumentParser, command: Command) -> None:
    command.arguments(sub)
    sub.set_defaults(handler=command.handler)


def add_family(sub: argparse.ArgumentParser, family: Family) -> None:
    verbs = sub.add_subparsers(dest=f"{family.name}_command", metavar="COMMAND", required=True)
    for command in family.commands:
        add_command(add_subcommand(verbs, command.name, command.summary), command)


def add_global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """``--registry`` and ``--json``, accepted before or after the subcommand."""
    # A subcommand's defaults must not overwrite what was given before the verb.
    parser.add_argument(
        "--registry",
        metavar="URL",
        default=argparse.SUPPRESS if in_subcommand else None,
        help="registry URL, or an MLflow tracking URI such as sqlite:///mlflow.db (default: "
        f"$MODELPORT_REGISTRY, else $MLFLOW_TRACKING_URI, else {EMBEDDED_DEFAULT_HINT})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if in_subcommand else False,
        help='print machine-readable JSON on stdout (errors as {"error": {...}})',
    )


def exit_codes_text() -> str:
    rows = (
        textwrap.fill(text, 88, initial_indent=f"  {int(code)}  ", subsequent_indent="     ")
        for code, text in EXIT_CODES.items()
    )
    return "exit codes:\n" + "\n".join(rows)


def epilog() -> str:
    return (
        f"{exit_codes_text()}\n\n"
        "environment:\n"
        "  MODELPORT_REGISTRY   the default registry URL\n"
        "  MLFLOW_TRACKING_URI  the default when MODELPORT_REGISTRY is unset (MLflow)\n"
        "  MODELPORT_ACTOR      the actor recorded in history (default: your user name)\n"
        "  MODELPORT_DEBUG      set to 1 to see the traceback of an unexpected error\n\n"
        "references: NAME/3 (a version), NAME@production (a stage), NAME@latest, NAME@ALIAS"
    )
