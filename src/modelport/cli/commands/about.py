"""Commands about modelport itself: ``quickstart`` (a guided tour) and ``support-matrix``."""

from __future__ import annotations

import argparse
from pathlib import Path

from modelport.cli.commands.arguments import no_arguments
from modelport.cli.commands.common import Command, optional_module
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output


def quickstart(args: argparse.Namespace, out: Output) -> int:
    tour = optional_module("modelport.quickstart", "the quickstart")
    directory = Path(args.directory) if args.directory else None
    # With --json the story goes to stderr, so stdout holds only the JSON result.
    echo = out.note if out.as_json else out.line
    path = tour.run_quickstart(directory, echo=echo)
    out.emit({"directory": str(path)}, ())
    return ExitCode.OK


def support_matrix(args: argparse.Namespace, out: Output) -> int:
    from modelport import support_matrix as matrices

    matrix = matrices.build()
    out.emit(matrix.as_dict(), [matrices.render_markdown(matrix)])
    return ExitCode.OK


def quickstart_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        help="where to run it (default: a new folder under the current one)",
    )


COMMANDS = (
    Command(
        "quickstart",
        "run the whole lifecycle on a local registry, explaining each step",
        quickstart_arguments,
        quickstart,
    ),
    Command(
        "support-matrix",
        "print which backend supports what (markdown)",
        no_arguments,
        support_matrix,
    ),
)
