"""Fixtures: one throw-away PostgreSQL cluster for the session, with the roles the tests log in as.

* ``prov_admin``: the provisioning identity: LOGIN, CREATEDB, not a superuser.
* ``tf_runner``: the least-privileged role terraform runs as (LOGIN and a password, nothing else).
* ``postgres``: the superuser, over the local socket only: to arrange scenes and to assert on them.

Every test gets its own database name, so the tests share the cluster without resets.
"""

from __future__ import annotations

import sys

# pytest's importlib mode registers the distribution folder as an empty namespace package; put
# the installed package back so `import provisioner_backend_pg.config` works (as backend-s3 does).
if getattr(sys.modules.get("provisioner_backend_pg"), "__file__", None) is None:
    sys.modules.pop("provisioner_backend_pg", None)
    import provisioner_backend_pg  # noqa: F401

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from support.postgres import PostgresServer, start_postgres

ADMIN = "prov_admin"
ADMIN_PASSWORD = "admin-Pw-7f3c9e1d"
RUNNER = "tf_runner"
RUNNER_PASSWORD = "runner-Pw-2b8a6d4f"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB PASSWORD '{ADMIN_PASSWORD}'")
            conn.execute(f"CREATE ROLE {RUNNER} LOGIN PASSWORD '{RUNNER_PASSWORD}'")
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield server
    finally:
        server.stop()


class Admin:
    """The superuser over the local socket, for arranging and asserting."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.server.admin_conninfo(dbname), autocommit=True)

    def run(self, dbname: str, *statements: str) -> None:
        with self.connect(dbname) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[call-overload]

    def rows(self, dbname: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connect(dbname) as conn:
            return [tuple(r) for r in conn.execute(query, params).fetchall()]  # type: ignore[call-overload]

    def create_database(self, name: str, owner: str = ADMIN) -> None:
        self.run("postgres", f'CREATE DATABASE "{name}" OWNER {owner}')


@pytest.fixture(scope="session")
def admin(pg_server: PostgresServer) -> Admin:
    return Admin(pg_server)


@pytest.fixture
def dbname() -> str:
    return f"tfstate_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def backend_for(pg_server: PostgresServer) -> Callable[..., dict[str, Any]]:
    """A backend.pg section that connects as the provisioning identity to ``dbname``."""

    def make(dbname: str, *, user: str = ADMIN, password: str | None = ADMIN_PASSWORD, **extra: Any) -> dict[str, Any]:
        return {"conn_str": pg_server.url(user, password, dbname), **extra}

    return make
