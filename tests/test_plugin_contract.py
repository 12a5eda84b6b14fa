"""Plugin contract v1, end to end: third-party distributions extend provision with zero edits to core.

``provisioner-test-contract`` (tests/plugins, pip-installed into the test venv) registers
terraform's ``http`` backend type, an ``httpstate`` credential provider, a backend provisioner,
an event fired between after.component.load and before.terraform.init, and a command.
``provisioner-test-events`` declares an event in one plugin and consumes it in another. Real
terraform runs against a real http state server (tests/support/http_state.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner_core import PluginRegistry, Provisioning
from provisioner_core.testing import CliRunner
from support.servers import ServerProcess, free_port

pytestmark = pytest.mark.terraform
USER, PASSWORD = "contract", "contract-Secret-731"
MAIN_TF = """
variable "stage" { type = string }
resource "terraform_data" "this" { input = "app-${var.stage}" }
output "name" { value = terraform_data.this.output }
"""


@pytest.fixture(scope="module")
def state_server() -> Iterator[ServerProcess]:
    port = free_port()
    tests = Path(__file__).parent
    server = ServerProcess("http-state", [sys.executable, "-m", "support.http_state", str(port), USER, PASSWORD], f"http://127.0.0.1:{port}", port,
                           env={"PYTHONPATH": str(tests)})  # fmt: skip
    yield server
    server.stop()


def app_stack(url: str, namespace: str, **extra: dict) -> dict:
    address = f"{url}/state/{namespace}/app"
    return {
        "vars": {"stage": "dev"},
        "components": {"terraform": {"app": {
            "backend_type": "http",
            "backend": {"http": {"address": address, "lock_address": address, "unlock_address": address}},
            "provision": {"backend": {"enabled": True}, "netcheck": {"enabled": True}, "audit": {"enabled": True}},
            "auth": {"providers": {"httpstate": {"type": "basic", "username": USER, "password": PASSWORD}}},
            **extra,
        }}},
    }  # fmt: skip


@pytest.fixture
def project(stack_tree, state_server, request):
    stack_tree.component("app", MAIN_TF)
    stack_tree.namespace = request.node.name.replace("_", "-")[5:30]
    stack_tree.stack("dev", app_stack(state_server.url, stack_tree.namespace))
    return stack_tree


@pytest.fixture
def cli(stack_tree):
    return CliRunner(stack_tree.root, PluginRegistry(environ={}))  # every installed plugin, as users run it


def test_a_new_backend_type_credentials_event_and_command_work_through_terraform(project, cli, state_server):
    summary = json.loads(cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"]).stdout)

    events = summary["events"]
    assert events.index("after.component.load") < events.index("before.network.check") < events.index("before.terraform.init")
    assert events.index("before.terraform.init") == events.index("after.audit.ready") - 1  # the other plugin's event, right after
    by_provisioner = {r["provisioner"]: r for r in summary["results"]}
    assert by_provisioner["backend-http"]["status"] == "created" and by_provisioner["backend-http"]["distribution"] == "provisioner-test-contract"
    assert by_provisioner["netcheck"]["event"] == "before.network.check"
    assert by_provisioner["audit"]["event"] == "after.audit.ready"
    assert summary["workspace"] == "default"  # the registered type has no workspaces: no workspace select
    assert [c["args"][0] for c in summary["terraform"]] == ["init", "apply"]
    assert (project.root / ".contract" / "netcheck-dev-app.txt").read_text() == "before.network.check dev/app\n"  # relative to the project root

    # The state landed on the server; core reads it back through the plugin's state reader.
    provisioning = Provisioning.from_path(None, project.root, PluginRegistry(environ={}))
    state = json.loads(provisioning.read_state(provisioning.component("dev", "app")) or b"")
    assert state["outputs"]["name"]["value"] == "app-dev"

    # The plugin's command, and a second run: namespace unchanged, terraform has nothing to do.
    assert project.namespace in cli.run(["contract-store", state_server.url], env={"CONTRACT_USER": USER, "CONTRACT_PASSWORD": PASSWORD}).stdout
    again = json.loads(cli.run(["terraform", "plan", "app", "-s", "dev", "-o", "json", "--", "-detailed-exitcode"]).stdout)
    assert {r["provisioner"]: r["status"] for r in again["results"]}["backend-http"] == "unchanged" and again["exit_code"] == 0
    assert PASSWORD not in json.dumps(summary) + json.dumps(again)


def test_an_unprovisioned_namespace_is_what_terraform_would_fail_on(project, cli, state_server):
    """Without the plugin's provisioner the state server refuses terraform: the provisioner is what made it work."""
    project.stack("dev", app_stack(state_server.url, project.namespace, provision={"netcheck": {"enabled": True}}))
    result = cli.run(["terraform", "plan", "app", "-s", "dev"], exit_code=None)
    assert result.exit_code != 0 and "invalid auth" in result.output  # terraform's words for the server's 403 "namespace not provisioned"


