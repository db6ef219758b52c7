"""Reaching a local rig: a routing azure-core transport and a credential that never calls out.

The SDK builds its URLs from the public cloud (``management.azure.com``,
``ACCOUNT.blob.core.windows.net``). The transport rewrites the scheme and host of those
requests to a local ``http://`` server just before sending and puts the original URL back
afterwards, so the bearer-token policy (which refuses plain http), signatures and
``nextLink`` paging see the real URL. Used only for ``http://`` endpoints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
