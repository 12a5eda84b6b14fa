"""A real HTTP server for terraform's ``http`` backend, with namespaces that must be provisioned first.

Protocol (terraform's http backend): ``GET <address>`` returns the state (404: none yet),
``POST <address>`` stores it, ``DELETE`` removes it; ``LOCK``/``UNLOCK`` on the lock address.
Every request needs basic auth. State lives under ``/state/<namespace>/<name>``; a namespace
exists only after ``PUT /admin/<namespace>`` (what the contract test plugin's backend
provisioner does), so terraform fails on an unprovisioned one. Run as a subprocess:
``python -m support.http_state PORT USER PASSWORD``.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StateStore:
    def __init__(self, user: str, password: str) -> None:
        self.token = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.namespaces: dict[str, dict[str, bytes]] = {}
        self.locks: dict[str, bytes] = {}
        self.lock = threading.Lock()


def handler(store: StateStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            return

        def _answer(self, code: int, body: bytes = b"", content_type: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self) -> tuple[str, str, str] | None:
            if self.headers.get("Authorization") != store.token:
                self._answer(401, b'{"error": "unauthorized"}')
                return None
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[0] == "admin" and len(parts) == 2:
                return ("admin", parts[1], "")
            if parts[0] in ("state", "lock") and len(parts) >= 3:
                namespace = parts[1]
                if namespace not in store.namespaces:
                    self._answer(403, f'{{"error": "namespace {namespace} is not provisioned"}}'.encode())
                    return None
                return (parts[0], namespace, "/".join(parts[2:]))
            self._answer(404, b'{"error": "no such path"}')
            return None

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            route = self._route()
            if route is None:
                return
            kind, namespace, name = route
            with store.lock:
                if kind == "admin":
                    if namespace == "_all":
                        self._answer(200, json.dumps(sorted(store.namespaces)).encode())
                    elif namespace in store.namespaces:
                        self._answer(200, json.dumps(sorted(store.namespaces[namespace])).encode())
                    else:
                        self._answer(404, b'{"error": "no such namespace"}')
                    return
                state = store.namespaces[namespace].get(name)
            self._answer(200, state) if state is not None else self._answer(404)

        def do_PUT(self) -> None:  # noqa: N802
            route = self._route()
            if route is None:
                return
            kind, namespace, _ = route
            if kind != "admin":
                self._answer(405)
                return
            with store.lock:
                created = namespace not in store.namespaces
                store.namespaces.setdefault(namespace, {})
            self._answer(201 if created else 200, b"{}")

        def do_POST(self) -> None:  # noqa: N802
            route = self._route()
            if route is None:
                return
            kind, namespace, name = route
            body = self._body()
            with store.lock:
                store.namespaces[namespace][name] = body
            self._answer(200)

        def do_DELETE(self) -> None:  # noqa: N802
            route = self._route()
            if route is None:
                return
            _, namespace, name = route
            with store.lock:
                store.namespaces[namespace].pop(name, None)
            self._answer(200)

        def do_LOCK(self) -> None:  # noqa: N802
            route = self._route()
            if route is None:
                return
            _, namespace, name = route
            body = self._body()
            with store.lock:
                key = f"{namespace}/{name}"
                if key in store.locks:
                    self._answer(423, store.locks[key])
                    return
                store.locks[key] = body
            self._answer(200)

        def do_UNLOCK(self) -> None:  # noqa: N802
            route = self._route()
            if route is None:
                return
            _, namespace, name = route
            with store.lock:
                store.locks.pop(f"{namespace}/{name}", None)
            self._answer(200)

    return Handler


def main() -> None:
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler(StateStore(user, password)))
    server.serve_forever()


if __name__ == "__main__":
    main()
