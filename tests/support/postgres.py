"""A throw-away PostgreSQL cluster for tests: initdb in a temporary folder, a free port, stopped after.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
``postgres`` OS user (Debian's package creates it) and every server program runs through
``runuser``. The local socket trusts everyone (for setting up roles); TCP on 127.0.0.1 asks
for a scram-sha-256 password, so the provisioner and terraform are tested with real password
authentication. ``pg_stat_statements`` is preloaded so a test can count the statements a run sent.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from support.servers import free_port

SERVER_USER = "postgres"  # the OS user that owns the cluster when the tests run as root
SUPERUSER = "postgres"  # the database superuser initdb creates (local socket only)


class PostgresNotInstalled(RuntimeError):
    """The PostgreSQL server programs are not on this machine."""


def find_bindir() -> Path:
    """The folder with initdb, postgres and pg_isready: ``pg_config --bindir``, then Debian's layout."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if answer.returncode == 0 and answer.stdout.strip():
            candidates.append(Path(answer.stdout.strip()))
    # Debian: /usr/lib/postgresql/<major>/bin, newest first (pg_config may come from libpq-dev alone).
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), key=lambda p: _major(p), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    raise PostgresNotInstalled("initdb/postgres not found (pg_config --bindir, /usr/lib/postgresql/*/bin); run scripts/bootstrap test")


def _major(path: Path) -> int:
    try:
        return int(path.parent.name)
    except ValueError:
        return 0


class PostgresServer:
    """One running cluster; ``stop()`` shuts it down and removes its folder."""

    def __init__(self, bindir: Path | None = None, *, settings: Sequence[str] = ()) -> None:
        self.bindir = bindir or find_bindir()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        # Not under pytest's tmp_path: its parents are private to root, and the server user must reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="provisioner-pg-"))
        self.datadir = self.root / "data"
        self.socket_dir = self.root
        self._owner_ids: tuple[int, int] | None = None
        if self._as_root:
            entry = pwd.getpwnam(SERVER_USER)
            self._owner_ids = (entry.pw_uid, entry.pw_gid)
            os.chown(self.root, *self._owner_ids)
        self._initdb()
        self.process = self._start(settings)
        self._wait_ready()

    # --- running programs as the cluster's owner ------------------------------------------

    def _argv(self, program: str, *args: str) -> list[str]:
        argv = [str(self.bindir / program), *args]
        return ["runuser", "-u", SERVER_USER, "--", *argv] if self._as_root else argv

    def _initdb(self) -> None:
        argv = self._argv(
            "initdb", "-D", str(self.datadir), "-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
            "--locale=C",
        )  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            shutil.rmtree(self.root, ignore_errors=True)
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def _start(self, settings: Sequence[str]) -> subprocess.Popen[bytes]:
        options = [
            "shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all", "pg_stat_statements.track_utility=on",
            "fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=60", "log_min_messages=warning",
            *settings,
        ]  # fmt: skip
        argv = self._argv("postgres", "-D", str(self.datadir), "-p", str(self.port), "-k", str(self.socket_dir), "-h", self.host)
        for option in options:
            argv += ["-c", option]
        self._log = open(self.root / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        return subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        isready = [
            str(self.bindir / "pg_isready"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-t",
            "2",
        ]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"postgres exited with {self.process.returncode} before it was ready: {log}")
            if subprocess.run(isready, capture_output=True, check=False).returncode == 0:
                return
            time.sleep(0.1)  # the bounded readiness wait
        self.stop()
        raise RuntimeError(f"postgres did not become ready on port {self.port} within {timeout}s")

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster itself: runuser does not pass signals on), then remove the folder."""
        if self.process.poll() is None:
            pid = self._postmaster_pid()
            try:
                os.kill(pid, signal.SIGINT) if pid else self.process.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- connection strings -------------------------------------------------------------

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """The superuser over the local socket (trust): for arranging scenes and asserting on them."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(self, user: str, password: str | None, dbname: str, **query: str) -> str:
        """A ``postgres://`` URL over TCP on 127.0.0.1 (password authentication)."""
        from urllib.parse import quote, urlencode

        auth = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
        params = {"sslmode": "disable", **query}
        return f"postgres://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}?{urlencode(params)}"

    def keyword_conninfo(self, user: str, password: str | None, dbname: str, **extra: str) -> str:
        """The same as :meth:`url` in libpq's ``key=value`` form."""
        parts = {"host": self.host, "port": str(self.port), "user": user, "dbname": dbname, "sslmode": "disable", **extra}
        if password is not None:
            parts["password"] = password
        return " ".join(f"{key}='{_quote(value)}'" for key, value in parts.items())


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def start_postgres(*, settings: Sequence[str] = ()) -> PostgresServer:
    """Start a cluster on a free loopback port (see the module docstring)."""
    return PostgresServer(settings=settings)
