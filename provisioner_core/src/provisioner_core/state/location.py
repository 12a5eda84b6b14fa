"""The full address of a component's state: backend type, storage, object and workspace."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from provisioner_core.state.backend_types import BackendType, public_settings

LOCAL = "local"


@frozen
class StateLocation:
    """Two components with equal ``key`` write the same state."""

    backend_type: str
    identity: str  # the storage, canonical (bucket and endpoint; account and container; all settings)
    object: str  # the state object inside it (workspace applied)
    address: str  # for people: <scheme><storage>/<object>, e.g. local:/work/vpc/terraform.tfstate
    workspace: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.backend_type, self.identity, self.object)


def locate(
    backend_type: str | None,
    backend: Mapping[str, Any],
    workspace: str,
    folder: str,
    types: Mapping[str, BackendType],
) -> StateLocation:
    """Where terraform keeps this state; ``folder`` is the component's terraform folder (local state)."""
    from provisioner_core.plugins.builtin.backends import LOCAL as LOCAL_TYPE

    kind = backend_type or LOCAL
    definition = types.get(kind)
    if backend_type is None:
        # No backend block: terraform's implicit local backend, workspaces in terraform.tfstate.d.
        backend, definition = {"workspace_dir": "terraform.tfstate.d"}, LOCAL_TYPE
    if definition is None or definition.state_object is None:
        # Unknown to us: identical settings (secrets aside) and workspace mean the same state.
        identity = public_settings(backend)
        return StateLocation(kind, identity, f"workspace:{workspace}", f"{kind} backend {identity}, workspace {workspace}", workspace)
    obj = definition.state_object(backend, workspace)
    if kind == LOCAL:
        obj = os.path.normpath(os.path.join(folder, obj))
        return StateLocation(kind, "", obj, f"{definition.scheme}{obj}", workspace)
    identity = _canonical({k: backend.get(k) for k in definition.identity_keys if backend.get(k) not in (None, "")})
    if definition.storage is not None:
        storage = definition.storage(backend)
        identity = f"{storage}\0{identity}"
    else:
        storage = "/".join(str(backend.get(k) or "") for k in definition.address_keys)
    separator = "/" if storage and obj else ""
    return StateLocation(kind, identity, obj, f"{definition.scheme}{storage}{separator}{obj}", workspace)


def _canonical(value: Mapping[str, Any]) -> str:
    """A stable text for a few settings (json only when a value is nested: this runs for every component)."""
    if all(isinstance(v, (str, int, float, bool)) for v in value.values()):
        return "\0".join(f"{k}={value[k]}" for k in sorted(value))
    return json.dumps(value, sort_keys=True, default=str)
