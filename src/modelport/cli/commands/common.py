"""What every command module uses: the command records, opening the registry, and the
one handler shape most verbs share (call the registry once, print the version)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelport import errors
from modelport.cli.exits import ExitCode
from modelport.cli.output import Output
from modelport.cli.views import version_lines

if TYPE_CHECKING:
    from modelport.models import ModelVersion
    from modelport.registry import Registry

Handler = Callable[[argparse.Namespace, Output], int]
Arguments = Callable[[argparse.ArgumentParser], None]
VersionCall = Callable[["Registry", argparse.Namespace], "ModelVersion"]


@dataclass(frozen=True)
class Command:
    """One verb: ``modelport NAME ...``, its arguments and what runs it."""

    name: str
    summary: str
    arguments: Arguments
    handler: Handler


@dataclass(frozen=True)
class Family:
    """Verbs under one noun: ``modelport alias set``, ``modelport alias remove``."""

    name: str
    summary: str
    commands: tuple[Command, ...]


def open_registry(url: str | None) -> Registry:
    """``connect(url)``; None means ``$MODELPORT_REGISTRY``, else the embedded default."""
    from modelport.connection import connect

    return connect(url)


def prints_version(call: VersionCall) -> Handler:
    """A handler that makes one registry call and prints the version it returns."""

    def handler(args: argparse.Namespace, out: Output) -> int:
        with open_registry(args.registry) as reg:
            mv = call(reg, args)
        out.emit(mv, version_lines(mv))
        return ExitCode.OK

    return handler


def optional_module(name: str, what: str) -> Any:
    """A part of modelport that a build may leave out; missing, it is a usage error."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise errors.InvalidInputError(
            f"{what} is not available in this build of modelport", field="command"
        ) from None
