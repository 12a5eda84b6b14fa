"""Where a component's Terraform state lives, and how to move the target's somewhere else."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from provisioner_core.redaction import is_secret_entry

# backend_type -> the setting that names the state object inside its container.
STATE_KEY_SETTING: Mapping[str, str] = {"s3": "key", "gcs": "prefix", "azurerm": "key", "local": "path", "oss": "key", "cos": "key", "http": "address"}
_DEFAULT_LOCAL = "terraform.tfstate"


def state_location(backend_type: str | None, settings: Mapping[str, Any], folder: str = "") -> str:
    """A comparable address: ``s3://bucket/key``, ``gs://bucket/prefix``, ``azurerm://account/container/key``, ``local:folder/path``."""
    get = lambda name: str(settings.get(name) or "")  # noqa: E731 - a short local reader
    if backend_type is None or backend_type == "local":
        path = get("path") or _DEFAULT_LOCAL
        return f"local:{posixpath.normpath(posixpath.join(folder, path)) if folder else path}"
    if backend_type == "s3":
        return f"s3://{get('bucket')}/{get('key')}"
    if backend_type == "gcs":
        return f"gs://{get('bucket')}/{get('prefix')}".rstrip("/") + "/default.tfstate"
    if backend_type == "azurerm":
        return f"azurerm://{get('storage_account_name')}/{get('container_name')}/{get('key')}"
    public = {k: v for k, v in sorted(settings.items()) if not is_secret_entry(k, v)}
    return f"{backend_type}:{json.dumps(public, sort_keys=True, default=str)}"


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
