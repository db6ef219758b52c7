"""``modelport gate REF --metric 'f1>=0.78'``: the CI quality gate (exit 1 on failure)."""

from __future__ import annotations

import argparse

from modelport.cli.commands.arguments import add_ref
from modelport.cli.commands.common import Command, open_registry
from modelport.cli.exits import ExitCode
from modelport.cli.output import PROG, Output
from modelport.cli.parsing import parse_gates


def gate(args: argparse.Namespace, out: Output) -> int:
    gates = parse_gates(args.metric)  # bad gates fail before any backend call
    with open_registry(args.registry) as reg:
        mv = reg.resolve(args.ref)
    results = []
    for gate in gates:
        failure = gate.failure(mv.metrics)
        results.append(
            {
                "gate": str(gate),
                "metric": gate.metric,
                "value": mv.metrics.get(gate.metric),
                "passed": failure is None,
                "failure": failure,
            }
        )
    passed = all(result["passed"] for result in results)
    lines = [f"{mv.ref}: {'passed' if passed else 'FAILED'}"] + [
        f"  {'ok  ' if r['passed'] else 'FAIL'} {r['gate']}"
        + (f"  ({r['failure']})" if r["failure"] else f"  ({r['metric']}={r['value']:g})")
        for r in results
    ]
    out.emit({"ref": args.ref, "passed": passed, "gates": results, "model_version": mv}, lines)
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
