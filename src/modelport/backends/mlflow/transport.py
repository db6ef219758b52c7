# mypy: disable-error-code="no-untyped-call"
# (this module plugs into MLflow's unannotated internals; its own signatures are typed)
"""The MLflow client modelport uses: MLflow's own, with three changes.

1. **One retry layer.** MLflow's REST client retries 429/5xx and dropped connections up
   to ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` (7) times with backoff, for minutes, under the
   facade's own retries. The REST stores of modelport's client pass ``max_retries=0`` to
   MLflow's ``http_request`` on every call, so nothing else in the process changes (no
   environment variable is touched) and MLflow still builds the request: credentials from
   ``MLFLOW_TRACKING_*``, auth plugins, request-header plugins, TLS settings, timeouts.

2. **One connection attempt to a database server** (``postgresql://...``), not MLflow's 10
   over ~100 s: see `_check_database`.

3. **No 40 ms stall per call.** ``mlflow server`` runs uvicorn; with more than one worker
   (the default is 4) uvicorn hands the workers a listening socket it made itself, so the
   accepted connections lack ``TCP_NODELAY`` (asyncio only sets it on sockets whose
   ``proto`` is TCP). Each response is written as two ``send()`` calls, headers then body;
   Nagle's algorithm holds the body until the headers are acknowledged, and the client,
   on a kept-alive connection, delays that ACK (Linux: 40 ms minimum) waiting for data to
   piggyback it on. A fresh connection does not stall (Linux ACKs quickly at the start of
   a connection), hence ~12 ms for a new connection against ~52 ms on MLflow's reused
   session. The cure on the client side is ``TCP_QUICKACK`` set before each response is
   read: the kernel ACKs the headers at once and the body follows immediately. It is
   applied to the session MLflow's ``http_request`` keeps for modelport's own retry
   settings (``max_retries=0`` and no retry codes, which nothing else uses); if MLflow
   ever stops using that session, requests lose the speed-up, never correctness.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy
from mlflow.environment_variables import MLFLOW_HTTP_POOL_CONNECTIONS, MLFLOW_HTTP_POOL_MAXSIZE
from mlflow.store.db.utils import create_sqlalchemy_engine
from mlflow.store.model_registry.rest_store import RestStore as RegistryRestStore
from mlflow.store.tracking.rest_store import RestStore as TrackingRestStore
from mlflow.tracking import MlflowClient
from mlflow.tracking._model_registry.client import ModelRegistryClient
from mlflow.tracking._tracking_service.client import TrackingServiceClient
from mlflow.utils import request_utils
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.proto_json_utils import parse_dict
from mlflow.utils.rest_utils import http_request, verify_rest_response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from modelport.backends.mlflow.config import DATABASES

NO_RETRY_CODES: frozenset[int] = frozenset()
_RETRY_SETTINGS: dict[str, Any] = {
    "max_retries": 0,
    "backoff_factor": 0,
    "backoff_jitter": 0.0,
    "retry_codes": NO_RETRY_CODES,
    "raise_on_status": True,
    "respect_retry_after_header": False,
}
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
MLFLOW_TABLE = "experiments"  # the first table MLflow's schema has always had


class NoMlflowTables(Exception):
    """A read met a database server's database without MLflow's tables (``where``: the
    database, without credentials). MLflow would create them; only a write may."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def make_client(tracking_uri: str | None, registry_uri: str | None, *, create: bool) -> Any:
    """An ``MlflowClient`` for these URIs whose HTTP stores follow the module's rules;
    unless ``create``, a database server's database must already hold MLflow's tables."""
    for uri in dict.fromkeys(u for u in (tracking_uri, registry_uri) if u):
        _check_database(uri, create=create)
    with _quiet_setup():  # a SQL store creates or upgrades its tables here
        client: Any = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
    resolved_tracking = str(client.tracking_uri)
    resolved_registry = str(getattr(client, "_registry_uri", None) or resolved_tracking)
    if is_http(resolved_tracking):
        client._tracking_client = _TrackingClient(resolved_tracking)
    if is_http(resolved_registry):
        # MLflow's documented name for its lazily made registry client
        client._registry_client_lazy = _RegistryClient(resolved_registry, resolved_tracking)
    return client


def is_http(uri: str | None) -> bool:
    return (uri or "").startswith(("http://", "https://"))


def call(
    host_creds: Any,
    endpoint: str,
    method: str,
    json_body: str | None,
    response_proto: Any,
    extra_headers: dict[str, str] | None = None,
) -> Any:
    """MLflow's ``call_endpoint``, with modelport's retry settings and quick ACKs."""
    body = json.loads(json_body) if json_body is not None else None
    payload = {"params": body} if method == "GET" else {"json": body}
    _quickack_session()
    response = http_request(
        host_creds=host_creds,
        endpoint=endpoint,
        method=method,
        extra_headers=extra_headers,
        **_RETRY_SETTINGS,
        **payload,
    )
    response = verify_rest_response(response, endpoint)
    if response.status_code == 204:
        return response_proto
    parse_dict(js_dict=json.loads(response.text), message=response_proto)
    return response_proto


