"""The azure credential providers this distribution registers with core: values, terraform env, secrets."""

from __future__ import annotations

from provisioner_backend_azure.credentials import AzureCredentials
from provisioner_core import PluginRegistry, Provisioning, ResolvedComponent


def test_azure_terraform_env_per_method():
    sp = AzureCredentials("service-principal", tenant_id="t", client_id="c", client_secret="s", subscription_id="sub")
    assert sp.terraform_env() == {"ARM_SUBSCRIPTION_ID": "sub", "ARM_TENANT_ID": "t", "ARM_CLIENT_ID": "c", "ARM_CLIENT_SECRET": "s"}
    cs = AzureCredentials("connection-string", connection_string="AccountName=a;AccountKey=k3y")
    assert cs.terraform_env() == {"ARM_ACCESS_KEY": "k3y"}


def test_azure_sas_connection_string_and_blob_endpoint():
    sas = AzureCredentials("connection-string", connection_string="BlobEndpoint=http://127.0.0.1:1/a;SharedAccessSignature=sv=2022&sig=abcd1234")
    assert sas.terraform_env() == {"ARM_SAS_TOKEN": "sv=2022&sig=abcd1234"}
    assert "sv=2022&sig=abcd1234" in sas.secrets()
    key = AzureCredentials("account-key", account_name="a", account_key="k3y-value", blob_endpoint="http://127.0.0.1:1/a")
    assert key.connection_setting("BlobEndpoint") == "http://127.0.0.1:1/a"


def test_registered_through_the_plugin_and_built_from_auth(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    session = Provisioning.from_path(None, stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-azurerm"}))
    component = ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", auth={"providers": {
        "azure": {"type": "connection-string", "connection_string": "AccountName=a;AccountKey=c2VjcmV0a2V5;BlobEndpoint=http://127.0.0.1:1/a"},
    }})
    auth = session.auth(component)
    creds = auth.require("azure")
    assert isinstance(creds, AzureCredentials) and creds.connection_setting("BlobEndpoint") == "http://127.0.0.1:1/a"
    assert "c2VjcmV0a2V5" in auth.secrets()
    assert "ARM_CLIENT_SECRET" in auth.ambient_env  # ambient azure variables are never inherited by terraform
