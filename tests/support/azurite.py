"""Start Azurite (the Azure Blob emulator) on a free port, and count the requests made to it.

Azurite is an npm package: CI installs ``azurite@3.35.0`` into ``<repo>/.tools`` (newer
versions need Node 22). A missing binary is an error, not a skip: the Azure tests are only
worth something when they run against a real server.
"""

from __future__ import annotations

import base64
import http.client
import shutil
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support.servers import REPO_ROOT, ServerProcess, free_port

AZURITE_VERSION = "3.35.0"
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
INSTALL_HINT = f"run the repo's install step: npm install --prefix .tools azurite@{AZURITE_VERSION} (what .ci/run does)"


def find_azurite() -> str | None:
    """The azurite-blob binary: ``<repo>/.tools`` first, then ``/tmp/azurite``, then PATH."""
    for candidate in (REPO_ROOT / ".tools/node_modules/.bin/azurite-blob", Path("/tmp/azurite/node_modules/.bin/azurite-blob")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("azurite-blob")


def account_key(name: str) -> str:
    """A deterministic base64 key for a custom Azurite account (Azurite needs base64 keys)."""
    return base64.b64encode(f"provisioner-test-key-{name}".encode().ljust(64, b"k")).decode()


class AzuriteServer(ServerProcess):
    """An Azurite blob service; ``accounts`` maps every account it serves to its key."""

    def __init__(self, argv: list[str], port: int, accounts: Mapping[str, str]) -> None:
        self.accounts = dict(accounts)
        env = {"AZURITE_ACCOUNTS": ";".join(f"{name}:{key}" for name, key in self.accounts.items())}
        super().__init__("azurite-blob", argv, f"http://127.0.0.1:{port}", port, env=env)

    def endpoint(self, account: str = DEV_ACCOUNT, base: str | None = None) -> str:
        return f"{base or self.url}/{account}"

    def connection_string(self, account: str = DEV_ACCOUNT, base: str | None = None) -> str:
        """Azurite's connection string form: path-style BlobEndpoint (optionally through a proxy at ``base``)."""
        key = self.accounts.get(account, DEV_KEY)
        return f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint={self.endpoint(account, base)};"


def start_azurite(extra_accounts: Mapping[str, str] | None = None) -> AzuriteServer:
    """Azurite on a free loopback port, in memory; serves devstoreaccount1 plus ``extra_accounts``."""
    binary = find_azurite()
    if binary is None:
        raise RuntimeError(f"azurite-blob not found (looked in .tools/, /tmp/azurite/ and PATH); {INSTALL_HINT}")
    port = free_port()
    argv = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--loose", "--skipApiVersionCheck", "--inMemoryPersistence", "--disableTelemetry"]
    # AZURITE_ACCOUNTS replaces the default account, so name it explicitly.
    return AzuriteServer(argv, port, {DEV_ACCOUNT: DEV_KEY, **(extra_accounts or {})})


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


__all__ = ["AZURITE_VERSION", "DEV_ACCOUNT", "DEV_KEY", "INSTALL_HINT", "AzuriteServer", "CountingProxy", "account_key", "counting_proxy", "find_azurite", "start_azurite"]