class _RegistryStore(RegistryRestStore):
    def _call_endpoint(
        self,
        api: Any,
        json_body: str | None,
        call_all_endpoints: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        if call_all_endpoints:  # fallbacks across API versions: rare, left to MLflow
            return super()._call_endpoint(api, json_body, call_all_endpoints, extra_headers)
        self._validate_workspace_support_if_specified()
        endpoint, method = self._get_endpoint_from_method(api)
        response = self._get_response_from_method(api)
        return call(self.get_host_creds(), endpoint, method, json_body, response, extra_headers)


class _TrackingStore(TrackingRestStore):
    def _call_endpoint(
        self,
        api: Any,
        json_body: str | None = None,
        endpoint: str | None = None,
        retry_timeout_seconds: float | None = None,
        response_proto: Any = None,
    ) -> Any:
        v3_apis = getattr(self, "_V3_APIS", ())
        table = self._V3_METHOD_TO_INFO if api in v3_apis else self._METHOD_TO_INFO
        self._validate_workspace_support_if_specified()
        default_endpoint, method = table[api]
        proto = response_proto or api.Response()
        return call(self.get_host_creds(), endpoint or default_endpoint, method, json_body, proto)


class _TrackingClient(TrackingServiceClient):
    def __init__(self, tracking_uri: str) -> None:
        self._modelport_store = _TrackingStore(lambda: get_default_host_creds(tracking_uri))
        super().__init__(tracking_uri)

    @property
    def store(self) -> Any:
        return self._modelport_store

    def _log_url(self, run_id: str) -> None:
        """MLflow prints "View run ... at" links when a run ends; a library prints nothing."""


class _RegistryClient(ModelRegistryClient):
    def __init__(self, registry_uri: str, tracking_uri: str) -> None:
        self._modelport_store = _RegistryStore(lambda: get_default_host_creds(registry_uri))
        super().__init__(registry_uri, tracking_uri)

    @property
    def store(self) -> Any:
        return self._modelport_store


# -- quick ACKs ------------------------------------------------------------------


class _QuickAckHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        _quickack(self.sock)
        return super().getresponse()


class _QuickAckHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _quickack(self.sock)
        return super().getresponse()


class _QuickAckHTTPPool(HTTPConnectionPool):
    ConnectionCls = _QuickAckHTTPConnection


class _QuickAckHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _QuickAckHTTPSConnection


_POOLS = {"http": _QuickAckHTTPPool, "https": _QuickAckHTTPSPool}


class QuickAckAdapter(request_utils.TCPKeepAliveHTTPAdapter):
    """MLflow's adapter (keep-alive probes, pool sizes) whose sockets ACK responses at once."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def _quickack(sock: socket.socket | None) -> None:
    if QUICKACK is not None and sock is not None:
        with contextlib.suppress(OSError):  # not a TCP socket: nothing to speed up
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)


def _quickack_session() -> None:
    """Mount `QuickAckAdapter` on the session MLflow keeps for modelport's settings."""
    if QUICKACK is None:
        return
    settings = _RETRY_SETTINGS
    session = request_utils._get_request_session(
        settings["max_retries"],
        settings["backoff_factor"],
        settings["backoff_jitter"],
        settings["retry_codes"],
        settings["raise_on_status"],
        settings["respect_retry_after_header"],
    )
    if not isinstance(session.get_adapter("http://"), QuickAckAdapter):
        current: HTTPAdapter = session.get_adapter("http://")
        adapter = QuickAckAdapter(
            pool_connections=MLFLOW_HTTP_POOL_CONNECTIONS.get(),
            pool_maxsize=MLFLOW_HTTP_POOL_MAXSIZE.get(),
            max_retries=current.max_retries,
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)


def _check_database(uri: str, *, create: bool) -> None:
    """Connect once to a database server before MLflow does: MLflow's SQL store retries a
    failed connection 10 times over ~100 s, logging each, under the facade's retries. On
    the same connection, a read finds out whether MLflow's tables are there: MLflow
    creates them in any database it is pointed at, so a mistyped name would leave an
    MLflow schema in some other application's database."""
    if uri.partition("://")[0].split("+", 1)[0] not in DATABASES:
        return
    engine = create_sqlalchemy_engine(uri)
    try:
        with engine.connect() as connection:
            if not create and not sqlalchemy.inspect(connection).has_table(MLFLOW_TABLE):
                raise NoMlflowTables(_without_credentials(engine.url))
    finally:
        engine.dispose()


def _without_credentials(url: sqlalchemy.URL) -> str:
    """The database's address for an error message: no user, password or query (which
    may hold a password too); ``URL.set`` cannot unset a field, hence built here."""
    port = f":{url.port}" if url.port else ""
    return f"{url.drivername}://{url.host or ''}{port}/{url.database or ''}"


# -- quiet setup -------------------------------------------------------------------

# MLflow logs at INFO on stderr when a SQL store creates or upgrades its tables, and
# alembic logs each migration: news to a server operator, noise to a library's caller.
# They are dropped while this thread makes a client; warnings still pass. The filter sits
# on the handlers of MLflow's and alembic's top loggers (MLflow's own, which do not
# propagate), as a logger's filter would miss its children's records.
_SETUP_LOGGERS = ("mlflow", "alembic")
_setting_up = threading.local()


class _DropSetupInfo(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not getattr(_setting_up, "active", False)


_FILTER = _DropSetupInfo()


@contextlib.contextmanager
def _quiet_setup() -> Iterator[None]:
    for name in _SETUP_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(_FILTER)  # once: a handler keeps one of each filter
    _setting_up.active = True
    try:
        yield
    finally:
        _setting_up.active = False
