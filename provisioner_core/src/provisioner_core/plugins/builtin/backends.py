"""Terraform's ``local`` backend (state files on disk), registered like any plugin's backend type.

Every other backend type, terraform's built-in ones included, comes from the plugin that
serves it; a type nobody registered is compared by all of its settings (see state/location).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from provisioner_core.hookspecs import hookimpl
from provisioner_core.state.backend_types import BackendType, DefaultsContext
from provisioner_core.state.workspace import DEFAULT_WORKSPACE

# Not terraform's terraform.tfstate.d: with workspaces there, `terraform init -reconfigure` of a local
# backend asks to migrate them and fails without a terminal (terraform 1.11).
LOCAL_WORKSPACE_DIR = "terraform.tfstate.workspaces"


def _local_defaults(backend: MutableMapping[str, Any], ctx: DefaultsContext) -> None:
    if not backend.get("workspace_dir"):
        backend["workspace_dir"] = LOCAL_WORKSPACE_DIR


def _local_object(backend: Mapping[str, Any], workspace: str) -> str:
    # Relative to the component folder, which is part of a local state's address.
    if workspace == DEFAULT_WORKSPACE:
        return str(backend.get("path") or "terraform.tfstate")
    return posixpath.join(str(backend.get("workspace_dir") or LOCAL_WORKSPACE_DIR), workspace, "terraform.tfstate")


LOCAL = BackendType(
    "local",
    scheme="local:",
    location_keys=("path", "workspace_dir"),
    state_object=_local_object,
    apply_defaults=_local_defaults,
    description="terraform's local backend: a state file in (or relative to) the component folder",
)
@hookimpl
def register_backend_types() -> Sequence[BackendType]:
    return (LOCAL,)
