"""A backend type whose settings hide their meaning in one value (a connection string): the storage
it names, the secret inside it and the environment terraform needs all come from the type's own
rules. Core applies them without knowing the type (a made-up ``dsn`` backend here; pg is the real one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest

from provisioner_core import AuthContext, BackendType, Provisioning, hookimpl
from provisioner_core.errors import ResourceConflict
from provisioner_core.plugins import PluginRegistry
from provisioner_core.state.location import locate
from provisioner_core.terraform.files import backend_secret_env

SECRET = "pw-1f9c2e"


def _storage(settings: Mapping[str, Any]) -> str:
    url = urlsplit(str(settings.get("dsn", "")))
    return f"{url.hostname}{url.path}"


def _secrets(settings: Mapping[str, Any]) -> list[str]:
    password = urlsplit(str(settings.get("dsn", ""))).password
    return [password] if password else []


def _env(settings: Mapping[str, Any], auth: AuthContext) -> dict[str, str]:
    return {"DSN": str(settings["dsn"]), "DSN_USER": str(auth.get("dsn-user") or "")}


DSN = BackendType(
    "dsn", scheme="dsn://", location_keys=("table",), state_object=lambda settings, workspace: workspace, secret_env={"dsn": "DSN"},
    storage=_storage, secret_values=_secrets, terraform_env=_env,
)  # fmt: skip


class Plugin:
    @hookimpl
    def register_backend_types(self) -> list[BackendType]:
        return [DSN]


def test_the_storage_rule_names_the_storage_and_keeps_the_secret_out_of_the_address() -> None:
    one = locate("dsn", {"dsn": f"db://u:{SECRET}@host-a/state", "table": "t"}, "dev", "/c", {"dsn": DSN})
    other_password = locate("dsn", {"dsn": "db://u:other@host-a/state", "table": "t"}, "dev", "/c", {"dsn": DSN})
    other_host = locate("dsn", {"dsn": f"db://u:{SECRET}@host-b/state", "table": "t"}, "dev", "/c", {"dsn": DSN})

    assert one.address == "dsn://host-a/state/dev" and SECRET not in one.address
    assert one.key == other_password.key  # the same storage, whoever connects to it
    assert one.key != other_host.key


def test_core_redacts_the_secret_the_type_finds_and_the_guard_uses_its_storage(stack_tree) -> None:  # type: ignore[no-untyped-def]
    registry = PluginRegistry(load_entrypoints=False, environ={})
    registry.register(Plugin(), name="dsn")
    backend = {"backend_type": "dsn", "backend": {"dsn": {"dsn": f"db://u:{SECRET}@host-a/state"}}}
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "terraform": backend, "components": {"terraform": {"a": {}, "b": {}}}})
    provisioning = Provisioning.from_path(None, stack_tree.root, registry)

    component = provisioning.component("dev", "a")
    assert SECRET not in provisioning.redactor(f"connecting with {component.backend['dsn']}")
    with pytest.raises(ResourceConflict, match="dsn://host-a/state/dev"):
        provisioning.check_state_collisions([component])


def test_terraform_env_rule_replaces_the_plain_move_and_sees_the_auth_context(stack_tree) -> None:  # type: ignore[no-untyped-def]
    registry = PluginRegistry(load_entrypoints=False, environ={})
    registry.register(Plugin(), name="dsn")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"a": {"backend_type": "dsn", "backend": {"dsn": {"dsn": "db://h/s"}}}}}})
    component = Provisioning.from_path(None, stack_tree.root, registry).component("dev", "a")

    assert backend_secret_env(component, {"dsn": DSN}, AuthContext({"dsn-user": "alice"})) == {"DSN": "db://h/s", "DSN_USER": "alice"}
    assert backend_secret_env(component, {"dsn": DSN}) == {"DSN": "db://h/s"}  # no AuthContext: the plain move
