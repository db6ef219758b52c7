"""``modelport gate REF --metric 'f1>=0.78'``: the CI quality gate (exit 1 on failure)."""

from __future__ import annotations

import argparse

from modelport.cli.commands.arguments import add_ref
from modelport.cli.commands.common import Command, open_registry
from modelport.cli.exits import ExitCode
from modelport.cli.output import PROG, Output
from modelport.cli.parsing import parse_gates


def gate(args: argparse.Namespace, out: Output) -> int:
    conditions = [str(g) for g in parse_gates(args.metric)]  # malformed: fails before any call
    with open_registry(args.registry) as reg:
        mv = reg.resolve(args.ref)
        # Gate the exact version resolved above, the one reported, even if the stage moves.
        failures = reg.gate(mv.ref, conditions)
    passed = not failures
    if passed:
        lines = [f"{mv.ref}: passed {', '.join(conditions)}"]
    else:
        lines = [f"{mv.ref}: FAILED"]
        lines += [f"  FAIL {failure.removeprefix(f'{mv.ref}: ')}" for failure in failures]
    out.emit(
        {
            "ref": args.ref,
            "passed": passed,
            "gates": conditions,
            "failures": failures,
            "model_version": mv,
        },
        lines,
    )
    if not passed:
        out.note(f"{PROG}: gate failed for {mv.ref}")
    return ExitCode.OK if passed else ExitCode.FAILED


def arguments(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    parser.add_argument(
        "--metric",
        action="append",
        required=True,
        metavar="GATE",
        help="a condition such as 'f1>=0.78' (repeatable; all must pass)",
    )


COMMANDS = (
    Command(
        "gate", "check a version's metrics (a CI quality gate; exit 1 on failure)", arguments, gate
    ),
)
