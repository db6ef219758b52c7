"""What MLflow users type, tried as a new user would (issue 13): MLflow's own tracking URIs
and ``$MLFLOW_TRACKING_URI``; a mistyped database path; MLflow's log lines; an unreachable
server; and a malformed reference refused before MLflow is imported."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import modelport as mp
from modelport.backends.mlflow.config import parse_config
from modelport.cli import main
from modelport.connection import default_url, registry_url
from modelport.digest import digest_path
from tests.subprocesses import MODELPORT_FILE, checkout_env

QUICK = 2.0  # seconds: a refusal that opens no store and imports no SDK (loaded machine)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def run_child(code: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c code`` on this checkout, its temporary files under ``cwd``."""
    prologue = "import modelport; print(modelport.__file__)\n"
    done = subprocess.run(
        [sys.executable, "-c", prologue + textwrap.dedent(code)],
        cwd=cwd,
        env=checkout_env(TMPDIR=str(cwd)),
        capture_output=True,
        text=True,
        timeout=timeout,  # subprocess.run kills the child when it is over
        check=False,
    )
    assert Path(done.stdout.splitlines()[0]).resolve() == MODELPORT_FILE, done.stderr
    return done


@pytest.fixture
def no_defaults(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("MODELPORT_REGISTRY", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    return monkeypatch


# -- MLflow's own tracking URIs and $MLFLOW_TRACKING_URI ------------------------------


@pytest.mark.parametrize(
    ("given", "tracking_uri"),
    [
        ("sqlite:////srv/mlflow.db", "sqlite:////srv/mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://mlflow.example/prefix/", "https://mlflow.example/prefix"),
        (
            "postgresql://mlflow@db.example:5432/mlflow",
            "postgresql://mlflow@db.example:5432/mlflow",
        ),
        ("postgresql+psycopg2://db.example/mlflow", "postgresql+psycopg2://db.example/mlflow"),
        ("mysql://mlflow@db.example/mlflow", "mysql://mlflow@db.example/mlflow"),
        ("file:///srv/mlruns", "file:///srv/mlruns"),
    ],
)
def test_an_mlflow_tracking_uri_means_the_mlflow_backend(given: str, tracking_uri: str) -> None:
    url = registry_url(given)
    assert url.scheme == "mlflow+" + given.partition("://")[0]
    assert parse_config(url).tracking_uri == tracking_uri


def test_a_relative_sqlite_uri_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = parse_config(registry_url("sqlite:///mlflow.db"))
    assert config.tracking_uri == f"sqlite:///{tmp_path}/mlflow.db"


def test_a_database_password_is_redacted_and_options_stay_modelport_s() -> None:
    url = registry_url("postgresql://ml:S3CRET@db.example/mlflow?stage_mode=legacy")
    config = parse_config(url)
    assert config.tracking_uri == "postgresql://ml:S3CRET@db.example/mlflow"  # for MLflow only
    assert config.stage_mode == "legacy"
    assert "S3CRET" not in str(url)
    assert "S3CRET" not in repr(url)


def test_mlflow_tracking_uri_is_the_default_when_modelport_registry_is_unset(
    tmp_path: Path, no_defaults: pytest.MonkeyPatch
) -> None:
    assert default_url() == "mlflow+sqlite:///mlflow.db"  # the embedded default
    no_defaults.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_url() == "mlflow+http://127.0.0.1:5000"
    assert mp.connect().url == "mlflow+http://127.0.0.1:5000"  # no network call yet
    no_defaults.setenv("MLFLOW_REGISTRY_URI", "sqlite:////srv/registry.db")
    registry = parse_config(registry_url(default_url())).registry_uri
    assert registry == "sqlite:////srv/registry.db"  # MLflow's variable for it, kept
    no_defaults.setenv("MLFLOW_TRACKING_URI", "databricks")  # MLflow reads it itself
    assert default_url() == "mlflow://"
    no_defaults.setenv("MODELPORT_REGISTRY", "memory://")
    assert default_url() == "memory://"


def test_the_cli_without_registry_reads_mlflow_tracking_uri(
    tmp_path: Path, no_defaults: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "tracking.db"
    no_defaults.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    code, _, err = run_cli("models")
    assert code == 3
    assert f"no MLflow database at {missing}" in err


def test_a_refused_default_url_says_where_it_came_from(no_defaults: pytest.MonkeyPatch) -> None:
    no_defaults.setenv("MLFLOW_TRACKING_URI", "http://user:S3CRET@127.0.0.1:5000")
    with pytest.raises(mp.InvalidURLError, match=r"\$MLFLOW_TRACKING_URI") as caught:
        mp.connect()
    assert "S3CRET" not in str(caught.value)


# -- a read of a mistyped path creates nothing ---------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["resolve", "fraud@production"],
        ["versions", "fraud"],
        ["models"],
        ["migrate", "--dry-run", "--from", "{url}", "--to", "memory://"],
    ],
    ids=["resolve", "versions", "models", "migrate-dry-run-from"],
)
@pytest.mark.parametrize("scheme", ["mlflow+sqlite", "sqlite"])
def test_a_read_of_a_missing_database_fails_and_creates_nothing(
    tmp_path: Path, argv: list[str], scheme: str, no_defaults: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "sub" / "mistyped.db"
    url = f"{scheme}:///{missing}"
    started = time.monotonic()
    code, _, err = run_cli("--registry", url, *[a.replace("{url}", url) for a in argv])
    assert time.monotonic() - started < QUICK
    assert code == 3, err
    assert f"no MLflow database at {missing}" in err
    assert not missing.exists()
    assert not missing.parent.exists()


def test_a_dry_run_into_a_missing_database_previews_and_creates_nothing(
    tmp_path: Path, model_dir: Path, no_defaults: pytest.MonkeyPatch
) -> None:
    """The destination of a first migration does not exist yet: a dry run shows what would
    be copied (every version created); the real run then creates the database."""
    source = mp.connect("memory://")
    source.register("fraud", model_dir)
    replica = tmp_path / "replica.db"
    plan = mp.migrate(source, f"mlflow+sqlite:///{replica}", dry_run=True).plan
    assert [item.action.value for item in plan.items] == ["create"]
    assert not replica.exists()
    assert mp.migrate(source, f"mlflow+sqlite:///{replica}").ok
    assert replica.exists()


def test_a_library_read_of_a_missing_store_names_its_path(
    tmp_path: Path, no_defaults: pytest.MonkeyPatch
) -> None:
    for url, kind, path in (
        (f"mlflow+sqlite:///{tmp_path / 'typo.db'}", "database", tmp_path / "typo.db"),
        (f"file://{tmp_path / 'mlruns'}", "file store", tmp_path / "mlruns"),
    ):
        reg = mp.connect(url)
        with pytest.raises(mp.NotFoundError, match=f"no MLflow {kind} at {path}"):
            reg.resolve("fraud/1")
        assert not path.exists()


# -- what reaches stderr --------------------------------------------------------------


def test_a_write_through_an_mlflow_uri_creates_the_database_and_prints_nothing_of_mlflow_s(
    tmp_path: Path, model_dir: Path
) -> None:
    done = run_child(
        f"""
        import logging
        logging.basicConfig(level=logging.INFO)  # an application that logs at INFO
        import modelport as mp
        from modelport.cli import main
        code = main(["--registry", "sqlite:///new/mlflow.db", "register", "m", {str(model_dir)!r}])
        with mp.connect("sqlite:///new/mlflow.db") as reg:  # the library takes it too
            print(code, reg.url, reg.resolve("m@latest").digest)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    code, url, digest = done.stdout.splitlines()[-1].split()
    assert (code, url) == ("0", "mlflow+sqlite:///new/mlflow.db")
    assert digest == digest_path(model_dir)
    assert (tmp_path / "new" / "mlflow.db").exists()
    assert done.stderr == ""  # no "Creating initial MLflow database tables...", no alembic


def test_an_unreachable_server_is_one_line_naming_its_url(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/?registry_uri=http://u:S3CRET@127.0.0.1:{port}"
    done = run_child(
        f"""
        from modelport.cli import main
        raise SystemExit(main(["--registry", {url!r}, "models"]))
        """,
        tmp_path,
    )
    assert done.returncode == 4
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "cannot reach the MLflow server" in lines[0]
    assert "S3CRET" not in done.stderr
    for pool_text in ("Max retries", "HTTPConnectionPool", "NewConnectionError", "urllib3"):
        assert pool_text not in done.stderr


# -- checks before the SDK is imported --------------------------------------------------


def test_a_malformed_reference_or_url_is_refused_before_mlflow_is_imported(
    tmp_path: Path,
) -> None:
    done = run_child(
        """
        import io, sys, time
        import modelport as mp
        from modelport.cli import main
        started = time.monotonic()
        err = io.StringIO()
        codes = [
            main(["--registry", "mlflow+sqlite:///x.db", "resolve", "no such ref!"], stderr=err),
            main(["--registry", "sqlite:///x.db", "resolve", "fraud@Prod"], stderr=err),
            main(["--registry", "mlflow+sqlite://host/x.db", "models"], stderr=err),
        ]
        try:
            mp.connect("mlflow+sqlite:///x.db").resolve("fraud")
        except mp.InvalidReferenceError:
            codes.append("refused")
        seconds = round(time.monotonic() - started, 3)
        shown = [c if isinstance(c, str) else int(c) for c in codes]
        print(shown, "mlflow" in sys.modules, seconds)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    codes, imported, seconds = done.stdout.splitlines()[1].rsplit(" ", 2)
    assert codes == "[2, 2, 2, 'refused']"
    assert imported == "False"
    assert float(seconds) < QUICK
    assert not (tmp_path / "x.db").exists()
