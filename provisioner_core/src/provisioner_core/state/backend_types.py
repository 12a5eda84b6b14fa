"""What core must know about a backend type to keep components' states apart.

A :class:`BackendType` says which settings place one component's state inside a shared
backend, how Atmos fills them when a stack does not (``workspace_key_prefix``, ``prefix``,
``key``), and which object a workspace's state is. Types without a definition are compared
by all of their settings, so two components are only ever merged when they are identical.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from attrs import field, frozen

from provisioner_core.redaction import is_secret_entry
from provisioner_core.state.workspace import DEFAULT_WORKSPACE


@frozen
class DefaultsContext:
    """What the default-location rule of a backend type may use."""

    component: str  # the component's name in its stack
    base_component: str  # metadata.component when it names another folder, else ""
    metadata_name: str  # metadata.name, else ""
    separator: str  # components.terraform.workspace.prefix_separator (Atmos: "-")
    global_backend: Mapping[str, Any] = field(factory=dict)  # the stack-level backend.<type> section
    own_backend: Mapping[str, Any] = field(factory=dict)  # the component's own backend.<type> section

    @property
    def prefix(self) -> str:
        """Atmos's name for the component's state: metadata.name > metadata.component > component."""
        name = self.metadata_name or self.base_component or self.component
        return name if self.separator == "/" else name.replace("/", self.separator)


DefaultsRule = Callable[[MutableMapping[str, Any], DefaultsContext], None]
ObjectRule = Callable[[Mapping[str, Any], str], str]


@frozen
class BackendType:
    """One ``backend_type`` value and its state-placement rules."""

    name: str
    scheme: str  # how an address starts, e.g. "s3://"
    address_keys: tuple[str, ...]  # settings shown in the address after the scheme (bucket; account, container)
    # Settings that name the storage itself (the address keys plus e.g. a custom endpoint).
    identity_keys: tuple[str, ...]
    # Settings that only say where one component's state sits inside that storage.
    location_keys: tuple[str, ...]
    state_object: ObjectRule  # (backend settings, workspace) -> the state object's path
    apply_defaults: DefaultsRule | None = None

    @property
    def location_hint(self) -> str:
        """The settings a user changes to move one component's state, for error hints."""
        return " or ".join(f"backend.{self.name}.{key}" for key in self.location_keys)


def _text(settings: Mapping[str, Any], key: str) -> str:
    value = settings.get(key)
    return "" if value is None else str(value)


def _unset(settings: Mapping[str, Any], key: str) -> bool:
    value = settings.get(key)
    return not isinstance(value, str) or value == ""


# --- the built-in rules (Atmos internal/exec/stack_processor_backend.go; terraform's backends) ---


def _s3_defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if _unset(backend, "workspace_key_prefix"):
        backend["workspace_key_prefix"] = ctx.prefix


def _s3_object(backend: Mapping[str, Any], workspace: str) -> str:
    key = _text(backend, "key")
    if workspace == DEFAULT_WORKSPACE:
        return key
    # terraform's S3 backend: <workspace_key_prefix>/<workspace>/<key>, prefix "env:" by default.
    return f"{_text(backend, 'workspace_key_prefix') or 'env:'}/{workspace}/{key}"


def _gcs_defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if _unset(backend, "prefix"):
        backend["prefix"] = ctx.prefix


def _gcs_object(backend: Mapping[str, Any], workspace: str) -> str:
    # terraform's GCS backend: path.Join(prefix, workspace + ".tfstate"), the default workspace included.
    return posixpath.normpath(posixpath.join(_text(backend, "prefix"), f"{workspace}.tfstate")).lstrip("/")


def _azurerm_defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if isinstance(ctx.own_backend.get("key"), str):
        return  # the component wrote its own key
    existing = backend.get("key")
    global_key = ctx.global_backend.get("key")
    if isinstance(existing, str) and existing and (not isinstance(global_key, str) or global_key != existing):
        return  # a key authored by an inherited component: keep it (Atmos shouldPreserveAuthoredKey)
    parts = [global_key] if isinstance(global_key, str) else []
    backend["key"] = "/".join([*parts, f"{ctx.prefix}.terraform.tfstate"])


def _azurerm_object(backend: Mapping[str, Any], workspace: str) -> str:
    key = _text(backend, "key")
    # terraform's azurerm backend appends "env:<workspace>" to the blob name.
    return key if workspace == DEFAULT_WORKSPACE else f"{key}env:{workspace}"


# Not terraform's terraform.tfstate.d: with workspaces there, `terraform init -reconfigure` of a local
# backend asks to migrate them and fails without a terminal (terraform 1.11).
LOCAL_WORKSPACE_DIR = "terraform.tfstate.workspaces"


def _local_defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if _unset(backend, "workspace_dir"):
        backend["workspace_dir"] = LOCAL_WORKSPACE_DIR


def _local_object(backend: Mapping[str, Any], workspace: str) -> str:
    # Relative to the component folder, which is part of a local state's address.
    if workspace == DEFAULT_WORKSPACE:
        return _text(backend, "path") or "terraform.tfstate"
    return posixpath.join(_text(backend, "workspace_dir") or LOCAL_WORKSPACE_DIR, workspace, "terraform.tfstate")


BUILTIN_BACKEND_TYPES: Mapping[str, BackendType] = {
    t.name: t
    for t in (
        BackendType("s3", "s3://", ("bucket",), ("bucket", "endpoint", "endpoints"), ("key", "workspace_key_prefix"), _s3_object, _s3_defaults),
        BackendType("gcs", "gs://", ("bucket",), ("bucket", "storage_custom_endpoint"), ("prefix",), _gcs_object, _gcs_defaults),
        BackendType(
            "azurerm", "azurerm://", ("storage_account_name", "container_name"), ("storage_account_name", "container_name", "endpoint"), ("key",),
            _azurerm_object, _azurerm_defaults,
        ),
        BackendType("local", "local:", (), (), ("path", "workspace_dir"), _local_object, _local_defaults),
    )
}


def public_settings(settings: Mapping[str, Any]) -> str:
    """Settings without secrets, as one canonical string (the identity of an unknown backend type)."""
    return json.dumps({k: v for k, v in sorted(settings.items()) if not is_secret_entry(k, v)}, sort_keys=True, default=str)
