"""The verbs that move a version through its life, each one registry call printing the
version it leaves: ``transition``, ``approve``, ``reject``, ``rollback``."""

from __future__ import annotations

import argparse

from modelport.cli.commands.arguments import add_ref, add_who
from modelport.cli.commands.common import Command, prints_version


def transition_arguments(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    parser.add_argument(
        "stage",
        metavar="STAGE",
        help="development, staging, production, archived or a declared custom stage",
    )
    add_who(parser)


def ref_and_who(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    add_who(parser)


def rollback_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--stage", default="production", help="default: production")
    add_who(parser)


COMMANDS = (
    Command(
        "transition",
        "move a version to a stage, under the registry's policy",
        transition_arguments,
        prints_version(
            lambda reg, a: reg.transition(a.ref, a.stage, reason=a.reason, actor=a.actor)
        ),
    ),
    Command(
        "approve",
        "approve a version",
        ref_and_who,
        prints_version(lambda reg, a: reg.approve(a.ref, reason=a.reason, actor=a.actor)),
    ),
    Command(
        "reject",
        "reject a version (a staged version is archived with it)",
        ref_and_who,
        prints_version(lambda reg, a: reg.reject(a.ref, reason=a.reason, actor=a.actor)),
    ),
    Command(
        "rollback",
        "give a stage back to its previous holder",
        rollback_arguments,
        prints_version(
            lambda reg, a: reg.rollback(a.name, a.stage, reason=a.reason, actor=a.actor)
        ),
    ),
)
