"""The planner: (desired configuration, inspected state) -> statements, drift and conflicts.

A pure function, testable without a server. Its rules:

* what is missing is created, in dependency order (database, schema, sequence, table, index);
* PUBLIC loses every privilege on the schema, table and sequence (and CONNECT on the database
  with ``revoke_public_connect``): the only REVOKEs ever planned are FROM PUBLIC;
* ``grant_to`` gets exactly what terraform needs, and what it lacks is granted; privileges it
  holds beyond that are reported and kept, never revoked;
* a table, index or sequence whose shape terraform could not use is a conflict (exit 4); nothing
  is ever dropped or altered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import field, frozen

from provisioner_backend_pg import sql as ddl
from provisioner_backend_pg.inspect import DatabaseState, Grants, TableInfo
from provisioner_core import ConfigError

if TYPE_CHECKING:
    from psycopg.sql import Composed

# PostgreSQL's built-in privileges of PUBLIC on a new database (acldefault('d', owner)).
NEW_DATABASE_PUBLIC = frozenset({"CONNECT", "TEMPORARY"})
# id: terraform's type, and the type of the SERIAL column terraform created before the global sequence.
ID_TYPES = ("bigint",)
LEGACY_ID_TYPES = ("integer",)


@frozen
class Desired:
    """What the run should make true (from ``backend.pg`` and ``provision.backend``)."""

    database: str
    schema: str
    grant_to: str | None = None
    create_database: bool = True
    revoke_public_connect: bool = False


@frozen
class Statement:
    """One SQL statement to run, with what it does and what the provisioning role needs for it."""

    verb: str  # e.g. "create-table", "revoke-public", "grant"
    target: str  # e.g. "pg table terraform_remote_state.states"
    sql: Composed = field(eq=False)
    privilege: str  # what the provisioning role needs to run it (named in exit-3 hints)
    creates: bool = False
    server_level: bool = False  # runs from the maintenance database (CREATE DATABASE)


@frozen
class DriftItem:
    setting: str
    expected: str
    actual: str
    stronger: bool  # True: the statements of this plan fix it; False: kept as it is
    reason: str = ""


@frozen
class Plan:
    statements: tuple[Statement, ...] = ()
    drift: tuple[DriftItem, ...] = ()
    conflicts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def creates(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.creates)


def _names(privileges: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(privileges)) or "(none)"


def _ordered(privileges: frozenset[str] | set[str], order: tuple[str, ...]) -> list[str]:
    return [p for p in order if p in privileges]


class _Planner:
    def __init__(self, desired: Desired, state: DatabaseState) -> None:
        self.desired = desired
        self.state = state
        self.statements: list[Statement] = []
        self.drift: list[DriftItem] = []
        self.conflicts: list[str] = []
        self.warnings: list[str] = []

    def add(
        self, verb: str, target: str, statement: Composed, privilege: str, *, creates: bool = False, server_level: bool = False
    ) -> None:
        self.statements.append(Statement(verb, target, statement, privilege, creates, server_level))

    # --- PUBLIC and grant_to on one object -------------------------------------------------

    def _public(self, what: str, grants: Grants, existed: bool, revoke: Composed, privilege: str) -> None:
        if not grants.public:
            return
        if existed:
            self.drift.append(DriftItem(f"{what} privileges of PUBLIC", "(none)", _names(grants.public), True))
        self.add("revoke-public", what, revoke, privilege)

    def _grant(self, what: str, grants: Grants, needed: tuple[str, ...], existed: bool, grant: Composed | None, privilege: str) -> None:
        role = self.desired.grant_to
        if role is None:
            return
        missing = set(needed) - grants.role
        extra = grants.role - set(needed)
        if missing and grant is not None:
            if existed:
                self.drift.append(DriftItem(f"{what} privileges of {role}", _names(set(needed)), _names(grants.role), True))
            self.add("grant", what, grant, privilege)
        if extra:
            self.drift.append(
                DriftItem(
                    f"{what} extra privileges of {role}", _names(set(needed)), _names(grants.role), False,
                    f"never revoked from a named role; for least privilege run REVOKE {_names(extra)} by hand",
                )
            )  # fmt: skip

    # --- the objects ---------------------------------------------------------------------

    def database(self) -> None:
        d, role = self.desired, self.desired.grant_to
        info = self.state.database
        if info is None:
            if not d.create_database:
                raise ConfigError(
                    f"database {d.database!r} does not exist and provision.backend.create_database is false",
                    hint="Create the database, or set create_database: true so the provisioner creates it.",
                    context={"database": d.database},
                )
            self.add("create-database", f"pg database {d.database}", ddl.create_database(d.database), "the CREATEDB role attribute",
                     creates=True, server_level=True)  # fmt: skip
            grants = Grants(public=NEW_DATABASE_PUBLIC)
        else:
            grants = info.grants
        if not d.revoke_public_connect:
            return
        what = f"pg database {d.database}"
        owner = "ownership of the database (or superuser)"
        # Grant CONNECT to terraform's role before PUBLIC loses it, so the role never loses access.
        if role is not None:
            self._grant(what, Grants(role=grants.role & {"CONNECT"}), ddl.DATABASE_PRIVILEGES, info is not None,
                        ddl.grant_database(d.database, role, ddl.DATABASE_PRIVILEGES), owner)  # fmt: skip
        if "CONNECT" in grants.public:
            if info is not None:
                self.drift.append(DriftItem(f"{what} CONNECT of PUBLIC", "revoked", "granted", True))
            self.add("revoke-public", what, ddl.revoke_database_connect_from_public(d.database), owner)

    def schema(self) -> None:
        d = self.desired
        info = self.state.schema
        what = f"pg schema {d.schema}"
        owner = f"ownership of schema {d.schema}"
        if info is None:
            self.add("create-schema", what, ddl.create_schema(d.schema), f"CREATE on database {d.database}", creates=True)
        grants = info.grants if info else Grants()
        self._public(what, grants, info is not None, ddl.revoke_schema_from_public(d.schema), owner)
        if d.grant_to:
            self._grant(
                what,
                grants,
                ddl.SCHEMA_PRIVILEGES,
                info is not None,
                ddl.grant_schema(d.schema, d.grant_to, _ordered(set(ddl.SCHEMA_PRIVILEGES) - grants.role, ddl.SCHEMA_PRIVILEGES)),
                owner,
            )
        if info is not None and d.grant_to and info.owner == d.grant_to:
            self.drift.append(DriftItem(f"{what} owner", "not the terraform role", info.owner, False,
                                        f"{d.grant_to} owns the schema and so holds every privilege on it; change the owner by hand"))  # fmt: skip

    def table_and_sequence(self) -> None:
        d = self.desired
        table = self.state.table
        table_what = f"pg table {d.schema}.{ddl.TABLE}"
        if table is None:
            seq_schema, seq_name = ddl.SEQUENCE_SCHEMA, ddl.SEQUENCE
            sequence = self.state.sequence
            if sequence is None:
                self.add("create-sequence", f"pg sequence {seq_schema}.{seq_name}", ddl.create_sequence(),
                         f"CREATE on schema {seq_schema} of database {d.database}", creates=True)  # fmt: skip
            elif sequence.kind != "S":
                self.conflicts.append(
                    f"{seq_schema}.{seq_name} exists but is not a sequence (relkind {sequence.kind}); terraform's table draws its ids from it"
                )
                return
            self.add("create-table", table_what, ddl.create_table(d.schema), f"CREATE on schema {d.schema}", creates=True)
            table_grants = Grants()
        else:
            if not self._table_shape(table):
                return
            table_grants = table.grants
            if table.id_sequence is None:
                return  # an identity-less id without a sequence was a conflict above
            seq_schema, seq_name = table.id_sequence
            sequence = self.state.sequence
            if d.grant_to and table.owner == d.grant_to:
                self.drift.append(DriftItem(f"{table_what} owner", "not the terraform role", table.owner, False,
                                            f"{d.grant_to} owns the table and so holds every privilege on it; change the owner by hand"))  # fmt: skip
        table_owner = f"ownership of table {d.schema}.{ddl.TABLE}"
        self._public(table_what, table_grants, table is not None, ddl.revoke_table_from_public(d.schema), table_owner)
        if d.grant_to:
            missing = _ordered(set(ddl.TABLE_PRIVILEGES) - table_grants.role, ddl.TABLE_PRIVILEGES)
            self._grant(
                table_what,
                table_grants,
                ddl.TABLE_PRIVILEGES,
                table is not None,
                ddl.grant_table(d.schema, d.grant_to, missing),
                table_owner,
            )

        seq_what = f"pg sequence {seq_schema}.{seq_name}"
        seq_owner = f"ownership of sequence {seq_schema}.{seq_name}"
        seq_existed = sequence is not None
        seq_grants = sequence.grants if sequence else Grants()
        self._public(seq_what, seq_grants, seq_existed, ddl.revoke_sequence_from_public(seq_schema, seq_name), seq_owner)
        if d.grant_to:
            self._grant(seq_what, seq_grants, ddl.SEQUENCE_PRIVILEGES, seq_existed,
                        ddl.grant_sequence(seq_schema, seq_name, d.grant_to, ddl.SEQUENCE_PRIVILEGES), seq_owner)  # fmt: skip

    def _table_shape(self, table: TableInfo) -> bool:
        """Compare the existing table with terraform's; conflicts for what terraform cannot use."""
        where = f"{self.desired.schema}.{ddl.TABLE}"
        if table.kind not in ("r", "p"):
            self.conflicts.append(f"{where} exists but is not a table (relkind {table.kind})")
            return False
        wanted = {"id": ID_TYPES, "name": ("text",), "data": ("text",)}
        differences: list[str] = []
        for name, types in wanted.items():
            column = table.column(name)
            if column is None:
                differences.append(f"column {name} is missing (terraform's: {types[0]})")
            elif column.type not in types and not (name == "id" and column.type in LEGACY_ID_TYPES):
                differences.append(f"column {name} is {column.type} (terraform's: {types[0]})")
        id_column = table.column("id")
        if id_column is not None and not id_column.has_default:
            differences.append("column id has no default (terraform inserts only name and data)")
        elif id_column is not None and table.id_sequence is None:
            differences.append("column id's default draws from no sequence (terraform's: nextval('public.global_states_id_seq'))")
        for column in table.columns:
            if column.name in wanted:
                continue
            if column.not_null and not column.has_default:
                differences.append(f"extra column {column.name} is NOT NULL without a default (terraform's inserts would fail)")
            else:
                self.warnings.append(f"{where} has a column terraform does not use: {column.name} ({column.type}); kept")
        if differences:
            self.conflicts.append(f"{where} differs from terraform's table: " + "; ".join(differences))
            return False
        if id_column is not None and id_column.type in LEGACY_ID_TYPES:
            self.drift.append(DriftItem(f"pg table {where} column id", "bigint", id_column.type, False,
                                        "a table made by terraform before its global sequence; it works, and is never altered"))  # fmt: skip
        return True

    def index(self) -> None:
        d = self.desired
        info = self.state.index
        where = f"{d.schema}.{ddl.INDEX}"
        if info is None:
            self.add(
                "create-index", f"pg index {where}", ddl.create_index(d.schema), f"ownership of table {d.schema}.{ddl.TABLE}", creates=True
            )
            return
        problems = []
        if info.kind != "i":
            problems.append(f"it is not an index (relkind {info.kind})")
        else:
            if not info.on_states:
                problems.append(f"it is not on {d.schema}.{ddl.TABLE}")
            if not info.unique:
                problems.append("it is not unique")
            if info.columns != ("name",) or not info.plain:
                problems.append(
                    f"it covers ({', '.join(info.columns) or 'expressions'}){'' if info.plain else ' with a predicate or expressions'}, not (name)"
                )
        if problems:
            self.conflicts.append(f"{where} differs from terraform's unique index on (name): " + "; ".join(problems))

    def role(self) -> None:
        role = self.state.role
        if role is None:
            return
        if not role.exists:
            raise ConfigError(
                f"provision.backend.grant_to names role {role.name!r}, which does not exist",
                hint=f"Create the login role terraform uses first (CREATE ROLE {role.name} LOGIN PASSWORD ...); the provisioner never creates roles or passwords.",
                context={"key": "provision.backend.grant_to"},
            )
        if role.superuser:
            self.warnings.append(
                f"grant_to role {role.name} is a superuser: it bypasses every privilege check, so least privilege does not apply"
            )
        elif not role.can_login:
            self.warnings.append(f"grant_to role {role.name} cannot log in (NOLOGIN): terraform cannot connect as it")


def plan(desired: Desired, state: DatabaseState) -> Plan:
    """The ordered statements that make ``state`` what ``desired`` asks for, with drift and conflicts."""
    planner = _Planner(desired, state)
    planner.role()
    planner.database()
    planner.schema()
    planner.table_and_sequence()
    if state.table is None or not planner.conflicts:
        planner.index()
    if planner.conflicts:
        # Nothing runs when anything conflicts: a half-provisioned backend helps no one.
        return Plan((), tuple(planner.drift), tuple(planner.conflicts), tuple(planner.warnings))
    return Plan(tuple(planner.statements), tuple(planner.drift), (), tuple(planner.warnings))
