"""Helpers for the component provisioner's tests: real git repositories, a git call counter, a local HTTP server.

* ``GitRepo``: a repository made in the test (commits, tags, moved tags).
* ``GitCounter``: a ``git`` wrapper put first on PATH that logs every invocation (argv and the
  auth-related environment) and runs the real git; ``GIT_WRAPPER_SLEEP_ON_FETCH=<s>`` makes
  ``git fetch`` pause first, so a test can kill a run mid-fetch.
* ``FileServer``: ``http.server.ThreadingHTTPServer`` on a free loopback port serving a folder;
  it records each request (path, Authorization header), trickles ``/slow/…`` files, and answers
  ``/status/<code>`` with that status.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import threading
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner_component.config import resolve_source
from provisioner_component.sources import Fetcher
from provisioner_component.vendor import Vendorer
from provisioner_component.workdir import Layout

REAL_GIT = shutil.which("git") or "/usr/bin/git"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def module_tf(version: str) -> str:
    """A root module that needs no provider download: terraform_data and outputs only."""
    return (
        f'resource "terraform_data" "version" {{\n  input = "{version}"\n}}\n\n'
        'output "version" {\n  value = terraform_data.version.output\n}\n'
    )


class GitRepo:
    """A git repository in ``path``; ``url`` is its file:// URL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def git(self, *args: str) -> str:
        done = subprocess.run([REAL_GIT, *args], cwd=self.path, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def commit(self, files: Mapping[str, str | None], message: str = "change", tag: str | None = None) -> str:
        """Write (or, with None, delete) ``files`` and commit; optionally tag; return the SHA."""
        for relative, content in files.items():
            target = self.path / relative
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        if tag:
            self.git("tag", "-f", tag)
        return self.git("rev-parse", "HEAD")


class GitCounter:
    """A logging ``git`` wrapper first on PATH; ``calls()`` lists the argv of each invocation."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "git-calls.jsonl"
        wrapper = folder / "git"
        wrapper.write_text(
            "#!/usr/bin/env python3\n"
            "import json, os, sys, time\n"
            f"log = {str(self.log)!r}\n"
            "env = {k: v for k, v in os.environ.items() if k.startswith('GIT_CONFIG') or k in ('GIT_SSH_COMMAND', 'GIT_TERMINAL_PROMPT')}\n"
            "with open(log, 'a') as f:\n"
            "    f.write(json.dumps({'argv': sys.argv[1:], 'env': env}) + '\\n')\n"
            "pause = os.environ.get('GIT_WRAPPER_SLEEP_ON_FETCH')\n"
            "if pause and 'fetch' in sys.argv[1:]:\n"
            "    time.sleep(float(pause))\n"
            f"os.execv({REAL_GIT!r}, [{REAL_GIT!r}] + sys.argv[1:])\n"
        )
        wrapper.chmod(0o755)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def count(self, subcommand: str | None = None) -> int:
        calls = self.calls()
        if subcommand is None:
            return len(calls)
        return sum(1 for call in calls if subcommand in call["argv"])

    def reset(self) -> None:
        if self.log.exists():
            self.log.unlink()


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self.server.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/nolength/"):
            data = (Path(self.directory) / self.path[len("/nolength/"):]).read_bytes()
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body ends when the connection closes
            self.wfile.write(data)
            self.close_connection = True
            return
        if self.path.startswith("/slow/"):
            data = (Path(self.directory) / self.path[len("/slow/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for start in range(0, len(data), 512):
                self.wfile.write(data[start : start + 512])
                self.wfile.flush()
                time.sleep(0.2)
            return
        super().do_GET()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]


class FileServer:
    """Serves ``root`` on 127.0.0.1; ``url(name)`` is a file's address."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

        def handler(*args: Any, **kwargs: Any) -> _Handler:
            return _Handler(*args, directory=str(root), **kwargs)

        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.requests = []
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="component-test-http", daemon=True)
        self.thread.start()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.requests

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def component_stack(stage: str, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A stack document: each component gets provision.component with the given options."""
    return {
        "vars": {"stage": stage},
        "components": {"terraform": {name: {"provision": {"component": {"enabled": True, **options}}} for name, options in components.items()}},
    }


class Engine:
    """The engine on one project, as the plugin builds it, plus a shortcut to vendor by options."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fetcher = Fetcher(Layout(root))
        self.vendorer = Vendorer(root, fetcher=self.fetcher)

    def vendor(self, stack: str, component: str, options: dict[str, Any], **kwargs: Any) -> Any:
        source = resolve_source({"enabled": True, **options})
        assert source is not None
        return self.vendorer.vendor(self.vendorer.target(stack, component), source, **kwargs)

    def workdir(self, stack: str, component: str) -> Path:
        return self.vendorer.target(stack, component).workdir

    def fresh(self) -> Engine:
        """A new engine on the same project (a new process, as far as caches go)."""
        return Engine(self.root)


# --- archives -----------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def tar_gz(path: Path, entries: Mapping[str, Any]) -> Path:
    """A .tar.gz whose members are given as ``name -> str`` (a file), ``("symlink", target)``,
    ``("hardlink", target)``, ``("chr", None)`` (a device), ``("dir", None)`` or ``("exec", text)``."""
    with tarfile.open(path, "w:gz") as bundle:
        for name, spec in entries.items():
            kind, value = spec if isinstance(spec, tuple) else ("file", spec)
            info = tarfile.TarInfo(name)
            data = b""
            if kind in ("file", "exec"):
                data = value.encode()
                info.size = len(data)
                info.mode = 0o755 if kind == "exec" else 0o644
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, value
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, value
            elif kind == "chr":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            bundle.addfile(info, io.BytesIO(data) if data else None)
    return path


def zip_file(path: Path, entries: Mapping[str, Any]) -> Path:
    """A .zip with ``name -> str`` files and ``("symlink", target)`` links."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, spec in entries.items():
            kind, value = spec if isinstance(spec, tuple) else ("file", spec)
            info = zipfile.ZipInfo(name)
            if kind == "symlink":
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                bundle.writestr(info, value)
            else:
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                bundle.writestr(info, value)
    return path
