"""Read what exists: only SELECTs on the system catalogs, never a write.

Privileges are read with ``aclexplode(coalesce(acl, acldefault(...)))``, so an object whose ACL
was never touched shows PostgreSQL's built-in defaults (e.g. PUBLIC's CONNECT on a database).
Only direct grants count: privileges a role inherits through membership are not the role's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from provisioner_backend_pg import sql as ddl

if TYPE_CHECKING:
    import psycopg


def _frozenset(value: Any) -> frozenset[str]:
    return frozenset(value or ())


@frozen
class Grants:
    """Privileges held directly by PUBLIC and by the ``grant_to`` role on one object."""

    public: frozenset[str] = field(factory=frozenset, converter=_frozenset)
    role: frozenset[str] = field(factory=frozenset, converter=_frozenset)


@frozen
class DatabaseInfo:
    name: str
    owner: str
    grants: Grants


@frozen
class RoleInfo:
    name: str
    exists: bool
    can_login: bool = False
    superuser: bool = False


@frozen
class SchemaInfo:
    name: str
    owner: str
    grants: Grants


@frozen
class Column:
    name: str
    type: str  # format_type(), e.g. "bigint", "text", "character varying(20)"
    not_null: bool
    has_default: bool  # a DEFAULT expression or an identity


@frozen
class TableInfo:
    kind: str  # pg_class.relkind: r (table), p (partitioned), v (view), ...
    owner: str
    grants: Grants
    columns: tuple[Column, ...]
    id_sequence: tuple[str, str] | None  # (schema, name) of the sequence id's default draws from

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@frozen
class SequenceInfo:
    schema: str
    name: str
    kind: str  # "S" for a sequence
    owner: str
    grants: Grants
    data_type: str | None


@frozen
class IndexInfo:
    kind: str  # "i" for an index
    unique: bool
    on_states: bool  # built on <schema>.states
    columns: tuple[str, ...]
    plain: bool  # neither partial nor on expressions


@frozen
class DatabaseState:
    """Everything the planner looks at; ``None`` where the object does not exist."""

    database: DatabaseInfo | None
    role: RoleInfo | None  # None when no grant_to is configured
    schema: SchemaInfo | None = None
    table: TableInfo | None = None
    sequence: SequenceInfo | None = None
    index: IndexInfo | None = None


# One row per object; the ARRAY() sub-selects split its ACL into PUBLIC's and the role's privileges.
_ACL = """
    ARRAY(SELECT a.privilege_type FROM aclexplode(coalesce({acl}, acldefault('{kind}', {owner}))) a WHERE a.grantee = 0) AS public_privileges,
    ARRAY(SELECT a.privilege_type FROM aclexplode(coalesce({acl}, acldefault('{kind}', {owner}))) a
          JOIN pg_catalog.pg_roles r ON r.oid = a.grantee WHERE r.rolname = %(role)s) AS role_privileges
