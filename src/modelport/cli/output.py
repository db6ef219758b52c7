"""Where results and errors go: human text, or one JSON document on stdout with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from modelport import errors
from modelport.cli.exits import ExitCode, UsageError, exit_code_for
from modelport.secrets import Scrubber

T = TypeVar("T")
PROG = "modelport"


class Output:
    """Prints results for people or as JSON; every line passes the secret scrubber."""

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
        """Report ``exc`` as one line on stderr (and as JSON with --json); its exit code."""
        code = exit_code_for(exc)
        if isinstance(exc, (errors.ModelportError, UsageError)):
            message = exc.message
        else:  # someone else's error: its type tells what went wrong
            message = f"{type(exc).__name__}: {exc}"
        prog = exc.prog if isinstance(exc, UsageError) else PROG
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
