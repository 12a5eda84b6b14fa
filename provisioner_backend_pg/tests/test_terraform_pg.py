"""Real terraform (1.11) with its pg backend against what the provisioner made.

* terraform runs as ``tf_runner``, which has only the privileges ``grant_to`` gave it, with all
  three ``skip_*`` flags, and writes its state row; the provisioner's rerun then only reads.
* terraform's own DDL (no skip flags, as the owner) yields the same objects as ours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner_backend_pg import inspect as catalog_reader
from provisioner_backend_pg.credentials import build
from provisioner_backend_pg.plugin import terraform_env
from provisioner_backend_pg.provision import provision
from provisioner_core import AuthContext
from support.pg_helpers import ADMIN, ADMIN_PASSWORD, RUNNER, RUNNER_PASSWORD, reset_statements, statements_of, writes_of

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on the PATH"),
]

RESOURCES = """resource "terraform_data" "this" {
  input = "stored in postgres"
}

output "value" {
  value = terraform_data.this.output
}
"""
MAIN_TF = 'terraform {\n  backend "pg" {}\n}\n\n' + RESOURCES


def terraform(folder: Path, env: dict[str, str], *backend_config: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "TF_"))}
    run_env = {**base, **env, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    init = ["terraform", "init", "-input=false", "-no-color", *(f"-backend-config={c}" for c in backend_config)]
    for argv in (init, ["terraform", "apply", "-auto-approve", "-input=false", "-no-color"]):
        done = subprocess.run(argv, cwd=folder, env=run_env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_terraform_writes_state_as_the_least_privileged_role(admin, pg_server, dbname, tmp_path):
    # terraform's conn_str names tf_runner; the provisioner works as prov_admin (auth, kept from terraform).
    backend = {
        "conn_str": pg_server.url(RUNNER, RUNNER_PASSWORD, dbname),
        "schema_name": "app_state",
        "skip_schema_creation": True,
        "skip_table_creation": True,
        "skip_index_creation": True,
    }
    creds = build("password", {"type": "password", "user": ADMIN, "password": ADMIN_PASSWORD, "for_terraform": False})
    created = provision(backend, {"grant_to": RUNNER}, creds, dry_run=False)
    env = terraform_env(backend, AuthContext({"postgres": creds}))
    (tmp_path / "main.tf").write_text(MAIN_TF)

    terraform(tmp_path, env, "schema_name=app_state", "skip_schema_creation=true", "skip_table_creation=true", "skip_index_creation=true")

    assert created.status.value == "created" and created.warnings == ()
    assert f"user={RUNNER}" in env["PG_CONN_STR"] and ADMIN_PASSWORD not in env["PG_CONN_STR"]
    ((name, data),) = admin.rows(dbname, "SELECT name, data FROM app_state.states")
    assert name == "default" and json.loads(data)["outputs"]["value"]["value"] == "stored in postgres"
    # tf_runner wrote the state with nothing but its grants: no CREATE of any kind.
    assert not any(q.upper().startswith("CREATE") for q in statements_of(admin, RUNNER))

    reset_statements(admin)
    again = provision(backend, {"grant_to": RUNNER}, creds, dry_run=False)
    assert again.status.value == "unchanged" and writes_of(admin) == []


def _shape(admin, dbname: str, schema: str) -> dict[str, object]:
    """What terraform relies on, schema-independent: columns, constraints, indexes, the id sequence."""
    columns = admin.rows(
        dbname,
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [f"{schema}.states"],
    )
    constraints = admin.rows(
        dbname,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
        [f"{schema}.states"],
    )
    indexes = admin.rows(
        dbname, "SELECT indexname, replace(indexdef, %s, 'S.') FROM pg_indexes WHERE schemaname = %s ORDER BY 1", [f"{schema}.", schema]
    )
    sequence = admin.rows(
        dbname,
        "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqcache FROM pg_sequence WHERE seqrelid = 'public.global_states_id_seq'::regclass",
    )
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "sequence": sequence}


def test_terraform_own_ddl_makes_the_same_objects(admin, pg_server, backend_for, dbname, tmp_path):
    provision(backend_for(dbname, schema_name="ours"), {}, None, dry_run=False)
    (tmp_path / "main.tf").write_text(MAIN_TF)

    # terraform as the database owner, creating everything itself in another schema.
    terraform(tmp_path, {"PG_CONN_STR": pg_server.url(ADMIN, ADMIN_PASSWORD, dbname)}, "schema_name=terraform_made")

    assert _shape(admin, dbname, "ours") == _shape(admin, dbname, "terraform_made")
    with admin.connect(dbname) as conn:
        info = catalog_reader.database(conn, dbname, None)
        assert info is not None
        ours, theirs = catalog_reader.inside(conn, info, "ours", None), catalog_reader.inside(conn, info, "terraform_made", None)
    assert ours.table is not None and theirs.table is not None
    assert (ours.table.columns, ours.table.id_sequence, ours.index) == (theirs.table.columns, theirs.table.id_sequence, theirs.index)
    # And the provisioner finds terraform's schema compliant but for PUBLIC's default access (none here).
    result = provision(backend_for(dbname, schema_name="terraform_made"), {}, None, dry_run=False)
    assert result.status.value == "unchanged" and result.drift == ()


# --- `provision terraform`: core drives the pg backend through its registration -------------


def _cli_project(stack_tree, pg_server, dbname):  # type: ignore[no-untyped-def]
    from provisioner_core.plugins.manager import PluginRegistry
    from provisioner_core.testing import CliRunner

    stack_tree.component("app", RESOURCES)  # core writes the backend block (backend.tf.json)
    backend = {
        "conn_str": pg_server.url(RUNNER, RUNNER_PASSWORD, dbname),
        "skip_schema_creation": True,
        "skip_table_creation": True,
        "skip_index_creation": True,
    }
    auth = {"type": "password", "user": ADMIN, "password": ADMIN_PASSWORD, "for_terraform": False}
    component = {
        "backend_type": "pg",
        "backend": {"pg": backend},
        "auth": {"providers": {"postgres": auth}},
        "provision": {"backend": {"enabled": True, "grant_to": RUNNER}},
    }
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": component}}})
    return CliRunner(stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-pg"}))


def test_provision_terraform_apply_writes_the_workspace_row(stack_tree, pg_server, admin, dbname, monkeypatch):
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", os.devnull)
    cli = _cli_project(stack_tree, pg_server, dbname)

    result = cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"])

    assert json.loads(result.stdout)["results"][0]["status"] == "created"
    # Atmos's workspace per stack: terraform's pg backend keeps it as the row "dev", written by tf_runner.
    assert [r[0] for r in admin.rows(dbname, "SELECT name FROM terraform_remote_state.states")] == ["dev"]
    assert ADMIN_PASSWORD not in result.output
    # The registered reader finds the same row (what the guard, env and !terraform.state read).
    from provisioner_core import Provisioning
    from provisioner_core.plugins.manager import PluginRegistry

    provisioning = Provisioning.from_path(None, stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-pg"}))
    state = json.loads(provisioning.read_state(provisioning.component("dev", "app")) or b"{}")
    assert state["serial"] >= 1 and state["resources"]
    missing = provisioning.component("dev", "app")
    assert provisioning.read_state(_renamed_workspace(missing, "nowhere")) is None


def _renamed_workspace(component, workspace):  # type: ignore[no-untyped-def]
    import attrs

    return attrs.evolve(component, workspace=workspace)


def test_backend_tf_json_never_holds_the_password(stack_tree, pg_server, dbname, monkeypatch):
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", os.devnull)
    cli = _cli_project(stack_tree, pg_server, dbname)

    cli.run(["terraform", "init", "app", "-s", "dev"])

    assert RUNNER_PASSWORD not in (stack_tree.root / "components" / "terraform" / "app" / "backend.tf.json").read_text()
