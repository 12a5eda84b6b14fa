"""Reliability-suite helpers for the GCS and Azure backends (tests/test_reliability_gcs*.py, _azure*.py).

* ``FaultProxy``: an HTTP proxy on loopback in front of a local server. It records every
  request (method, path, query, headers) and, for a configurable share of requests drawn from
  a seeded ``random.Random``, answers it itself: ``503`` or ``429`` with the cloud's own error
  body, ``reset`` (a TCP RST before the request reaches the server) or ``lost`` (the request
  reaches the server, then the client's connection is reset: the server acted, the client
  never heard). A single-process run makes its requests one after another, so a (share, seed)
  pair gives the same faults on every run. ``stop_server_on`` kills the server behind it (and
  closes the proxy's own port) when a chosen request arrives: the endpoint vanishes mid-run.
* ``gcs_stack`` / ``azure_stack``: a one-component stack tree for ``provision backend app -s dev``.
* ``run_cli``: the CLI in-process with the installed plugins; ``race_cli``: N real OS processes
  that each import everything, wait at a barrier and then run the same command together.
* ``assert_clean_failure``: the documented exit code, one ``Error:`` line, no traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from attrs import define, frozen

from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.testing.kit import CliResult, CliRunner, StackTree
from support.servers import ServerProcess

FAULT_KINDS = ("503", "429", "reset", "lost")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailers", "transfer-encoding", "upgrade"})


@frozen
class Seen:
    """One request as the proxy received it, and what it did with it."""

    index: int
    method: str
    path: str  # without the query string
    query: str
    headers: Mapping[str, str]  # lower-case names
    fault: str | None  # None: forwarded and answered normally
    forwarded: bool  # the server received it
    status: int | None  # what the client was answered (None: its connection was reset)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@define
class _Hold:
    predicate: Callable[[str, str], bool]
    barrier: threading.Barrier
    left: int


class FaultProxy:
    """A threaded proxy to ``upstream`` on a free loopback port (``url``); ``flavour`` is ``gcs`` or ``azure``."""

    def __init__(self, upstream: str, flavour: str, *, share: float = 0.0, seed: int = 0, kinds: Sequence[str] = FAULT_KINDS) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.flavour = flavour
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._dead = False
        self._trigger: tuple[Callable[[str, str], bool], Callable[[], None], bool] | None = None
        self._holds: list[_Hold] = []
        self.broken_holds = 0
        self._closed = False
        self.configure(share=share, seed=seed, kinds=kinds)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                return

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_CONNECT = _handle  # noqa: N815

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a reset connection is the point, not an error worth printing

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"{flavour}-fault-proxy", daemon=True)
        self._thread.start()

    # --- configuration and inspection ---------------------------------------------------------

    def configure(
        self, *, share: float, seed: int = 0, kinds: Sequence[str] = FAULT_KINDS, only: Callable[[str, str], bool] | None = None, limit: int | None = None
    ) -> None:
        """From now on, fault each request with probability ``share`` (seeded: the same sequence every time).

        ``only``: fault only requests whose (method, path) it accepts; ``limit``: at most that many faults.
        """
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        with self._lock:
            self.share = share
            self.kinds = tuple(kinds)
            self._only = only
            self._left = limit
            self._rng = random.Random(seed)

    def hold(self, predicate: Callable[[str, str], bool], parties: int, timeout: float = 30.0) -> None:
        """Hold the first ``parties`` matching requests until all of them have arrived, then forward them together.

        The way to make N processes' reads (or creates) reach the server at the same moment, every
        time: a race that does not depend on how fast the processes started. ``broken_holds``
        counts barriers that timed out (fewer requests came than expected).
        """
        with self._lock:
            self._holds.append(_Hold(predicate, threading.Barrier(parties, timeout=timeout), parties))

    def on_request(self, predicate: Callable[[str, str], bool], action: Callable[[], None], *, dead_after: bool = False) -> None:
        """The first time a request (method, path) matches: run ``action``, then reset that connection unanswered.

        ``dead_after``: every later request is reset too (the endpoint is gone).
        """
        with self._lock:
            self._trigger = (predicate, action, dead_after)

    def stop_server_on(self, predicate: Callable[[str, str], bool], server: ServerProcess) -> None:
        """When a request matches: stop ``server`` for good and close this proxy's port: the endpoint vanishes mid-run."""

        def stop_everything() -> None:
            server.stop()  # the real server process ends here, mid-run
            threading.Thread(target=self.stop, daemon=True).start()  # and the endpoint stops listening

        self.on_request(predicate, stop_everything, dead_after=True)

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()

    def faults(self) -> list[Seen]:
        return [s for s in self.seen if s.fault]

    def reached_server(self) -> list[Seen]:
        return [s for s in self.seen if s.forwarded]

    def stop(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._server.shutdown()
        self._server.server_close()

    # --- serving ---------------------------------------------------------------------------------

    def _decide(self, method: str, path: str) -> tuple[str | None, Callable[[], None] | None]:
        with self._lock:
            if self._dead:
                return "dead", None
            if self._trigger is not None and self._trigger[0](method, path):
                _, action, self._dead = self._trigger
                self._trigger = None
                return "trigger", action
            if self.share <= 0 or (self._only is not None and not self._only(method, path)) or self._left == 0:
                return None, None
            if self._rng.random() >= self.share:
                return None, None
            if self._left is not None:
                self._left -= 1
            return self._rng.choice(self.kinds), None

    def _wait_at_hold(self, method: str, path: str) -> None:
        barrier = None
        with self._lock:
            for hold in self._holds:
                if hold.left > 0 and hold.predicate(method, path):
                    hold.left -= 1
                    barrier = hold.barrier
                    break
        if barrier is not None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                with self._lock:
                    self.broken_holds += 1

    def _record(self, method: str, path: str, query: str, headers: Mapping[str, str], fault: str | None, forwarded: bool, status: int | None) -> None:
        with self._lock:
            self.seen.append(Seen(len(self.seen), method, path, query, dict(headers), fault, forwarded, status))

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        path, _, query = handler.path.partition("?")
        body = _read_body(handler)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if method == "CONNECT":  # someone used this as an HTTPS proxy (a decoy's job: record it, tunnel nothing)
            self._record(method, path, query, headers, "connect", False, None)
            _reset(handler)
            return
        fault, action = self._decide(method, path)
        if action is not None:
            self._record(method, path, query, headers, fault, False, None)
            action()
            _reset(handler)
            return
        if fault in ("dead", "reset"):
            self._record(method, path, query, headers, fault, False, None)
            _reset(handler)
            return
        if fault in ("503", "429"):
            status = int(fault)
            self._record(method, path, query, headers, fault, False, status)
            out_headers, payload = _error_body(self.flavour, status)
            _respond(handler, status, out_headers, payload)
            return
        self._wait_at_hold(method, path)
        forward = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            upstream.request(method, handler.path, body=body if body or method in ("PUT", "POST", "PATCH") else None, headers=forward)
            response = upstream.getresponse()
            data = response.read()
        except OSError:
            self._record(method, path, query, headers, fault or "unreachable", False, None)
            _reset(handler)  # the server is gone: the client sees a dropped connection
            return
        finally:
            upstream.close()
        self._record(method, path, query, headers, fault, True, None if fault == "lost" else response.status)
        if fault == "lost":
            _reset(handler)
            return
        _respond(handler, response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}], data)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Abort the client's connection with a TCP RST (SO_LINGER 0), as a failing load balancer does."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass


def _error_body(flavour: str, status: int) -> tuple[list[tuple[str, str]], bytes]:
    """The error each cloud sends for throttling / unavailability."""
    if flavour == "gcs":
        reason = {429: "rateLimitExceeded", 503: "backendError"}[status]
        message = f"injected {status} by the fault proxy"
        body = {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}
        return [("Content-Type", "application/json; charset=UTF-8")], json.dumps(body).encode()
    code = {429: "TooManyRequests", 503: "ServerBusy"}[status]
    xml = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>injected {status} by the fault proxy</Message></Error>'
    return [("Content-Type", "application/xml"), ("x-ms-error-code", code), ("x-ms-version", "2025-01-05")], xml.encode()


def _respond(handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    handler.send_response(status)
    for key, value in headers:
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


# --- stack trees --------------------------------------------------------------------------------


def _write(root: Path, component: Mapping[str, Any]) -> StackTree:
    tree = StackTree(root)
    tree.component("app")
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": dict(component)}}})
    return tree


def gcs_stack(root: Path, *, bucket: str, endpoint: str, options: Mapping[str, Any] | None = None, auth: Mapping[str, Any] | None = None) -> StackTree:
    """``app`` in stack ``dev``: a gcs backend at ``endpoint`` (a server URL, without /storage/v1/)."""
    return _write(
        root,
        {
            "backend_type": "gcs",
            "backend": {"gcs": {"bucket": bucket, "prefix": "app", "storage_custom_endpoint": f"{endpoint}/storage/v1/"}},
            "provision": {"backend": {"enabled": True, "project": "test-project", "location": "US", **dict(options or {})}},
            "auth": {"providers": {"gcp": dict(auth or {"type": "anonymous"})}},
        },
    )


def azure_stack(root: Path, *, account: str, container: str, auth: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> StackTree:
    """``app`` in stack ``dev``: an azurerm backend, data plane only (no subscription: no ARM)."""
    return _write(
        root,
        {
            "backend_type": "azurerm",
            "backend": {"azurerm": {"storage_account_name": account, "container_name": container, "key": "app/terraform.tfstate"}},
            "provision": {"backend": {"enabled": True, **dict(options or {})}},
            "auth": {"providers": {"azure": dict(auth)}},
        },
    )


# --- running the CLI ------------------------------------------------------------------------------

BACKEND_ARGS = ("backend", "app", "-s", "dev")


def run_cli(root: Path, args: Sequence[str] = BACKEND_ARGS, registry: PluginRegistry | None = None) -> CliResult:
    """``provision <args>`` in-process in ``root`` with the installed plugins; any exit code."""
    return CliRunner(root, registry or PluginRegistry(environ={})).run(list(args), exit_code=None)


_CHILD = """
import sys
import {preload}
from provisioner_core.cli.main import main
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
main(sys.argv[1:])
"""


@frozen
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str


def race_cli(root: Path, n: int, *, preload: str, args: Sequence[str] = BACKEND_ARGS, env: Mapping[str, str] | None = None, timeout: float = 120) -> list[ProcessResult]:
    """Start ``n`` interpreters that import the CLI and ``preload``, wait until all are ready, then release them together."""
    environ = {**os.environ, **(env or {})}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD.format(preload=preload), *args],
            cwd=root, env=environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for _ in range(n)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()  # blocks until that process has imported everything
            assert line == "ready\n", f"worker did not start: {line!r} {worker.stderr.read() if worker.stderr else ''}"
        for worker in workers:  # the barrier: every process is past its imports before any starts
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=timeout)
            results.append(ProcessResult(worker.returncode, out, err))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(5)


