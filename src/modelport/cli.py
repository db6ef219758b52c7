"""The ``modelport`` command line: one subcommand per registry verb, for people and for CI.

``main(argv)`` returns the exit code (see :data:`EXIT_CODES`) instead of exiting, so
tests and other tools can call it in-process. Importing this module stays cheap:
the registry, its backends and their SDKs are imported inside the commands.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from modelport import errors

if TYPE_CHECKING:
    from modelport.models import Event, Lineage, ModelVersion
    from modelport.policy import MetricGate
    from modelport.registry import Registry

T = TypeVar("T")
PROG = "modelport"
EMBEDDED_DEFAULT_HINT = "mlflow+sqlite:///mlflow.db"  # modelport.connection.EMBEDDED_DEFAULT


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


# -- errors and output ---------------------------------------------------------------


class UsageError(Exception):
    """An argparse error, raised instead of exiting so ``main`` can return its code."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code an error maps to (the table in ``modelport --help``)."""
    if isinstance(exc, (errors.PolicyViolationError, errors.IntegrityError, errors.ConflictError)):
        return ExitCode.FAILED
    if isinstance(exc, (errors.InvalidInputError, UsageError)):
        return ExitCode.USAGE
    if isinstance(exc, errors.NotFoundError):
        return ExitCode.NOT_FOUND
    return ExitCode.BACKEND


