"""The ``azurerm`` backend type this distribution registers: Atmos's key default, state blobs, reading a state."""

from __future__ import annotations

import attrs

from provisioner_backend_azure.backend_type import AZURERM_BACKEND, read_state, state_object
from provisioner_core import ClientCache, PluginRegistry, StackRepository, load_project_config
from support.azure_helpers import connection_auth, make_component


def test_key_defaults_follow_atmos(stack_tree) -> None:  # type: ignore[no-untyped-def]
    registry = PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-azurerm"})
    assert registry.backend_types()["azurerm"] is AZURERM_BACKEND
    azure = {"storage_account_name": "acct", "container_name": "tfstate"}
    stack_tree.stack("catalog/base", {"components": {"terraform": {"base": {"metadata": {"type": "abstract"}, "backend": {"azurerm": {"key": "authored.tfstate"}}}}}})
    stack_tree.stack("dev", {"import": ["catalog/base"], "vars": {"stage": "dev"}, "backend_type": "azurerm", "backend": {"azurerm": {**azure, "key": "org"}},
                             "components": {"terraform": {"vpc": {}, "own": {"backend": {"azurerm": {"key": "mine.tfstate"}}},
                                                          "derived": {"metadata": {"inherits": ["base"]}}}}})  # fmt: skip
    repo = StackRepository(load_project_config(None, stack_tree.root), backend_types=registry.backend_types())
    assert repo.component("dev", "vpc").backend["key"] == "org/vpc.terraform.tfstate"
    assert repo.component("dev", "own").backend["key"] == "mine.tfstate"
    assert repo.component("dev", "derived").backend["key"] == "authored.tfstate"  # authored by its base: kept
    assert state_object({"key": "vpc.tfstate"}, "dev") == "vpc.tfstateenv:dev"
    assert state_object({"key": "vpc.tfstate"}, "default") == "vpc.tfstate"


def test_read_state_reads_the_workspace_blob_or_none(azurite, admin, account, container) -> None:  # type: ignore[no-untyped-def]
    admin(account).create_container(container)
    component = attrs.evolve(make_component({"storage_account_name": account, "container_name": container, "key": "vpc.tfstate"}), workspace="dev")
    auth = connection_auth(azurite.connection_string(account))
    assert read_state(component, auth, ClientCache()) is None
    admin(account).get_container_client(container).upload_blob("vpc.tfstateenv:dev", b'{"serial": 2}')
    assert read_state(component, auth, ClientCache()) == b'{"serial": 2}'
