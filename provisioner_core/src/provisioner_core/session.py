"""The façade Python tools and the CLI use: project config + stacks + plugins + runner."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from provisioner_core.auth import AuthContext
from provisioner_core.cache import ClientCache
from provisioner_core.errors import ConfigError
from provisioner_core.events import BEFORE_TERRAFORM_INIT, MANUAL_PROVISION
from provisioner_core.plugins.manager import PluginRegistry, RegisteredProvisioner
from provisioner_core.redaction import Redactor, secret_values
from provisioner_core.results import Outcome
from provisioner_core.runner import run_event, select
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.stacks.config import ProjectConfig, load_project_config
from provisioner_core.stacks.loader import YamlCache
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.state.guard import StateIndex

# Where to get a plugin for each backend type we know of.
BACKEND_DISTRIBUTIONS: Mapping[str, str] = {
    "s3": "provisioner-backend-s3",
    "gcs": "provisioner-backend-gcs",
    "azurerm": "provisioner-backend-azure",
}


# Events at which an enabled backend must have a provisioner: a silent skip would let terraform
# init fail later on a missing bucket, far from the cause.
BACKEND_EVENTS = frozenset({BEFORE_TERRAFORM_INIT, MANUAL_PROVISION})


class Provisioning:
    """One run over one project: stacks parsed once, clients cached, secrets collected for redaction."""

    def __init__(self, config: ProjectConfig, registry: PluginRegistry | None = None) -> None:
        self.config = config
        self.cache = YamlCache()
        self.stacks = StackRepository(config, self.cache)
        self.registry = registry or PluginRegistry()
        self.clients = ClientCache()
        self.redactor = Redactor()
        self._state_index: StateIndex | None = None

    @classmethod
    def from_path(cls, config: str | Path | None = None, cwd: Path | None = None, registry: PluginRegistry | None = None) -> Provisioning:
        return cls(load_project_config(config, cwd), registry)

    # --- components and auth ------------------------------------------------------------

    def component(self, stack: str, name: str) -> ResolvedComponent:
        component = self.stacks.component(stack, name)
        self.redactor.add(secret_values(component.sections()))
        return component

    def components(self, stacks: list[str] | None = None) -> Iterator[ResolvedComponent]:
        """Every component of ``stacks`` (all by default); each one's secrets join the redactor."""
        for component in self.stacks.components(stacks):
            self.redactor.add(secret_values(component.sections()))
            yield component

    def auth(self, component: ResolvedComponent) -> AuthContext:
        """Build the AuthContext from ``auth.providers`` through the ``resolve_credentials`` hook."""
        providers = component.auth.get("providers") or {}
        if not isinstance(providers, Mapping):
            raise ConfigError("auth.providers must be a mapping of cloud name to settings", hint="Write auth: {providers: {aws: {type: profile, profile: dev}}}.")
        built: dict[str, Any] = {}
        for cloud, settings in providers.items():
            if not isinstance(settings, Mapping) or not isinstance(settings.get("type"), str):
                raise ConfigError(f"auth.providers.{cloud} needs a `type`", hint=f"Write auth.providers.{cloud}.type, e.g. `type: static`.", context={"component": component.name})
            creds = self.registry.resolve_credentials(cloud=str(cloud), provider_type=settings["type"], settings=settings)
            if creds is None:
                raise ConfigError(
                    f"auth.providers.{cloud}: unknown provider type '{settings['type']}'",
                    hint="Built-in types: aws: profile, aws-sso, static, env; gcp: service-account-file, access-token, anonymous; "
                    "azure: connection-string, account-key, service-principal, sas, azure-cli. Plugins may add more.",
                    context={"component": component.name},
                )
            built[str(cloud)] = creds
        auth = AuthContext(built)
        self.redactor.add(auth.secrets())
        return auth

    @property
    def state_index(self) -> StateIndex:
        """Every runnable component's state location in the project (built on first use)."""
        if self._state_index is None:
            self._state_index = StateIndex(self.stacks)
        return self._state_index

    def check_state_collisions(self, components: Iterable[ResolvedComponent]) -> None:
        """Exit 4 before anything runs when one of ``components`` would write another's state."""
        self.state_index.check(components)

    # --- running ------------------------------------------------------------------------

    def run_event(
        self,
        event: str,
        component: ResolvedComponent,
        *,
        auth: AuthContext | None = None,
        dry_run: bool = False,
        on_start: Callable[[RegisteredProvisioner], None] | None = None,
    ) -> list[Outcome]:
        """Run the enabled provisioners of ``event`` for ``component`` (fail fast)."""
        if event not in self.registry.events():
            close = difflib.get_close_matches(event, self.registry.events(), n=1)
            raise ConfigError(f"unknown event '{event}'", hint=f"Did you mean '{close[0]}'?" if close else "See `provision plugins` for the events.")
        if component.abstract or component.disabled:
            return []
        chosen = select(self.registry, event, component)
        self.check_backend_routing(component, event, chosen)
        auth = auth if auth is not None else self.auth(component)
        return run_event(self.registry, event, component, auth, dry_run=dry_run, clients=self.clients, provisioners=chosen, on_start=on_start)

    def provision(self, provisioner_type: str, stack: str, name: str, *, dry_run: bool = False) -> list[Outcome]:
        """The explicit ``provision <type> <component> -s <stack>`` (the manual.provision event)."""
        self.check_type(provisioner_type)
        component = self.component(stack, name)
        self.check_runnable(component, provisioner_type)
        self.check_state_collisions([component])
        chosen = select(self.registry, MANUAL_PROVISION, component, provisioner_type)
        self.check_backend_routing(component, MANUAL_PROVISION, chosen, explicit_type=provisioner_type)
        if not chosen:
            raise ConfigError(
                f"no installed '{provisioner_type}' provisioner supports the explicit provision command",
                hint="It runs only at lifecycle events; use `provision terraform ...` instead.",
            )
        auth = self.auth(component)
        return run_event(self.registry, MANUAL_PROVISION, component, auth, dry_run=dry_run, clients=self.clients, provisioners=chosen)

    def check_type(self, provisioner_type: str) -> None:
        """An installed provisioner type, or exit 2 with the close match."""
        types = self.registry.provisioner_types()
        if provisioner_type not in types:
            close = difflib.get_close_matches(provisioner_type, types, n=1)
            raise ConfigError(
                f"unknown provisioner type '{provisioner_type}'",
                hint=(f"Did you mean '{close[0]}'? " if close else "") + f"Installed types: {', '.join(types) or '(none)'}; see `provision plugins`.",
            )

    def check_runnable(self, component: ResolvedComponent, provisioner_type: str) -> None:
        """Refuse abstract and disabled components, and types the component has not enabled (exit 2)."""
        check_component_runs(component)
        if not component.is_enabled(provisioner_type):
            raise ConfigError(
                f"provisioner '{provisioner_type}' is not enabled for component '{component.name}' in stack '{component.stack}'",
                hint=f"Add `provision: {{{provisioner_type}: {{enabled: true}}}}` to the component (the flag is also a safety switch for centrally managed resources).",
                context={"stack": component.stack, "component": component.name, "source": component.source_file},
            )

    def check_backend_routing(self, component: ResolvedComponent, event: str, chosen: list[RegisteredProvisioner], explicit_type: str | None = None) -> None:
        """An enabled backend with no plugin for its backend_type is an error, never a silent skip."""
        if explicit_type not in (None, "backend") or not component.is_enabled("backend"):
            return
        backend_plugins = [rp for rp in self.registry.provisioners() if rp.spec.type == "backend"]
        if event not in BACKEND_EVENTS and not any(event in rp.spec.events for rp in backend_plugins):
            return  # backends are not expected at this event
        if any(rp.spec.type == "backend" for rp in chosen):
            return
        if not component.backend_type:
            raise ConfigError(
                f"component '{component.name}' enables provision.backend but sets no backend_type",
                hint="Add `backend_type: s3` (or gcs, azurerm) and a matching `backend:` section.",
                context={"stack": component.stack, "component": component.name},
            )
        distribution = BACKEND_DISTRIBUTIONS.get(component.backend_type)
        served = sorted({t for rp in backend_plugins for t in rp.spec.backend_types})
        raise ConfigError(
            f"no installed backend provisioner serves backend_type '{component.backend_type}'",
            hint=(f"pip install {distribution}" if distribution else f"Install a plugin that serves '{component.backend_type}'")
            + f" (installed backend types: {', '.join(served) or 'none'}).",
            context={"stack": component.stack, "component": component.name},
        )


def check_component_runs(component: ResolvedComponent) -> None:
    """Abstract components and components with ``metadata.enabled: false`` never run (exit 2)."""
    if component.abstract:
        raise ConfigError(
            f"component '{component.name}' in stack '{component.stack}' is abstract (metadata.type: abstract) and is never run",
            hint="Target a component that inherits from it instead.",
            context={"stack": component.stack, "component": component.name},
        )
    if component.disabled:
        raise ConfigError(
            f"component '{component.name}' in stack '{component.stack}' is disabled (metadata.enabled: false) and is never run",
            hint="Set metadata.enabled: true on the component (or remove the false inherited from its stack or catalog) to run it.",
            context={"stack": component.stack, "component": component.name, "source": component.source_file},
        )
