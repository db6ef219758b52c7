"""A promoter process for the race tests: its own client of the registry, driven round by
round over a queue (spawned once, so each round costs no interpreter start-up)."""

from __future__ import annotations

import traceback
from typing import Any

import modelport as mp
from modelport.testing.conformance.settings import FAST_RETRY

ROUND_TIMEOUT = 120.0  # seconds any one wait may take before the round counts as failed


def serve(url: str, name: str, commands: Any, results: Any, start: Any, done: Any) -> None:
    """For each version received: wait for the round's start, promote it, wait until every
    writer is done, then report the holder this client sees (or the error met)."""
    reg = mp.connect(url, retry=FAST_RETRY)
    try:
        while (version := commands.get(timeout=ROUND_TIMEOUT)) is not None:
            results.put(promote_and_look(reg, name, version, start, done))
    finally:
        reg.close()


def promote_and_look(reg: mp.Registry, name: str, version: str, start: Any, done: Any) -> str:
    outcome = "ok"
    start.wait(ROUND_TIMEOUT)
    try:
        reg.transition(f"{name}/{version}", "production", actor=f"pipeline-{version}")
    except Exception:
        outcome = "error: " + traceback.format_exc(limit=3)
    done.wait(ROUND_TIMEOUT)
    if outcome != "ok":
        return outcome
    try:
        return "holder " + reg.resolve(f"{name}@production").version
    except Exception:
        return "error: " + traceback.format_exc(limit=3)
