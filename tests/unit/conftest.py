"""Fixtures of the unit tests: a small artifact and a memory:// registry holding one model
whose only version is in production."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelport as mp

MODEL = "fraud"
FAST_RETRY = mp.RetryPolicy(attempts=3, initial_wait=0, max_wait=0, deadline=5)


@pytest.fixture
def registry(model_dir: Path) -> mp.Registry:
    """``fraud/1``, approved and in production, on a fresh memory:// registry."""
    reg = mp.connect("memory://", retry=FAST_RETRY)
    reg.register(MODEL, model_dir, metrics={"f1": 0.8}, params={"depth": 3}, tags={"team": "x"})
    reg.approve(f"{MODEL}/1", reason="ok", actor="qa")
    reg.transition(f"{MODEL}/1", "production", reason="go", actor="ci")
    return reg
