"""One operation in its own process, paused at a chosen function for the parent to kill.

``python -m tests.crash.crash_child --pause-after MODULE:NAME OPERATION ARGS...`` wraps
``NAME`` (``function`` or ``Class.method``) of ``MODULE``: its first call runs, then the
child prints ``PAUSED`` and sleeps until killed. Operations (registries as
:func:`tests.migration.kill_child.open_registry` specs):

- ``download REGISTRY REF DEST``
- ``register REGISTRY NAME SOURCE``
- ``migrate SOURCE_REGISTRY DESTINATION_REGISTRY MODEL``
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

from modelport.migration import migrate
from tests.migration.kill_child import open_registry
from tests.subprocesses import imported_line

PAUSED = "PAUSED"
PAUSE_SECONDS = 60  # the parent kills it long before; a lost child still ends


def pause_after(target: str) -> None:
    """Make the first call of ``target`` announce itself and never return."""
    module_name, _, qualified = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *path, attribute = qualified.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, attribute)
    first = threading.Lock()

    @functools.wraps(original)
    def paused(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if first.acquire(blocking=False):
            print(PAUSED, flush=True)
            time.sleep(PAUSE_SECONDS)
        return result

    setattr(owner, attribute, paused)


def run(operation: str, args: list[str]) -> None:
    if operation == "download":
        registry, ref, dest = args
        open_registry(registry).download(ref, Path(dest))
    elif operation == "register":
        registry, name, source = args
        open_registry(registry).register(name, Path(source), actor="crash-test")
    elif operation == "migrate":
        source, destination, model = args
        src, dst = open_registry(source), open_registry(destination)
        migrate(src, dst, models=[model], workers=2, progress=False)
    else:
        raise SystemExit(f"unknown operation {operation!r}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-after", required=True)
    parser.add_argument("operation")
    parser.add_argument("args", nargs="*")
    options = parser.parse_args(argv)
    print(imported_line(), flush=True)
    pause_after(options.pause_after)
    run(options.operation, options.args)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
