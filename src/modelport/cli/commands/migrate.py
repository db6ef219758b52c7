"""``modelport migrate`` and ``modelport diff``: between two registries."""

from __future__ import annotations

import argparse

from modelport.cli.commands.common import Command, open_registry, optional_module
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output
from modelport.cli.parsing import positive_int
from modelport.cli.progress import add_progress, progress_bar


def migrate(args: argparse.Namespace, out: Output) -> int:
    migration = optional_module("modelport.migration", "migration")
    with (
        open_registry(args.src_url) as src,
        open_registry(args.dst_url) as dst,
        progress_bar(args, out, "migrate", by_version=True) as bar,
    ):
        report = migration.migrate(
            src,
            dst,
            models=args.model,
            stages=args.stage,
            versions=args.version,
            dry_run=args.dry_run,
            workers=args.workers,
            progress=False if bar is None else bar,  # the CLI draws; the library stays quiet
            actor=args.actor,
        )
    out.emit(report, report.summary().splitlines())
    return ExitCode.OK if report.ok else ExitCode.FAILED


def diff(args: argparse.Namespace, out: Output) -> int:
    migration = optional_module("modelport.migration", "migration")
    with open_registry(args.src_url) as src, open_registry(args.dst_url) as dst:
        result = migration.diff(src, dst, models=args.model)
    out.emit(result, result.summary().splitlines())
    return ExitCode.OK if result.ok else ExitCode.FAILED


def endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="src_url", required=True, metavar="URL", help="source registry"
    )
    parser.add_argument(
        "--to", dest="dst_url", required=True, metavar="URL", help="destination registry"
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="only this model (repeatable; default: all)",
    )


def migrate_arguments(parser: argparse.ArgumentParser) -> None:
    endpoint_arguments(parser)
    parser.add_argument(
        "--stage", action="append", metavar="STAGE", help="only versions in this stage (repeatable)"
    )
    parser.add_argument(
        "--version",
        action="append",
        metavar="VERSION",
        help="only this version: '3' of every model, or 'NAME/3' (repeatable)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument(
        "--workers", type=positive_int, default=4, help="parallel workers (default: 4)"
    )
    add_progress(parser)
    parser.add_argument("--actor", help="who, recorded in the history of every copy")


COMMANDS = (
    Command(
        "migrate",
        "copy models between registries (plan, copy, verify, resume)",
        migrate_arguments,
        migrate,
    ),
    Command("diff", "show what differs between two registries", endpoint_arguments, diff),
)
