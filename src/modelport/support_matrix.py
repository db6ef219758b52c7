"""The support matrix: which backend can do what, read from the backends' own declarations.

``python -m modelport.support_matrix > docs/support-matrix.md`` regenerates the docs page;
``modelport support-matrix`` prints the same table. A backend whose extra is not
installed cannot be inspected and says so; one whose module is not part of this
build is left out.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modelport.backends import BUILTIN, PLANNED, BackendEntry
from modelport.backends.base import Backend, Capability

NOT_INSTALLED = "(extra not installed)"
YES, NO = "yes", "no"

TITLES = {"memory": "memory", "mlflow": "MLflow", "sagemaker": "SageMaker"}

CAPABILITY_MEANINGS: dict[Capability, str] = {
    Capability.ALIASES: "`NAME@ALIAS` resolves through the backend's own aliases",
    Capability.REGISTER_URI: "registers an existing remote artifact URI as it is",
    Capability.CUSTOM_STAGES: "holds stages beyond development, staging, production, archived",
    Capability.NATIVE_STAGES: "stages are visible in the backend's own UI and API",
    Capability.NATIVE_APPROVAL: "approval is the backend's own field, not a tag",
    Capability.TRAINING_RUNS: "`lineage.run` points at the backend's own training runs or jobs",
}


@dataclass(frozen=True)
class Operation:
    """A verb (or one form of it) and the capability it needs; None: every backend has it."""

    label: str
    needs: Capability | None = None


OPERATIONS = (
    Operation("`register` a local file, directory or `.tar.gz`"),
    Operation("`register` an existing URI (`s3://`, `runs:/`, ...)", Capability.REGISTER_URI),
    Operation("`transition` to development, staging, production, archived"),
    Operation("`transition` to a custom stage", Capability.CUSTOM_STAGES),
    Operation("`approve`, `reject`"),
    Operation("`resolve` `NAME/3`, `NAME@STAGE`, `NAME@latest`"),
    Operation("`resolve` `NAME@ALIAS`", Capability.ALIASES),
    Operation("`download` (digest verified)"),
    Operation("`lineage`, `history`, `versions`, `models`"),
    Operation("`rollback`"),
    Operation("`migrate` from and to"),
)


@dataclass(frozen=True)
class Column:
    """One backend: its declared capabilities, or None when its extra is not installed."""

    scheme: str
    title: str
    extra: str | None
    capabilities: frozenset[Capability] | None

    def cell(self, needs: Capability | None) -> str:
        if self.capabilities is None:
            return NOT_INSTALLED
        return YES if needs is None or needs in self.capabilities else NO


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    planned: tuple[tuple[str, str], ...]  # (scheme, title)

    def operation_rows(self) -> Iterator[tuple[Operation, list[str]]]:
        for operation in OPERATIONS:
            yield operation, [column.cell(operation.needs) for column in self.columns]

    def capability_rows(self) -> Iterator[tuple[Capability, list[str]]]:
        for capability in Capability:
            yield capability, [column.cell(capability) for column in self.columns]

    def as_dict(self) -> dict[str, Any]:
        return {
            "backends": [
                {
                    "scheme": c.scheme,
                    "title": c.title,
                    "extra": c.extra,
                    "installed": c.capabilities is not None,
                    "capabilities": (
                        None if c.capabilities is None else sorted(str(x) for x in c.capabilities)
                    ),
                }
                for c in self.columns
            ],
            "operations": [
                {"operation": op.label, "needs": None if op.needs is None else str(op.needs)}
                for op in OPERATIONS
            ],
            "planned": [{"scheme": scheme, "title": title} for scheme, title in self.planned],
        }


def build() -> Matrix:
    """Inspect every built-in backend this build ships (imports their SDKs if installed)."""
    columns = [column_for(scheme, entry) for scheme, entry in BUILTIN.items()]
    return Matrix(
        columns=tuple(c for c in columns if c is not None),
        planned=tuple(PLANNED.items()),
    )


def column_for(scheme: str, entry: BackendEntry) -> Column | None:
    title = TITLES.get(scheme, scheme)
    if any(importlib.util.find_spec(module) is None for module in entry.requires):
        return Column(scheme, title, entry.extra, None)
    module_name, _, class_name = entry.target.partition(":")
    if importlib.util.find_spec(module_name) is None:
        return None  # not part of this build
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise TypeError(f"{entry.target} is not a modelport Backend")
    return Column(scheme, title, entry.extra, frozenset(cls.capabilities))


def render_markdown(matrix: Matrix) -> str:
    header = ["", *(f"{c.title} (`{c.scheme}://`)" for c in matrix.columns)]
    installs = ["install", *(_install(c) for c in matrix.columns)]
    lines = [
        "<!-- Generated by `python -m modelport.support_matrix`: do not edit by hand. -->",
        "",
        "# Support matrix",
        "",
        "What each backend can do, read from the capabilities its class declares. Every",
        "backend has the core verbs; an operation that needs a capability the backend lacks",
        "raises `UnsupportedOperation` naming it, before any write.",
        "",
        "## Operations",
        "",
        _row(["Operation", *header[1:], "needs"]),
        _rule(len(header) + 1),
        _row([installs[0], *installs[1:], ""]),
    ]
    for operation, cells in matrix.operation_rows():
        needs = f"`{operation.needs}`" if operation.needs else "-"
        lines.append(_row([operation.label, *cells, needs]))
    lines += [
        "",
        "## Capabilities",
        "",
        _row(["Capability", *header[1:], "meaning"]),
        _rule(len(header) + 1),
    ]
    for capability, cells in matrix.capability_rows():
        lines.append(_row([f"`{capability}`", *cells, CAPABILITY_MEANINGS[capability]]))
    if matrix.planned:
        planned = ", ".join(f"{title} (`{scheme}://`)" for scheme, title in matrix.planned)
        lines += ["", f"Planned, not in this release: {planned}."]
    return "\n".join(lines) + "\n"


def _install(column: Column) -> str:
    return f"`pip install 'modelport[{column.extra}]'`" if column.extra else "built in"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(width: int) -> str:
    return "|" + "---|" * width


if __name__ == "__main__":
    print(render_markdown(build()), end="")
