"""A local CONNECT proxy for the blob uploads the SDK makes outside ``transport=``.

``ml_client.models.create_or_update(path=<local folder>)`` uploads through a
``BlobServiceClient`` it builds itself (``https://ACCOUNT.blob.core.windows.net``), which
no transport of ours reaches. With ``HTTPS_PROXY`` pointing here, that client asks to
``CONNECT`` to the blob host; the proxy answers, ends TLS with a throwaway certificate
for ``*.blob.core.windows.net`` (trust it with ``REQUESTS_CA_BUNDLE``) and relays the
plain HTTP to Azurite, which reads the account from the ``Host`` header. CONNECT to any
other host is refused (403): nothing leaves the machine.
"""

from __future__ import annotations

import datetime
import select
import socket
import socketserver
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import cast

from modelport.backends.azureml.transport import BLOB_SUFFIX

RELAY_CHUNK = 65536


def _write_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``*.blob.core.windows.net`` and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"*.{BLOB_SUFFIX}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{BLOB_SUFFIX}")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "blob-cert.pem", folder / "blob-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], tls: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.upstream = upstream
        self.tls = tls


class _Tunnel(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server = cast(_Server, self.server)
        request_line = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # the CONNECT request's headers
        if len(request_line) < 2 or request_line[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = request_line[1].rsplit(":", 1)[0]
        if not host.endswith(f".{BLOB_SUFFIX}"):
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        with (
            server.tls.wrap_socket(self.connection, server_side=True) as client,
            socket.create_connection(server.upstream) as upstream,
        ):
            _relay(client, upstream)


def _relay(client: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets: list[socket.socket] = [client, upstream]
    while True:
        pending = client.pending() > 0
        readable = [client] if pending else select.select(sockets, [], [], 30)[0]
        if not readable:
            return
        for source in readable:
            data = source.recv(RELAY_CHUNK)
            if not data:
                return
            (upstream if source is client else client).sendall(data)


class BlobProxy:
    """The CONNECT proxy on a free 127.0.0.1 port, relaying blob hosts to ``upstream``
    (Azurite's ``http://127.0.0.1:PORT``)."""

    def __init__(self, upstream_port: int) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="modelport-blob-proxy-")
        self.certificate, key = _write_certificate(Path(self._folder.name))
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.certificate, key)
        self._server = _Server(("127.0.0.1", upstream_port), tls)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The value for ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """What the SDK's own blob client needs in ``os.environ`` to come here (local
        addresses stay direct)."""
        return {
            "HTTPS_PROXY": self.url,
            "REQUESTS_CA_BUNDLE": str(self.certificate),
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def __enter__(self) -> BlobProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._folder.cleanup()
