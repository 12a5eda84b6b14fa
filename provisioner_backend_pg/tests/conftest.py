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

from support.pg_helpers import ADMIN, ADMIN_PASSWORD, RUNNER, RUNNER_PASSWORD, Admin
from support.postgres import PostgresServer, start_postgres


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
