"""End to end: `provision terraform` with this provisioner, real terraform and its azurerm backend, on Azurite.

Terraform's azurerm backend always dials ``https://<account>.blob.core.windows.net``
(../shared/REFERENCE.md). Here Azurite serves HTTPS with a throwaway CA whose certificate names
``*.blob.core.windows.net``; the component's ``env`` gives terraform (only) ``HTTPS_PROXY`` (a
local CONNECT proxy that tunnels every connection to Azurite) and ``SSL_CERT_FILE`` (the CA).
Azurite reads the account from the host name, so a custom account (``AZURITE_ACCOUNTS``) is used.
The provisioner itself reaches the same Azurite through the connection string's path-style
``BlobEndpoint`` and trusts the CA through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from support.azurite import AzuriteServer, ConnectProxy

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "stage" { type = string }
resource "terraform_data" "this" { input = "app-${var.stage}" }
output "name" { value = terraform_data.this.output }
"""


@pytest.fixture(scope="module")
def connect_proxy(azurite_tls: AzuriteServer) -> Iterator[ConnectProxy]:
    proxy = ConnectProxy("127.0.0.1", azurite_tls.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def project(stack_tree, azurite_tls, connect_proxy, account, container):
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH; the end-to-end tests need it (CI installs Terraform 1.11)", pytrace=False)
    stack_tree.component("app", MAIN_TF)
    stack_tree.stack(
        "dev",
        {
            "vars": {"stage": "dev"},
            "components": {
                "terraform": {
                    "app": {
                        "backend_type": "azurerm",
                        "backend": {"azurerm": {"storage_account_name": account, "container_name": container, "key": "app/terraform.tfstate"}},
                        "provision": {"backend": {"enabled": True}},
                        "env": {"HTTPS_PROXY": connect_proxy.url, "SSL_CERT_FILE": str(azurite_tls.tls.ca), "CHECKPOINT_DISABLE": "1"},
                        "auth": {"providers": {"azure": {"type": "connection-string", "connection_string": azurite_tls.connection_string(account)}}},
                    }
                }
            },
        },
    )
    return stack_tree


@pytest.fixture
def cli(stack_tree):
    """The CLI with the installed plugins (entry points), as users run it."""
    from provisioner_core.plugins import PluginRegistry
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


@pytest.fixture
def storage(azurite_tls, account):
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient.from_connection_string(azurite_tls.connection_string(account), connection_verify=str(azurite_tls.tls.ca))


def test_apply_creates_the_container_and_terraform_state_lands_in_it(project, cli, azurite_tls, connect_proxy, storage, account, container):
    env = {"REQUESTS_CA_BUNDLE": str(azurite_tls.tls.ca)}

    summary = json.loads(cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"], env=env).stdout)

    assert summary["results"][0]["provisioner"] == "backend-azurerm"
    assert (summary["results"][0]["event"], summary["results"][0]["status"]) == ("before.terraform.init", "created")
    client = storage.get_container_client(container)
    assert client.get_container_properties().public_access is None
    state = json.loads(client.get_blob_client("app/terraform.tfstateenv:dev").download_blob().readall())
    assert state["outputs"]["name"]["value"] == "app-dev"
    assert f"{account}.blob.core.windows.net:443" in connect_proxy.hosts  # terraform went the way it goes to Azure

    again = json.loads(cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"], env=env).stdout)
    assert again["results"][0]["status"] == "unchanged"


def test_terraform_respects_the_lease_lock_on_the_state_blob(project, cli, azurite_tls, storage, container):
    env = {"REQUESTS_CA_BUNDLE": str(azurite_tls.tls.ca)}
    cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"], env=env)
    lease = storage.get_container_client(container).get_blob_client("app/terraform.tfstateenv:dev").acquire_lease(lease_duration=-1)
    try:
        locked = cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "--", "-lock-timeout=0s"], env=env, exit_code=None)
    finally:
        lease.release()

    assert locked.exit_code != 0
    assert "state blob is already locked" in locked.stdout + locked.stderr


def test_two_components_sharing_a_stack_level_backend_get_two_state_blobs(stack_tree, cli, azurite_tls, connect_proxy, account, container, storage):
    """Atmos's layout: the stack names the account and container only; each key defaults to <component>.terraform.tfstate."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on PATH", pytrace=False)
    component = {
        "provision": {"backend": {"enabled": True}},
        "env": {"HTTPS_PROXY": connect_proxy.url, "SSL_CERT_FILE": str(azurite_tls.tls.ca), "CHECKPOINT_DISABLE": "1"},
        "auth": {"providers": {"azure": {"type": "connection-string", "connection_string": azurite_tls.connection_string(account)}}},
    }
    for name in ("vpc", "eks"):
        stack_tree.component(name, MAIN_TF)
    stack_tree.stack("dev", {
        "vars": {"stage": "dev"},
        "backend_type": "azurerm",
        "backend": {"azurerm": {"storage_account_name": account, "container_name": container}},
        "components": {"terraform": {"vpc": component, "eks": component}},
    })
    env = {"REQUESTS_CA_BUNDLE": str(azurite_tls.tls.ca)}
    for name in ("vpc", "eks"):
        cli.run(["terraform", "apply", name, "-s", "dev", "--auto-approve"], env=env)

    # Terraform's azurerm backend also writes an empty default-workspace blob per key.
    blobs = sorted(b.name for b in storage.get_container_client(container).list_blobs() if "env:" in b.name)
    assert blobs == ["eks.terraform.tfstateenv:dev", "vpc.terraform.tfstateenv:dev"]
    states = [json.loads(storage.get_container_client(container).get_blob_client(blob).download_blob().readall()) for blob in blobs]
    assert [s["outputs"]["name"]["value"] for s in states] == ["app-dev", "app-dev"]
    assert states[0]["lineage"] != states[1]["lineage"], "two separate states"
