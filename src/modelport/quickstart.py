"""``modelport quickstart``: the whole lifecycle on the embedded default, in one command.

MLflow on a SQLite file inside a directory of the user's choice (default: a new
``modelport-quickstart-XXXX`` folder under the current one), no server: register two
versions of a small model with metrics and lineage, gate, approve, promote, resolve
and download with the digest checked, roll back, show lineage and history, and copy
the model to a second registry (a second SQLite file) with `modelport.migrate`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from modelport.backends import BUILTIN, missing_modules
from modelport.connection import connect
from modelport.errors import BackendNotInstalledError, InvalidInputError, PolicyViolationError
from modelport.models import DatasetRef, Event, Lineage, ModelVersion
from modelport.policy import Policy
from modelport.registry import Registry

Echo = Callable[[str], None]
MODEL = "fraud-detector"
DB = "registry.db"
REPLICA_DB = "replica.db"
GATE = "f1>=0.80"
_TRAINING_ROWS = "amount,merchant_risk,hour,label\n" + "".join(
    f"{(i * 37) % 500 + 5},{(i * 13) % 10 / 10:.1f},{i % 24},{int(i % 7 == 0)}\n"
    for i in range(200)
)


def _require_mlflow() -> None:
    entry = BUILTIN["mlflow"]
    if missing_modules(entry):
        raise BackendNotInstalledError(
            f"the quickstart runs on MLflow, which is not installed: "
            f"pip install 'modelport[{entry.extra}]'",
            extra=entry.extra or "",
        )


def run_quickstart(directory: Path | None = None, echo: Echo = print) -> Path:
    """Run the story in ``directory`` (created if needed; it must not hold an earlier run)
    and return it. Each step is told through ``echo``."""
    started = time.monotonic()
    _require_mlflow()  # before any folder is made
    root = _workspace(directory)
    url = f"mlflow+sqlite:///{root / DB}"
    echo(f"modelport quickstart in {root}")
    echo(f"registry: {url}  (MLflow's SQLite store: no server, nothing to install)")
    policy = Policy(gates={"production": {"f1": ">=0.80"}})
    with _quiet_mlflow(), connect(url, policy=policy) as reg:
        _create_databases(root, echo)
        v1, v2 = _register_both(reg, root, echo)
        _promote(reg, v1, v2, echo)
        _resolve_and_download(reg, root, echo)
        _roll_back(reg, echo)
        _show_lineage_and_history(reg, v2, echo)
        _migrate(reg, root, echo)
    echo("")
    echo(f"done in {time.monotonic() - started:.0f} s. Look around with MLflow's own UI:")
    echo(f"  mlflow ui --backend-store-uri sqlite:///{root / DB}")
    echo(f"or with modelport: modelport --registry '{url}' versions {MODEL}")
    return root


# -- steps ---------------------------------------------------------------------------


def _create_databases(root: Path, echo: Echo) -> None:
    echo("")
    echo("0. create the MLflow database (its schema migrations take a few seconds, once)")
    # modelport creates a database at its first write (a read of a mistyped path fails);
    # made here with MLflow's own client, it can be copied into an empty migration target.
    importlib.import_module("mlflow").MlflowClient(f"sqlite:///{root / DB}")
    shutil.copyfile(root / DB, root / REPLICA_DB)  # an empty twin: the migration target


def _register_both(reg: Registry, root: Path, echo: Echo) -> tuple[ModelVersion, ModelVersion]:
    echo("")
    echo(f"1. register two versions of {MODEL!r}, each with metrics, params and lineage")
    data = root / "data" / "train.csv"
    data.parent.mkdir(exist_ok=True)
    data.write_text(_TRAINING_ROWS, encoding="utf-8")
    dataset = DatasetRef(uri=data.as_uri(), digest=_sha256(data), role="training")
    lineage = Lineage.from_env(path=str(root)).model_copy(update={"datasets": (dataset,)})
    versions = []
    for threshold, f1, auc in ((0.50, 0.81, 0.88), (0.42, 0.86, 0.91)):
        model_dir = _write_model(root / "models" / f"threshold-{threshold:.2f}", threshold)
        mv = reg.register(
            MODEL,
            model_dir,
            metrics={"f1": f1, "auc": auc},
            params={"threshold": threshold, "features": "amount,merchant_risk,hour"},
            description=f"rule model, threshold {threshold}",
            lineage=lineage,
            actor="trainer",
        )
        echo(
            f"   {mv.ref}: f1={f1} auc={auc}  digest {mv.digest[7:19] if mv.digest else '-'}..."
            f"  MLflow run {mv.lineage.run}"
        )
        versions.append(mv)
    return versions[0], versions[1]


def _promote(reg: Registry, v1: ModelVersion, v2: ModelVersion, echo: Echo) -> None:
    echo("")
    echo(f"2. gate, approve, promote (policy: approval and {GATE} before production)")
    for mv in (v1, v2):
        failures = reg.gate(mv.ref, [GATE])
        echo(f"   gate {GATE} on {mv.ref}: {'passed' if not failures else '; '.join(failures)}")
    reg.approve(v1.ref, reason="QA passed", actor="alice")
    reg.transition(v1.ref, "production", reason="first release", actor="ci")
    echo(f"   {v1.ref}: approved by alice, promoted to production")
    reg.transition(v2.ref, "staging", reason="smoke tests", actor="ci")
    echo(f"   {v2.ref}: promoted to staging")
    try:
        reg.transition(v2.ref, "production", actor="ci")
    except PolicyViolationError as refused:
        echo(f"   {v2.ref} -> production refused: {refused}")
    reg.approve(v2.ref, reason="QA passed on staging", actor="alice")
    reg.transition(v2.ref, "production", reason="better f1", actor="ci")
    echo(f"   {v2.ref}: approved, promoted to production; {v1.ref} archived")


def _resolve_and_download(reg: Registry, root: Path, echo: Echo) -> None:
    echo("")
    echo("3. resolve and download, as deployment code does")
    live = reg.resolve(f"{MODEL}@production")
    target = reg.download(f"{MODEL}@production", root / "deploy" / MODEL)
    files = sorted(p.name for p in target.iterdir())
    echo(f"   {MODEL}@production is {live.ref} (alias 'production' in MLflow)")
    echo(f"   downloaded to {target}: {', '.join(files)}; digest verified")


def _roll_back(reg: Registry, echo: Echo) -> None:
    echo("")
    echo("4. roll back production")
    back = reg.rollback(MODEL, "production", reason="alert: precision dropped", actor="oncall")
    echo(f"   production is {back.ref} again; the version it replaced is archived")


def _show_lineage_and_history(reg: Registry, mv: ModelVersion, echo: Echo) -> None:
    echo("")
    lineage = reg.lineage(mv.ref)
    echo(f"5. lineage of {mv.ref}")
    echo(f"   MLflow run  {lineage.run}")
    for dataset in lineage.datasets:
        echo(
            f"   dataset     {dataset.uri} ({dataset.role}, {dataset.digest[:19]}...)"
            if dataset.digest
            else f"   dataset     {dataset.uri}"
        )
    code = lineage.code
    echo(
        f"   code        {code.repo or '-'} @ {code.commit or '-'}"
        if code
        else "   code        (not a git checkout: Lineage.from_env() found no commit)"
    )
    echo("")
    echo(f"6. history of {MODEL} (kept in MLflow version tags, readable from any machine)")
    for event in reg.history(MODEL):
        echo(f"   {_event_line(event)}")


def _migrate(reg: Registry, root: Path, echo: Echo) -> None:
    echo("")
    echo(f"7. migrate {MODEL} to a second registry ({REPLICA_DB})")
    try:
        from modelport.migration import migrate
    except ImportError:
        echo("   skipped: this build of modelport has no migration")
        return
    replica_url = f"mlflow+sqlite:///{root / REPLICA_DB}"
    report = migrate(reg, replica_url, models=[MODEL], workers=2, progress=False)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in report.counts.items() if n)
    echo(f"   {counts or 'nothing to do'} in {report.seconds:.1f} s; ok={report.ok}")
    with connect(replica_url) as replica:
        live = replica.resolve(f"{MODEL}@production")
    origin = live.lineage.migrated_from
    source = f", migrated from {origin.name}/{origin.version}" if origin else ""
    kept = " with the same digest" if origin and origin.digest == live.digest else ""
    echo(f"   replica: {MODEL}@production is {live.ref}{source}{kept}")


# -- helpers -------------------------------------------------------------------------


def _workspace(directory: Path | None) -> Path:
    root = Path(directory) if directory is not None else _new_folder()
    root = root.expanduser().absolute()
    if (root / DB).exists():
        raise InvalidInputError(
            f"{root} already holds a quickstart registry ({DB}); pick a new directory",
            field="directory",
        )
    root.mkdir(parents=True, exist_ok=True)
    return root


def _new_folder() -> Path:
    while True:
        candidate = Path.cwd() / f"modelport-quickstart-{secrets.token_hex(2)}"
        if not candidate.exists():
            return candidate


def _write_model(directory: Path, threshold: float) -> Path:
    """A tiny rule model: weights in JSON and the code that applies them."""
    directory.mkdir(parents=True, exist_ok=True)
    weights = {"amount": 0.004, "merchant_risk": 1.7, "night": 0.6, "threshold": threshold}
    (directory / "weights.json").write_text(json.dumps(weights, indent=2), encoding="utf-8")
    (directory / "predict.py").write_text(
        "import json, math, pathlib\n"
        "W = json.loads((pathlib.Path(__file__).parent / 'weights.json').read_text())\n"
        "def predict(amount, merchant_risk, hour):\n"
        "    z = W['amount'] * amount + W['merchant_risk'] * merchant_risk"
        " + W['night'] * (hour < 6) - 2\n"
        "    return 1 / (1 + math.exp(-z)) >= W['threshold']\n",
        encoding="utf-8",
    )
    return directory


def _event_line(event: Event) -> str:
    change = f"{event.from_ or '-'} -> {event.to or '-'}"
    why = f'  "{event.reason}"' if event.reason else ""
    return (
        f"{event.at:%H:%M:%S}  {event.name}/{event.version:<3} {event.kind.value:<12} "
        f"{change:<26} by {event.actor or '?'}{why}"
    )


def _sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow logs its database setup at INFO; the story is what the reader came for.
    (MLflow sets its loggers' levels when imported, so it is imported first.)"""
    importlib.import_module("mlflow")
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
