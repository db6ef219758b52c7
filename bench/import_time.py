"""Import time of modelport next to the SDKs it wraps, measured in the same run.

Usage: python bench/import_time.py [--runs N]

Each figure comes from a fresh interpreter run with ``python -X importtime -c "import X"``;
the median of N runs is shown. For modelport, the figure of the target is the cumulative
time of the ``modelport`` line. For every module, "import cost" is the sum of the cumulative
times of the top-level imports the statement triggers (the module and any parent packages
it needs, such as ``google`` and ``google.cloud``), which is what a user pays.
Target: ``import modelport`` <= 50 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from dataclasses import dataclass

TARGET_MS = 50.0
SDKS = ("mlflow", "boto3", "google.cloud.aiplatform_v1", "azure.ai.ml")
OTHERS = ("pydantic", "tenacity")


@dataclass(frozen=True)
class Line:
    cumulative_us: int
    depth: int
    name: str


def importtime_lines(statement: str) -> list[Line]:
    """The ``-X importtime`` report of a fresh interpreter running ``statement``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = []
    for raw in done.stderr.splitlines():
        if not raw.startswith("import time:") or "cumulative" in raw:
            continue
        _, cumulative, name = raw[len("import time:") :].split("|", 2)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2  # " " + two spaces per level
        lines.append(Line(int(cumulative), depth, name.strip()))
    return lines


def startup_modules() -> set[str]:
    """What the interpreter imports before running any statement (site, encodings...)."""
    return {line.name for line in importtime_lines("pass")}


def import_cost_ms(lines: list[Line], startup: set[str]) -> float:
    top = [ln for ln in lines if ln.depth == 0 and ln.name not in startup]
    return sum(ln.cumulative_us for ln in top) / 1000


def own_line_ms(lines: list[Line], module: str) -> float:
    """The cumulative time of ``module``'s own line (its imports included)."""
    found = [ln.cumulative_us for ln in lines if ln.name == module]
    if not found:
        raise SystemExit(f"no -X importtime line for {module!r}")
    return found[0] / 1000


def is_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


@dataclass(frozen=True)
class Result:
    label: str
    own_ms: float | None  # the module's own -X importtime line
    cost_ms: float  # everything the import statement triggered
    best_ms: float  # the lowest import cost: the least disturbed run


def measure(module: str, runs: int, startup: set[str], statement: str = "") -> Result:
    statement = statement or f"import {module}"
    importtime_lines(statement)  # warm the file-system cache; not counted
    own, cost = [], []
    for _ in range(runs):
        lines = importtime_lines(statement)
        cost.append(import_cost_ms(lines, startup))
        if any(ln.name == module for ln in lines):
            own.append(own_line_ms(lines, module))
    return Result(
        statement,
        statistics.median(own) if own else None,
        statistics.median(cost),
        min(cost),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per module (median shown)")
    args = parser.parse_args()

    startup = startup_modules()
    print(f"python {sys.version.split()[0]}, {args.runs} runs each; times in ms")
    print("own line: median cumulative of the module's line; cost: median of everything the")
    print("statement imports; best: lowest cost seen; x modelport: cost / modelport's cost\n")
    core = measure("modelport", args.runs, startup)
    rows = [
        core,
        measure(
            "modelport.connection",
            args.runs,
            startup,
            "import modelport; modelport.connect",  # first use: the facade and pydantic
        ),
    ]
    for module in (*OTHERS, *SDKS):
        if is_installed(module):
            rows.append(measure(module, args.runs, startup))
        else:
            print(f"{'import ' + module:<40} not installed")
    print()
    print(f"{'statement':<40} {'own line':>9} {'cost':>9} {'best':>8} {'x modelport':>12}")
    for row in rows:
        own = f"{row.own_ms:9.1f}" if row.own_ms is not None else f"{'-':>9}"
        ratio = row.cost_ms / core.cost_ms if core.cost_ms else float("nan")
        print(f"{row.label:<40} {own} {row.cost_ms:9.1f} {row.best_ms:8.1f} {ratio:12.1f}")

    figure = core.own_ms if core.own_ms is not None else core.cost_ms
    verdict = "OK" if figure <= TARGET_MS else "OVER TARGET"
    print(
        f"\nimport modelport: {figure:.1f} ms cumulative (target <= {TARGET_MS:.0f} ms): {verdict}"
    )
    return 0 if figure <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
