"""Option values turned into what the registry takes; bad ones fail naming the option."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from modelport import errors

if TYPE_CHECKING:
    from modelport.policy import MetricGate


def parse_pairs(values: Sequence[str] | None, field_name: str) -> dict[str, str]:
    """``["k=v", ...]`` from repeated options into a dict; each must be KEY=VALUE, once."""
    option = f"--{field_name.rstrip('s')}"
    result: dict[str, str] = {}
    for text in values or ():
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise errors.InvalidInputError(f"{option} {text!r} must be KEY=VALUE", field=field_name)
        if key in result:
            raise errors.InvalidInputError(
                f"{option} {key!r} is given twice", field=f"{field_name}.{key}"
            )
        result[key] = value
    return result


def parse_metrics(values: Sequence[str] | None) -> dict[str, float]:
    """Repeated ``--metric KEY=NUMBER`` into a dict of floats."""
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
    """Repeated ``--metric 'f1>=0.78'`` conditions of the ``gate`` command."""
    from modelport.policy import MetricGate

    return [MetricGate.parse(value, "metric") for value in values]


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
