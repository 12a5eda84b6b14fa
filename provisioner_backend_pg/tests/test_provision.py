"""The engine against a real PostgreSQL 15 cluster: create, no-op, dry run, drift, conflicts, errors.

Statements are counted with pg_stat_statements, filtered to the provisioning role, so "a rerun
only reads" and "a dry run writes nothing" are what the server saw, not what we think we sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner_backend_pg.credentials import build
from provisioner_backend_pg.provision import provision
from provisioner_core import ConfigError, NetworkError, PermissionDenied, ResourceConflict
from support.pg_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    RUNNER,
    RUNNER_PASSWORD,
    Admin,
    catalog,
    privileges,
    reset_statements,
    statements_of,
    writes_of,
)
from support.servers import free_port

SCHEMA = "terraform_remote_state"
OPTIONS = {"grant_to": RUNNER}


def sqls(result: Any) -> list[str]:
    return [a.detail for a in result.actions]


# --- create, no-op, dry run -----------------------------------------------------------------


def test_create_then_a_rerun_only_reads(admin, backend_for, dbname):
    created = provision(backend_for(dbname), OPTIONS, None, dry_run=False)
    reset_statements(admin)
    again = provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert created.status.value == "created"
    assert [a.verb for a in created.actions] == [
        "create-database", "create-schema", "grant", "create-sequence", "create-table", "grant", "grant", "create-index",
    ]  # fmt: skip
    assert created.drift == ()
    assert again.status.value == "unchanged" and again.actions == () and again.drift == ()
    # The server saw reads only, and some: the rerun did inspect.
    assert writes_of(admin) == [] and len(statements_of(admin)) >= 5
    # Exactly terraform's objects, with least privilege for tf_runner and nothing for PUBLIC.
    assert privileges(admin, dbname, "schema", SCHEMA) == {ADMIN: {"USAGE", "CREATE"}, RUNNER: {"USAGE"}}
    table = privileges(admin, dbname, "table", f"{SCHEMA}.states")
    assert table[RUNNER] == {"SELECT", "INSERT", "UPDATE", "DELETE"} and "PUBLIC" not in table
    assert privileges(admin, dbname, "sequence", "public.global_states_id_seq") == {
        ADMIN: {"USAGE", "SELECT", "UPDATE"}, RUNNER: {"USAGE"},
    }  # fmt: skip
    assert admin.rows(dbname, "SELECT indexdef FROM pg_indexes WHERE indexname = 'states_by_name'") == [
        (f"CREATE UNIQUE INDEX states_by_name ON {SCHEMA}.states USING btree (name)",)
    ]
    assert created.resource == f"pg://127.0.0.1:{admin.server.port}/{dbname}/{SCHEMA}"
    assert ADMIN_PASSWORD not in json.dumps(created.to_dict()) + json.dumps(again.to_dict())


def test_dry_run_lists_every_statement_and_writes_nothing(admin, backend_for, dbname):
    before = catalog(admin, dbname)
    reset_statements(admin)

    planned = provision(backend_for(dbname), OPTIONS, None, dry_run=True)

    assert writes_of(admin) == []
    assert catalog(admin, dbname) == before
    assert planned.status.value == "planned" and all(a.planned for a in planned.actions)
    created = provision(backend_for(dbname), OPTIONS, None, dry_run=False)
    # The dry run listed exactly the statements the real run then ran.
    assert sqls(planned) == sqls(created)
    assert sqls(planned)[0] == f'CREATE DATABASE "{dbname}"'


def test_dry_run_on_a_drifted_database_changes_nothing(admin, backend_for, dbname):
    provision(backend_for(dbname), OPTIONS, None, dry_run=False)
    admin.run(dbname, f"GRANT USAGE, CREATE ON SCHEMA {SCHEMA} TO PUBLIC", f"REVOKE INSERT ON {SCHEMA}.states FROM {RUNNER}")
    before = catalog(admin, dbname)
    reset_statements(admin)

    planned = provision(backend_for(dbname), OPTIONS, None, dry_run=True)

    assert writes_of(admin) == [] and catalog(admin, dbname) == before
    assert sqls(planned) == [f'REVOKE ALL ON SCHEMA "{SCHEMA}" FROM PUBLIC', f'GRANT INSERT ON TABLE "{SCHEMA}"."states" TO "{RUNNER}"']
    assert {d.resolution.value for d in planned.drift} == {"planned"}


# --- drift ---------------------------------------------------------------------------------


def _hand_made(admin: Admin, dbname: str, *statements: str) -> None:
    """A database owned by the provisioning role, with objects made by hand (as that role)."""
    admin.create_database(dbname)
    admin.run(dbname, f"SET ROLE {ADMIN}", *statements)


def test_public_privileges_are_revoked_and_an_extra_user_grant_is_kept(admin, backend_for, dbname):
    _hand_made(
        admin,
        dbname,
        f"CREATE SCHEMA {SCHEMA}",
        f"GRANT USAGE, CREATE ON SCHEMA {SCHEMA} TO PUBLIC",
        f"GRANT USAGE, CREATE ON SCHEMA {SCHEMA} TO {RUNNER}",
    )

    result = provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert result.status.value == "created"  # the table, sequence and index were missing
    schema = privileges(admin, dbname, "schema", SCHEMA)
    assert "PUBLIC" not in schema and schema[RUNNER] == {"USAGE", "CREATE"}
    drift = {d.setting: (d.resolution.value, d.actual) for d in result.drift}
    assert drift[f"pg schema {SCHEMA} privileges of PUBLIC"] == ("applied", "CREATE, USAGE")
    assert drift[f"pg schema {SCHEMA} extra privileges of {RUNNER}"] == ("kept", "CREATE, USAGE")
    assert not any(a.detail.startswith("REVOKE") and "PUBLIC" not in a.detail for a in result.actions)


def test_a_wrong_table_shape_is_exit_4_and_nothing_changes(admin, backend_for, dbname):
    _hand_made(admin, dbname, f"CREATE SCHEMA {SCHEMA}", f"CREATE TABLE {SCHEMA}.states (id bigserial PRIMARY KEY, name varchar(50), payload bytea)",
               f"GRANT ALL ON SCHEMA {SCHEMA} TO PUBLIC")  # fmt: skip
    before = catalog(admin, dbname)

    with pytest.raises(ResourceConflict) as caught:
        provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert caught.value.exit_code == 4
    assert "column name is character varying(50) (terraform's: text)" in caught.value.message
    assert "column data is missing" in caught.value.message
    assert catalog(admin, dbname) == before


def test_a_table_from_an_older_terraform_is_used_as_it_is(admin, backend_for, dbname):
    # terraform before the global sequence: id SERIAL (integer, its own sequence), and the index.
    _hand_made(admin, dbname, f"CREATE SCHEMA {SCHEMA}", f"CREATE TABLE {SCHEMA}.states (id SERIAL PRIMARY KEY, name TEXT, data TEXT)",
               f"CREATE UNIQUE INDEX states_by_name ON {SCHEMA}.states (name)")  # fmt: skip

    result = provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert result.status.value == "updated"
    assert f'GRANT USAGE ON SEQUENCE "{SCHEMA}"."states_id_seq" TO "{RUNNER}"' in sqls(result)
    assert not any("global_states_id_seq" in s for s in sqls(result))
    assert any(d.setting.endswith("column id") and d.resolution.value == "kept" for d in result.drift)


def test_default_privileges_that_give_public_access_are_revoked_too(admin, backend_for, dbname):
    admin.create_database(dbname)
    admin.run(dbname, f"ALTER DEFAULT PRIVILEGES FOR ROLE {ADMIN} GRANT SELECT ON TABLES TO PUBLIC",
              f"ALTER DEFAULT PRIVILEGES FOR ROLE {ADMIN} GRANT USAGE ON SEQUENCES TO PUBLIC")  # fmt: skip

    result = provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert "PUBLIC" not in privileges(admin, dbname, "table", f"{SCHEMA}.states")
    assert "PUBLIC" not in privileges(admin, dbname, "sequence", "public.global_states_id_seq")
    assert f'REVOKE ALL ON TABLE "{SCHEMA}"."states" FROM PUBLIC' in sqls(result)


def test_revoke_public_connect_keeps_the_runner_connected(admin, backend_for, dbname):
    provision(backend_for(dbname), {**OPTIONS, "revoke_public_connect": True}, None, dry_run=False)

    database = privileges(admin, dbname, "database", dbname)
    assert "CONNECT" not in database.get("PUBLIC", set()) and database[RUNNER] == {"CONNECT"}


def test_report_only_reports_and_refuses_to_create(admin, backend_for, dbname):
    provision(backend_for(dbname), OPTIONS, None, dry_run=False)
    admin.run(dbname, f"GRANT SELECT ON {SCHEMA}.states TO PUBLIC")
    before = catalog(admin, dbname)

    reported = provision(backend_for(dbname), {**OPTIONS, "report_only": True}, None, dry_run=False)

    assert catalog(admin, dbname) == before
    assert [(d.setting, d.resolution.value) for d in reported.drift] == [(f"pg table {SCHEMA}.states privileges of PUBLIC", "reported")]
    with pytest.raises(ConfigError, match="report_only is true and never creates anything"):
        provision(backend_for(dbname + "_new"), {"report_only": True}, None, dry_run=False)


# --- credentials ----------------------------------------------------------------------------


def test_conn_str_without_password_takes_it_from_the_credentials(admin, backend_for, dbname, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(ADMIN_PASSWORD + "\n")
    creds = build("password-file", {"type": "password-file", "password_file": str(password_file)})

    result = provision(backend_for(dbname, password=None), OPTIONS, creds, dry_run=False)

    assert result.status.value == "created"


def test_credentials_override_the_backend_identity(admin, backend_for, dbname):
    # terraform's conn_str names tf_runner; the provisioner works as prov_admin from auth.
    creds = build("password", {"type": "password", "user": ADMIN, "password": ADMIN_PASSWORD, "for_terraform": False})

    result = provision(backend_for(dbname, user=RUNNER, password=RUNNER_PASSWORD), OPTIONS, creds, dry_run=False)

    assert result.status.value == "created" and result.details["connected_as"] == ADMIN


def test_pgpassword_is_ignored_unless_the_credentials_say_env(admin, backend_for, dbname, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", ADMIN_PASSWORD)

    with pytest.raises(PermissionDenied) as caught:
        provision(backend_for(dbname, password=None), OPTIONS, None, dry_run=False)
    assert caught.value.exit_code == 3 and "No password was sent" in caught.value.hints[0]

    result = provision(backend_for(dbname, password=None), OPTIONS, build("env", {"type": "env"}), dry_run=False)
    assert result.status.value == "created"


# --- errors --------------------------------------------------------------------------------


def test_a_wrong_password_is_exit_3_without_the_password(admin, backend_for, dbname):
    with pytest.raises(PermissionDenied) as caught:
        provision(backend_for(dbname, password="not-the-Pw-123"), OPTIONS, None, dry_run=False)

    error = caught.value
    assert error.exit_code == 3 and "password authentication failed" in error.message and ADMIN in error.message
    assert "not-the-Pw-123" not in error.message + " ".join(error.hints) + repr(error.context)


def test_an_unreachable_server_is_exit_5_naming_host_and_port(pg_server, dbname):
    port = free_port()
    backend = {"conn_str": pg_server.url(ADMIN, ADMIN_PASSWORD, dbname).replace(f":{pg_server.port}/", f":{port}/")}

    with pytest.raises(NetworkError) as caught:
        provision(backend, {"connect_timeout": 2}, None, dry_run=False)

    assert caught.value.exit_code == 5 and f"127.0.0.1:{port}" in caught.value.message and f"127.0.0.1:{port}" in caught.value.hints[0]


def test_a_role_without_createdb_is_exit_3_naming_the_privilege(admin, backend_for, dbname):
    with pytest.raises(PermissionDenied) as caught:
        provision(backend_for(dbname, user=RUNNER, password=RUNNER_PASSWORD), {}, None, dry_run=False)

    assert caught.value.exit_code == 3 and "CREATEDB" in caught.value.message


def test_a_schema_owned_by_someone_else_is_exit_3_naming_ownership(admin, backend_for, dbname):
    admin.create_database(dbname)
    admin.run(dbname, f"CREATE SCHEMA {SCHEMA}", f"GRANT USAGE, CREATE ON SCHEMA {SCHEMA} TO PUBLIC")  # owned by the superuser

    with pytest.raises(PermissionDenied) as caught:
        provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert f"ownership of schema {SCHEMA}" in caught.value.message and "revoke-public" in caught.value.message
    assert "PUBLIC" in privileges(admin, dbname, "schema", SCHEMA)  # rolled back: nothing half-done


def test_a_missing_grantee_role_is_exit_2(admin, backend_for, dbname):
    before = catalog(admin, dbname)

    with pytest.raises(ConfigError, match="does not exist"):
        provision(backend_for(dbname), {"grant_to": "no_such_role"}, None, dry_run=False)

    assert catalog(admin, dbname) == before


def test_a_database_created_by_an_outsider_between_read_and_create_is_not_claimed(admin, backend_for, dbname, monkeypatch):
    # Both reads of the maintenance database say "missing" (an outsider creates it in between): CREATE DATABASE
    # then fails with duplicate_database, which is a finished job, not an error.
    from provisioner_backend_pg import provision as engine

    admin.create_database(dbname)
    real_connect, real_database = engine._Run.connect, engine.catalog.database
    calls = {"connect": 0, "database": 0}

    def connect(self, name):  # type: ignore[no-untyped-def]
        calls["connect"] += 1
        return None if calls["connect"] == 1 else real_connect(self, name)

    def database(conn, name, role):  # type: ignore[no-untyped-def]
        calls["database"] += 1
        return None if calls["database"] <= 2 else real_database(conn, name, role)

    monkeypatch.setattr(engine._Run, "connect", connect)
    monkeypatch.setattr(engine.catalog, "database", database)

    result = provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    first = result.actions[0]
    assert first.verb == "create-database" and "created meanwhile by a concurrent session" in first.detail
    assert [a.verb for a in result.actions][1] == "create-schema"  # and then the objects inside, as usual


def test_tls_the_server_does_not_offer_is_exit_2(pg_server, dbname):
    backend = {"conn_str": pg_server.url(ADMIN, ADMIN_PASSWORD, dbname, sslmode="require")}

    with pytest.raises(ConfigError) as caught:
        provision(backend, {}, None, dry_run=False)

    assert "server does not support SSL" in caught.value.message and "sslmode" in caught.value.hints[0]


def test_a_connection_lost_mid_run_is_exit_5_and_rolls_back(admin, backend_for, dbname, monkeypatch):
    from provisioner_backend_pg import provision as engine

    admin.create_database(dbname)
    real_inside = engine.catalog.inside
    calls = {"n": 0}

    def inside(conn, info, schema, role):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # the read under the lock, inside the write transaction: the server ends the session
            admin.run("postgres", f"SELECT pg_terminate_backend({conn.info.backend_pid})")
        return real_inside(conn, info, schema, role)

    monkeypatch.setattr(engine.catalog, "inside", inside)

    with pytest.raises(NetworkError) as caught:
        provision(backend_for(dbname), OPTIONS, None, dry_run=False)

    assert caught.value.exit_code == 5 and f"127.0.0.1:{admin.server.port}" in caught.value.message
    assert admin.rows(dbname, f"SELECT count(*) FROM pg_namespace WHERE nspname = '{SCHEMA}'") == [(0,)]
