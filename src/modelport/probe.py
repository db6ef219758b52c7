"""Load-probe a registry: resolve (or download) one reference many times, concurrently,
and measure latency, throughput and errors; check the result against SLOs.

``modelport probe`` is the CLI over `measure` and `parse_slo`.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelport.errors import InvalidInputError
from modelport.policy import MetricGate
from modelport.refs import parse_ref

if TYPE_CHECKING:
    from modelport.registry import Registry

# The unit each metric may carry, and the factor from it to the metric's own unit.
_UNITS: dict[str, dict[str, float]] = {
    "p50": {"": 1.0, "ms": 1.0, "s": 1000.0},
    "p95": {"": 1.0, "ms": 1.0, "s": 1000.0},
    "errors": {"": 1.0, "%": 1.0},
    "ops": {"": 1.0, "/s": 1.0},
}
_SLO = re.compile(
    r"\s*(p50|p95|errors|ops)\s*(<=|>=|<|>)\s*((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*"
    r"(ms|s|%|/s)?\s*"
)
_SLO_EXAMPLES = "'p95<200ms', 'p50<50ms', 'errors<0.5%' or 'ops>100'"


@dataclass(frozen=True)
class ProbeResult:
    """What a probe measured. Latencies are of the requests that succeeded, in ms (None
    when none did); ``ops_per_second`` counts successful requests over the wall time."""

    ref: str
    operation: str  # "resolve" or "download"
    concurrency: int
    requests: int
    errors: int
    elapsed_s: float
    p50_ms: float | None
    p95_ms: float | None
    first_error: str | None

    @property
    def succeeded(self) -> int:
        return self.requests - self.errors

    @property
    def error_rate(self) -> float:
        """Failed requests as a fraction of all requests (0.005 is 0.5 %)."""
        return self.errors / self.requests if self.requests else 0.0

    @property
    def ops_per_second(self) -> float:
        return self.succeeded / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def value(self, metric: str) -> float | None:
        """The measure an SLO names: ``p50``/``p95`` in ms, ``errors`` in %, ``ops`` per s."""
        values = {
            "p50": self.p50_ms,
            "p95": self.p95_ms,
            "errors": self.error_rate * 100,
            "ops": self.ops_per_second,
        }
        return values[metric]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "operation": self.operation,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "elapsed_s": self.elapsed_s,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "ops_per_second": self.ops_per_second,
            "first_error": self.first_error,
        }


@dataclass(frozen=True)
class Slo:
    """``p95<200ms``: a bound on one measure of a probe, built by `parse_slo`.
    ``bound`` holds it in the measure's own unit (ms, %, per second)."""

    bound: MetricGate
    text: str

    def failure(self, result: ProbeResult) -> str | None:
        """Why ``result`` breaches this SLO, or None when it holds."""
        metric = self.bound.metric
        value = result.value(metric)
        if value is None:
            return f"{metric} unmeasured: no request succeeded (SLO {self.text})"
        if self.bound.failure({metric: value}) is not None:
            return f"{metric}={_shown(metric, value)} breaches {self.text}"
        return None


def parse_slo(text: object, option: str = "slo") -> Slo:
    """``"p95<200ms"``, ``"errors<0.5%"``, ``"ops>100"`` as an `Slo`; ``option``
    names the input in the error a malformed one raises (the CLI says ``--slo``)."""
    found = _SLO.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidInputError(
            f"{option} {text!r} is not an SLO like {_SLO_EXAMPLES}", field="slo"
        )
    metric, op, number, unit = found.group(1, 2, 3, 4)
    factors = _UNITS[metric]
    if (unit or "") not in factors:
        allowed = ", ".join(repr(u) for u in factors if u)
        raise InvalidInputError(
            f"{option} {text!r}: {metric} takes the unit {allowed}, not {unit!r}", field="slo"
        )
    threshold = float(number) * factors[unit or ""]
    if not math.isfinite(threshold):
        raise InvalidInputError(f"{option} {text!r}: the bound must be finite", field="slo")
    return Slo(MetricGate(metric, op, threshold), found.group(0).strip())


def parse_slos(texts: Sequence[str], option: str = "slo") -> list[Slo]:
    return [parse_slo(text, option) for text in texts]


def measure(
    registry: Registry,
    ref: str,
    *,
    concurrency: int = 16,
    requests: int = 200,
    download: bool = False,
) -> ProbeResult:
    """Resolve ``ref`` (with ``download=True``, download it into a temporary folder that
    is removed) ``requests`` times from ``concurrency`` threads and measure it.

    ``ref`` is resolved once before the clock starts, so a reference that does not
    resolve raises its error instead of measuring failures only.
    """
    parse_ref(ref)
    _check_count(concurrency, "concurrency")
    _check_count(requests, "requests")
    registry.resolve(ref)
    with tempfile.TemporaryDirectory(prefix="modelport-probe-") as root:
        request = _downloader(registry, ref, Path(root)) if download else _resolver(registry, ref)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="probe") as pool:
            outcomes = list(pool.map(_timed(request), range(requests)))
        elapsed = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for seconds, error in outcomes if error is None)
    errors = [error for _, error in outcomes if error is not None]
    return ProbeResult(
        ref=ref,
        operation="download" if download else "resolve",
        concurrency=concurrency,
        requests=requests,
        errors=len(errors),
        elapsed_s=elapsed,
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
        first_error=errors[0] if errors else None,
    )


Request = Callable[[int], None]


def _resolver(registry: Registry, ref: str) -> Request:
    def request(_: int) -> None:
        registry.resolve(ref)

    return request


def _downloader(registry: Registry, ref: str, root: Path) -> Request:
    def request(index: int) -> None:
        dest = root / f"request-{index}"
        try:
            registry.download(ref, dest)
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    return request


def _timed(request: Request) -> Callable[[int], tuple[float, str | None]]:
    """The request's duration and, when it failed, its error as text."""

    def run(index: int) -> tuple[float, str | None]:
        started = time.perf_counter()
        try:
            request(index)
        except Exception as exc:  # a probe counts failures; it does not stop at one
            return time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
        return time.perf_counter() - started, None

    return run


def _percentile(sorted_values: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile: the smallest value at least ``percent`` % are <= to."""
    if not sorted_values:
        return None
    rank = math.ceil(percent / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def _shown(metric: str, value: float) -> str:
    if metric in ("p50", "p95"):
        return f"{value:.1f}ms"
    if metric == "errors":
        return f"{value:.2f}%"
    return f"{value:.1f}/s"


def _check_count(value: object, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(
            f"{field} must be an integer of at least 1, got {value!r}", field=field
        )
