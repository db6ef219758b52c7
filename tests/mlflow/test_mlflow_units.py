"""The MLflow backend's pure parts: URLs, tags, stages, error translation (no store, no server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from mlflow.exceptions import MlflowException, RestException
from mlflow.protos.databricks_pb2 import (
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    REQUEST_LIMIT_EXCEEDED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
)

import modelport as mp
from modelport.backends.kit.errors import Context
from modelport.backends.mlflow import tags as T
from modelport.backends.mlflow.config import MlflowConfig, parse_config
from modelport.backends.mlflow.errors import ERRORS
from modelport.backends.mlflow.translate import RawVersion, stage_of
from modelport.urls import parse_url

URL = "mlflow+http://127.0.0.1:5000"

# -- URLs ----------------------------------------------------------------------------


def test_sqlite_urls_become_absolute_sqlalchemy_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = parse_config(parse_url("mlflow+sqlite:///reg/mlflow.db"))
    assert relative.tracking_uri == f"sqlite:///{tmp_path}/reg/mlflow.db"
    assert relative.registry_uri == relative.tracking_uri
    assert relative.artifact_root == (tmp_path / "reg" / "mlartifacts").as_uri()
    absolute = parse_config(parse_url("mlflow+sqlite:////srv/x.db"))
    assert absolute.tracking_uri == "sqlite:////srv/x.db"


def test_http_urls_and_options() -> None:
    config = parse_config(
        parse_url(
            "mlflow+https://mlflow.example:8443/ml/?stage_mode=legacy&page_size=20"
            "&registry_uri=mlflow+http://registry:5000&experiment=team/fraud"
        )
    )
    assert config == MlflowConfig(
        tracking_uri="https://mlflow.example:8443/ml",
        registry_uri="http://registry:5000",
        stage_mode="legacy",
        experiment="team/fraud",
        page_size=20,
    )
    assert config.is_http


def test_the_bare_scheme_means_mlflows_own_default() -> None:
    config = parse_config(parse_url("mlflow://?stage_mode=legacy"))
    assert (config.tracking_uri, config.registry_uri) == (None, None)
    assert config.stage_mode == "legacy"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mlflow+ftp://host", "unsupported MLflow transport"),
        ("mlflow+sqlite://host/x.db", "takes a path"),
        ("mlflow+sqlite:///", "needs a database file"),
        ("mlflow+http://", "needs a host"),
        ("mlflow://somewhere", "takes no host"),
        ("mlflow://?registry_uri=nowhere", "option 'registry_uri' must be an MLflow URI"),
        ("mlflow://?experiment=", "option 'experiment' must be a non-blank"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(mp.InvalidURLError, match=words):
        parse_config(parse_url(url))


# -- tags ----------------------------------------------------------------------------


def _event(at: datetime, to: str = "staging") -> mp.Event:
    return mp.Event(
        kind=mp.EventKind.TRANSITIONED, name="m", version="", from_="development", to=to,
        actor="ci", reason="ünïcødé ✓", at=at,
    )  # fmt: skip


def test_an_event_tag_is_keyed_by_its_id_and_reads_back_whole() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    event = _event(at)
    tags = T.event_tags(event)
    assert T.event_tags(event) == tags  # a retried write lands on the same keys
    assert set(tags) == {f"modelport.event.{event.id}", "modelport.log.staging"}
    (read,) = T.decode_events(tags, "m", "7")
    assert read == event.model_copy(update={"version": "7"})
    assert T.last_event_at({**tags, "modelport.stage": "staging"}) == at


def test_events_read_back_oldest_first_whatever_the_tag_order() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tags: dict[str, str] = {}
    for s in (3, 1, 2):
        tags |= T.event_tags(_event(start + timedelta(seconds=s), f"s{s}"))
    assert [e.to for e in T.decode_events(tags, "m", "1")] == ["s1", "s2", "s3"]


def test_a_long_record_is_cut_into_pieces_that_join_back() -> None:
    lineage = mp.Lineage(
        datasets=tuple(mp.DatasetRef(uri=f"s3://b/{i:05d}" * 10) for i in range(100))
    )
    record = T.Record({"f1": 0.1 + 0.2}, {"p": "ü" * 3000}, lineage)
    tags = T.encode_record(record)
    assert len(tags) > 2
    assert all(len(v) <= T.CHUNK for v in tags.values())
    assert T.decode_record(dict(reversed(list(tags.items())))) == record
    assert T.decode_record({"team": "fraud"}) is None


# -- stages --------------------------------------------------------------------------


def _raw(tags: dict[str, str], aliases: tuple[str, ...] = (), legacy: str = "None") -> RawVersion:
    return RawVersion("m", "1", "s3://b/m", None, tags, aliases, legacy, None, 1, 1)


ALIAS_MODE = MlflowConfig(tracking_uri=None, registry_uri=None)
LEGACY_MODE = MlflowConfig(tracking_uri=None, registry_uri=None, stage_mode="legacy")


@pytest.mark.parametrize(
    ("tags", "aliases", "legacy", "alias_stage", "legacy_stage"),
    [
        ({}, (), "None", "development", "development"),
        ({}, ("production",), "Staging", "development", "staging"),
        ({}, ("staging", "production"), "None", "development", "development"),
        ({T.STAGE: "shadow-eu"}, ("champion",), "None", "shadow-eu", "development"),
        ({T.STAGE: "production"}, (), "Archived", "production", "archived"),
        ({T.STAGE: "Not A Stage"}, (), "Production", "development", "production"),
    ],
)
def test_where_a_version_stage_field_comes_from(
    tags: dict[str, str],
    aliases: tuple[str, ...],
    legacy: str,
    alias_stage: str,
    legacy_stage: str,
) -> None:
    """The field only: aliases (pointers) are the facade's to weigh against it."""
    raw = _raw(tags, aliases, legacy)
    assert stage_of(raw, ALIAS_MODE) == alias_stage
    assert stage_of(raw, LEGACY_MODE) == legacy_stage


