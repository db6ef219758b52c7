"""``MotoS3Server``: moto's server on 127.0.0.1 and a free port."""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from .clients import make_client
from .lifecycle import ThreadedServer


class MotoS3Server(ThreadedServer):
    """moto's ``ThreadedMotoServer`` on 127.0.0.1 and a free port: S3 for the rig, and every
    other service moto serves on the same port (STS, SageMaker). moto keeps its state in
    module globals, so every MotoS3Server in one process shares it; ``reset()`` clears it."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._server: Any = None
        self._url: str | None = None

    def start(self) -> MotoS3Server:
        if self._server is None:
            from moto.server import ThreadedMotoServer  # heavy; import only when used

            # werkzeug logs each request at INFO: thousands of lines a test run pays for.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
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
