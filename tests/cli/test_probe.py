"""``modelport probe`` and modelport.probe: concurrent resolves and downloads measured,
SLOs checked (exit 1 on a breach, 2 on a malformed one)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.cli.exits import ExitCode
from modelport.probe import ProbeResult, measure, parse_slo
from tests.cli.conftest import FakeConnect, Result

Cli = Callable[..., Result]
SMALL = ("--concurrency", "4", "--requests", "20")


@pytest.fixture
def promoted(registry: mp.Registry, model_dir: Path) -> mp.ModelVersion:
    mv = registry.register("fraud", model_dir)
    registry.approve(mv.ref, actor="qa")
    return registry.transition(mv.ref, "production", actor="ci")


def as_json(result: Result) -> Any:
    return json.loads(result.out)


@pytest.mark.usefixtures("promoted")
def test_probe_resolves_concurrently_and_prints_the_measures(cli: Cli) -> None:
    result = cli("probe", "fraud@production", *SMALL)
    assert result.code == ExitCode.OK, result.err
    first, second = result.out.splitlines()[:2]
    assert first.startswith("fraud@production: 20 resolves, concurrency 4")
    for measure_name in ("p50 ", "p95 ", "ops/s", "errors 0.0% (0/20)"):
        assert measure_name in second


@pytest.mark.usefixtures("promoted")
def test_probe_json_shape(cli: Cli) -> None:
    data = as_json(cli("--json", "probe", "fraud@production", *SMALL, "--slo", "errors<1%"))
    assert data["ref"] == "fraud@production"
    assert data["operation"] == "resolve"
    assert (data["concurrency"], data["requests"], data["errors"]) == (4, 20, 0)
    assert data["error_rate"] == 0.0
    assert data["p50_ms"] <= data["p95_ms"]
    assert data["ops_per_second"] > 0
    assert data["first_error"] is None
    assert data["slos"] == [{"slo": "errors<1%", "passed": True, "failure": None}]
    assert data["passed"] is True


@pytest.mark.usefixtures("promoted")
def test_slos_that_hold_exit_0(cli: Cli) -> None:
    result = cli("probe", "fraud@production", *SMALL, "--slo", "p95<60s", "--slo", "ops>0.001")
    assert result.code == ExitCode.OK, result.err
    assert "PASS p95<60s" in result.out
    assert "PASS ops>0.001" in result.out


@pytest.mark.usefixtures("promoted")
def test_a_breached_slo_exits_1(cli: Cli) -> None:
    result = cli("probe", "fraud@production", *SMALL, "--slo", "errors<1%", "--slo", "p50<0ms")
    assert result.code == ExitCode.FAILED
    assert "PASS errors<1%" in result.out
    assert "FAIL p50=" in result.out
    assert "breaches p50<0ms" in result.out
    assert "breached an SLO" in result.err
    data = as_json(cli("--json", "probe", "fraud@production", *SMALL, "--slo", "ops>1e12"))
    assert data["passed"] is False
    assert data["slos"][0]["failure"].startswith("ops=")


@pytest.mark.parametrize("slo", ["p95<", "p99<200ms", "latency<2", "p95<200%", "errors<1ms", "ops"])
def test_a_malformed_slo_exits_2_naming_the_option_before_opening_the_registry(
    cli: Cli, connect: FakeConnect, slo: str
) -> None:
    result = cli("--json", "probe", "fraud@production", "--slo", slo)
    assert result.code == ExitCode.USAGE
    assert "--slo" in result.err
    assert as_json(result)["error"]["field"] == "slo"
    assert connect.asked == []


@pytest.mark.parametrize("option", ["--concurrency", "--requests"])
def test_counts_must_be_positive(cli: Cli, option: str) -> None:
    result = cli("probe", "fraud@production", option, "0")
    assert result.code == ExitCode.USAGE
    assert option in result.err


def test_a_reference_that_does_not_resolve_exits_3(cli: Cli) -> None:
    assert cli("probe", "nothing@production", *SMALL).code == ExitCode.NOT_FOUND


@pytest.mark.usefixtures("promoted")
def test_download_probe_removes_its_folders(cli: Cli) -> None:
    before = set(Path(tempfile.gettempdir()).glob("modelport-probe-*"))
    data = as_json(cli("--json", "probe", "fraud@production", *SMALL, "--download"))
    assert data["operation"] == "download"
    assert data["errors"] == 0
    assert set(Path(tempfile.gettempdir()).glob("modelport-probe-*")) == before


@pytest.mark.usefixtures("promoted")
def test_failures_are_counted_not_raised(
    registry: mp.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = iter(range(1000))
    real_resolve = registry.resolve

    def flaky(ref: str) -> mp.ModelVersion:
        if next(calls) % 2 == 0:  # the first, untimed resolve succeeds
            return real_resolve(ref)
        raise mp.TransientBackendError("throttled")

    monkeypatch.setattr(registry, "resolve", flaky)
    result = measure(registry, "fraud@production", concurrency=1, requests=10)
    assert result.errors == 5
    assert result.error_rate == 0.5
    assert result.first_error == "TransientBackendError: throttled"
    failure = parse_slo("errors<0.5%").failure(result)
    assert failure == "errors=50.00% breaches errors<0.5%"


def test_slo_units_and_missing_latencies() -> None:
    assert parse_slo("p95 < 0.2s").bound.threshold == 200.0
    assert parse_slo("p50<=50").bound.threshold == 50.0
    assert parse_slo("ops>=.5/s").bound.threshold == 0.5
    nothing = ProbeResult("m@production", "resolve", 1, 2, 2, 0.1, None, None, "boom")
    assert parse_slo("p95<1s").failure(nothing) == (
        "p95 unmeasured: no request succeeded (SLO p95<1s)"
    )
    assert nothing.ops_per_second == 0.0
