"""The `provision` CLI on a tiny stack tree, with this plugin registered and Azurite as the server."""

from __future__ import annotations

import json

import pytest

import provisioner_backend_azure.plugin as azure_plugin


@pytest.fixture
def project(stack_tree, register_plugin, azurite, account, container):
    register_plugin(azure_plugin.plugin, name="backend-azurerm", distribution="provisioner-backend-azurerm")
    stack_tree.component("vpc")

    def write(**backend_extra):
        stack_tree.stack(
            "dev",
            {
                "vars": {"stage": "dev"},
                "components": {
                    "terraform": {
                        "vpc": {
                            "backend_type": "azurerm",
                            "backend": {"azurerm": {"storage_account_name": account, "container_name": container, "key": "vpc.tfstate", **backend_extra}},
                            "provision": {"backend": {"enabled": True, "metadata": {"team": "platform"}}},
                            "auth": {"providers": {"azure": {"type": "connection-string", "connection_string": azurite.connection_string(account)}}},
                        }
                    }
                },
            },
        )

    write()
    return write


def test_backend_command_dry_run_then_create_then_unchanged(project, provision_cli, admin, account, container):
    planned = json.loads(provision_cli.run(["backend", "vpc", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert planned["results"][0]["status"] == "planned"
    assert not admin(account).get_container_client(container).exists()

    created = json.loads(provision_cli.run(["backend", "vpc", "-s", "dev", "-o", "json"]).stdout)
    result = created["results"][0]
    assert (result["provisioner"], result["distribution"], result["event"], result["status"]) == ("backend-azurerm", "provisioner-backend-azurerm", "manual.provision", "created")
    assert admin(account).get_container_client(container).get_container_properties().metadata == {"managed_by": "provisioner", "team": "platform"}

    again = provision_cli.run(["backend", "vpc", "-s", "dev"])
    assert "unchanged" in again.stdout + again.stderr


def test_a_bad_container_name_exits_2_naming_the_rule_and_no_secret(project, provision_cli, azurite, account):
    project(container_name="tf--state")

    failed = provision_cli.run(["backend", "vpc", "-s", "dev"], exit_code=2)

    output = failed.stdout + failed.stderr
    assert "it has two hyphens in a row" in output
    assert azurite.accounts[account] not in output
