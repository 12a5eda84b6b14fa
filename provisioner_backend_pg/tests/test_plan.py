"""The planner on its own (no server): order, never weakening, drift, conflicts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.sql import Composed

from provisioner_backend_pg import sql as ddl
from provisioner_backend_pg.inspect import (
    Column,
    DatabaseInfo,
    DatabaseState,
    Grants,
    IndexInfo,
    RoleInfo,
    SchemaInfo,
    SequenceInfo,
    TableInfo,
)
from provisioner_backend_pg.plan import Desired, plan
from provisioner_core import ConfigError

DESIRED = Desired(database="tfstate", schema="terraform_remote_state", grant_to="tf_runner")
TERRAFORM_COLUMNS = (Column("id", "bigint", True, True), Column("name", "text", False, False), Column("data", "text", False, False))
RUNNER = RoleInfo("tf_runner", exists=True, can_login=True)


def text(statement: Composed) -> str:
    return ddl.render(statement)


def compliant(**changes: object) -> DatabaseState:
    """A database exactly as the provisioner leaves it; ``changes`` replace whole parts."""
    parts: dict[str, object] = {
        "database": DatabaseInfo("tfstate", "prov_admin", Grants(public={"CONNECT", "TEMPORARY"})),
        "role": RUNNER,
        "schema": SchemaInfo("terraform_remote_state", "prov_admin", Grants(role={"USAGE"})),
        "table": TableInfo("r", "prov_admin", Grants(role=set(ddl.TABLE_PRIVILEGES)), TERRAFORM_COLUMNS, ("public", ddl.SEQUENCE)),
        "sequence": SequenceInfo("public", ddl.SEQUENCE, "S", "prov_admin", Grants(role={"USAGE"}), "bigint"),
        "index": IndexInfo("i", unique=True, on_states=True, columns=("name",), plain=True),
    }
    parts.update(changes)
    return DatabaseState(**parts)  # type: ignore[arg-type]


def test_an_empty_server_gets_everything_in_dependency_order():
    planned = plan(DESIRED, DatabaseState(database=None, role=RUNNER))

    assert [(s.verb, s.target) for s in planned.statements] == [
        ("create-database", "pg database tfstate"),
        ("create-schema", "pg schema terraform_remote_state"),
        ("grant", "pg schema terraform_remote_state"),
        ("create-sequence", "pg sequence public.global_states_id_seq"),
        ("create-table", "pg table terraform_remote_state.states"),
        ("grant", "pg table terraform_remote_state.states"),
        ("grant", "pg sequence public.global_states_id_seq"),
        ("create-index", "pg index terraform_remote_state.states_by_name"),
    ]
    sqls = [text(s.sql) for s in planned.statements]
    assert sqls[0] == 'CREATE DATABASE "tfstate"'
    assert sqls[4] == (
        'CREATE TABLE IF NOT EXISTS "terraform_remote_state"."states" (id bigint NOT NULL DEFAULT '
        "nextval('public.global_states_id_seq') PRIMARY KEY, name text UNIQUE, data text)"
    )
    assert sqls[5] == 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "terraform_remote_state"."states" TO "tf_runner"'
    assert planned.statements[0].server_level and not planned.statements[1].server_level
    assert planned.drift == () and planned.conflicts == ()


def test_a_compliant_database_needs_nothing():
    planned = plan(DESIRED, compliant())

    assert planned.statements == () and planned.drift == () and planned.warnings == ()


def test_public_privileges_on_an_existing_schema_are_revoked_as_drift():
    state = compliant(schema=SchemaInfo("terraform_remote_state", "prov_admin", Grants(public={"USAGE", "CREATE"}, role={"USAGE"})))

    planned = plan(DESIRED, state)

    assert [text(s.sql) for s in planned.statements] == ['REVOKE ALL ON SCHEMA "terraform_remote_state" FROM PUBLIC']
    (drift,) = planned.drift
    assert (drift.setting, drift.expected, drift.actual, drift.stronger) == (
        "pg schema terraform_remote_state privileges of PUBLIC", "(none)", "CREATE, USAGE", True,
    )  # fmt: skip


def test_extra_privileges_of_the_named_role_are_kept_and_missing_ones_granted():
    table = TableInfo("r", "prov_admin", Grants(role={"SELECT", "TRUNCATE"}), TERRAFORM_COLUMNS, ("public", ddl.SEQUENCE))

    planned = plan(DESIRED, compliant(table=table))

    assert [text(s.sql) for s in planned.statements] == [
        'GRANT INSERT, UPDATE, DELETE ON TABLE "terraform_remote_state"."states" TO "tf_runner"'
    ]
    kept = [d for d in planned.drift if not d.stronger]
    assert len(kept) == 1 and "extra privileges of tf_runner" in kept[0].setting and "never revoked" in kept[0].reason


def test_a_table_of_another_shape_is_a_conflict_and_nothing_runs():
    columns = (
        Column("id", "bigint", True, True),
        Column("name", "character varying(20)", False, False),
        Column("payload", "bytea", False, False),
    )
    state = compliant(table=TableInfo("r", "prov_admin", Grants(public={"SELECT"}), columns, ("public", ddl.SEQUENCE)))

    planned = plan(DESIRED, state)

    assert planned.statements == ()
    (conflict,) = planned.conflicts
    assert "column name is character varying(20) (terraform's: text)" in conflict
    assert "column data is missing (terraform's: text)" in conflict


def test_a_table_made_by_an_older_terraform_is_kept_with_its_own_sequence():
    legacy = (Column("id", "integer", True, True), Column("name", "text", False, False), Column("data", "text", False, False))
    table = TableInfo("r", "prov_admin", Grants(), legacy, ("terraform_remote_state", "states_id_seq"))
    sequence = SequenceInfo("terraform_remote_state", "states_id_seq", "S", "prov_admin", Grants(), "integer")

    planned = plan(DESIRED, compliant(table=table, sequence=sequence))

    assert planned.conflicts == ()
    assert [text(s.sql) for s in planned.statements] == [
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "terraform_remote_state"."states" TO "tf_runner"',
        'GRANT USAGE ON SEQUENCE "terraform_remote_state"."states_id_seq" TO "tf_runner"',
    ]
    assert any(d.setting.endswith("column id") and not d.stronger for d in planned.drift)


@pytest.mark.parametrize(
    ("index", "fragment"),
    [
        (IndexInfo("i", unique=False, on_states=True, columns=("name",), plain=True), "it is not unique"),
        (IndexInfo("i", unique=True, on_states=True, columns=("name", "id"), plain=True), "it covers (name, id)"),
        (IndexInfo("i", unique=True, on_states=False, columns=("name",), plain=True), "it is not on terraform_remote_state.states"),
        (IndexInfo("r", unique=False, on_states=False, columns=(), plain=False), "it is not an index"),
    ],
)
def test_an_index_of_another_shape_is_a_conflict(index, fragment):
    planned = plan(DESIRED, compliant(index=index))

    assert planned.statements == ()
    assert fragment in planned.conflicts[0]


def test_revoking_public_connect_grants_the_role_first():
    planned = plan(Desired("tfstate", "terraform_remote_state", grant_to="tf_runner", revoke_public_connect=True), compliant())

    assert [text(s.sql) for s in planned.statements] == [
        'GRANT CONNECT ON DATABASE "tfstate" TO "tf_runner"',
        'REVOKE CONNECT ON DATABASE "tfstate" FROM PUBLIC',
    ]


def test_a_missing_role_or_a_forbidden_create_is_a_config_error():
    with pytest.raises(ConfigError, match="does not exist"):
        plan(DESIRED, compliant(role=RoleInfo("tf_runner", exists=False)))
    with pytest.raises(ConfigError, match="create_database is false"):
        plan(Desired("tfstate", "s", create_database=False), DatabaseState(database=None, role=None))


def test_a_superuser_grantee_and_an_owning_grantee_are_reported():
    state = compliant(
        role=RoleInfo("tf_runner", exists=True, can_login=True, superuser=True),
        schema=SchemaInfo("terraform_remote_state", "tf_runner", Grants(role={"USAGE", "CREATE"})),
    )

    planned = plan(DESIRED, state)

    assert any("superuser" in w for w in planned.warnings)
    assert {d.setting for d in planned.drift if not d.stronger} >= {"pg schema terraform_remote_state owner"}


def test_identifiers_are_quoted():
    planned = plan(
        Desired('db"x', 'we"ird schema', grant_to="Role Name"), DatabaseState(database=None, role=RoleInfo("Role Name", True, True))
    )

    sqls = [text(s.sql) for s in planned.statements]
    assert sqls[0] == 'CREATE DATABASE "db""x"'
    assert sqls[1] == 'CREATE SCHEMA IF NOT EXISTS "we""ird schema"'
    assert sqls[2] == 'GRANT USAGE ON SCHEMA "we""ird schema" TO "Role Name"'


# --- a property: whatever exists, the plan never drops, alters or revokes from a named role ---

_PRIVS = st.frozensets(st.sampled_from(["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "USAGE", "CREATE", "CONNECT", "TEMPORARY"]))
_grants = st.builds(Grants, public=_PRIVS, role=_PRIVS)
_owner = st.sampled_from(["prov_admin", "tf_runner", "someone"])
_column = st.builds(
    Column,
    st.sampled_from(["id", "name", "data", "extra"]),
    st.sampled_from(["bigint", "integer", "text", "bytea"]),
    st.booleans(),
    st.booleans(),
)
_states = st.builds(
    DatabaseState,
    database=st.none() | st.builds(DatabaseInfo, st.just("tfstate"), _owner, _grants),
    role=st.just(RUNNER),
    schema=st.none() | st.builds(SchemaInfo, st.just("terraform_remote_state"), _owner, _grants),
    table=st.none()
    | st.builds(
        TableInfo,
        st.sampled_from(["r", "v"]),
        _owner,
        _grants,
        st.lists(_column, max_size=4, unique_by=lambda c: c.name).map(tuple),
        st.none() | st.just(("public", ddl.SEQUENCE)),
    ),  # fmt: skip
    sequence=st.none()
    | st.builds(SequenceInfo, st.just("public"), st.just(ddl.SEQUENCE), st.sampled_from(["S", "r"]), _owner, _grants, st.just("bigint")),
    index=st.none()
    | st.builds(IndexInfo, st.sampled_from(["i", "r"]), st.booleans(), st.booleans(), st.sampled_from([("name",), ("id",)]), st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(state=_states, revoke_connect=st.booleans())
def test_no_plan_ever_drops_alters_or_revokes_from_a_named_role(state, revoke_connect):
    desired = Desired("tfstate", "terraform_remote_state", grant_to="tf_runner", revoke_public_connect=revoke_connect)

    planned = plan(desired, state)

    for statement in planned.statements:
        sql = text(statement.sql)
        assert not sql.startswith(("DROP", "ALTER", "TRUNCATE", "DELETE", "UPDATE", "INSERT")), sql
        if sql.startswith("REVOKE"):
            assert sql.endswith("FROM PUBLIC"), sql
        if sql.startswith("GRANT"):
            assert sql.endswith('TO "tf_runner"') and "ALL" not in sql and "CREATE" not in sql, sql
    assert not (planned.statements and planned.conflicts)
