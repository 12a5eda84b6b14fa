"""Where a component's Terraform state lives, and how to move the target's somewhere else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from provisioner_core.state import DEFAULT_WORKSPACE, locate

# backend_type -> the setting that names the state object inside its container.
STATE_KEY_SETTING: Mapping[str, str] = {"s3": "key", "gcs": "prefix", "azurerm": "key", "local": "path", "oss": "key", "cos": "key", "http": "address"}
_DEFAULT_LOCAL = "terraform.tfstate"


def state_location(backend_type: str | None, settings: Mapping[str, Any], folder: str = "", workspace: str = DEFAULT_WORKSPACE) -> str:
    """A comparable address: ``s3://bucket/prefix/workspace/key``, ``gs://bucket/prefix/workspace.tfstate``, ``local:folder/path``."""
    return locate(backend_type, settings, workspace, folder).address


def separated_value(backend_type: str, current: Any, target: str) -> str:
    """A state key (or prefix, or path) for ``target`` that cannot equal the source's."""
    value = str(current or "")
    if backend_type == "local":
        path = PurePosixPath(value or _DEFAULT_LOCAL)
        return str(path.with_name(f"{target}.{path.name}"))
    if backend_type == "gcs":
        return f"{target}/{value}".rstrip("/") if value else target
    return f"{target}/{value}" if value else f"{target}/terraform.tfstate"


def state_container(backend_type: str | None, settings: Mapping[str, Any]) -> str | None:
    """The bucket / storage account holding the state (None for local state)."""
    if backend_type in ("s3", "gcs"):
        return str(settings.get("bucket") or "") or None
    if backend_type == "azurerm":
        account = settings.get("storage_account_name")
        return f"{account}/{settings.get('container_name')}" if account else None
    return None
