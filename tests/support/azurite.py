"""Start Azurite (the Azure Blob emulator) on a free port, and count the requests made to it.

Azurite is an npm package: CI installs ``azurite@3.35.0`` into ``<repo>/.tools`` (newer
versions need Node 22). A missing binary is an error, not a skip: the Azure tests are only
worth something when they run against a real server.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import ipaddress
import shutil
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from attrs import frozen

from support.servers import REPO_ROOT, ServerProcess, free_port

AZURITE_VERSION = "3.35.0"
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
INSTALL_HINT = f"run the repo's install step, scripts/bootstrap test (it runs `npm install azurite@{AZURITE_VERSION}` in .tools/, as .ci/run does)"


def find_azurite() -> str | None:
    """The azurite-blob binary: ``<repo>/.tools`` first, then ``/tmp/azurite``, then PATH."""
    for candidate in (REPO_ROOT / ".tools/node_modules/.bin/azurite-blob", Path("/tmp/azurite/node_modules/.bin/azurite-blob")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("azurite-blob")


def account_key(name: str) -> str:
    """A deterministic base64 key for a custom Azurite account (Azurite needs base64 keys)."""
    return base64.b64encode(f"provisioner-test-key-{name}".encode().ljust(64, b"k")).decode()


@frozen
class TlsFiles:
    """A local CA and a server certificate it signed (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path, hostnames: tuple[str, ...] = ("localhost", "*.blob.core.windows.net")) -> TlsFiles:
    """A throwaway CA and a certificate for 127.0.0.1 plus ``hostnames`` (uses ``cryptography``, which azure-identity needs anyway)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provisioner test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), *(x509.DNSName(h) for h in hostnames)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


def bearer_token(tenant: str = "72f988bf-86f1-41af-91ab-2d7cd011db47", lifetime_s: int = 3600) -> str:
    """An unsigned Azure AD access token for storage: Azurite's ``--oauth basic`` checks issuer, audience and lifetime only."""

    def part(data: Mapping[str, object]) -> str:
        import json

        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"aud": "https://storage.azure.com", "iss": f"https://sts.windows.net/{tenant}/", "iat": now - 60, "nbf": now - 60, "exp": now + lifetime_s, "oid": "test", "tid": tenant}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class AzuriteServer(ServerProcess):
    """An Azurite blob service; ``accounts`` maps every account it serves to its key."""

    def __init__(self, argv: list[str], port: int, accounts: Mapping[str, str], tls: TlsFiles | None = None) -> None:
        self.accounts = dict(accounts)
        self.tls = tls
        env = {"AZURITE_ACCOUNTS": ";".join(f"{name}:{key}" for name, key in self.accounts.items())}
        super().__init__("azurite-blob", argv, f"{'https' if tls else 'http'}://127.0.0.1:{port}", port, env=env)

    def _wait_ready(self, path: str, timeout: float = 30.0) -> None:
        if self.tls is None:
            super()._wait_ready(path, timeout)
            return
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before it was ready")
            try:
                urllib.request.urlopen(self.url + path, timeout=1, context=context)  # noqa: S310 - loopback only
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer at {self.url} within {timeout}s")

    def endpoint(self, account: str = DEV_ACCOUNT, base: str | None = None) -> str:
        return f"{base or self.url}/{account}"

    def connection_string(self, account: str = DEV_ACCOUNT, base: str | None = None) -> str:
        """Azurite's connection string form: path-style BlobEndpoint (optionally through a proxy at ``base``)."""
        key = self.accounts.get(account, DEV_KEY)
        protocol = "https" if self.tls else "http"
        return f"DefaultEndpointsProtocol={protocol};AccountName={account};AccountKey={key};BlobEndpoint={self.endpoint(account, base)};"


def start_azurite(extra_accounts: Mapping[str, str] | None = None, *, tls: TlsFiles | None = None, oauth: bool = False) -> AzuriteServer:
    """Azurite on a free loopback port, in memory; serves devstoreaccount1 plus ``extra_accounts``.

    ``tls`` serves HTTPS with that certificate; ``oauth`` accepts Azure AD bearer tokens (needs ``tls``).
    """
    binary = find_azurite()
    if binary is None:
        raise RuntimeError(f"azurite-blob not found (looked in .tools/, /tmp/azurite/ and PATH); {INSTALL_HINT}")
    port = free_port()
    argv = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--loose", "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry"]
    if tls is not None:
        argv += ["--cert", str(tls.cert), "--key", str(tls.key)]
    if oauth:
        argv += ["--oauth", "basic"]
    # AZURITE_ACCOUNTS replaces the default account, so name it explicitly.
    return AzuriteServer(argv, port, {DEV_ACCOUNT: DEV_KEY, **(extra_accounts or {})}, tls)


class CountingProxy:
    """A tiny HTTP proxy in front of a server that records every request it forwards.

    Point a client's endpoint at ``url`` instead of the server's; ``requests`` lists
    ``(method, path?query)`` as the server received them, so a test can assert that a run
    made no write call at the server rather than trusting the client's own account.
    """

    WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE", "MERGE"})

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                conn = http.client.HTTPConnection(proxy._host, proxy._port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence the default stderr log
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [r for r in self.requests if r[0] in self.WRITE_METHODS]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def counting_proxy(upstream: str) -> Iterator[CountingProxy]:
    proxy = CountingProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.stop()


__all__ = [
    "AZURITE_VERSION",
    "DEV_ACCOUNT",
    "DEV_KEY",
    "INSTALL_HINT",
    "AzuriteServer",
    "ConnectProxy",
    "CountingProxy",
    "TlsFiles",
    "account_key",
    "bearer_token",
    "counting_proxy",
    "find_azurite",
    "make_tls_files",
    "start_azurite",
]


class ConnectProxy:
    """An HTTPS ``CONNECT`` proxy that tunnels every connection to one local server.

    Terraform's azurerm backend always dials ``https://<account>.blob.core.windows.net``; with
    ``HTTPS_PROXY`` pointing here, those connections reach Azurite's TLS port instead (its
    certificate must name ``*.blob.core.windows.net`` and be trusted through ``SSL_CERT_FILE``).
    ``hosts`` records what was asked for.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        import select
        import socket
        import socketserver

        self.hosts: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request = self.rfile.readline().decode("latin-1").split()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # the rest of the CONNECT request's headers
                if len(request) < 2 or request[0].upper() != "CONNECT":
                    self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                proxy.hosts.append(request[1])
                upstream = socket.create_connection((target_host, target_port), timeout=30)
                self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                self.wfile.flush()
                sockets = [self.connection, upstream]
                try:
                    while True:
                        readable, _, _ = select.select(sockets, [], [], 30)
                        if not readable:
                            return
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (upstream if sock is self.connection else self.connection).sendall(data)
                finally:
                    upstream.close()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="connect-proxy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
