"""Arguments several verbs take: a reference, and who made a change and why."""

from __future__ import annotations

import argparse


def add_ref(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ref", metavar="REF", help="NAME/VERSION, NAME@STAGE, NAME@latest or NAME@ALIAS"
    )


def add_who(parser: argparse.ArgumentParser) -> None:
    """``--reason`` and ``--actor``, recorded in the history with a change."""
    parser.add_argument("--reason", help="why, recorded in the history")
    parser.add_argument(
        "--actor", help="who, recorded in the history (default: $MODELPORT_ACTOR or your user name)"
    )


def no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser
