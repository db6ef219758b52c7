"""``modelport register NAME PATH``: a new version from a local artifact or a URI."""

from __future__ import annotations

import argparse

from modelport.cli.commands.common import Command, open_registry
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output
from modelport.cli.parsing import parse_metrics, parse_pairs
from modelport.cli.progress import add_progress, progress_bar
from modelport.cli.views import version_lines


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="model name")
    parser.add_argument("path", metavar="PATH", help="a local file, directory or .tar.gz, or a URI")
    parser.add_argument("--metric", action="append", metavar="KEY=NUMBER", help="repeatable")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE", help="repeatable")
    parser.add_argument("--tag", action="append", metavar="KEY=VALUE", help="repeatable")
    parser.add_argument("--description")
    parser.add_argument(
        "--lineage-from-env",
        action="store_true",
        help="record the git commit and remote, and the CI job (GitHub Actions, GitLab CI, ...)",
    )
    parser.add_argument("--actor", help="who, recorded in the history")
    add_progress(parser)


def register(args: argparse.Namespace, out: Output) -> int:
    # Parse every option before the registry is opened: bad input costs no backend call.
    metrics = parse_metrics(args.metric)
    params = parse_pairs(args.param, "params")
    tags = parse_pairs(args.tag, "tags")
    lineage = None
    if args.lineage_from_env:
        from modelport.models import Lineage

        lineage = Lineage.from_env()
    with open_registry(args.registry) as reg, progress_bar(args, out, "register") as bar:
        mv = reg.register(
            args.name,
            args.path,
            metrics=metrics,
            params=params,
            tags=tags,
            description=args.description,
            lineage=lineage,
            actor=args.actor,
            progress=bar,
        )
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


COMMANDS = (
    Command(
        "register",
        "register a local artifact or URI as the model's next version",
        arguments,
        register,
    ),
)
