"""A recording reverse proxy in front of a local server: counts the calls at the wire.

Tests point a provisioner's endpoints at ``proxy.url``; every request is forwarded to the
real server (moto) unchanged and recorded as a ``Call`` (method, path, query, operation).
"No write call" is then asserted on what actually reached the server, not on what the code
under test says it did. ``delay_s`` makes every answer slow (to provoke read timeouts);
``fail(operation, status, code, times)`` answers the next calls of one operation with an AWS
error instead of forwarding them (faults a local server cannot produce: throttling, 503,
OperationAborted).
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from attrs import define, frozen

# S3 reads are GET/HEAD; every other method changes something.
_S3_READ_METHODS = frozenset({"GET", "HEAD"})
# DynamoDB and STS are POST-only JSON/query APIs: the operation decides.
_READ_OPERATION_PREFIXES = ("Describe", "List", "Get", "Query", "Scan", "AssumeRole", "GetCallerIdentity")


@frozen
class Call:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    target: str  # X-Amz-Target (DynamoDB), or the Action form field (STS/IAM), else ""
    access_key_id: str = ""  # from the SigV4 Authorization header (an id, not a secret)

    @property
    def service(self) -> str:
        if self.target.startswith("DynamoDB"):
            return "dynamodb"
        if self.target:
            return "sts"
        return "s3"

    @property
    def operation(self) -> str:
        if self.target:
            return self.target.split(".")[-1]
        sub = ",".join(k for k, _ in self.query) or "(bucket)"
        return f"{self.method} {sub}"

    @property
    def is_write(self) -> bool:
        if self.service == "s3":
            return self.method not in _S3_READ_METHODS
        return not self.operation.startswith(_READ_OPERATION_PREFIXES)

    def __str__(self) -> str:
        return f"{self.service} {self.operation} {self.path}"


@define
class _Fault:
    operation: str
    status: int
    code: str
    remaining: int


class RecordingProxy:
    """Forward every request to ``upstream`` and record it."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.calls: list[Call] = []
        self.delay_s = 0.0
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="recording-proxy", daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = self.headers.get("X-Amz-Target") or ""
                if not target and body and self.command == "POST" and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    target = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
                split = urlsplit(self.path)
                credential = (self.headers.get("Authorization") or "").partition("Credential=")[2]
                query = tuple(parse_qsl(split.query, keep_blank_values=True))
                call = Call(self.command, split.path, query, target, credential.split("/", 1)[0])
                proxy.record(call)
                fault = proxy.take_fault(call)
                if fault is not None:
                    self._answer_error(call, *fault)
                    return
                if proxy.delay_s:
                    threading.Event().wait(proxy.delay_s)
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                try:
                    upstream.connect()
                    upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    upstream.close()

            def _answer_error(self, call: Call, status: int, code: str) -> None:
                if call.service == "s3":
                    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected by the test</Message></Error>'.encode()
                    kind = "application/xml"
                else:
                    body = f'{{"__type": "com.amazonaws.dynamodb.v20120810#{code}", "message": "injected by the test"}}'.encode()
                    kind = "application/x-amz-json-1.0"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815 - stdlib naming

        return Handler

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._faults.clear()
        self.delay_s = 0.0

    def fail(self, operation: str, status: int, code: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``operation`` (``Call.operation``) with an AWS error."""
        with self._lock:
            self._faults.append(_Fault(operation, status, code, times))

    def take_fault(self, call: Call) -> tuple[int, str] | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation == call.operation and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault.status, fault.code
        return None

    def writes(self, calls: Iterable[Call] | None = None) -> list[Call]:
        return [c for c in (self.calls if calls is None else calls) if c.is_write]

    def operations(self) -> list[str]:
        return [str(c) for c in self.calls]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
