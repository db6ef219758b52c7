"""``mlflow+...://`` URLs into a typed configuration, without importing MLflow.

==========================================  ==========================================
URL                                         MLflow tracking URI
==========================================  ==========================================
``mlflow+sqlite:///mlflow.db``              ``sqlite:////<cwd>/mlflow.db`` (made absolute)
``mlflow+sqlite:////abs/path.db``           ``sqlite:////abs/path.db``
``mlflow+http://host:port[/prefix]``        ``http://host:port[/prefix]`` (also ``https``)
``mlflow+postgresql://[user@]host/db``      the same without ``mlflow+`` (SQLAlchemy's
                                            ``postgresql+driver``, ``mysql``, ``mssql`` too)
``mlflow+file:///abs/mlruns``               ``file:///abs/mlruns`` (MLflow's file store)
``mlflow://``                               MLflow's own default (``MLFLOW_TRACKING_URI``)
==========================================  ==========================================

A local store (SQLite file, file-store folder) that is not there is created by the first
write only: a read of a mistyped path fails instead (`MlflowConfig.local_stores`).

Options (query): ``stage_mode=alias|legacy`` (where the native stage field lives: the
``modelport.stage`` tag, or MLflow's deprecated stages), ``registry_uri=URI``,
``experiment=NAME``, ``artifact_root=URI``, ``page_size=N``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, Field

from modelport.backends.kit.options import (
    BackendOptions,
    bad_url,
    integer_option,
    parse_options,
)
from modelport.urls import RegistryURL

StageMode = Literal["alias", "legacy"]

RESERVED_ALIAS = re.compile(r"(?i)latest|v\d+")  # MLflow reserves these alias names
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Sibling of the database file: where experiments modelport creates keep their artifacts.
ARTIFACTS_DIR = "mlartifacts"
# SQLAlchemy dialects MLflow's SQL store runs on (``postgresql+psycopg2`` names a driver too).
DATABASES = frozenset({"postgresql", "mysql", "mssql"})


def _mlflow_uri(value: str) -> str:
    # "mlflow+http://..." works too; in a query an unescaped '+' reads as a space
    value = value.removeprefix("mlflow+").removeprefix("mlflow ")
    if "://" not in value and value not in ("databricks", "databricks-uc"):
        raise ValueError("not an MLflow URI")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


class MlflowOptions(BackendOptions):
    """The query options of an ``mlflow...://`` URL."""

    stage_mode: StageMode = Field("alias", description="'alias' or 'legacy'")
    registry_uri: Annotated[str, AfterValidator(_mlflow_uri)] | None = Field(
        None, description="an MLflow URI (sqlite:///..., http(s)://..., databricks)"
    )
    experiment: Annotated[str, AfterValidator(_not_blank)] | None = Field(
        None, description="a non-blank experiment name"
    )
    artifact_root: str | None = Field(None, description="a URI for new experiments' artifacts")
    page_size: int = integer_option(DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)


@dataclass(frozen=True)
class MlflowConfig:
    """Everything the backend needs from the URL. ``tracking_uri`` None: MLflow's default."""

    tracking_uri: str | None
    registry_uri: str | None
    stage_mode: StageMode = "alias"
    experiment: str | None = None  # None: one experiment per model, named after it
    artifact_root: str | None = None  # None: MLflow's default for new experiments
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def is_http(self) -> bool:
        return (self.tracking_uri or "").startswith(("http://", "https://"))

    @property
    def local_stores(self) -> tuple[LocalStore, ...]:
        """The local stores (SQLite files, file-store folders) the URIs name, which MLflow
        creates when it opens a client."""
        uris = dict.fromkeys(u for u in (self.tracking_uri, self.registry_uri) if u)
        return tuple(store for uri in uris if (store := local_store(uri)) is not None)


@dataclass(frozen=True)
class LocalStore:
    kind: str  # "database" or "file store", for messages
    path: Path