@dataclass
class Scrubber:
    """Secrets seen in the URLs of this invocation, replaced wherever they would be printed.

    modelport's own messages already show redacted URLs; this guards what other code says.
    """

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Scrubber:
        found = {secret for text in texts for secret in secrets_in(text)}
        # Longest first, so a whole raw URL is replaced before the secret inside it.
        return cls(sorted((s for s in found if len(s) >= 3), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def secrets_in(text: str) -> list[str]:
    """The password and secret-looking query values of a URL-like text, even a malformed
    one (it may be echoed back in an error precisely because it is malformed)."""
    from modelport.urls import redact

    _, sep, rest = text.partition("://")
    if not sep:
        return []
    found: list[str] = []
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    for pair in rest.partition("?")[2].partition("#")[0].split("&"):
        key, eq, value = pair.partition("=")
        probe = f"x://h?{key}=v"
        if eq and value and redact(probe) != probe:
            found.append(value)
    return found


class Output:
    """Where results and errors go: human text, or JSON on stdout with ``--json``."""

    def __init__(self, *, as_json: bool, scrub: Scrubber, stdout: TextIO, stderr: TextIO) -> None:
        self.as_json = as_json
        self.scrub = scrub
        self.stdout = stdout
        self.stderr = stderr

    def emit(self, data: Any, text: Iterable[str]) -> None:
        """Print ``data`` as JSON with ``--json``, else the human ``text`` lines."""
        if self.as_json:
            self._write(self.stdout, json.dumps(to_jsonable(data), indent=2))
        else:
            for line in text:
                self._write(self.stdout, line)

    def emit_each(
        self, items: Iterable[T], data: Callable[[T], Any], line: Callable[[T], str]
    ) -> None:
        """Stream one line per item for people (a lazy listing prints as it pages); a JSON
        list with ``--json``."""
        if self.as_json:
            self.emit([data(item) for item in items], ())
        else:
            for item in items:
                self._write(self.stdout, line(item))

    def line(self, text: str) -> None:
        """A line for people only (table headers, progress of a story); nothing with --json."""
        if not self.as_json:
            self._write(self.stdout, text)

    def note(self, text: str) -> None:
        """A human remark; stderr, so it never mixes with JSON on stdout."""
        self._write(self.stderr, text)

    def fail(self, exc: BaseException) -> ExitCode:
        code = exit_code_for(exc)
        message = exc.message if isinstance(exc, (errors.ModelportError, UsageError)) else str(exc)
        prog = exc.prog if isinstance(exc, UsageError) else PROG
        if not isinstance(exc, (errors.ModelportError, UsageError)):
            message = f"{type(exc).__name__}: {message}"
        self._write(self.stderr, f"{prog}: error: {message}")
        if self.as_json:
            self._write(self.stdout, json.dumps({"error": error_payload(exc, message, code)}))
        return code

    def _write(self, stream: TextIO, text: str) -> None:
        print(self.scrub(text), file=stream, flush=True)


def error_payload(exc: BaseException, message: str, code: ExitCode) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    for attribute in ("field", "model", "version", "url", "capability", "extra"):
        payload[attribute] = getattr(exc, attribute, None)
    payload["exit_code"] = int(code)
    return payload


def to_jsonable(data: Any) -> Any:
    """pydantic models as ``model_dump(mode="json")`` (aliases such as ``from`` kept)."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", by_alias=True)
    if isinstance(data, dict):
        return {str(key): to_jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [to_jsonable(item) for item in data]
    if isinstance(data, Path):
        return str(data)
    return data


# -- human formatting ----------------------------------------------------------------


def version_lines(mv: ModelVersion) -> Iterator[str]:
    yield mv.ref
    rows: list[tuple[str, object]] = [
        ("stage", mv.stage),
        ("approval", mv.approval.value),
        ("artifact", mv.artifact_uri),
        ("digest", mv.digest),
        ("metrics", _pairs_text(mv.metrics)),
        ("params", _pairs_text(mv.params)),
        ("tags", _pairs_text(mv.tags)),
        ("aliases", ", ".join(mv.aliases)),
        ("description", mv.description),
        ("created", mv.created_at.isoformat() if mv.created_at else None),
        ("updated", mv.updated_at.isoformat() if mv.updated_at else None),
        ("registry", mv.registry),
        ("native", mv.native),
    ]
    for label, value in rows:
        if value:
            yield f"  {label:<12}{value}"


def version_row(mv: ModelVersion) -> str:
    created = mv.created_at.strftime("%Y-%m-%d %H:%M") if mv.created_at else "-"
    digest = mv.digest.removeprefix("sha256:")[:12] if mv.digest else "-"
    return (
        f"{mv.version:<8} {mv.stage:<12} {mv.approval.value:<9} {created:<16} {digest:<12} "
        f"{_pairs_text(mv.metrics)}"
    ).rstrip()


def event_row(event: Event) -> str:
    change = f"{event.from_ or '-'} -> {event.to or '-'}"
    line = f"{event.at.isoformat(timespec='seconds')}  {event.name}/{event.version}  "
    line += f"{event.kind.value:<12} {change}"
    if event.actor:
        line += f"  by {event.actor}"
    if event.reason:
        line += f"  ({event.reason})"
    return line


def lineage_lines(lineage: Lineage) -> Iterator[str]:
    if lineage.is_empty():
        yield "no lineage recorded"
        return
    if lineage.run:
        yield f"run         {lineage.run}"
    if lineage.code:
        code = lineage.code
        yield f"code        {code.repo or '?'} @ {code.commit or '?'}" + (
            f" ({code.branch})" if code.branch else ""
        )
    if lineage.ci:
        yield f"ci          {lineage.ci.provider} {lineage.ci.run_id or ''} {lineage.ci.url or ''}"
    for dataset in lineage.datasets:
        yield f"dataset     {dataset.role}: {dataset.uri}" + (
            f" ({dataset.digest})" if dataset.digest else ""
        )
    for parent in lineage.parents:
        yield f"parent      {parent.name}/{parent.version}" + (
            f" in {parent.registry}" if parent.registry else ""
        )
    if lineage.migrated_from:
        origin = lineage.migrated_from
        yield f"migrated    from {origin.name}/{origin.version} in {origin.registry}"


def _pairs_text(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in sorted(values.items())
    )


# -- input helpers -------------------------------------------------------------------


def parse_pairs(values: Sequence[str] | None, field_name: str) -> dict[str, str]:
    """``["k=v", ...]`` from repeated options into a dict; each must be KEY=VALUE, once."""
    result: dict[str, str] = {}
    for text in values or ():
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise errors.InvalidInputError(
                f"--{field_name.rstrip('s')} {text!r} must be KEY=VALUE", field=field_name
            )
        if key in result:
            raise errors.InvalidInputError(
                f"--{field_name.rstrip('s')} {key!r} is given twice", field=f"{field_name}.{key}"
            )
        result[key] = value
    return result


def parse_metrics(values: Sequence[str] | None) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for key, text in parse_pairs(values, "metrics").items():
        try:
            metrics[key] = float(text)
        except ValueError:
            raise errors.InvalidInputError(
                f"metric {key!r} must be a number, got {text!r}", field=f"metrics.{key}"
            ) from None
    return metrics


def parse_gates(values: Sequence[str]) -> list[MetricGate]:
    from modelport.policy import MetricGate

    return [MetricGate.parse(value, "metric") for value in values]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def open_registry(url: str | None) -> Registry:
    """``connect(url)``; None means ``$MODELPORT_REGISTRY``, else the embedded default."""
    from modelport.connection import connect

    return connect(url)


# -- commands ------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Output], int]


def cmd_register(args: argparse.Namespace, out: Output) -> int:
    metrics = parse_metrics(args.metric)
    params = parse_pairs(args.param, "params")
    tags = parse_pairs(args.tag, "tags")
    lineage = None
    if args.lineage_from_env:
        from modelport.models import Lineage

        lineage = Lineage.from_env()
    with open_registry(args.registry) as reg:
        mv = reg.register(
            args.name,
            args.path,
            metrics=metrics,
            params=params,
            tags=tags,
            description=args.description,
            lineage=lineage,
            actor=args.actor,
        )
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_transition(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.transition(args.ref, args.stage, reason=args.reason, actor=args.actor)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_approve(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.approve(args.ref, reason=args.reason, actor=args.actor)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_reject(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.reject(args.ref, reason=args.reason, actor=args.actor)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_resolve(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.resolve(args.ref)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_download(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.resolve(args.ref)
        # Download the exact version resolved above, even if the stage moves meanwhile.
        path = reg.download(mv.ref, args.dest)
    out.emit(
        {"path": str(path), "model_version": mv},
        [f"{mv.ref} ({mv.digest or 'no digest'}) -> {path}"],
    )
    return ExitCode.OK


def cmd_lineage(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        lineage = reg.lineage(args.ref)
    out.emit(lineage, lineage_lines(lineage))
    return ExitCode.OK


def cmd_history(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        events = reg.history(args.ref)
    out.emit(events, (event_row(event) for event in events))
    return ExitCode.OK


def cmd_versions(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        out.line(
            f"{'VERSION':<8} {'STAGE':<12} {'APPROVAL':<9} {'CREATED':<16} {'DIGEST':<12} METRICS"
        )
        out.emit_each(reg.versions(args.name, stage=args.stage), lambda mv: mv, version_row)
    return ExitCode.OK


def cmd_models(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        out.emit_each(reg.models(), lambda name: name, lambda name: name)
    return ExitCode.OK


def cmd_rollback(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.rollback(args.name, args.stage, reason=args.reason, actor=args.actor)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_set_alias(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        mv = reg.set_alias(args.ref, args.alias, reason=args.reason, actor=args.actor)
    out.emit(mv, version_lines(mv))
    return ExitCode.OK


def cmd_remove_alias(args: argparse.Namespace, out: Output) -> int:
    with open_registry(args.registry) as reg:
        reg.remove_alias(args.name, args.alias, reason=args.reason, actor=args.actor)
    out.emit(
        {"name": args.name, "alias": args.alias, "removed": True},
        [f"{args.name}@{args.alias} removed"],
    )
    return ExitCode.OK


def cmd_gate(args: argparse.Namespace, out: Output) -> int:
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


def cmd_migrate(args: argparse.Namespace, out: Output) -> int:
    migration = optional_module("modelport.migration", "migration")
    with open_registry(args.src_url) as src, open_registry(args.dst_url) as dst:
        report = migration.migrate(
            src,
            dst,
            models=args.model,
            stages=args.stage,
            versions=args.version,
            dry_run=args.dry_run,
            workers=args.workers,
            progress=args.progress,
            actor=args.actor,
        )
    out.emit(report, report.summary().splitlines())
    return ExitCode.OK if report.ok else ExitCode.FAILED


def cmd_diff(args: argparse.Namespace, out: Output) -> int:
    migration = optional_module("modelport.migration", "migration")
    with open_registry(args.src_url) as src, open_registry(args.dst_url) as dst:
        result = migration.diff(src, dst, models=args.model)
    out.emit(result, result.summary().splitlines())
    return ExitCode.OK if result.ok else ExitCode.FAILED


def cmd_quickstart(args: argparse.Namespace, out: Output) -> int:
    quickstart = optional_module("modelport.quickstart", "the quickstart")
    directory = Path(args.directory) if args.directory else None
    # With --json the story goes to stderr, so stdout holds only the JSON result.
    echo = out.note if out.as_json else out.line
    path = quickstart.run_quickstart(directory, echo=echo)
    out.emit({"directory": str(path)}, ())
    return ExitCode.OK


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


def cmd_support_matrix(args: argparse.Namespace, out: Output) -> int:
    from modelport import support_matrix

    matrix = support_matrix.build()
    out.emit(matrix.as_dict(), [support_matrix.render_markdown(matrix)])
    return ExitCode.OK


# -- the parser ----------------------------------------------------------------------


def _global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """``--registry`` and ``--json``, accepted before or after the subcommand."""
    default: Any = argparse.SUPPRESS if in_subcommand else None
    parser.add_argument(
        "--registry",
        metavar="URL",
        default=default,
        help="registry URL (default: $MODELPORT_REGISTRY, else the embedded default "
        f"{EMBEDDED_DEFAULT_HINT})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if in_subcommand else False,
        help='print machine-readable JSON on stdout (errors as {"error": {...}})',
    )


def _exit_codes_text() -> str:
    rows = (
        textwrap.fill(text, 88, initial_indent=f"  {int(code)}  ", subsequent_indent="     ")
        for code, text in EXIT_CODES.items()
    )
    return "exit codes:\n" + "\n".join(rows)


def _epilog() -> str:
    return (
        f"{_exit_codes_text()}\n\n"
        "environment:\n"
        "  MODELPORT_REGISTRY  the default registry URL\n"
        "  MODELPORT_ACTOR     the actor recorded in history (default: your user name)\n"
        "  MODELPORT_DEBUG     set to 1 to see the traceback of an unexpected error\n\n"
        "references: NAME/3 (a version), NAME@production (a stage), NAME@latest, NAME@ALIAS"
    )


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", help="why, recorded in the history")
    parser.add_argument(
        "--actor", help="who, recorded in the history (default: $MODELPORT_ACTOR or your user name)"
    )


def _add_register(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", metavar="NAME", help="model name")
    sub.add_argument("path", metavar="PATH", help="a local file, directory or .tar.gz, or a URI")
    sub.add_argument("--metric", action="append", metavar="KEY=NUMBER", help="repeatable")
    sub.add_argument("--param", action="append", metavar="KEY=VALUE", help="repeatable")
    sub.add_argument("--tag", action="append", metavar="KEY=VALUE", help="repeatable")
    sub.add_argument("--description")
    sub.add_argument(
        "--lineage-from-env",
        action="store_true",
        help="record the git commit and remote, and the CI job (GitHub Actions, GitLab CI, ...)",
    )
    sub.add_argument("--actor", help="who, recorded in the history")


def _add_ref(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "ref", metavar="REF", help="NAME/VERSION, NAME@STAGE, NAME@latest or NAME@ALIAS"
    )


def _add_transition(sub: argparse.ArgumentParser) -> None:
    _add_ref(sub)
    sub.add_argument(
        "stage",
        metavar="STAGE",
        help="development, staging, production, archived or a custom stage",
    )
    _who(sub)


def _add_ref_who(sub: argparse.ArgumentParser) -> None:
    _add_ref(sub)
    _who(sub)


def _add_download(sub: argparse.ArgumentParser) -> None:
    _add_ref(sub)
    sub.add_argument("dest", metavar="DEST", help="directory to write the model's files into")


def _add_history(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "ref", metavar="REF", help="a version reference, or a model NAME for all of its versions"
    )


def _add_versions(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--stage", help="only versions in this stage")


def _add_rollback(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--stage", default="production", help="default: production")
    _who(sub)


def _add_set_alias(sub: argparse.ArgumentParser) -> None:
    _add_ref(sub)
    sub.add_argument("alias", metavar="ALIAS", help="a name such as 'champion'")
    _who(sub)


def _add_remove_alias(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("alias", metavar="ALIAS")
    _who(sub)


def _add_gate(sub: argparse.ArgumentParser) -> None:
    _add_ref(sub)
    sub.add_argument(
        "--metric",
        action="append",
        required=True,
        metavar="GATE",
        help="a condition such as 'f1>=0.78' (repeatable; all must pass)",
    )


def _add_endpoints(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--from", dest="src_url", required=True, metavar="URL", help="source registry")
    sub.add_argument(
        "--to", dest="dst_url", required=True, metavar="URL", help="destination registry"
    )
    sub.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="only this model (repeatable; default: all)",
    )


def _add_migrate(sub: argparse.ArgumentParser) -> None:
    _add_endpoints(sub)
    sub.add_argument(
        "--stage", action="append", metavar="STAGE", help="only versions in this stage (repeatable)"
    )
    sub.add_argument(
        "--version",
        action="append",
        metavar="VERSION",
        help="only this version: '3' of every model, or 'NAME/3' (repeatable)",
    )
    sub.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sub.add_argument(
        "--workers", type=_positive_int, default=4, help="parallel workers (default: 4)"
    )
    sub.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress line on stderr (default: when stderr is a terminal)",
    )
    sub.add_argument("--actor", help="who, recorded in the history of every copy")


def _add_quickstart(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "directory",
        metavar="DIR",
        nargs="?",
        help="where to run it (default: a new folder under the current one)",
    )


def _no_arguments(sub: argparse.ArgumentParser) -> None:
    del sub


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    arguments: Callable[[argparse.ArgumentParser], None]
    handler: Handler


COMMANDS = (
    Command(
        "register",
        "register a local artifact or URI as the model's next version",
        _add_register,
        cmd_register,
    ),
    Command(
        "transition",
        "move a version to a stage, under the registry's policy",
        _add_transition,
        cmd_transition,
    ),
    Command("approve", "approve a version", _add_ref_who, cmd_approve),
    Command(
        "reject",
        "reject a version (a staged version is archived with it)",
        _add_ref_who,
        cmd_reject,
    ),
    Command("resolve", "show the version a reference points at", _add_ref, cmd_resolve),
    Command(
        "download", "download a version's files, verifying the digest", _add_download, cmd_download
    ),
    Command("lineage", "show what a version was made from", _add_ref, cmd_lineage),
    Command("history", "show the audit trail of a version or a model", _add_history, cmd_history),
    Command("versions", "list a model's versions", _add_versions, cmd_versions),
    Command("models", "list the registered models", _no_arguments, cmd_models),
    Command("rollback", "give a stage back to its previous holder", _add_rollback, cmd_rollback),
    Command("set-alias", "point an alias at a version", _add_set_alias, cmd_set_alias),
    Command("remove-alias", "remove a model's alias", _add_remove_alias, cmd_remove_alias),
    Command(
        "gate",
        "check a version's metrics (a CI quality gate; exit 1 on failure)",
        _add_gate,
        cmd_gate,
    ),
    Command(
        "migrate",
        "copy models between registries (plan, copy, verify, resume)",
        _add_migrate,
        cmd_migrate,
    ),
    Command("diff", "show what differs between two registries", _add_endpoints, cmd_diff),
    Command(
        "quickstart",
        "run the whole lifecycle on a local registry, explaining each step",
        _add_quickstart,
        cmd_quickstart,
    ),
    Command(
        "support-matrix",
        "print which backend supports what (markdown)",
        _no_arguments,
        cmd_support_matrix,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    from modelport import __version__

    parser = _Parser(
        prog=PROG,
        description="One provider-neutral CLI over ML model registries.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, in_subcommand=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=_exit_codes_text(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(sub, in_subcommand=True)
        command.arguments(sub)
        sub.set_defaults(handler=command.handler)
    return parser


# -- entry point ---------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns its exit code (the console script exits with it)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    environment = [os.environ.get("MODELPORT_REGISTRY", "")]
    out = Output(
        as_json="--json" in arguments,
        scrub=Scrubber.from_texts(arguments + environment),
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
    )
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


if __name__ == "__main__":
    sys.exit(main())