# -- errors --------------------------------------------------------------------------


def _rest(code: str, message: str) -> MlflowException:
    """What MLflow raises for an error answer of a tracking server."""
    return RestException({"error_code": code, "message": message})  # type: ignore[no-untyped-call]


def _innermost(exc: BaseException) -> BaseException:
    """What a message quotes: a dropped connection's own words, not MLflow's wrapper."""
    cause = exc.__cause__ or exc.__context__
    return exc if cause is None else _innermost(cause)


def _wrapped(cause: Exception) -> MlflowException:
    """How MLflow's HTTP client reports a request that never got an answer."""
    try:
        try:
            raise cause
        except Exception as exc:
            # MLflow raises it so, without "from": the cause is only the context
            raise MlflowException(f"API request to http://x/api failed with exception {exc}")  # noqa: B904
    except MlflowException as wrapped:
        return wrapped


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MlflowException("Registered Model with name=m not found", RESOURCE_DOES_NOT_EXIST),
         mp.ModelNotFoundError),
        (MlflowException("Model Version (name=m, version=3) not found", RESOURCE_DOES_NOT_EXIST),
         mp.VersionNotFoundError),
        (MlflowException("bad key", INVALID_PARAMETER_VALUE), mp.InvalidInputError),
        (MlflowException("exists", RESOURCE_ALREADY_EXISTS), mp.ConflictError),
        (_rest("REQUEST_LIMIT_EXCEEDED", "slow down"),
         mp.TransientBackendError),
        (MlflowException("throttled", REQUEST_LIMIT_EXCEEDED), mp.TransientBackendError),
        (_rest("INTERNAL_ERROR", "boom"),
         mp.TransientBackendError),
        (_rest("UNAUTHENTICATED", "who?"),
         mp.AuthenticationError),
        (MlflowException("(sqlite3.OperationalError) database is locked", INTERNAL_ERROR),
         mp.TransientBackendError),
        (MlflowException("a bug in a store", INTERNAL_ERROR), mp.BackendError),
        (_wrapped(requests.exceptions.ConnectionError("refused")), mp.TransientBackendError),
        (_wrapped(requests.exceptions.ReadTimeout("slow")), mp.BackendTimeoutError),
        (FileNotFoundError("no artifact"), mp.VersionNotFoundError),
    ],
)  # fmt: skip
def test_mlflow_errors_become_modelport_errors(exc: Exception, kind: type[Exception]) -> None:
    translated = ERRORS.error_for(exc, Context(URL, "m", "3"))
    assert type(translated) is kind
    assert translated.url == URL
    assert str(_innermost(exc)).split(":")[-1].strip()[:10] in str(translated)
