"""Where a component's Terraform state lives, and how to move the target's somewhere else.

Everything here comes from the backend types the installed plugins register (core's
``BackendType``): the address, the setting that places one state, the storage's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from provisioner_core import DEFAULT_WORKSPACE, BackendType, locate

_DEFAULT_LOCAL = "terraform.tfstate"


def state_location(backend_type: str | None, settings: Mapping[str, Any], folder: str, backend_types: Mapping[str, BackendType], workspace: str = DEFAULT_WORKSPACE) -> str:
    """A comparable address: ``<scheme><storage>/<object>`` with the workspace applied (``local:folder/path`` for local state)."""
    return locate(backend_type, settings, workspace, folder, backend_types).address


def state_key_setting(backend_type: str, backend_types: Mapping[str, BackendType]) -> str | None:
    """The setting that places one state inside its backend (``key``, ``prefix``, ``path``), if the type has one."""
    definition = backend_types.get(backend_type)
    return definition.location_keys[0] if definition is not None and definition.location_keys else None


def separated_value(setting: str, current: Any, target: str) -> str:
    """A value of ``setting`` for ``target`` that cannot equal the source's."""
    value = str(current or "")
    if setting == "path":  # a state file: its name gets the environment
        path = PurePosixPath(value or _DEFAULT_LOCAL)
        return str(path.with_name(f"{target}.{path.name}"))
    if setting == "prefix":  # a folder of workspace states
        return f"{target}/{value}".rstrip("/") if value else target
    return f"{target}/{value}" if value else f"{target}/terraform.tfstate"


def state_container(backend_type: str | None, settings: Mapping[str, Any], backend_types: Mapping[str, BackendType]) -> str | None:
    """The storage holding the state (its address settings joined, e.g. account/container); None for local state."""
    definition = backend_types.get(backend_type or "")
    if definition is None or not definition.address_keys:
        return None
    values = [str(settings.get(key) or "") for key in definition.address_keys]
    return "/".join(values) if values[0] else None
