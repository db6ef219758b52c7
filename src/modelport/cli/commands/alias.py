"""``modelport alias set REF ALIAS`` and ``modelport alias remove NAME ALIAS``."""

from __future__ import annotations

import argparse

from modelport.cli.commands.arguments import add_ref, add_who
from modelport.cli.commands.common import Command, Family, open_registry, prints_version
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output


def remove(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        reg.remove_alias(args.name, args.alias, reason=args.reason, actor=args.actor)
    out.emit(
        {"name": args.name, "alias": args.alias, "removed": True},
        [f"{args.name}@{args.alias} removed"],
    )
    return ExitCode.OK


def set_arguments(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    parser.add_argument("alias", metavar="ALIAS", help="a name such as 'champion'")
    add_who(parser)


def remove_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("alias", metavar="ALIAS")
    add_who(parser)


COMMANDS = (
    Family(
        "alias",
        "point a model's alias (champion) at a version, or remove it",
        (
            Command(
                "set",
                "point an alias at a version, moving it from any other",
                set_arguments,
                prints_version(
                    lambda reg, a: reg.set_alias(a.ref, a.alias, reason=a.reason, actor=a.actor)
                ),
            ),
            Command("remove", "remove a model's alias", remove_arguments, remove),
        ),
    ),
)
