"""A lean read of one container's blob listing: a GET signed by a SAS, parsed with ElementTree.

The pointer blobs are listed on every resolve. Through azure-storage-blob that listing
costs ~6 ms of client CPU (the azure-core pipeline, requests' per-request environment
and proxy lookups, the generated XML models), more than the version GET it runs beside,
and the GIL serialises the two; the same request made here costs ~1.5 ms. Only this read
takes the short path: writes (pointer moves, events, artifacts) stay with the SDK.

It needs a SAS: a registry's state container comes with one, and a workspace datastore
with an account key signs one locally (`ContainerSas`). A datastore reached with an
Azure AD identity only keeps the SDK's listing. Connections are made as azure-core's
requests transport would make them: the CA bundle requests would use, the proxy the
environment names for the host when the client is made (``NO_PROXY`` honoured), the
URL's timeout, no retries (the facade retries). Failures are raised as the azure-core
exceptions the SDK would raise, so `modelport.backends.azureml.errors` reads them the
same way.
"""

from __future__ import annotations

import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from azure.core import exceptions as core

from modelport.backends.azureml.transport import routed

MAX_PAGES = 100  # 5000 blobs a page: far more pointers than a model has
SAS_LIFETIME = timedelta(hours=1)
SAS_RENEWAL = 30 * 60  # seconds: a SAS is signed again once it is this old


@dataclass(frozen=True)
class ListedBlob:
    name: str
    metadata: dict[str, str]


@dataclass
class ContainerSas:
    """A read-and-list SAS for one container, signed locally with the account key and
    signed again before it expires."""

    account: str
    container: str
    account_key: str = field(repr=False)
    _signed: tuple[float, str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> str:
        with self._lock:
            if self._signed is None or time.monotonic() - self._signed[0] > SAS_RENEWAL:
                self._signed = (time.monotonic(), self._sign())
            return self._signed[1]

    def _sign(self) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        now = datetime.now(timezone.utc)
        return str(
            generate_container_sas(
                self.account,
                self.container,
                account_key=self.account_key,
                permission=ContainerSasPermissions(read=True, list=True),
                start=now - timedelta(minutes=5),  # clocks differ
                expiry=now + SAS_LIFETIME,
            )
        )


class SasListing:
    """Lists the blobs of the container at ``container_url`` under a prefix, with their
    metadata, signed by ``sas()`` (a SAS query string)."""

    def __init__(
        self,
        container_url: str,
        sas: Callable[[], str],
        *,
        api_version: str,
        timeout: float,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        self._url = container_url.split("?", 1)[0].rstrip("/")
        self._sas = sas
        self._headers = {"x-ms-version": api_version, "Host": urlsplit(self._url).netloc}
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._routes = dict(routes or {})
        target = routed(self._url, self._routes)  # where requests go
        self._pool = _pool_for(target)
        # Straight to the host's connection pool when no proxy stands between: the pool
        # manager would parse and percent-encode the long signed URL once more per request.
        self._host_pool = (
            None
            if isinstance(self._pool, urllib3.ProxyManager)
            else self._pool.connection_from_url(target)
        )
        self._path = urlsplit(target).path

    def list(self, prefix: str, *, page_size: int | None = None) -> list[ListedBlob]:
        found: list[ListedBlob] = []
        marker = ""
        for _ in range(MAX_PAGES):
            root = self._page(prefix, marker, page_size)
            for blob in root.iter("Blob"):
                metadata = blob.find("Metadata")
                found.append(
                    ListedBlob(
                        blob.findtext("Name") or "",
                        {} if metadata is None else {m.tag: m.text or "" for m in metadata},
                    )
                )
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return found
        raise core.HttpResponseError(message=f"more than {MAX_PAGES} pages under {prefix!r}")

    def _page(self, prefix: str, marker: str, page_size: int | None) -> ET.Element:
        query = f"restype=container&comp=list&include=metadata&prefix={quote(prefix, safe='')}"
        if marker:
            query += f"&marker={quote(marker, safe='')}"
        if page_size:
            query += f"&maxresults={page_size}"
        query += f"&{self._sas()}"
        try:
            response = self._get(query)
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise core.ServiceRequestTimeoutError(message=str(exc)) from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise core.ServiceResponseTimeoutError(message=str(exc)) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise core.ServiceRequestError(message=str(exc)) from exc
        if response.status != 200:
            raise _refusal(response.status, response.data)
        try:
            return ET.fromstring(response.data)
        except ET.ParseError as exc:
            raise core.ServiceResponseError(message=f"unreadable listing: {exc}") from exc

    def _get(self, query: str) -> Any:
        options: dict[str, Any] = {"headers": self._headers, "timeout": self._timeout}
        if self._host_pool is not None:
            target = f"{self._path}?{query}"
            return self._host_pool.urlopen("GET", target, retries=False, redirect=False, **options)
        url = routed(f"{self._url}?{query}", self._routes)
        return self._pool.request("GET", url, retries=False, **options)


def _refusal(status: int, body: bytes) -> core.HttpResponseError:
    """The service's error answer as the exception azure-core raises for it."""
    try:
        root = ET.fromstring(body)
        code, message = root.findtext("Code") or "", root.findtext("Message") or ""
    except ET.ParseError:
        code, message = "", body[:200].decode("utf-8", "replace")
    text = f"{code or status}: {message.strip()}"
    kind = core.ResourceNotFoundError if status == 404 else core.HttpResponseError
    exc = kind(message=text)
    exc.status_code = status
    exc.error = core.ODataV4Format({"code": code or str(status), "message": message})
    return exc


def _pool_for(url: str) -> Any:
    """A connection pool as azure-core's requests transport would open one for ``url``."""
    import certifi
    from requests.utils import get_environ_proxies

    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    options: dict[str, Any] = {"ca_certs": bundle or certifi.where(), "maxsize": 8}
    proxy = get_environ_proxies(url).get(urlsplit(url).scheme)
    if proxy:
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)
