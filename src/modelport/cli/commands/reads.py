"""The verbs that only read: ``resolve``, ``download``, ``lineage``, ``history``,
``versions``, ``models``."""

from __future__ import annotations

import argparse

from modelport.cli.commands.arguments import add_ref, no_arguments
from modelport.cli.commands.common import Command, open_registry, prints_version
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output
from modelport.cli.progress import add_progress, progress_bar
from modelport.cli.views import VERSIONS_HEADER, event_row, lineage_lines, version_row


def download(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.resolve(args.ref)
        # Download the exact version resolved above, even if the stage moves meanwhile.
        with progress_bar(args, out, "download") as bar:
            path = reg.download(mv.ref, args.dest, overwrite=args.overwrite, progress=bar)
    out.emit(
        {"path": str(path), "model_version": mv},
        [f"{mv.ref} ({mv.digest or 'no digest'}) -> {path}"],
    )
    return ExitCode.OK


def lineage(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        found = reg.lineage(args.ref)
    out.emit(found, lineage_lines(found))
    return ExitCode.OK


def history(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        events = reg.history(args.ref)
    out.emit(events, (event_row(event) for event in events))
    return ExitCode.OK


def versions(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        out.line(VERSIONS_HEADER)
        out.emit_each(reg.versions(args.name, stage=args.stage), lambda mv: mv, version_row)
    return ExitCode.OK


def models(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        out.emit_each(reg.models(), lambda name: name, lambda name: name)
    return ExitCode.OK


def download_arguments(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    parser.add_argument(
        "dest",
        metavar="DEST",
        nargs="?",
        help="directory to write the model's files into (default: the local artifact cache, "
        "see 'modelport cache ls')",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace DEST even if it holds files modelport did not download",
    )
    add_progress(parser)


def history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ref", metavar="REF", help="a version reference, or a model NAME for all of its versions"
    )


def versions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--stage", help="only versions in this stage")


COMMANDS = (
    Command(
        "resolve",
        "show the version a reference points at",
        add_ref,
        prints_version(lambda reg, a: reg.resolve(a.ref)),
    ),
    Command(
        "download", "download a version's files, verifying the digest", download_arguments, download
    ),
    Command("lineage", "show what a version was made from", add_ref, lineage),
    Command("history", "show the audit trail of a version or a model", history_arguments, history),
    Command("versions", "list a model's versions", versions_arguments, versions),
    Command("models", "list the registered models", no_arguments, models),
)