def test_provision_type_works_for_a_type_without_manual_provision(project, cli):
    data = json.loads(cli.run(["netcheck", "app", "-s", "dev", "-o", "json"]).stdout)
    assert [(r["provisioner"], r["event"]) for r in data["results"]] == [("netcheck", "before.network.check")]
    dry = cli.run(["backend", "app", "-s", "dev", "--dry-run"]).stdout
    assert "create-namespace" in dry


def test_two_components_at_one_http_address_collide(project, cli, state_server):
    stack = app_stack(state_server.url, project.namespace)
    stack["components"]["terraform"]["app-copy"] = {**stack["components"]["terraform"]["app"], "metadata": {"component": "app"}}
    project.stack("dev", stack)
    assert "state collision" in cli.run(["terraform", "plan", "app", "-s", "dev"], exit_code=4).stderr


def test_plugins_lists_what_each_distribution_registered(cli):
    infos = {p["name"]: p for p in json.loads(cli.run(["plugins", "-o", "json"]).stdout)["plugins"]}
    assert infos["contract-store"]["backend_types"] == ["http"] and infos["contract-store"]["credential_providers"] == ["httpstate/basic"]
    assert infos["contract-netcheck"]["events"] == ["before.network.check"]
    assert infos["zz-audit-provider"]["events"] == ["after.audit.ready"] and infos["aa-audit-consumer"]["status"] == "loaded"


@pytest.mark.parametrize("order", [("consumer", "provider"), ("provider", "consumer")])
def test_an_event_declared_by_another_plugin_works_in_both_load_orders(order):
    from provisioner_test_events import consumer, provider

    registry = PluginRegistry(load_entrypoints=False, environ={})
    plugins = {"consumer": consumer.plugin, "provider": provider.plugin}
    for name in order:
        registry.register(plugins[name], name=name, check=False)
    registry.load()
    assert [rp.spec.name for rp in registry.provisioners() if rp.spec.type == "audit"] == ["audit"]
    assert registry.events_after("before.terraform.init") == ["after.audit.ready"]


def test_core_alone_names_the_plugin_to_install(tmp_path):
    """With only provisioner-core importable as plugins (entry points blocked), an http backend gets the pip line."""
    project = tmp_path / "p"
    (project / "stacks").mkdir(parents=True)
    (project / "stacks" / "dev.yaml").write_text("vars: {stage: dev}\ncomponents:\n  terraform:\n    app:\n      backend_type: http\n"
                                                 "      backend: {http: {address: 'http://127.0.0.1:1/state/x/app'}}\n      provision: {backend: {enabled: true}}\n")
    run = subprocess.run([sys.executable, "-m", "provisioner_core.cli.main", "backend", "app", "-s", "dev"], cwd=project, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PROVISIONER_LOAD_PLUGINS": ""})  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "no installed plugin provides the 'backend' provisioner" in run.stderr and "pip install provisioner-backend-http" in run.stderr
    commands = subprocess.run([sys.executable, "-m", "provisioner_core.cli.main", "--help"], cwd=project, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "PROVISIONER_LOAD_PLUGINS": ""}).stdout  # fmt: skip
    assert "terraform" in commands and " env " not in commands  # environment cloning is its own distribution
