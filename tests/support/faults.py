"""A fault-injecting HTTP reverse proxy on loopback, in front of a local server (moto, a GCS emulator, Azurite).

Tests point a client's endpoint at ``proxy.url``. Every request is recorded as an ``Exchange``
(what arrived, what was done with it, what status went back), then either forwarded unchanged to
the upstream server or answered with an injected fault:

- ``FaultPlan(share=0.3, seed=7, faults=(...))``: whether a request fails, and how, is drawn from
  an RNG seeded with (seed, the request's key, how many times that key was seen before): the
  key is method, path, query names and X-Amz-Target, so the same calls get the same faults on
  every run, whatever order concurrent reads arrive in. ``every=3`` faults every third request
  (arrival order) instead; ``match`` limits the plan to some requests; ``limit`` caps the faults.
- faults: ``http_error(status, body)`` (generic), ``RESET`` (the connection is reset before the
  request is forwarded), ``RESET_AFTER`` (forwarded, then the connection is reset instead of
  answering: the server acted, the client never heard), and the AWS flavours
  ``AWS_UNAVAILABLE`` (503 ServiceUnavailable), ``S3_SLOW_DOWN`` (503 SlowDown),
  ``DYNAMODB_THROTTLING`` (400 ThrottlingException) and ``AWS_THROTTLING`` (whichever of the last
  two fits the request's service).
- ``hold(match, parties)``: a gate that holds the first ``parties`` matching requests until the
  test opens it (``open(forward=False)`` drops them) or, with ``auto_open=True``, until all
  ``parties`` have arrived (a barrier that makes several processes hit the server at once).
  ``after_forward=True`` forwards each request at once and holds its *answer* instead: every
  party's answer is computed before any party hears it (all of them see the same "not found").
- ``serialize(match)``: matching requests are forwarded one at a time (a server whose create is a
  check-then-insert, like moto's CreateTable, then answers a race the way the cloud does).
- an upstream that stopped answering: the proxy resets the client's connection, as a pass-through
  in front of a dead server would look.

Nothing here is AWS-specific except the fault bodies and ``Request.credential`` (the SigV4
``Credential=`` scope, which is only an access key id, never a secret).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from attrs import define, field, frozen

# Headers that belong to one hop, never forwarded either way.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"})


@frozen
class Request:
    """One request as it reached the proxy."""

    seq: int
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), "")

    @property
    def query_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.query)

    @property
    def key(self) -> str:
        """What identifies "the same call" across runs: method, path, query names, X-Amz-Target."""
        return f"{self.method} {self.path}?{'&'.join(sorted(self.query_keys))} {self.header('X-Amz-Target')}"

    @property
    def credential(self) -> tuple[str, ...]:
        """The SigV4 credential scope: (access key id, date, region, service, "aws4_request"), or ()."""
        scope = self.header("Authorization").partition("Credential=")[2].split(",", 1)[0].strip()
        return tuple(scope.split("/")) if scope else ()

    @property
    def access_key_id(self) -> str:
        return self.credential[0] if self.credential else ""

    @property
    def aws_service(self) -> str:
        """``s3``, ``dynamodb``, ``sts``… from the signature scope, else from X-Amz-Target, else ''."""
        if len(self.credential) >= 4:
            return self.credential[3]
        target = self.header("X-Amz-Target")
        return "dynamodb" if target.startswith("DynamoDB") else ""

    @property
    def aws_operation(self) -> str:
        """The JSON/query API operation (``CreateTable``, ``AssumeRole``), or for S3 ``METHOD subresource``."""
        target = self.header("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.method == "POST" and "x-www-form-urlencoded" in self.header("Content-Type"):
            action = dict(parse_qsl(self.body.decode("utf-8", "replace"))).get("Action")
            if action:
                return action
        return f"{self.method} {','.join(self.query_keys) or '(none)'}"

    def __str__(self) -> str:
        return f"#{self.seq} {self.method} {self.path}{'?' + '&'.join(self.query_keys) if self.query else ''} {self.header('X-Amz-Target')}".rstrip()


@frozen
class Fault:
    """What to do instead of (or after) forwarding: answer ``status`` with ``body(request)``, or reset the connection."""

    name: str
    status: int = 0
    body: Callable[[Request], tuple[bytes, str]] | None = None  # (payload, content type)
    reset: bool = False
    after_forward: bool = False  # forward first, then fault (the server acted; the answer is lost)


def http_error(status: int, body: bytes = b"", content_type: str = "text/plain", name: str | None = None) -> Fault:
    """A generic HTTP error answer."""
    return Fault(name or str(status), status, lambda _request: (body, content_type))


RESET = Fault("reset", reset=True)
RESET_AFTER = Fault("reset-after", reset=True, after_forward=True)


def _aws_error(code: str, message: str = "injected by the test") -> Callable[[Request], tuple[bytes, str]]:
    def body(request: Request) -> tuple[bytes, str]:
        if request.aws_service == "dynamodb" or request.header("X-Amz-Target"):
            payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
            return payload, "application/x-amz-json-1.0"
        xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>'
        return xml.encode(), "application/xml"

    return body


AWS_UNAVAILABLE = Fault("503", 503, _aws_error("ServiceUnavailable"))
S3_SLOW_DOWN = Fault("SlowDown", 503, _aws_error("SlowDown", "Please reduce your request rate."))
DYNAMODB_THROTTLING = Fault(
    "ThrottlingException", 400, _aws_error("ThrottlingException", "Rate of requests exceeds the allowed throughput.")
)


def _aws_throttling(request: Request) -> tuple[bytes, str]:
    return (DYNAMODB_THROTTLING if request.aws_service == "dynamodb" else S3_SLOW_DOWN).body(request)  # type: ignore[misc]


# SlowDown for S3 (503), ThrottlingException for DynamoDB (400): the status is fixed per request below.
AWS_THROTTLING = Fault("throttling", 0, _aws_throttling)


def _status_for(fault: Fault, request: Request) -> int:
    if fault is AWS_THROTTLING:
        return 400 if request.aws_service == "dynamodb" else 503
    return fault.status


@frozen
class FaultPlan:
    """Which requests fail, and how. Deterministic: a seeded RNG drawn in arrival order, or every Nth."""

    share: float = 0.0
    seed: int = 0
    faults: Sequence[Fault] = (AWS_UNAVAILABLE,)
    every: int | None = None
    match: Callable[[Request], bool] | None = None
    limit: int | None = None


@define
class Exchange:
    """A request and its outcome: ``forwarded`` (``status`` from upstream), a fault name, ``dropped`` or ``upstream-down``."""

    request: Request
    outcome: str = "pending"
    status: int | None = None

    @property
    def faulted(self) -> bool:
        return self.outcome not in ("forwarded", "pending")


class Gate:
    """Holds the first ``parties`` requests that match, until opened."""

    def __init__(
        self, match: Callable[[Request], bool], parties: int, auto_open: bool, timeout: float, after_forward: bool = False
    ) -> None:
        self.match = match
        self.after_forward = after_forward
        self.parties = parties
        self.auto_open = auto_open
        self.timeout = timeout
        self.held: list[Request] = []
        self.arrived = threading.Event()  # set once ``parties`` requests are waiting
        self._opened = threading.Event()
        self._forward = True
        self._lock = threading.Lock()
        self._handled = 0
        self._waiting = 0
        self.settled = threading.Event()  # set once every held request has its outcome (forwarded or dropped)

    def take(self, request: Request) -> bool:
        """Reserve a place at the gate for ``request`` (False: it passes freely)."""
        with self._lock:
            if self._opened.is_set() or len(self.held) >= self.parties or not self.match(request):
                return False
            self.held.append(request)
            return True

    def wait_turn(self) -> bool:
        """Block the holding thread; True to forward (or answer), False to drop. Opens by itself after ``timeout`` (tests never hang).

        A party counts as arrived only here: for an ``after_forward`` gate, once the server has answered it,
        so an auto-opening gate never lets one party act before every party's answer is in.
        """
        with self._lock:
            self._waiting += 1
            if self._waiting >= self.parties:
                self.arrived.set()
                if self.auto_open:
                    self._opened.set()
        if not self._opened.wait(self.timeout):
            self.open()
        return self._forward

    def handled(self) -> None:
        with self._lock:
            self._handled += 1
            if self._handled >= len(self.held) and self._opened.is_set():
                self.settled.set()

    def wait_arrived(self, timeout: float = 30.0) -> bool:
        return self.arrived.wait(timeout)

    def open(self, *, forward: bool = True) -> None:
        self._forward = forward
        self._opened.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.to_reset: set[int] = set()
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # type: ignore[no-untyped-def]
        with self.sockets_lock:
            self.open_sockets.discard(request)
            reset = id(request) in self.to_reset
            self.to_reset.discard(id(request))
        if reset:
            # No FIN first: close with SO_LINGER 0 so the peer sees a TCP reset.
            self.close_request(request)
        else:
            super().shutdown_request(request)


def _set_reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


class FaultProxy:
    """A recording reverse proxy on 127.0.0.1 that injects faults by plan and holds requests at gates."""

    def __init__(self, upstream: str, plan: FaultPlan | None = None, *, upstream_timeout: float = 60.0) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the fault proxy only fronts loopback servers, not {upstream}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.exchanges: list[Exchange] = []
        self.gates: list[Gate] = []
        self._serial: list[tuple[Callable[[Request], bool], threading.Lock]] = []
        self._lock = threading.Lock()
        self._seq = 0
        self.plan = plan or FaultPlan()
        self._server = _Server(self._handler())
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fault-proxy", daemon=True)
        self._thread.start()
        self._stopped = False

    # --- configuration -------------------------------------------------------------------

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._seen: dict[str, int] = {}
            self._matched = 0
            self._faults_used = 0

    def hold(
        self,
        match: Callable[[Request], bool],
        parties: int = 1,
        *,
        auto_open: bool = False,
        timeout: float = 60.0,
        after_forward: bool = False,
    ) -> Gate:
        gate = Gate(match, parties, auto_open, timeout, after_forward)
        with self._lock:
            self.gates.append(gate)
        return gate

    def serialize(self, match: Callable[[Request], bool]) -> None:
        """Forward the requests that ``match`` one at a time."""
        with self._lock:
            self._serial.append((match, threading.Lock()))

    def reset(self, plan: FaultPlan | None = None) -> None:
        """Forget the record and the gates; install ``plan`` (no faults by default)."""
        with self._lock:
            self.exchanges.clear()
            for gate in self.gates:
                gate.open()
            self.gates.clear()
            self._serial.clear()
        self.plan = plan or FaultPlan()

    # --- the record ----------------------------------------------------------------------

    def requests(self, exchanges: Iterable[Exchange] | None = None) -> list[Request]:
        return [e.request for e in (self.exchanges if exchanges is None else exchanges)]

    def faulted(self) -> list[Exchange]:
        return [e for e in list(self.exchanges) if e.faulted]

    def forwarded(self) -> list[Exchange]:
        return [e for e in list(self.exchanges) if e.outcome == "forwarded"]

    def outcomes(self) -> dict[str, int]:
        """Counts by outcome (``forwarded``, a fault name, ``dropped``, ``upstream-down``): figures for reports."""
        return summarize(list(self.exchanges))

    # --- decisions -----------------------------------------------------------------------

    def _decide(self, request: Request) -> Fault | None:
        with self._lock:
            plan = self._plan
            if plan.match is not None and not plan.match(request):
                return None
            if plan.limit is not None and self._faults_used >= plan.limit:
                return None
            self._matched += 1
            key = request.key
            occurrence = self._seen.get(key, 0)
            self._seen[key] = occurrence + 1
            rng = random.Random(f"{plan.seed}|{key}|{occurrence}")
            if plan.every:
                hit = self._matched % plan.every == 0
            else:
                hit = plan.share > 0 and rng.random() < plan.share
            if not hit or not plan.faults:
                return None
            self._faults_used += 1
            return plan.faults[rng.randrange(len(plan.faults))]

    def _gate_for(self, request: Request) -> Gate | None:
        with self._lock:
            gates = list(self.gates)
        return next((gate for gate in gates if gate.take(request)), None)

    def _new_request(self, method: str, raw_path: str, headers: Sequence[tuple[str, str]], body: bytes) -> Exchange:
        split = urlsplit(raw_path)
        with self._lock:
            self._seq += 1
            request = Request(self._seq, method, split.path, tuple(parse_qsl(split.query, keep_blank_values=True)), tuple(headers), body)
            exchange = Exchange(request)
            self.exchanges.append(exchange)
        return exchange

    # --- the HTTP side -------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                return

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reset(self, exchange: Exchange, outcome: str) -> None:
                exchange.outcome = outcome
                self.close_connection = True
                _set_reset(self.connection)
                with proxy._server.sockets_lock:
                    proxy._server.to_reset.add(id(self.connection))

            def _answer(self, status: int, headers: Sequence[tuple[str, str]], payload: bytes, *, head_length: str | None = None) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                if status not in (204, 304):
                    self.send_header("Content-Length", head_length if head_length is not None else str(len(payload)))
                self.end_headers()
                if self.command != "HEAD" and status not in (204, 304):
                    self.wfile.write(payload)

            def _handle(self) -> None:
                body = self._read_body()
                headers = [(k, v) for k, v in self.headers.items()]
                exchange = proxy._new_request(self.command, self.path, headers, body)
                gate = proxy._gate_for(exchange.request)
                try:
                    self._process(exchange, gate)
                finally:
                    if gate is not None:
                        gate.handled()

            def _process(self, exchange: Exchange, gate: Gate | None) -> None:
                request = exchange.request
                if gate is not None and not gate.after_forward and not gate.wait_turn():
                    self._reset(exchange, "dropped")
                    return
                if proxy._stopped:
                    self._reset(exchange, "dropped")
                    return
                fault = proxy._decide(request)
                if fault is not None and not fault.after_forward:
                    self._inject(exchange, fault)
                    return
                answer = self._forward(request)
                if answer is None:
                    self._reset(exchange, "upstream-down")  # as a pass-through in front of a dead server looks
                    return
                if gate is not None and gate.after_forward and not gate.wait_turn():
                    self._reset(exchange, "dropped")
                    return
                if fault is not None:
                    self._inject(exchange, fault)
                    return
                status, upstream_headers, payload = answer
                exchange.status = status
                exchange.outcome = "forwarded"
                kept = [
                    (k, v)
                    for k, v in upstream_headers
                    if k.lower() not in _HOP_BY_HOP and k.lower() not in ("content-length", "server", "date")
                ]
                head_length = (
                    next((v for k, v in upstream_headers if k.lower() == "content-length"), None) if self.command == "HEAD" else None
                )
                self._answer(status, kept, payload, head_length=head_length)

            def _inject(self, exchange: Exchange, fault: Fault) -> None:
                if fault.reset:
                    self._reset(exchange, fault.name)
                    return
                assert fault.body is not None
                payload, kind = fault.body(exchange.request)
                exchange.outcome = fault.name
                exchange.status = _status_for(fault, exchange.request)
                self._answer(exchange.status, [("Content-Type", kind)], payload)

            def _forward(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes] | None:
                with proxy._lock:
                    serial = next((lock for match, lock in proxy._serial if match(request)), None)
                if serial is None:
                    return self._send(request)
                with serial:
                    return self._send(request)

            def _send(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes] | None:
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout)
                try:
                    upstream.connect()
                    upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    headers = {k: v for k, v in request.headers if k.lower() not in _HOP_BY_HOP}
                    if request.body or self.command in ("POST", "PUT", "PATCH"):
                        headers["Content-Length"] = str(len(request.body))
                    upstream.request(self.command, self.path, body=request.body or None, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                    return answer.status, answer.getheaders(), payload
                except (OSError, http.client.HTTPException):
                    return None
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle  # noqa: N815 - stdlib naming

        return Handler

    def stop(self) -> None:
        """Stop listening and reset every open connection (held requests are dropped)."""
        if self._stopped:
            return
        self._stopped = True
        with self._lock:
            gates = list(self.gates)
        for gate in gates:
            gate.open(forward=False)
        self._server.shutdown()
        self._server.server_close()
        with self._server.sockets_lock:
            sockets = list(self._server.open_sockets)
        for sock in sockets:
            _set_reset(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def aws_faults() -> tuple[Fault, ...]:
    """The mix the S3 reliability tests use: 503, throttling (SlowDown / ThrottlingException), resets before and after."""
    return (AWS_UNAVAILABLE, AWS_THROTTLING, RESET, RESET_AFTER)


def is_write(request: Request, read_prefixes: Sequence[str] = ("Describe", "List", "Get", "Query", "Scan")) -> bool:
    """For AWS APIs: S3 writes are anything but GET/HEAD; JSON/query APIs write unless the operation reads."""
    if request.header("X-Amz-Target") or request.aws_service in ("dynamodb", "sts"):
        return not request.aws_operation.startswith(tuple(read_prefixes))
    return request.method not in ("GET", "HEAD")


def summarize(exchanges: Iterable[Exchange]) -> dict[str, int]:
    """Counts by outcome."""
    counts: dict[str, int] = {}
    for exchange in exchanges:
        counts[exchange.outcome] = counts.get(exchange.outcome, 0) + 1
    return counts
