"""Progress bars: drawn on a terminal by the CLI only, never with --json or off a terminal."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from modelport.cli import ExitCode, main
from modelport.migration import migrate
from tests.cli.conftest import FakeConnect, Result, memory_registry

Cli = Callable[..., Result]


class Terminal(io.StringIO):
    """stderr as a terminal would be."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def tty_cli() -> Callable[..., Result]:
    def run(*argv: str) -> Result:
        out, err = io.StringIO(), Terminal()
        code = main(list(argv), stdout=out, stderr=err)
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture(autouse=True)
def cache_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPORT_CACHE", str(tmp_path / "cache"))


def artifact_bytes(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())


def rate_line(err: str, verb: str) -> re.Match[str]:
    found = re.search(rf"^{verb}: ([\d.]+) MB, ([\d.]+) MB/s in ([\d.]+) s$", err, re.M)
    assert found is not None, err
    return found


def test_register_and_download_draw_a_bar_on_a_terminal(
    tty_cli: Cli, model_dir: Path, tmp_path: Path
) -> None:
    registered = tty_cli("register", "fraud", str(model_dir))
    assert registered.code == ExitCode.OK, registered.err
    assert "register" in registered.err
    assert "\r" in registered.err
    size_kb = f"{artifact_bytes(model_dir) / 1000:.2f}k"
    assert size_kb in registered.err  # the bar counts the artifact's bytes
    rate_line(registered.err, "register")
    downloaded = tty_cli("download", "fraud/1", str(tmp_path / "out"))
    assert downloaded.code == ExitCode.OK, downloaded.err
    rate_line(downloaded.err, "download")
    assert "fraud/1" in downloaded.out
    assert "MB/s" not in downloaded.out


def test_no_bar_with_json_even_on_a_terminal(tty_cli: Cli, model_dir: Path) -> None:
    registered = tty_cli("--json", "register", "fraud", str(model_dir))
    downloaded = tty_cli("--json", "download", "fraud/1")
    for result in (registered, downloaded):
        assert result.code == ExitCode.OK
        assert result.err == ""
        json.loads(result.out)  # one JSON document, nothing else


def test_no_bar_off_a_terminal(cli: Cli, model_dir: Path, tmp_path: Path) -> None:
    assert cli("register", "fraud", str(model_dir)).err == ""
    assert cli("download", "fraud/1", str(tmp_path / "out")).err == ""


def test_no_progress_turns_the_bar_off(tty_cli: Cli, model_dir: Path) -> None:
    assert tty_cli("register", "fraud", str(model_dir), "--no-progress").err == ""


def test_the_bar_rate_is_the_rate_line_rate() -> None:
    """The closing line and the bar's last draw read one counter and one clock."""
    from modelport.cli.progress import Bar

    stream = Terminal()
    bar = Bar(stream, verb="migrate", by_version=True)
    bar.expect(versions=2)
    bar.advance(versions=1, nbytes=3_000_000)
    bar.advance(versions=1, nbytes=1_000_000)
    bar.close(completed=True)
    drawn = stream.getvalue()
    line = rate_line(drawn, "migrate")
    assert line.group(1) == "4.0"
    last_draw = drawn.rsplit("\r", 1)[-1].splitlines()[0]
    assert f"{line.group(1)} MB, {line.group(2)} MB/s" in last_draw


def test_a_cache_hit_downloads_no_bytes(tty_cli: Cli, model_dir: Path) -> None:
    tty_cli("register", "fraud", str(model_dir))
    first = tty_cli("download", "fraud/1")
    again = tty_cli("download", "fraud/1")
    size_kb = f"{artifact_bytes(model_dir) / 1000:.2f}k"
    assert size_kb in first.err
    assert size_kb not in again.err
    assert rate_line(again.err, "download").group(1) == "0.0"


def test_migrate_draws_versions_and_bytes_and_the_summary_agrees(
    tty_cli: Cli, connect: FakeConnect, model_dir: Path
) -> None:
    src, dst = memory_registry(), memory_registry()
    connect.registries.update({"memory://src": src, "memory://dst": dst})
    src.register("fraud", model_dir)
    src.register("fraud", model_dir)
    result = tty_cli("migrate", "--from", "memory://src", "--to", "memory://dst")
    assert result.code == ExitCode.OK, result.err
    assert "2/2" in result.err  # versions, with the total from the plan
    bar_megabytes = rate_line(result.err, "migrate").group(1)
    assert f"{bar_megabytes} MB copied" in result.out  # the report counts the same bytes
    assert "\r" not in result.out


def test_migrate_json_on_a_terminal_prints_one_document(
    tty_cli: Cli, connect: FakeConnect, model_dir: Path
) -> None:
    src, dst = memory_registry(), memory_registry()
    connect.registries.update({"memory://src": src, "memory://dst": dst})
    src.register("fraud", model_dir)
    result = tty_cli("--json", "migrate", "--from", "memory://src", "--to", "memory://dst")
    assert result.code == ExitCode.OK
    assert result.err == ""
    assert json.loads(result.out)["counts"]["created"] == 1


class Counting:
    def __init__(self) -> None:
        self.expected = [0, 0]
        self.done = [0, 0]

    def expect(self, *, versions: int = 0, nbytes: int = 0) -> None:
        self.expected[0] += versions
        self.expected[1] += nbytes

    def advance(self, *, versions: int = 0, nbytes: int = 0) -> None:
        self.done[0] += versions
        self.done[1] += nbytes


def test_library_calls_report_to_a_sink_and_draw_nothing(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = memory_registry()
    size = artifact_bytes(model_dir)
    registering, downloading, migrating = Counting(), Counting(), Counting()
    mv = reg.register("fraud", model_dir, progress=registering)
    reg.download(mv.ref, tmp_path / "out", progress=downloading)
    migrate(reg, memory_registry(), progress=migrating)
    assert registering.expected == registering.done == [1, size]
    assert downloading.done == [1, size]
    assert migrating.expected[0] == migrating.done[0] == 1
    assert migrating.done[1] == size
    assert capsys.readouterr() == ("", "")
