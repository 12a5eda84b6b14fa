"""The resolved component: every section merged from its stack, ready for provisioners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from attrs import field, frozen

from provisioner_core.errors import ConfigError

# Sections that are deep-merged from globals, `terraform:`, inherited components and the component.
MERGED_SECTIONS: tuple[str, ...] = ("vars", "settings", "env", "backend", "provision", "auth", "hooks")


@frozen
class Placement:
    """Where a component runs and keeps its state: the resolver's cheap view for the state guard."""

    stack: str
    name: str
    terraform_component: str
    backend_type: str | None
    backend: Mapping[str, Any]
    backends: Mapping[str, Any]
    metadata: Mapping[str, Any]
    abstract: bool
    disabled: bool
    inherits: tuple[str, ...]
    workspace: str


@frozen
class ResolvedComponent:
    """A component of one stack with its sections resolved. Treat the mappings as read-only."""

    stack: str
    name: str
    terraform_component: str  # the folder under components.terraform.base_path
    backend_type: str | None = None
    backend: Mapping[str, Any] = field(factory=dict)  # the section for backend_type, flattened
    backends: Mapping[str, Any] = field(factory=dict)  # `backend` as written, keyed by type
    vars: Mapping[str, Any] = field(factory=dict)
    settings: Mapping[str, Any] = field(factory=dict)
    env: Mapping[str, Any] = field(factory=dict)
    provision: Mapping[str, Any] = field(factory=dict)
    auth: Mapping[str, Any] = field(factory=dict)
    hooks: Mapping[str, Any] = field(factory=dict)
    metadata: Mapping[str, Any] = field(factory=dict)
    abstract: bool = False
    inherits: tuple[str, ...] = ()
    source_file: str = ""
    workspace: str = "default"  # the terraform workspace its state lives in (docs/configuration.md)
    disabled: bool = False  # metadata.enabled: false (Atmos): never run, skipped by --all
    plugin_sections: Mapping[str, Any] = field(factory=dict)  # sections plugins registered (e.g. Atmos's `source`), merged

    def provision_options(self, provisioner_type: str) -> Mapping[str, Any]:
        """The ``provision.<type>`` mapping (empty when absent)."""
        options = self.provision.get(provisioner_type) if isinstance(self.provision, Mapping) else None
        if options is None:
            return {}
        if not isinstance(options, Mapping):
            raise ConfigError(
                f"provision.{provisioner_type} must be a mapping, got {type(options).__name__}",
                hint=f"Write it as `provision: {{{provisioner_type}: {{enabled: true}}}}`.",
                context={"stack": self.stack, "component": self.name},
            )
        return options

    def is_enabled(self, provisioner_type: str) -> bool:
        """True only when ``provision.<type>.enabled`` is the boolean ``true``."""
        enabled = self.provision_options(provisioner_type).get("enabled", False)
        if not isinstance(enabled, bool):
            raise ConfigError(
                f"provision.{provisioner_type}.enabled must be true or false, got {enabled!r}",
                hint=f"Write `enabled: true` (a YAML boolean, without quotes) under provision.{provisioner_type}.",
                context={"stack": self.stack, "component": self.name, "source": self.source_file},
            )
        return enabled

    def read_only(self) -> ResolvedComponent:
        """A copy whose every section is deeply read-only: what provisioners receive."""
        from provisioner_core.frozen import freeze

        return attrs.evolve(
            self,
            **{name: freeze(dict(getattr(self, name))) for name in ("backend", "backends", "vars", "settings", "env", "provision", "auth", "hooks", "metadata", "plugin_sections")},
        )

    def placement(self) -> Placement:
        return Placement(
            self.stack, self.name, self.terraform_component, self.backend_type, self.backend, self.backends,
            self.metadata, self.abstract, self.disabled, self.inherits, self.workspace,
        )

    def sections(self) -> dict[str, Any]:
        """The resolved sections, as ``provision describe`` shows them."""
        return {
            "stack": self.stack,
            "component": self.name,
            "metadata": {**dict(self.metadata), "component": self.terraform_component},
            "vars": dict(self.vars),
            "settings": dict(self.settings),
            "env": dict(self.env),
            "workspace": self.workspace,
            "backend_type": self.backend_type,
            "backend": dict(self.backend),
            "provision": dict(self.provision),
            "auth": dict(self.auth),
            "hooks": dict(self.hooks),
            **dict(self.plugin_sections),
        }
