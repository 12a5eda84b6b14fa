"""The state-collision guard: no two components of a project may write one state.

Before anything runs for a component, its state location (backend type, storage, object,
workspace) is compared with every other runnable component's of the project, in every
stack. A shared location is a conflict (exit 4): nothing is written, terraform does not run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from provisioner_core.errors import ProvisionerError, ResourceConflict
from provisioner_core.stacks.component import Placement, ResolvedComponent
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.state.backend_types import BackendType
from provisioner_core.state.location import StateLocation, locate

# The guard reads these fields only; resolved components and the resolver's placements both have them.
Placed = ResolvedComponent | Placement


def location_of(component: Placed, terraform_base: Path, types: Mapping[str, BackendType]) -> StateLocation:
    folder = os.path.join(terraform_base, component.terraform_component)  # a string join: this runs for every component
    return locate(component.backend_type, component.backend, component.workspace, folder, types)


class StateIndex:
    """Every runnable component's state location, indexed once per run (from the resolver's cheap placements)."""

    def __init__(self, repository: StackRepository) -> None:
        self.repository = repository
        self.types: Mapping[str, BackendType] = repository.backend_types
        self._index: dict[tuple[str, str, str], list[Placement]] | None = None
        self._lock = threading.Lock()

    def location(self, component: Placed) -> StateLocation:
        return location_of(component, self.repository.config.terraform_base_path, self.types)

    def _built(self) -> dict[tuple[str, str, str], list[Placement]]:
        with self._lock:
            if self._index is None:
                index: dict[tuple[str, str, str], list[Placement]] = {}
                for stack in self.repository.stack_names():
                    for name in self.repository.component_names(stack):
                        try:
                            if self.repository.is_abstract(stack, name):
                                continue  # abstract components never run: skip them before any merge
                            placement = self.repository.placement(stack, name)
                        except ProvisionerError:
                            continue  # a broken component fails when it is run; it cannot write state
                        if placement.abstract or placement.disabled:
                            continue
                        index.setdefault(self.location(placement).key, []).append(placement)
                self._index = index
            return self._index

    def sharing(self, component: Placed) -> list[Placement]:
        """The other runnable components whose state is ``component``'s."""
        same = self._built().get(self.location(component).key, [])
        return [c for c in same if (c.stack, c.name) != (component.stack, component.name)]

    def check(self, components: Iterable[Placed]) -> None:
        """Exit 4 when any of ``components`` shares its state with another component of the project."""
        for component in components:
            if component.abstract or component.disabled:
                continue
            others = self.sharing(component)
            if others:
                where = self.location(component)
                definition = self.types.get(where.backend_type)
                setting = definition.location_hint if definition is not None else f"backend.{where.backend_type} setting"
                raise collision_error(component, others, where, setting)


def collision_error(component: Placed, others: list[Placement], where: StateLocation, setting: str) -> ResourceConflict:
    other = others[0]
    more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
    return ResourceConflict(
        f"state collision: component '{component.name}' in stack '{component.stack}' and component '{other.name}' in stack '{other.stack}'{more} "
        f"both keep their state at {where.address} (workspace {where.workspace})",
        hint=[
            f"Give one of them its own {setting}, or its own workspace (metadata.terraform_workspace or terraform_workspace_pattern).",
            "Nothing was written and terraform did not run; see 'Where state lives' in docs/configuration.md.",
        ],
        context={"stack": component.stack, "component": component.name, "other": f"{other.stack}/{other.name}", "state": where.address},
    )