def local_store(uri: str) -> LocalStore | None:
    """The SQLite file or file-store folder a tracking URI names; None for a server."""
    if uri.startswith("sqlite:///"):
        return LocalStore("database", Path(uri.removeprefix("sqlite:///")))
    if uri.startswith("file://"):
        return LocalStore("file store", Path(unquote(urlsplit(uri).path)))
    return None


def parse_config(url: RegistryURL) -> MlflowConfig:
    """Check every part of ``url`` and build the configuration; raises InvalidURLError."""
    options = parse_options(MlflowOptions, url)
    # A database URL carries its user (SQLAlchemy has no other place for it); a password is
    # better left to PGPASSWORD or ~/.pgpass, and is redacted wherever the URL is shown.
    in_database = (url.transport or "").split("+", 1)[0] in DATABASES
    if (url.username or url.password) and not in_database:
        raise bad_url(
            url,
            "credentials do not belong in the URL; MLflow reads them from "
            "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN",
        )
    tracking_uri, default_root = _tracking_uri(url)
    return MlflowConfig(
        tracking_uri=tracking_uri,
        registry_uri=options.registry_uri or tracking_uri,
        stage_mode=options.stage_mode,
        experiment=options.experiment,
        artifact_root=options.artifact_root or default_root,
        page_size=options.page_size,
    )


def _tracking_uri(url: RegistryURL) -> tuple[str | None, str | None]:
    """The MLflow tracking URI and the default artifact root that goes with it."""
    transport = url.transport
    if transport is None:
        if url.host or url.path.strip("/"):
            raise bad_url(
                url, "mlflow:// takes no host or path (it means MLflow's default tracking URI)"
            )
        return None, None
    if transport == "sqlite":
        return _sqlite_uri(url)
    if transport in ("http", "https"):
        if not url.host:
            raise bad_url(
                url, f"mlflow+{transport}:// needs a host, e.g. mlflow+{transport}://host:5000"
            )
        port = f":{url.port}" if url.port else ""
        return f"{transport}://{url.host}{port}{url.path.rstrip('/')}", None
    if transport.split("+", 1)[0] in DATABASES:
        return _database_uri(url, transport), None
    if transport == "file":
        return _file_uri(url), None
    raise bad_url(
        url,
        f"unsupported MLflow transport {transport!r}; use mlflow+sqlite:///PATH.db, "
        "mlflow+http(s)://HOST:PORT, mlflow+postgresql://HOST/DB, mlflow+mysql://HOST/DB, "
        "mlflow+file:///PATH or mlflow://",
    )


def _database_uri(url: RegistryURL, transport: str) -> str:
    """SQLAlchemy's URI: the URL without ``mlflow+`` and without modelport's options."""
    if not url.host or not url.path.strip("/"):
        raise bad_url(url, f"mlflow+{transport}:// needs a host and a database: HOST/DB")
    return url.raw.removeprefix("mlflow+").split("?", 1)[0]


def _file_uri(url: RegistryURL) -> str:
    if url.host or not url.path.strip("/"):
        raise bad_url(url, "mlflow+file:// takes an absolute folder: mlflow+file:///srv/mlruns")
    return f"file://{url.path.rstrip('/')}"


def _sqlite_uri(url: RegistryURL) -> tuple[str, str]:
    if url.host:
        raise bad_url(
            url,
            "mlflow+sqlite takes a path, not a host: mlflow+sqlite:///relative.db or "
            "mlflow+sqlite:////absolute/path.db",
        )
    relative = url.path[1:] if url.path.startswith("/") else url.path
    if not relative or relative.endswith("/"):
        raise bad_url(
            url, "mlflow+sqlite:/// needs a database file, e.g. mlflow+sqlite:///mlflow.db"
        )
    path = Path(relative).expanduser().absolute()  # the process may chdir later
    return f"sqlite:///{path.as_posix()}", (path.parent / ARTIFACTS_DIR).as_uri()