def cli_subprocess(root: Path, args: Sequence[str] = BACKEND_ARGS, *, env: Mapping[str, str], timeout: float = 120) -> ProcessResult:
    """The venv's ``provision`` script as a separate process with exactly ``env`` added to the environment."""
    script = Path(sys.executable).parent / "provision"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "provisioner_core.cli.main"]
    done = subprocess.run([*argv, *args], cwd=root, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout, check=False)
    return ProcessResult(done.returncode, done.stdout, done.stderr)


def json_results(stdout: str) -> list[dict[str, Any]]:
    """The ``results`` of ``-o json`` output (after a race child's ``ready`` line)."""
    text = stdout[stdout.index("{") :]
    return list(json.loads(text)["results"])


def assert_clean_failure(exit_code: int, stdout: str, stderr: str, expected: int, *fragments: str) -> str:
    """Exit ``expected``, exactly one one-line ``Error:`` naming every fragment, a hint, no traceback. Returns the error line."""
    output = stdout + stderr
    assert exit_code == expected, f"exit {exit_code}, expected {expected}\n{output}"
    assert "Traceback" not in output, output
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    assert any(line.startswith("Hint:") for line in stderr.splitlines()), stderr
    for fragment in fragments:
        assert fragment in stderr, f"{fragment!r} not in\n{stderr}"
    return errors[0]


__all__ = [
    "BACKEND_ARGS",
    "FAULT_KINDS",
    "FaultProxy",
    "ProcessResult",
    "Seen",
    "assert_clean_failure",
    "azure_stack",
    "cli_subprocess",
    "gcs_stack",
    "json_results",
    "race_cli",
    "run_cli",
]
