"""The azure-core transport modelport's clients send with, and what reaches a local rig.

`RoutingTransport`: the SDK builds its URLs from the public cloud (``management.azure.com``,
``ACCOUNT.blob.core.windows.net``); this transport rewrites the scheme and host of those
requests to a local ``http://`` server just before sending and puts the original URL back
afterwards, so the bearer-token policy (which refuses plain http), signatures and
``nextLink`` paging see the real URL. With no routes it sends as azure-core's own
``RequestsTransport`` does.

`ClientTransport` (every client modelport makes, rig or cloud): the same, over a requests
session that reads the environment's proxy and CA bundle settings once per host instead of
on every request (requests walks all of ``os.environ`` for each one: ~1 ms of CPU, a quarter
of a version GET's), and never ``~/.netrc``, whose Basic credentials would replace the
bearer token.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.transport import HttpRequest, RequestsTransport
from azure.core.rest import HttpRequest as RestHttpRequest

ARM_HOST = "management.azure.com"
BLOB_SUFFIX = "blob.core.windows.net"
# A registry's hosts are known only once discovered: its discovery endpoint
# (``REGION.api.azureml.ms``), its data plane (``cert-REGION.experiments.azureml.net``) and
# its storage accounts. A route key starting with "." matches every host ending with it.
REGISTRY_SUFFIXES = (".api.azureml.ms", ".experiments.azureml.net")


class RoutingTransport(RequestsTransport):  # type: ignore[misc]
    """Sends requests for the hosts in ``routes`` (a key ``.suffix``: every host ending so)
    to a local ``http://host:port`` instead, with the original ``Host`` header."""

    def __init__(self, routes: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._routes = dict(routes)

    def send(self, request: HttpRequest | RestHttpRequest, **kwargs: Any) -> Any:
        if not self._routes:
            return super().send(request, **kwargs)
        original = request.url
        request.url = self._route(original)
        if request.url != original:
            # Azurite reads the account from the host, as the service does (product-style URL)
            request.headers["Host"] = urlsplit(original).netloc
        try:
            return super().send(request, **kwargs)
        finally:
            request.url = original
            request.headers.pop("Host", None)

    def _route(self, url: str) -> str:
        return routed(url, self._routes)


class ClientTransport(RoutingTransport):
    """`RoutingTransport` over a `CachedEnvironmentSession`."""

    def __init__(self, routes: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(routes or {}, use_env_settings=False, **kwargs)

    def open(self) -> None:
        # azure-core's own open() would make a plain requests.Session: make ours first
        if self.session is None and self._session_owner and not self._has_been_opened:  # type: ignore[has-type]
            self.session = CachedEnvironmentSession()
            self._init_session(self.session)  # retries off, as azure-core mounts them
        super().open()


class CachedEnvironmentSession(requests.Session):
    """A requests session that takes the proxy and CA bundle the environment names for a
    host the first time it sends there (as requests would: ``HTTPS_PROXY``, ``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``), and keeps them for the session's life."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no per-request lookups, no ~/.netrc
        self._by_host: dict[tuple[str, str | None], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        no_proxy = proxies.get("no_proxy") if proxies else None
        found, bundle = self._environment(str(url), no_proxy)
        proxies = {**found, **(proxies or {})}
        if verify is True or verify is None:
            verify = bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def _environment(self, url: str, no_proxy: str | None) -> tuple[dict[str, str], str | None]:
        parts = urlsplit(url)
        key = (f"{parts.scheme}://{parts.netloc}", no_proxy)
        known = self._by_host.get(key)
        if known is None:
            from requests.utils import get_environ_proxies

            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            known = (dict(get_environ_proxies(url, no_proxy=no_proxy)), bundle)
            self._by_host[key] = known
        return known


def routed(url: str, routes: Mapping[str, str]) -> str:
    """``url`` sent to the local server ``routes`` names for its host (a key ``.suffix``:
    every host ending so), or unchanged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    target = routes.get(host) or next(
        (to for key, to in routes.items() if key[:1] == "." and host.endswith(key)), None
    )
    if target is None:
        return url
    local = urlsplit(target)
    return urlunsplit((local.scheme, local.netloc, parts.path, parts.query, parts.fragment))


class RigCredential:
    """A TokenCredential that hands out a dummy token: local rigs check none."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("rig-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo("rig-token", int(time.time()) + 3600)
