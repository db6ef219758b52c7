"""``main(argv)``: parse, run one handler, turn what it raised into an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from modelport import errors
from modelport.cli.exits import ExitCode, UsageError
from modelport.cli.output import PROG, Output
from modelport.cli.parser import build_parser
from modelport.secrets import Scrubber


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns its exit code (the console script exits with it)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    environment = [
        os.environ.get(name, "") for name in ("MODELPORT_REGISTRY", "MLFLOW_TRACKING_URI")
    ]
    out = Output(
        # Known before parsing, so that a usage error is reported as JSON too.
        as_json="--json" in arguments,
        scrub=Scrubber.from_texts(arguments + environment),
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
    )
    if not arguments:  # a first try: show what there is to do, not one missing argument
        out.line(build_parser().format_help().rstrip())
        return ExitCode.USAGE
    try:
        args = build_parser().parse_args(arguments)
    except UsageError as exc:
        return out.fail(exc)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else ExitCode.OK
    out.as_json = args.json
    try:
        code: int = args.handler(args, out)
    except KeyboardInterrupt:
        out.note(f"{PROG}: interrupted")
        return ExitCode.INTERRUPTED
    except errors.ModelportError as exc:
        return out.fail(exc)
    except Exception as exc:
        if os.environ.get("MODELPORT_DEBUG"):
            raise
        return out.fail(exc)  # one line, secrets scrubbed; MODELPORT_DEBUG=1 shows the traceback
    return code
