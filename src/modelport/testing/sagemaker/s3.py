"""``MotoS3Server``: moto's S3 on 127.0.0.1 and a free port."""

from __future__ import annotations

import urllib.request
from typing import Any

from .clients import make_client
from .lifecycle import ThreadedServer


class MotoS3Server(ThreadedServer):
    """moto's S3 on 127.0.0.1 and a free port. moto keeps its state in module globals, so
    every MotoS3Server in one process shares buckets; ``reset()`` clears them all."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._server: Any = None
        self._url: str | None = None

    def start(self) -> MotoS3Server:
        if self._server is None:
            from moto.server import ThreadedMotoServer  # heavy; import only when used

            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self._url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = self._url = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise RuntimeError("MotoS3Server is not started")
        return self._url

    def client(self, **kwargs: Any) -> Any:
        """A boto3 ``s3`` client for this server (dummy credentials); ``kwargs`` win."""
        return make_client("s3", self.endpoint_url, self.region, kwargs)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
