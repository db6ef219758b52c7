"""The ``modelport`` CLI: every verb, exit codes, ``--json`` shapes, secrets never printed."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelport as mp
from modelport.backends.memory import MemoryBackend
from modelport.cli import COMMANDS, EXIT_CODES, ExitCode, secrets_in
from modelport.connection import EMBEDDED_DEFAULT
from tests.cli.conftest import FakeConnect, Result, memory_registry

Cli = Callable[..., Result]


def as_json(result: Result) -> Any:
    return json.loads(result.out)


def registered(cli: Cli, model_dir: Path, name: str = "fraud", *extra: str) -> dict[str, Any]:
    result = cli("--json", "register", name, str(model_dir), *extra)
    assert result.code == ExitCode.OK, result.err
    data: dict[str, Any] = as_json(result)
    return data


def promote(cli: Cli, ref: str) -> None:
    for argv in (
        ["approve", ref],
        ["transition", ref, "staging"],
        ["transition", ref, "production"],
    ):
        assert cli(*argv).code == ExitCode.OK


# -- register and the write verbs ------------------------------------------------------


def test_register_prints_the_new_version_as_json(
    cli: Cli, registry: mp.Registry, model_dir: Path
) -> None:
    data = registered(
        cli,
        model_dir,
        "fraud",
        "--metric",
        "f1=0.81",
        "--metric",
        "auc=0.9",
        "--param",
        "lr=0.1",
        "--tag",
        "team=risk",
        "--description",
        "first",
    )
    assert data["name"] == "fraud"
    assert data["version"] == "1"
    assert data["stage"] == "development"
    assert data["approval"] == "pending"
    assert data["metrics"] == {"f1": 0.81, "auc": 0.9}
    assert data["params"] == {"lr": "0.1"}
    assert data["tags"] == {"team": "risk"}
    assert data["description"] == "first"
    assert data["digest"].startswith("sha256:")
    assert registry.resolve("fraud/1").digest == data["digest"]


def test_register_prints_a_readable_record(cli: Cli, model_dir: Path) -> None:
    result = cli("register", "fraud", str(model_dir), "--metric", "f1=0.81")
    assert result.code == ExitCode.OK
    assert result.out.splitlines()[0] == "fraud/1"
    assert "f1=0.81" in result.out
    assert "stage       development" in result.out


@pytest.mark.parametrize(
    ("option", "field"),
    [
        (["--metric", "f1=high"], "metrics.f1"),
        (["--metric", "f1"], "metrics"),
        (["--metric", "f1=nan"], "metrics.f1"),
        (["--tag", "=x"], "tags"),
        (["--param", "a=1", "--param", "a=2"], "params.a"),
    ],
)
def test_register_bad_key_value_exits_2_naming_the_field(
    cli: Cli, registry: mp.Registry, model_dir: Path, option: list[str], field: str
) -> None:
    result = cli("--json", "register", "fraud", str(model_dir), *option)
    assert result.code == ExitCode.USAGE
    assert as_json(result)["error"]["field"] == field
    assert list(registry.models()) == []


def test_register_records_lineage_from_the_ci_environment(
    cli: Cli, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SHA", "0123abcd")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/fraud")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    registered(cli, model_dir, "fraud", "--lineage-from-env")
    lineage = as_json(cli("--json", "lineage", "fraud/1"))
    assert lineage["code"]["commit"] == "0123abcd"
    assert lineage["ci"]["provider"] == "github-actions"
    assert lineage["ci"]["run_id"] == "42"
    human = cli("lineage", "fraud/1").out
    assert "0123abcd" in human


def test_lineage_without_records_says_so(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    assert cli("lineage", "fraud/1").out.strip() == "no lineage recorded"


def test_production_without_approval_exits_1(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    result = cli("--json", "transition", "fraud/1", "production")
    assert result.code == ExitCode.FAILED
    error = as_json(result)["error"]
    assert error["type"] == "PolicyViolationError"
    assert error["model"] == "fraud"
    assert error["version"] == "1"
    assert "approved" in result.err
    assert result.err.startswith("modelport: error: ")
    assert len(result.err.strip().splitlines()) == 1


def test_approve_transition_and_resolve(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    approved = as_json(cli("--json", "approve", "fraud/1", "--reason", "QA", "--actor", "alice"))
    assert approved["approval"] == "approved"
    promote(cli, "fraud/1")
    resolved = as_json(cli("--json", "resolve", "fraud@production"))
    assert resolved["version"] == "1"
    assert resolved["stage"] == "production"


def test_reject_archives_a_staged_version_and_blocks_promotion(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    assert cli("transition", "fraud/1", "staging").code == ExitCode.OK
    rejected = as_json(cli("--json", "reject", "fraud/1", "--reason", "bias"))
    assert (rejected["approval"], rejected["stage"]) == ("rejected", "archived")
    assert cli("transition", "fraud/1", "staging").code == ExitCode.FAILED


def test_rollback_returns_production_to_the_previous_holder(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    registered(cli, model_dir)
    promote(cli, "fraud/1")
    promote(cli, "fraud/2")
    result = cli("--json", "rollback", "fraud")
    assert result.code == ExitCode.OK, result.err
    assert as_json(result)["version"] == "1"
    assert as_json(cli("--json", "resolve", "fraud@production"))["version"] == "1"


def test_rollback_without_an_earlier_holder_exits_3(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    result = cli("--json", "rollback", "fraud", "--stage", "staging")
    assert result.code == ExitCode.NOT_FOUND
    assert as_json(result)["error"]["type"] == "VersionNotFoundError"


def test_alias_set_then_resolve_then_remove(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    result = cli("--json", "alias", "set", "fraud/1", "champion", "--actor", "alice")
    assert result.code == ExitCode.OK, result.err
    assert as_json(result)["aliases"] == ["champion"]
    assert as_json(cli("--json", "resolve", "fraud@champion"))["version"] == "1"
    removed = cli("--json", "alias", "remove", "fraud", "champion")
    assert as_json(removed) == {"name": "fraud", "alias": "champion", "removed": True}
    assert cli("resolve", "fraud@champion").code == ExitCode.NOT_FOUND
    assert cli("alias", "set", "fraud/1", "production").code == ExitCode.USAGE


def test_alias_needs_a_verb_and_the_old_spelling_is_gone(cli: Cli) -> None:
    for argv in (["alias"], ["alias", "move", "fraud/1", "x"], ["set-alias", "fraud/1", "x"]):
        result = cli("--json", *argv)
        assert result.code == ExitCode.USAGE, argv
        assert as_json(result)["error"]["type"] == "UsageError"


# -- reads -----------------------------------------------------------------------------


def test_history_lists_events_with_their_from_field(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir)
    promote(cli, "fraud/1")
    events = as_json(cli("--json", "history", "fraud/1"))
    assert [e["kind"] for e in events] == ["registered", "approved", "transitioned", "transitioned"]
    assert events[-1]["from"] == "staging"
    assert events[-1]["to"] == "production"
    assert events[0]["actor"] == "cli-test"
    human = cli("history", "fraud").out.splitlines()
    assert len(human) == 4
    assert "staging -> production" in human[-1]


def test_versions_lists_and_filters_by_stage(cli: Cli, model_dir: Path) -> None:
    for _ in range(3):
        registered(cli, model_dir)
    assert cli("transition", "fraud/2", "staging").code == ExitCode.OK
    every = as_json(cli("--json", "versions", "fraud"))
    assert [v["version"] for v in every] == ["1", "2", "3"]
    staged = as_json(cli("--json", "versions", "fraud", "--stage", "staging"))
    assert [v["version"] for v in staged] == ["2"]
    table = cli("versions", "fraud").out.splitlines()
    assert table[0].split()[:3] == ["VERSION", "STAGE", "APPROVAL"]
    assert [row.split()[0] for row in table[1:]] == ["1", "2", "3"]


def test_models_lists_names(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir, "fraud")
    registered(cli, model_dir, "churn")
    assert as_json(cli("--json", "models")) == ["churn", "fraud"]
    assert cli("models").out.split() == ["churn", "fraud"]


def test_download_writes_the_verified_files(cli: Cli, model_dir: Path, tmp_path: Path) -> None:
    registered(cli, model_dir)
    dest = tmp_path / "deploy"
    result = cli("--json", "download", "fraud@latest", str(dest))
    assert result.code == ExitCode.OK, result.err
    data = as_json(result)
    assert Path(data["path"]) == dest
    assert data["model_version"]["version"] == "1"
    assert (dest / "weights.bin").read_bytes() == (model_dir / "weights.bin").read_bytes()


def test_download_of_a_tampered_artifact_exits_1_and_writes_nothing(
    cli: Cli, registry: mp.Registry, model_dir: Path, tmp_path: Path
) -> None:
    mv = registry.resolve(f"fraud/{registered(cli, model_dir)['version']}")
    backend = registry.backend
    assert isinstance(backend, MemoryBackend)
    files = backend._blobs[mv.artifact_uri]
    files["weights.bin"] += b"tampered"
    dest = tmp_path / "deploy"
    result = cli("--json", "download", "fraud/1", str(dest))
    assert result.code == ExitCode.FAILED
    assert as_json(result)["error"]["type"] == "IntegrityError"
    assert not dest.exists()
    assert list(tmp_path.glob(".deploy*")) == []


@pytest.mark.parametrize(
    ("argv", "error_type"),
    [
        (["resolve", "ghost/1"], "ModelNotFoundError"),
        (["resolve", "fraud/9"], "VersionNotFoundError"),
        (["resolve", "fraud@production"], "VersionNotFoundError"),
        (["history", "fraud/9"], "VersionNotFoundError"),
        (["versions", "ghost"], "ModelNotFoundError"),
    ],
)
def test_missing_things_exit_3(cli: Cli, model_dir: Path, argv: list[str], error_type: str) -> None:
    registered(cli, model_dir)
    result = cli("--json", *argv)
    assert result.code == ExitCode.NOT_FOUND
    assert as_json(result)["error"]["type"] == error_type


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["resolve", "fraud"], "ref"),
        (["resolve", "bad name!/1"], "ref"),
        (["resolve", "fraud@Production"], "ref"),
        (["approve", "fraud/"], "ref"),
        (["transition", "fraud/1", "Prod!"], "stage"),
        (["versions", "fraud", "--stage", "UPPER"], "stage"),
        (["rollback", "bad name!"], "name"),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    cli: Cli, model_dir: Path, argv: list[str], field: str
) -> None:
    registered(cli, model_dir)
    result = cli(*argv, "--json")
    assert result.code == ExitCode.USAGE, result.err
    assert as_json(result)["error"]["field"] == field
    assert result.err.startswith("modelport: error: ")


# -- the CI quality gate ---------------------------------------------------------------


def test_gate_passes_when_every_metric_meets_its_condition(cli: Cli, model_dir: Path) -> None:
    registered(cli, model_dir, "fraud", "--metric", "f1=0.81", "--metric", "auc=0.92")
    result = cli("--json", "gate", "fraud@latest", "--metric", "f1>=0.78", "--metric", "auc>0.9")
    assert result.code == ExitCode.OK
    data = as_json(result)
    assert data["passed"] is True
    assert data["gates"] == ["f1>=0.78", "auc>0.9"]
    assert data["failures"] == []
    assert data["model_version"]["version"] == "1"
    human = cli("gate", "fraud@latest", "--metric", "f1>=0.78").out
    assert human.strip() == "fraud/1: passed f1>=0.78"


@pytest.mark.parametrize("gate", ["f1>=0.9", "precision>0.5", "f1<0.5"])
def test_gate_failure_exits_1(cli: Cli, model_dir: Path, gate: str) -> None:
    registered(cli, model_dir, "fraud", "--metric", "f1=0.81")
    result = cli("gate", "fraud/1", "--metric", "f1>=0.5", "--metric", gate)
    assert result.code == ExitCode.FAILED
    assert "FAIL" in result.out
    assert "gate failed" in result.err
    assert len(result.out.strip().splitlines()) == 2  # the verdict, then the one failure
    data = as_json(cli("--json", "gate", "fraud/1", "--metric", "f1>=0.5", "--metric", gate))
    assert data["passed"] is False
    assert len(data["failures"]) == 1
    assert gate in data["failures"][0]


def test_bad_gate_exits_2_before_opening_the_registry(cli: Cli, connect: FakeConnect) -> None:
    result = cli("--json", "gate", "fraud/1", "--metric", "f1 about 0.8")
    assert result.code == ExitCode.USAGE
    assert as_json(result)["error"]["field"] == "metric"
    assert connect.asked == []


def test_gate_requires_a_metric(cli: Cli) -> None:
    assert cli("gate", "fraud/1").code == ExitCode.USAGE


# -- global options, usage, help ---------------------------------------------------------


def test_registry_and_json_are_accepted_after_the_subcommand(
    cli: Cli, connect: FakeConnect, model_dir: Path
) -> None:
    registered(cli, model_dir)
    result = cli("resolve", "fraud/1", "--registry", "memory://", "--json")
    assert as_json(result)["version"] == "1"
    assert connect.asked[-1] == "memory://"
    cli("--registry", "memory://?page_size=2", "models")
    assert connect.asked[-1] == "memory://?page_size=2"
    cli("models")
    assert connect.asked[-1] is None  # connect() then reads $MODELPORT_REGISTRY


def test_usage_errors_exit_2_with_a_json_error(cli: Cli) -> None:
    for argv in (["frobnicate"], ["resolve"], ["migrate", "--workers", "0"]):
        result = cli("--json", *argv)
        assert result.code == ExitCode.USAGE
        assert as_json(result)["error"]["type"] == "UsageError"
        assert result.err.count("\n") == 1


def test_help_documents_every_exit_code_and_the_default_registry(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("--help").code == ExitCode.OK
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code)} {' '.join(meaning.split())}" in text
    assert EMBEDDED_DEFAULT in text
    for command in COMMANDS:
        assert command.name in text


def test_version(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--version").code == ExitCode.OK
    assert mp.__version__ in capsys.readouterr().out


# -- secrets -------------------------------------------------------------------------


SECRET = "hunter2-very-secret"


@pytest.mark.parametrize(
    "url",
    [
        f"memory://alice:{SECRET}@somewhere",
        f"ftp://alice:{SECRET}@host/x",
        f"memory://?token={SECRET}",
        f"mlflow+https://alice:{SECRET}@127.0.0.1:1 spaced",
    ],
)
@pytest.mark.usefixtures("real_connect")
def test_a_password_in_the_url_never_appears_in_output(url: str, cli: Cli) -> None:
    result = cli("--json", "--registry", url, "models")  # real connect: the URL is refused
    assert result.code in (ExitCode.USAGE, ExitCode.BACKEND)
    assert SECRET not in result.out + result.err
    assert "***" in result.out + result.err


def test_unexpected_errors_are_one_line_with_secrets_scrubbed(
    cli: Cli, connect: FakeConnect, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"mlflow+https://alice:{SECRET}@registry.example:443/?api_token=tok-{SECRET}"

    def leaky(raw: str | None = None, **_: object) -> mp.Registry:
        raise RuntimeError(f"SDK failed for {raw} (password {SECRET})")

    monkeypatch.setattr(sys.modules["modelport.connection"], "connect", leaky)
    result = cli("--json", "--registry", url, "models")
    assert result.code == ExitCode.BACKEND
    assert SECRET not in result.out + result.err
    assert as_json(result)["error"]["type"] == "RuntimeError"
    assert "registry.example" in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        (
            "mlflow+https://alice:pw-123@h:1/x?api_token=abc&page=2",
            ["alice:pw-123", "pw-123", "abc"],
        ),
        ("--registry=memory://u:s3cret@h with space", ["u:s3cret", "s3cret"]),
        ("memory://u:s3c/ret@h", ["u:s3c/ret", "s3c/ret"]),
        ("x://h?endpoint=http%3A%2F%2Fu%3Ap4ss%40h", ["u:p4ss", "p4ss", "u%3Ap4ss"]),
        ("sagemaker://us-east-1?bucket=b&prefix=p", []),
        ("azureml://registry/x?sas=sig-value#frag", ["sig-value"]),
        ("not a url", []),
    ],
)
def test_secrets_are_found_even_in_malformed_urls(text: str, secrets: list[str]) -> None:
    assert secrets_in(text) == secrets


@pytest.mark.usefixtures("real_connect")
def test_a_password_in_the_environment_url_never_appears_in_output(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELPORT_REGISTRY", f"memory://alice:{SECRET}@host")
    result = cli("--json", "models")
    assert result.code == ExitCode.USAGE
    assert SECRET not in result.out + result.err


# -- migrate, diff, quickstart, support-matrix -----------------------------------------------


@pytest.mark.parametrize("argv", [["migrate"], ["diff"]])
def test_migration_commands_say_when_the_module_is_missing(
    cli: Cli, connect: FakeConnect, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "modelport.migration", None)
    result = cli("--json", *argv, "--from", "memory://", "--to", "memory://")
    assert result.code == ExitCode.USAGE
    assert "migration is not available" in as_json(result)["error"]["message"]
    assert connect.asked == []


SRC, DST = "memory://?page_size=2", "memory://?page_size=3"


@pytest.fixture
def two_registries(connect: FakeConnect) -> tuple[mp.Registry, mp.Registry]:
    connect.registries[SRC] = memory_registry()
    connect.registries[DST] = memory_registry()
    return connect.registries[SRC], connect.registries[DST]


def test_migrate_dry_run_plans_and_changes_nothing(
    cli: Cli, two_registries: tuple[mp.Registry, mp.Registry], model_dir: Path
) -> None:
    src, dst = two_registries
    src.register("fraud", model_dir)
    src.register("fraud", model_dir)
    result = cli("--json", "migrate", "--from", SRC, "--to", DST, "--dry-run")
    assert result.code == ExitCode.OK, result.err
    report = as_json(result)
    assert report["dry_run"] is True
    assert report["plan"]["counts"]["create"] == 2
    assert list(dst.models()) == []
    human = cli("migrate", "--from", SRC, "--to", DST, "--dry-run").out
    assert "dry run" in human


def test_migrate_copies_then_reruns_as_skips_and_diff_agrees(
    cli: Cli, two_registries: tuple[mp.Registry, mp.Registry], model_dir: Path
) -> None:
    src, dst = two_registries
    first = src.register("fraud", model_dir, metrics={"f1": 0.8})
    src.register("fraud", model_dir)
    src.approve(first.ref)
    src.transition(first.ref, "production")
    assert cli("diff", "--from", SRC, "--to", DST).code == ExitCode.FAILED
    result = cli("--json", "migrate", "--from", SRC, "--to", DST, "--no-progress")
    assert result.code == ExitCode.OK, result.out + result.err
    assert as_json(result)["counts"]["created"] == 2
    assert dst.resolve("fraud@production").lineage.migrated_from is not None
    again = as_json(cli("--json", "migrate", "--from", SRC, "--to", DST, "--model", "fraud"))
    assert again["counts"]["skipped"] == 2
    assert [v.version for v in dst.versions("fraud")] == ["1", "2"]
    diff = cli("--json", "diff", "--from", SRC, "--to", DST)
    assert diff.code == ExitCode.OK
    assert as_json(diff)["ok"] is True


def test_migrate_selection_is_checked(
    cli: Cli, two_registries: tuple[mp.Registry, mp.Registry]
) -> None:
    result = cli("--json", "migrate", "--from", SRC, "--to", DST, "--stage", "NOT A STAGE")
    assert result.code == ExitCode.USAGE
    assert as_json(result)["error"]["field"] == "stage"


def test_quickstart_says_when_the_module_is_missing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "modelport.quickstart", None)
    result = cli("quickstart", str(tmp_path))
    assert result.code == ExitCode.USAGE
    assert "quickstart is not available" in result.err


def fake_quickstart(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    """Stands in for the real story (minutes of MLflow) to check how the CLI wires it."""
    asked: list[Path | None] = []

    def run_quickstart(directory: Path | None, echo: Callable[[str], None] = print) -> Path:
        asked.append(directory)
        echo("1. register")
        echo("2. promote")
        return directory or Path("modelport-quickstart-x")

    module = types.ModuleType("modelport.quickstart")
    module.run_quickstart = run_quickstart  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "modelport.quickstart", module)
    return asked


def test_quickstart_tells_its_story_on_stdout(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked = fake_quickstart(monkeypatch)
    result = cli("quickstart", str(tmp_path))
    assert result.code == ExitCode.OK
    assert result.out.splitlines() == ["1. register", "2. promote"]
    assert asked == [tmp_path]
    cli("quickstart")
    assert asked[-1] is None


def test_quickstart_with_json_keeps_stdout_for_the_result(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_quickstart(monkeypatch)
    result = cli("--json", "quickstart", str(tmp_path))
    assert as_json(result) == {"directory": str(tmp_path)}
    assert "1. register" in result.err


def test_support_matrix_prints_the_generated_markdown(cli: Cli) -> None:
    from modelport import support_matrix

    result = cli("support-matrix")
    assert result.code == ExitCode.OK
    assert result.out == support_matrix.render_markdown(support_matrix.build()) + "\n"
    data = as_json(cli("--json", "support-matrix"))
    assert "memory" in [backend["scheme"] for backend in data["backends"]]


# -- the module itself ---------------------------------------------------------------


def test_importing_the_cli_loads_no_registry_machinery() -> None:
    code = (
        "import sys, modelport.cli\n"
        "heavy = [m for m in ('pydantic', 'modelport.registry', 'mlflow', 'boto3') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_console_entry_point_returns_the_exit_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelport.cli", "--json", "resolve", "not a ref"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"MODELPORT_REGISTRY": "memory://", "PATH": ""},
    )
    assert result.returncode == ExitCode.USAGE
    assert json.loads(result.stdout)["error"]["field"] == "ref"


@pytest.mark.usefixtures("real_connect")
def test_a_lifecycle_across_invocations_on_mlflow_sqlite(
    cli: Cli, model_dir: Path, tmp_path: Path
) -> None:
    """Each command opens the registry afresh, as separate CLI runs would."""
    url = f"mlflow+sqlite:///{tmp_path / 'mlflow.db'}"
    registry = ["--registry", url]
    for metric in ("f1=0.81", "f1=0.85"):
        assert cli(*registry, "register", "fraud", str(model_dir), "--metric", metric).code == 0
    promote_cmds = [
        ["approve", "fraud/1"], ["transition", "fraud/1", "production"],
        ["approve", "fraud/2"], ["transition", "fraud/2", "production"],
    ]  # fmt: skip
    for argv in promote_cmds:
        result = cli(*registry, *argv)
        assert result.code == ExitCode.OK, result.err
    assert as_json(cli(*registry, "--json", "resolve", "fraud@production"))["version"] == "2"
    assert cli(*registry, "gate", "fraud@production", "--metric", "f1>=0.9").code == 1
    assert cli(*registry, "rollback", "fraud").code == ExitCode.OK
    assert as_json(cli(*registry, "--json", "resolve", "fraud@production"))["version"] == "1"
    dest = tmp_path / "deploy"
    assert cli(*registry, "download", "fraud@production", str(dest)).code == ExitCode.OK
    assert (dest / "weights.bin").exists()


def test_bare_modelport_shows_the_usage_and_every_command(cli: Callable[..., Result]) -> None:
    result = cli()
    assert result.code == ExitCode.USAGE
    assert result.out.startswith("usage: modelport")
    for name in ("register", "transition", "download", "migrate"):
        assert name in result.out


def test_quickstart_without_mlflow_says_what_to_install_and_creates_nothing(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelport.quickstart

    monkeypatch.setattr(modelport.quickstart, "missing_modules", lambda entry: ["mlflow"])
    monkeypatch.chdir(tmp_path)
    result = cli("quickstart")
    assert result.code == ExitCode.BACKEND
    assert "pip install 'modelport[mlflow]'" in result.err
    assert list(tmp_path.iterdir()) == []