"""

_DATABASE = f"""
SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba), {_ACL.format(acl="d.datacl", kind="d", owner="d.datdba")}
FROM pg_catalog.pg_database d WHERE d.datname = %(name)s
"""

_ROLE = "SELECT r.rolcanlogin, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = %(role)s"

_SCHEMA = f"""
SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner), {_ACL.format(acl="n.nspacl", kind="n", owner="n.nspowner")}
FROM pg_catalog.pg_namespace n WHERE n.nspname = %(schema)s
"""

_RELATION = f"""
SELECT c.oid, c.relkind, pg_catalog.pg_get_userbyid(c.relowner),
       {_ACL.format(acl="c.relacl", kind="{kind}", owner="c.relowner")}
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = %(name)s
"""

_COLUMNS = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, (a.atthasdef OR a.attidentity <> '')
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""

# The sequence id's default draws from: an identity or serial (owned) sequence, else the one its DEFAULT names.
_ID_SEQUENCE = """
SELECT sn.nspname, s.relname
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_depend dep ON (
        (dep.classid = 'pg_catalog.pg_attrdef'::regclass AND dep.objid = (
            SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum))
     OR (dep.deptype = 'i' AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_catalog.pg_class'::regclass))
JOIN pg_catalog.pg_class s ON s.oid = CASE WHEN dep.deptype = 'i' THEN dep.objid ELSE dep.refobjid END AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
WHERE a.attrelid = %(oid)s AND a.attname = 'id'
LIMIT 1
"""

_SEQUENCE_TYPE = "SELECT pg_catalog.format_type(s.seqtypid, NULL) FROM pg_catalog.pg_sequence s WHERE s.seqrelid = %(oid)s"

_INDEX = """
SELECT i.indisunique, i.indrelid = %(table)s,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
       i.indpred IS NULL AND i.indexprs IS NULL
FROM pg_catalog.pg_index i WHERE i.indexrelid = %(oid)s
"""


def _one(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    row = conn.execute(query, params).fetchone()
    return tuple(row) if row is not None else None


def database(conn: psycopg.Connection[Any], name: str, role: str | None) -> DatabaseInfo | None:
    """The database ``name`` (readable from any database of the cluster)."""
    row = _one(conn, _DATABASE, {"name": name, "role": role})
    if row is None:
        return None
    return DatabaseInfo(row[0], row[1], Grants(row[2], row[3]))


def role(conn: psycopg.Connection[Any], name: str | None) -> RoleInfo | None:
    if name is None:
        return None
    row = _one(conn, _ROLE, {"role": name})
    if row is None:
        return RoleInfo(name, exists=False)
    return RoleInfo(name, exists=True, can_login=bool(row[0]), superuser=bool(row[1]))


def _relation(conn: psycopg.Connection[Any], schema: str, name: str, kind: str, role: str | None) -> tuple[Any, ...] | None:
    return _one(conn, _RELATION.replace("'{kind}'", f"'{kind}'"), {"schema": schema, "name": name, "role": role})


def inside(conn: psycopg.Connection[Any], database_info: DatabaseInfo, schema: str, grant_to: str | None) -> DatabaseState:
    """The state of everything inside the connected database."""
    role_info = role(conn, grant_to)
    row = _one(conn, _SCHEMA, {"schema": schema, "role": grant_to})
    schema_info = SchemaInfo(row[0], row[1], Grants(row[2], row[3])) if row else None

    table_info: TableInfo | None = None
    table_oid: int | None = None
    if schema_info is not None:
        rel = _relation(conn, schema, ddl.TABLE, "r", grant_to)
        if rel is not None:
            table_oid = rel[0]
            columns = tuple(Column(r[0], r[1], bool(r[2]), bool(r[3])) for r in conn.execute(_COLUMNS, {"oid": table_oid}).fetchall())
            seq = _one(conn, _ID_SEQUENCE, {"oid": table_oid})
            table_info = TableInfo(rel[1], rel[2], Grants(rel[3], rel[4]), columns, (seq[0], seq[1]) if seq else None)

    # The sequence the existing table uses; terraform's global one when there is no table yet.
    seq_schema, seq_name = table_info.id_sequence if table_info and table_info.id_sequence else (ddl.SEQUENCE_SCHEMA, ddl.SEQUENCE)
    sequence_info: SequenceInfo | None = None
    if table_info is None or table_info.id_sequence is not None:
        rel = _relation(conn, seq_schema, seq_name, "s", grant_to)
        if rel is not None:
            type_row = _one(conn, _SEQUENCE_TYPE, {"oid": rel[0]})
            sequence_info = SequenceInfo(seq_schema, seq_name, rel[1], rel[2], Grants(rel[3], rel[4]), type_row[0] if type_row else None)

    index_info: IndexInfo | None = None
    if schema_info is not None:
        rel = _relation(conn, schema, ddl.INDEX, "r", None)
        if rel is not None:
            idx = _one(conn, _INDEX, {"oid": rel[0], "table": table_oid or 0})
            if idx is None:
                index_info = IndexInfo(rel[1], unique=False, on_states=False, columns=(), plain=False)
            else:
                index_info = IndexInfo(rel[1], bool(idx[0]), bool(idx[1]), tuple(idx[2]), bool(idx[3]))
    return DatabaseState(database_info, role_info, schema_info, table_info, sequence_info, index_info)
