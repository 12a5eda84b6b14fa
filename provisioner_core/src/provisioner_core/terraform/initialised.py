"""Which backend a terraform folder is initialised for, and the check that it is the one requested.

``terraform init`` records the backend it configured in ``.terraform/terraform.tfstate``; plain
``terraform plan`` in that folder then uses that state, whatever var file it is given. When a
folder's own code or backend files choose the backend (``auto_generate_backend_file: false``,
a hard-coded key, another environment's ``backend.<env>.hcl``), init can leave it pointing at
another environment's state; ``provision terraform`` refuses to plan or apply there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner_core.errors import ResourceConflict
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.state.backend_types import BackendType
from provisioner_core.state.location import locate


def _without_nulls(value: Any) -> Any:
    """terraform records every attribute of the backend's schema; unset ones are null."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None and _without_nulls(v) != {}}
    return value


def initialised_backend(folder: Path) -> tuple[str, dict[str, Any]] | None:
    """The backend type and settings ``terraform init`` last configured in ``folder`` (None: not initialised)."""
    try:
        data = json.loads((folder / ".terraform" / "terraform.tfstate").read_text())
    except (OSError, ValueError):
        return None
    backend = data.get("backend") if isinstance(data, Mapping) else None
    if not isinstance(backend, Mapping) or not isinstance(backend.get("type"), str):
        return None
    config = backend.get("config")
    return backend["type"], _without_nulls(config) if isinstance(config, Mapping) else {}


def _compared_keys(definition: BackendType | None) -> tuple[str, ...]:
    if definition is None:
        return ()
    return tuple(dict.fromkeys((*definition.address_keys, *definition.identity_keys, *definition.location_keys)))


def check_initialised_backend(folder: Path, component: ResolvedComponent, types: Mapping[str, BackendType]) -> None:
    """Exit 4 when ``folder`` is initialised for another state of ``component``'s backend type than its own.

    Compared: each setting that places the state (the type's address, identity and location
    settings) that both sides set; a setting terraform took from its environment is missing
    from its record and is not compared, so this never refuses on a guess. Another backend
    *type* is the component's own code choosing its backend (``auto_generate_backend_file:
    false``, documented) and is not refused.
    """
    if component.backend_type is None:
        return
    found = initialised_backend(folder)
    if found is None:
        return
    kind, settings = found
    if kind != component.backend_type:
        return
    requested = _without_nulls(dict(component.backend))
    differing = []
    for key in _compared_keys(types.get(kind)):
        if key in settings and key in requested and json.dumps(settings[key], sort_keys=True, default=str) != json.dumps(requested[key], sort_keys=True, default=str):
            differing.append(key)
    if not differing:
        return
    workspace = component.workspace
    initialised = locate(kind, settings, workspace, str(folder), types).address
    wanted = locate(component.backend_type, requested, workspace, str(folder), types).address
    raise ResourceConflict(
        f"terraform folder {folder} is initialised for {initialised}, not for {component.stack}/{component.name}'s state {wanted}; "
        f"terraform would use that state here (differs: {', '.join(differing)})",
        hint=[
            "The folder's own code or backend files chose that backend (components.terraform.auto_generate_backend_file is false, or the "
            "code sets it): make them match the stack's backend section, or let provisioner generate backend.tf.json.",
            "Nothing was planned or applied.",
        ],
        context={"stack": component.stack, "component": component.name},
    )
