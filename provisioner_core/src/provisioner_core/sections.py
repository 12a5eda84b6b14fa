"""Component sections plugins register: top-level keys of a component core does not read itself.

Atmos components carry sections beside ``vars`` that belong to one feature, e.g. ``source:``
(where the component's Terraform code comes from). A plugin registers such a section with
``register_component_sections``; the resolver then merges it like ``vars`` (the stack's
globals, ``terraform:``, the bases, the component; mappings merge, anything else replaces) and
hands it to provisioners as ``component.plugin_sections[name]``. A section may name the
provisioner type it ``enables``: a component that sets the section runs that provisioner
without writing ``provision.<type>.enabled: true`` (an explicit ``enabled: false`` still wins),
which is how Atmos's own ``source:`` behaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from attrs import field, frozen

from provisioner_core.stacks.merge import deep_merge, is_mapping

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Component keys core reads or shows itself (`provision describe`): never a plugin's.
CORE_SECTIONS = frozenset(
    {"vars", "settings", "env", "backend", "backend_type", "provision", "auth", "hooks", "metadata", "component", "components", "import", "terraform",
     "stack", "workspace"}
)


def _name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"a component section's name must match [a-z][a-z0-9_]*, got {value!r}")
    if value in CORE_SECTIONS:
        raise ValueError(f"component section '{value}' is core's own")


def _enables(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not re.match(r"^[a-z][a-z0-9_-]*$", value)):
        raise ValueError(f"enables must name a provisioner type, got {value!r}")


@frozen
class ComponentSection:
    """A top-level component section a plugin reads, e.g. ``ComponentSection("source", "...", enables="component")``."""

    name: str = field(validator=_name)
    description: str = field()
    enables: str | None = field(default=None, validator=_enables)


def is_set(value: Any) -> bool:
    """A section counts as set unless it is absent or empty (``None``, ``""``, ``{}``, ``[]``)."""
    return value is not None and value != "" and value != {} and value != []


def merge_section(layers: Iterable[Any]) -> Any:
    """Atmos's merge of one section's layers: mappings merge deeply, any other value replaces what is below."""
    merged: Any = None
    for layer in layers:
        if layer is None:
            continue
        if is_mapping(layer):
            merged = deep_merge(merged if is_mapping(merged) else None, layer)  # a copy: cached files stay untouched
        else:
            merged = list(layer) if type(layer) is list else layer
    return merged


def enabled_by_sections(provision: Mapping[str, Any], values: Mapping[str, Any], sections: Mapping[str, ComponentSection]) -> dict[str, Any]:
    """``provision`` with ``enabled: true`` as the default of each type a set section enables."""
    defaults = {s.enables: {"enabled": True} for name, s in sections.items() if s.enables and is_set(values.get(name))}
    return deep_merge(defaults, provision) if defaults else dict(provision)


__all__ = ["CORE_SECTIONS", "ComponentSection", "enabled_by_sections", "is_set", "merge_section"]
