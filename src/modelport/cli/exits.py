"""Exit codes, and which error maps to which: the table ``modelport --help`` prints."""

from __future__ import annotations

from enum import IntEnum

from modelport import errors


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    BACKEND = 4
    INTERRUPTED = 130


EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "a check failed: metric gate, policy, integrity (digest), conflict, "
    "or a migration with conflicts or failures",
    ExitCode.USAGE: "bad input or usage: a malformed reference, URL, stage, name or option",
    ExitCode.NOT_FOUND: "not found: no such model, version, stage holder or alias",
    ExitCode.BACKEND: "backend error, unsupported operation, or the backend's extra is not "
    "installed",
}


class UsageError(Exception):
    """An argparse error, raised instead of exiting so ``main`` can return its code."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code an error maps to."""
    if isinstance(exc, (errors.PolicyViolationError, errors.IntegrityError, errors.ConflictError)):
        return ExitCode.FAILED
    if isinstance(exc, (errors.InvalidInputError, UsageError)):
        return ExitCode.USAGE
    if isinstance(exc, errors.NotFoundError):
        return ExitCode.NOT_FOUND
    return ExitCode.BACKEND
