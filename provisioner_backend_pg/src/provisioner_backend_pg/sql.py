"""The SQL this provisioner runs, as ``psycopg.sql.Composed`` with every identifier quoted.

The objects are exactly those of terraform's pg backend (hashicorp/terraform,
``internal/backend/remote-state/pg/backend.go``, checked against terraform 1.11's own DDL by
``tests/test_terraform_pg.py``)::

    CREATE SCHEMA IF NOT EXISTS <schema>
    CREATE SEQUENCE IF NOT EXISTS public.global_states_id_seq AS bigint
    CREATE TABLE IF NOT EXISTS <schema>.states (
        id bigint NOT NULL DEFAULT nextval('public.global_states_id_seq') PRIMARY KEY,
        name text UNIQUE,
        data text)
    CREATE UNIQUE INDEX IF NOT EXISTS states_by_name ON <schema>.states (name)

plus the database itself, REVOKEs from PUBLIC and least-privilege GRANTs. psycopg is imported
inside each function: listing plugins must not load the driver.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg.sql import Composed

TABLE = "states"
INDEX = "states_by_name"
SEQUENCE_SCHEMA = "public"
SEQUENCE = "global_states_id_seq"

# The privileges terraform's role needs, in PostgreSQL's order (GRANT text and aclexplode names).
TABLE_PRIVILEGES: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE")
SCHEMA_PRIVILEGES: tuple[str, ...] = ("USAGE",)
SEQUENCE_PRIVILEGES: tuple[str, ...] = ("USAGE",)
DATABASE_PRIVILEGES: tuple[str, ...] = ("CONNECT",)


def _privileges(privileges: Iterable[str]) -> Composed:
    from psycopg import sql

    allowed = {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
        "USAGE",
        "CREATE",
        "CONNECT",
        "TEMPORARY",
        "ALL",
    }
    words = list(privileges)
    for word in words:
        if word not in allowed:
            raise ValueError(f"not a privilege: {word!r}")  # keywords are not identifiers: never interpolate user text
    return sql.Composed([sql.SQL(", ").join(sql.SQL(word) for word in words)])


def create_database(name: str) -> Composed:
    # PostgreSQL has no CREATE DATABASE IF NOT EXISTS: a concurrent create fails with duplicate_database.
    from psycopg import sql

    return sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))


def create_schema(schema: str) -> Composed:
    from psycopg import sql

    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))


def create_sequence() -> Composed:
    from psycopg import sql

    return sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}.{} AS bigint").format(sql.Identifier(SEQUENCE_SCHEMA), sql.Identifier(SEQUENCE))


def create_table(schema: str) -> Composed:
    from psycopg import sql

    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {}.{} (id bigint NOT NULL DEFAULT nextval({}) PRIMARY KEY, name text UNIQUE, data text)"
    ).format(sql.Identifier(schema), sql.Identifier(TABLE), sql.Literal(f"{SEQUENCE_SCHEMA}.{SEQUENCE}"))


def create_index(schema: str) -> Composed:
    from psycopg import sql

    return sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {}.{} (name)").format(
        sql.Identifier(INDEX), sql.Identifier(schema), sql.Identifier(TABLE)
    )


def revoke_database_connect_from_public(database: str) -> Composed:
    from psycopg import sql

    return sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database))


def revoke_schema_from_public(schema: str) -> Composed:
    from psycopg import sql

    return sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema))


def revoke_table_from_public(schema: str) -> Composed:
    from psycopg import sql

    return sql.SQL("REVOKE ALL ON TABLE {}.{} FROM PUBLIC").format(sql.Identifier(schema), sql.Identifier(TABLE))


def revoke_sequence_from_public(sequence_schema: str, sequence: str) -> Composed:
    from psycopg import sql

    return sql.SQL("REVOKE ALL ON SEQUENCE {}.{} FROM PUBLIC").format(sql.Identifier(sequence_schema), sql.Identifier(sequence))


def grant_database(database: str, role: str, privileges: Iterable[str]) -> Composed:
    from psycopg import sql

    return sql.SQL("GRANT {} ON DATABASE {} TO {}").format(_privileges(privileges), sql.Identifier(database), sql.Identifier(role))


def grant_schema(schema: str, role: str, privileges: Iterable[str]) -> Composed:
    from psycopg import sql

    return sql.SQL("GRANT {} ON SCHEMA {} TO {}").format(_privileges(privileges), sql.Identifier(schema), sql.Identifier(role))


def grant_table(schema: str, role: str, privileges: Iterable[str]) -> Composed:
    from psycopg import sql

    return sql.SQL("GRANT {} ON TABLE {}.{} TO {}").format(
        _privileges(privileges), sql.Identifier(schema), sql.Identifier(TABLE), sql.Identifier(role)
    )


def grant_sequence(sequence_schema: str, sequence: str, role: str, privileges: Iterable[str]) -> Composed:
    from psycopg import sql

    return sql.SQL("GRANT {} ON SEQUENCE {}.{} TO {}").format(
        _privileges(privileges), sql.Identifier(sequence_schema), sql.Identifier(sequence), sql.Identifier(role)
    )


def advisory_lock_key(database: str, schema: str) -> tuple[int, int]:
    """Two int4 keys for the provisioner's own advisory lock.

    The two-key form is a key space of its own, apart from terraform's one-bigint locks (row ids
    and -1), so provisioning never blocks or is blocked by a terraform run.
    """
    import zlib

    namespace = 0x7072_7067  # "prpg"
    digest = zlib.crc32(f"{database}\0{schema}".encode())
    return namespace, digest - (1 << 32) if digest >= (1 << 31) else digest


def render(statement: Composed, context: object | None = None) -> str:
    """The statement as text (for dry runs and results); ``context``: a psycopg connection, when one is open."""
    return statement.as_string(context)  # type: ignore[arg-type]
