"""Helpers for the pg backend's tests: the roles they log in as, the superuser's view of the cluster.

Statements are counted with pg_stat_statements, filtered to one role, so "a rerun only reads"
and "a dry run writes nothing" are what the server saw.
"""

from __future__ import annotations

from typing import Any

import psycopg

from support.postgres import PostgresServer

ADMIN = "prov_admin"
ADMIN_PASSWORD = "admin-Pw-7f3c9e1d"
RUNNER = "tf_runner"
RUNNER_PASSWORD = "runner-Pw-2b8a6d4f"


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


def reset_statements(admin: Admin) -> None:
    admin.run("postgres", "SELECT pg_stat_statements_reset()")


def statements_of(admin: Admin, role: str = ADMIN) -> list[str]:
    rows = admin.rows(
        "postgres",
        "SELECT s.query FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = %s ORDER BY s.query",
        [role],
    )
    return [" ".join(str(r[0]).split()) for r in rows]


def writes_of(admin: Admin, role: str = ADMIN) -> list[str]:
    return [q for q in statements_of(admin, role) if not q.upper().startswith("SELECT")]


def catalog(admin: Admin, dbname: str) -> dict[str, Any]:
    """Databases, schemas and relations with their owners and ACLs: what any write would change."""
    snapshot: dict[str, Any] = {"databases": admin.rows("postgres", "SELECT datname, datdba, datacl::text FROM pg_database ORDER BY 1")}
    if any(row[0] == dbname for row in snapshot["databases"]):
        snapshot["schemas"] = admin.rows(dbname, "SELECT nspname, nspowner, nspacl::text FROM pg_namespace ORDER BY 1")
        snapshot["relations"] = admin.rows(
            dbname,
            "SELECT n.nspname, c.relname, c.relkind, c.relowner, c.relacl::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2",
        )
    return snapshot


def privileges(admin: Admin, dbname: str, kind: str, name: str) -> dict[str, set[str]]:
    """{grantee: privileges} of one object (PUBLIC as 'PUBLIC')."""
    queries = {
        "database": ("postgres", "SELECT datacl, datdba, 'd' FROM pg_database WHERE datname = %s"),
        "schema": (dbname, "SELECT nspacl, nspowner, 'n' FROM pg_namespace WHERE nspname = %s"),
        "table": (dbname, "SELECT relacl, relowner, 'r' FROM pg_class WHERE oid = %s::regclass"),
        "sequence": (dbname, "SELECT relacl, relowner, 's' FROM pg_class WHERE oid = %s::regclass"),
    }
    where, query = queries[kind]
    rows = admin.rows(
        where,
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type FROM (" + query + ") o(acl, owner, kind), "
        'aclexplode(coalesce(o.acl, acldefault(o.kind::"char", o.owner))) a LEFT JOIN pg_roles r ON r.oid = a.grantee',
        [name],
    )
    found: dict[str, set[str]] = {}
    for grantee, privilege in rows:
        found.setdefault(grantee, set()).add(privilege)
    return found
