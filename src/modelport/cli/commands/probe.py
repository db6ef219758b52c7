"""``modelport probe REF [--download] [--slo 'p95<200ms' ...]``: measure how fast a
registry resolves (or downloads) a reference under concurrency; exit 1 on a breached SLO."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from modelport.cli.commands.arguments import add_ref
from modelport.cli.commands.common import Command, open_registry
from modelport.cli.exits import ExitCode
from modelport.cli.output import PROG, Output
from modelport.cli.parsing import positive_int

if TYPE_CHECKING:
    from modelport.probe import ProbeResult


def probe(args: argparse.Namespace, out: Output) -> int:
    from modelport.probe import measure, parse_slos  # pydantic: not at CLI import

    slos = parse_slos(args.slo or (), "--slo")  # malformed: fails before any call
    with open_registry(args.registry) as reg:
        result = measure(
            reg,
            args.ref,
            concurrency=args.concurrency,
            requests=args.requests,
            download=args.download,
        )
    checks = [(slo.text, slo.failure(result)) for slo in slos]
    passed = all(failure is None for _, failure in checks)
    out.emit(
        {
            **result.as_dict(),
            "slos": [
                {"slo": text, "passed": failure is None, "failure": failure}
                for text, failure in checks
            ],
            "passed": passed,
        },
        _lines(result, checks),
    )
    if not passed:
        out.note(f"{PROG}: probe of {args.ref} breached an SLO")
    return ExitCode.OK if passed else ExitCode.FAILED


def _lines(result: ProbeResult, checks: list[tuple[str, str | None]]) -> list[str]:
    lines = [
        f"{result.ref}: {result.requests} {result.operation}s, concurrency {result.concurrency}, "
        f"{result.elapsed_s:.2f}s",
        f"  p50 {_ms(result.p50_ms)}  p95 {_ms(result.p95_ms)}  "
        f"{result.ops_per_second:.1f} ops/s  "
        f"errors {result.error_rate:.1%} ({result.errors}/{result.requests})",
    ]
    if result.first_error is not None:
        lines.append(f"  first error: {result.first_error}")
    lines += [
        f"  PASS {text}" if failure is None else f"  FAIL {failure}" for text, failure in checks
    ]
    return lines


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def arguments(parser: argparse.ArgumentParser) -> None:
    add_ref(parser)
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=16,
        metavar="N",
        help="requests in flight at once (default: 16)",
    )
    parser.add_argument(
        "--requests",
        type=positive_int,
        default=200,
        metavar="N",
        help="requests in all (default: 200)",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download the artifact (into temporary folders, removed) instead of resolving only",
    )
    parser.add_argument(
        "--slo",
        action="append",
        metavar="SLO",
        help="a bound such as 'p95<200ms', 'p50<50ms', 'errors<0.5%%' or 'ops>100' "
        "(repeatable; exit 1 when one is breached)",
    )


COMMANDS = (
    Command(
        "probe",
        "measure resolve (or download) latency and throughput under concurrency; check SLOs",
        arguments,
        probe,
    ),
)
