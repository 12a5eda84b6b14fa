"""The plugin as the system sees it: discovery, lazy imports, the CLI, auth, and 8 processes at once.

The CLI runs ``provision backend app -s dev`` (manual.provision) on a stack tree;
``provision terraform`` is in test_terraform_pg.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from provisioner_backend_pg import plugin as pg_plugin
from provisioner_core import BEFORE_TERRAFORM_INIT, MANUAL_PROVISION, AuthContext
from provisioner_core.plugins.manager import PluginRegistry
from provisioner_core.testing import CliRunner
from support.pg_helpers import ADMIN, ADMIN_PASSWORD, RUNNER, RUNNER_PASSWORD

PROCESSES = 8


def test_listing_plugins_imports_no_driver():
    code = (
        "import sys, provisioner_backend_pg.plugin as p; p.plugin.register_provisioner(); "
        "bad = [m for m in sys.modules if m.startswith('psycopg')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_entry_point_is_registered_and_loads():
    (entry,) = [ep for ep in metadata.entry_points(group="provisioner") if ep.name == "backend-pg"]
    assert entry.value == "provisioner_backend_pg.plugin:plugin"

    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-pg"}).load()
    (found,) = [rp for rp in registry.provisioners() if rp.spec.name == "backend-pg"]
    assert found.spec.type == "backend" and found.spec.backend_types == ("pg",)
    assert set(found.spec.events) == {BEFORE_TERRAFORM_INIT, MANUAL_PROVISION}
    assert found.distribution == "provisioner-backend-pg"
    # Core knows pg only through these registrations.
    assert registry.backend_types()["pg"].secret_env == {"conn_str": "PG_CONN_STR"}
    creds = registry.build_credentials("postgres", "password", {"type": "password", "password": "x-secret"})
    assert type(creds).__name__ == "PostgresCredentials"
    assert {p.type for p in registry.credential_providers() if p.name == "postgres"} == set(pg_plugin.CREDENTIAL_TYPES)
    assert registry.credential_provider("postgres", "nope") is None


def test_core_sources_never_mention_postgres():
    core = Path(__import__("provisioner_core").__file__).parent
    mentions = [str(p) for p in core.rglob("*.py") if any(w in p.read_text().lower() for w in ("postgres", "psycopg", '"pg"'))]
    assert mentions == []


def test_the_plugin_data_for_core():
    assert pg_plugin.SECRET_SETTINGS == {"conn_str": "PG_CONN_STR"}
    settings = {"conn_str": "postgres://tf_runner:runner-secret@db.internal:6432/tfstate", "schema_name": "app"}
    assert pg_plugin.state_address(settings) == "pg://db.internal:6432/tfstate/app"
    assert pg_plugin.state_object(settings, "dev") == "dev"
    assert pg_plugin.secret_values(settings) == ("runner-secret",)
    assert pg_plugin.masked_settings(settings)["conn_str"] == "postgres://tf_runner:***@db.internal:6432/tfstate"
    env = pg_plugin.terraform_env(settings, AuthContext({}))
    assert "password=runner-secret" in env["PG_CONN_STR"] and "sslmode=require" in env["PG_CONN_STR"]


# --- the CLI --------------------------------------------------------------------------------


def _stack(conn_str: str, options: dict[str, Any] | None = None, auth: dict[str, Any] | None = None) -> dict[str, Any]:
    component: dict[str, Any] = {
        "backend_type": "pg",
        "backend": {
            "pg": {
                "conn_str": conn_str,
                "schema_name": "app_state",
                "skip_schema_creation": True,
                "skip_table_creation": True,
                "skip_index_creation": True,
            }
        },
        "provision": {"backend": {"enabled": True, "grant_to": RUNNER, **(options or {})}},
    }
    if auth:
        component["auth"] = {"providers": {"postgres": auth}}
    return {"vars": {"stage": "dev"}, "components": {"terraform": {"app": component}}}


@pytest.fixture
def cli(stack_tree):  # type: ignore[no-untyped-def]
    stack_tree.component("app")
    return CliRunner(stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-pg"}))


def test_dry_run_then_create_then_unchanged_through_the_cli(cli, stack_tree, pg_server, dbname):
    stack_tree.stack("dev", _stack(pg_server.url(ADMIN, ADMIN_PASSWORD, dbname)))

    planned = json.loads(cli.run(["backend", "app", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    created = cli.run(["backend", "app", "-s", "dev"])
    again = cli.run(["backend", "app", "-s", "dev", "-o", "json"])

    (result,) = planned["results"]
    assert result["status"] == "planned" and result["provisioner"] == "backend-pg"
    assert result["actions"][0]["detail"] == f'CREATE DATABASE "{dbname}"'
    assert f"created pg://127.0.0.1:{pg_server.port}/{dbname}/app_state" in created.stdout
    assert json.loads(again.stdout)["results"][0]["status"] == "unchanged"
    for output in (created.output, again.output, json.dumps(planned)):
        assert ADMIN_PASSWORD not in output


def test_auth_provider_supplies_the_provisioning_identity(cli, stack_tree, pg_server, dbname):
    # The backend's conn_str is terraform's (tf_runner); auth.providers.postgres is the provisioner's.
    auth = {"type": "password", "user": ADMIN, "password": ADMIN_PASSWORD, "for_terraform": False}
    stack_tree.stack("dev", _stack(pg_server.url(RUNNER, RUNNER_PASSWORD, dbname), auth=auth))

    created = json.loads(cli.run(["backend", "app", "-s", "dev", "-o", "json"]).stdout)

    (result,) = created["results"]
    assert result["status"] == "created" and result["details"]["connected_as"] == ADMIN
    assert ADMIN_PASSWORD not in json.dumps(created)


def test_a_wrong_password_through_the_cli_is_exit_3_without_it(cli, stack_tree, pg_server, dbname):
    stack_tree.stack("dev", _stack(pg_server.url(ADMIN, "wrong-Pw-4d2c9", dbname)))

    result = cli.run(["backend", "app", "-s", "dev", "-o", "json"], exit_code=3)

    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3 and "password authentication failed" in error["message"]
    assert "wrong-Pw-4d2c9" not in result.output


# --- 8 processes, one new database ----------------------------------------------------------


def test_eight_processes_provision_one_new_database(stack_tree, pg_server, admin, dbname):
    stack_tree.component("app")
    stack_tree.stack("dev", _stack(pg_server.url(ADMIN, ADMIN_PASSWORD, dbname), {"revoke_public_connect": True}))
    admin.run("postgres", "SELECT pg_stat_statements_reset()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PROVISIONER_LOAD_PLUGINS"] = "backend-pg"
    argv = [sys.executable, "-m", "provisioner_core.cli.main", "backend", "app", "-s", "dev", "-o", "json"]

    workers = [
        subprocess.Popen(argv, cwd=stack_tree.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    outputs = [worker.communicate(timeout=180) for worker in workers]

    assert [w.returncode for w in workers] == [0] * PROCESSES, [err for _, err in outputs]
    results = [json.loads(out)["results"][0] for out, _ in outputs]
    statuses = Counter(r["status"] for r in results)
    # Created once: one process made the database and its objects; the others found them.
    assert statuses["created"] == 1 and set(statuses) <= {"created", "unchanged"}, statuses
    # What the server ran: each CREATE, GRANT and REVOKE exactly once (the others waited on the lock, then only read).
    calls = dict(admin.rows("postgres", "SELECT query, calls FROM pg_stat_statements WHERE query ~ '^(CREATE|GRANT|REVOKE)'"))
    print("\nFIGURES", PROCESSES, "processes:", dict(statuses), {" ".join(q.split()[:3]): c for q, c in calls.items()})
    assert sum(c for q, c in calls.items() if q.startswith("CREATE DATABASE")) == 1, calls
    (creator,) = [r for r in results if r["status"] == "created"]
    assert sorted(calls) == sorted(a["detail"] for a in creator["actions"]) and set(calls.values()) == {1}, calls
    for out, err in outputs:
        assert ADMIN_PASSWORD not in out + err and "Traceback" not in out + err
    assert admin.rows(dbname, "SELECT count(*) FROM pg_indexes WHERE indexname = 'states_by_name'") == [(1,)]


CORPUS = Path(__file__).resolve().parents[2] / "tests" / "corpus"


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("pg-*")))
def test_the_bad_input_corpus_never_shows_the_password(name, tmp_path):
    # tests/test_corpus.py checks exit code, one Error and a Hint; here: no password in any of it.
    case = json.loads((CORPUS / name / "case.json").read_text())
    runner = CliRunner(CORPUS / name / "tree", PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-pg"}))

    result = runner.run([*case["args"], "-o", "json"], exit_code=case["exit_code"])

    assert "corpus-secret-pw" not in result.output
    assert json.loads(result.stdout)["error"]["exit_code"] == 2
