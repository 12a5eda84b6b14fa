"""``Provisioning``: the façade Python tools and the CLI use (config + stacks + plugins + runs).

One instance is one run over one project: stack files are parsed once, SDK clients are
cached, and every secret seen joins one redactor. See docs/api.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from provisioner_core.auth import AuthContext
from provisioner_core.auth.credentials import Credentials
from provisioner_core.cache import ClientCache
from provisioner_core.errors import ConfigError
from provisioner_core.interrupts import RunInterrupted, Stop
from provisioner_core.orchestrator import check_component_runs, check_enabled_types, explicit_events, prepare, run_provisioners
from provisioner_core.plugins.manager import PluginRegistry, RegisteredProvisioner
from provisioner_core.redaction import Redactor, literal_env_references, secret_values
from provisioner_core.results import Outcome
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.stacks.config import ProjectConfig, load_project_config
from provisioner_core.stacks.loader import YamlCache
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.state.backend_types import install_hint
from provisioner_core.state.guard import StateIndex


class Provisioning:
    """One run over one project: stacks parsed once, clients cached, secrets collected for redaction."""

    def __init__(self, config: ProjectConfig, registry: PluginRegistry | None = None, *, stop: Stop | None = None) -> None:
        self.config = config
        # Requested on a signal (the CLI) or by a tool: nothing new starts; see provisioner_core.interrupts.
        self.stop = stop or Stop()
        self.cache = YamlCache()
        self.registry = registry or PluginRegistry()
        self.clients = ClientCache()
        self.redactor = Redactor()
        # Warnings about the configuration (one line each); the CLI prints them as they come.
        self.warnings: list[str] = []
        self.warn: Callable[[str], None] = self.warnings.append
        self._warned: set[tuple[str, tuple[str, ...]]] = set()
        self._stacks: StackRepository | None = None
        self._state_index: StateIndex | None = None
        self._read_only: dict[tuple[str, str], tuple[ResolvedComponent, ResolvedComponent]] = {}
        self._outputs: dict[tuple[str, str, str], Mapping[str, Any]] = {}

    @classmethod
    def from_path(
        cls, config: str | Path | None = None, cwd: Path | None = None, registry: PluginRegistry | None = None, *, stop: Stop | None = None, base_path: str | Path | None = None
    ) -> Provisioning:
        """The project whose ``atmos.yaml``/``provisioner.yaml`` is ``config``, or found in ``cwd``; ``base_path`` overrides the config's."""
        return cls(load_project_config(config, cwd, base_path=base_path), registry, stop=stop)

    @property
    def stacks(self) -> StackRepository:
        """The project's stacks, resolved with the registered backend types' defaults and component sections."""
        if self._stacks is None:
            self._stacks = StackRepository(
                self.config, self.cache, self.registry.backend_types(), sections=self.registry.component_sections(), outputs=self
            )
        return self._stacks

    # --- components and auth ------------------------------------------------------------

    def component(self, stack: str, name: str) -> ResolvedComponent:
        component = self.stacks.component(stack, name)
        self._learn_secrets(component)
        return component

    def components(self, stacks: list[str] | None = None, *, outline: bool = False) -> Iterator[ResolvedComponent]:
        """Every component of ``stacks`` (all by default); each one's secrets join the redactor.

        ``outline``: YAML functions evaluated only in backend, metadata and provision (listing and
        selecting); resolve a selected one in full with ``component``.
        """
        for component in self.stacks.components(stacks, outline=outline):
            self._learn_secrets(component)
            yield component

    def _learn_secrets(self, component: ResolvedComponent) -> None:
        """Secrets by key name and in URLs, and those its backend type finds inside values (an external id)."""
        sections = component.sections()
        found = secret_values(sections)
        self.redactor.add(found)
        self.redactor.add(self.hidden_values(component))
        if not any("${" in value for value in found):
            return  # each setting literal_env_references reports is one of these values: no second walk
        for path, names in literal_env_references(sections):
            if (path, names) not in self._warned:
                self._warned.add((path, names))
                # The names only: the value itself is a secret (and the redactor would mask it whole).
                self.warn(
                    f"{path} of {component.stack}/{component.name} ({component.source_file}) refers to {', '.join(names)} as ${{...}}, "
                    "which is not expanded: the value is used as written"
                )

    def hidden_values(self, component: ResolvedComponent) -> tuple[str, ...]:
        """The secrets the component's backend type finds inside its settings (its ``secret_values`` rule)."""
        definition = self.registry.backend_types().get(component.backend_type or "")
        if definition is None or definition.secret_values is None:
            return ()
        return tuple(str(v) for v in definition.secret_values(component.backend))

    def read_only(self, component: ResolvedComponent) -> ResolvedComponent:
        """The deeply read-only copy provisioners receive (made once per component per run)."""
        key = (component.stack, component.name)
        cached = self._read_only.get(key)
        if cached is None or cached[0] is not component:
            cached = (component, component.read_only())
            self._read_only[key] = cached
        return cached[1]

    def auth(self, component: ResolvedComponent) -> AuthContext:
        """Build the AuthContext from ``auth.providers`` with the registered credential providers."""
        providers = component.auth.get("providers") or {}
        if not isinstance(providers, Mapping):
            raise ConfigError("auth.providers must be a mapping of provider name to settings", hint="Write auth: {providers: {<name>: {type: ..., ...}}}.")
        definition = self.registry.backend_types().get(component.backend_type or "")
        if definition is not None and definition.auth_from_settings is not None:
            # The backend section's own credentials are the user's configuration too; auth.providers wins.
            implied = definition.auth_from_settings(component.backend)
            providers = {**implied, **providers}
        built: dict[str, Credentials] = {}
        ambient: list[str] = []
        for name, settings in providers.items():
            if not isinstance(settings, Mapping) or not isinstance(settings.get("type"), str):
                raise ConfigError(f"auth.providers.{name} needs a `type`", hint=f"Write auth.providers.{name}.type, e.g. `type: static`.", context={"component": component.name})
            creds = self.registry.build_credentials(str(name), settings["type"], settings)
            if creds is None:
                raise self._unknown_provider(str(name), settings["type"], component)
            built[str(name)] = creds
            provider = self.registry.credential_provider(str(name), settings["type"])
            ambient += provider.ambient_env if provider is not None else ()
        examples = {p.name: p.example for p in self.registry.credential_providers() if p.example}
        auth = AuthContext(built, ambient, examples)
        self.redactor.add(auth.secrets())
        return auth

    def _unknown_provider(self, name: str, provider_type: str, component: ResolvedComponent) -> ConfigError:
        registered = self.registry.credential_providers()
        same_name = sorted(p.type for p in registered if p.name == name)
        if same_name:
            close = difflib.get_close_matches(provider_type, same_name, n=1)
            hint = (f"Did you mean '{close[0]}'? " if close else "") + f"Types of auth.providers.{name}: {', '.join(same_name)}."
        else:
            names = sorted({p.name for p in registered})
            hint = f"No installed plugin provides '{name}' credentials (installed: {', '.join(names) or 'none'}); install the plugin that needs them."
        return ConfigError(f"auth.providers.{name}: unknown provider type '{provider_type}'", hint=hint, context={"component": component.name})

    def read_state(self, component: ResolvedComponent, auth: AuthContext | None = None) -> bytes | None:
        """The component's state object, read through its backend type's plugin (None: no state yet)."""
        definition = self.registry.backend_types().get(component.backend_type or "")
        if definition is None or definition.read_state is None:
            raise ConfigError(
                f"no installed plugin can read the state of backend_type '{component.backend_type}'",
                hint="Install the plugin that serves this backend type (its backend type registers a state reader).",
                context={"stack": component.stack, "component": component.name},
            )
        return definition.read_state(component, auth if auth is not None else self.auth(component), self.clients)

    # --- other components' outputs (YAML functions) -----------------------------------

    def terraform_outputs(self, stack: str, component: str) -> Mapping[str, Any]:
        """``!terraform.output``: ``terraform output -json`` of the component, run through our flow once per run."""
        key = ("output", stack, component)
        if key not in self._outputs:
            from provisioner_core.terraform.outputs import terraform_outputs

            self._outputs[key] = self._learn_outputs(terraform_outputs(self, stack, component))
        return self._outputs[key]

    def state_outputs(self, stack: str, component: str) -> Mapping[str, Any]:
        """``!terraform.state``: the outputs in the component's state object, read through its backend plugin."""
        key = ("state", stack, component)
        if key not in self._outputs:
            import json

            resolved = self.component(stack, component)
            data = self.read_state(resolved)
            try:
                state = json.loads(data) if data else {}
            except ValueError:
                raise ConfigError(
                    f"the state of component '{component}' in stack '{stack}' is not JSON",
                    hint="Check the backend settings: the object read is not a terraform state.",
                    context={"stack": stack, "component": component},
                ) from None
            self._outputs[key] = self._learn_outputs((state.get("outputs") or {}) if isinstance(state, dict) else {})
        return self._outputs[key]

    def _learn_outputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Output values by name; sensitive ones join the redactor."""
        values = {}
        for name, output in outputs.items():
            value = output.get("value") if isinstance(output, Mapping) else output
            if isinstance(output, Mapping) and output.get("sensitive"):
                self.redactor.add(secret_values({"secret": value}))
            values[str(name)] = value
        return values

    # --- the state guard ----------------------------------------------------------------

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
        return run_provisioners(self, event, component, auth=auth, dry_run=dry_run, on_start=on_start)

    def provision(self, provisioner_type: str, stack: str, name: str, *, dry_run: bool = False) -> list[Outcome]:
        """The explicit ``provision <type> <component> -s <stack>``.

        Runs the type at ``manual.provision`` when it declares it, otherwise at each event it
        declares, in flow order.
        """
        return self.provision_component(provisioner_type, self.component(stack, name), dry_run=dry_run)

    def provision_component(self, provisioner_type: str, component: ResolvedComponent, *, dry_run: bool = False) -> list[Outcome]:
        """``provision`` for a component the caller built rather than one read from the stacks
        (e.g. a plain terraform folder's backend): the same checks, state guard, events and order."""
        self._learn_secrets(component)
        self.check_type(provisioner_type, [component])
        self.check_runnable(component, provisioner_type)
        # Without a stacks folder (a plain terraform project) no stack component can share its state.
        prepare(self, component, provisioner_type, guard=self.config.stacks_base_path.is_dir())
        auth = self.auth(component)
        outcomes: list[Outcome] = []
        for event in explicit_events(self.registry, provisioner_type):
            try:
                outcomes += run_provisioners(self, event, component, provisioner_type=provisioner_type, auth=auth, dry_run=dry_run)
            except RunInterrupted as stopped:
                stopped.outcomes = (*outcomes, *stopped.outcomes)
                raise
        return outcomes

    def check_type(self, provisioner_type: str, components: Iterable[ResolvedComponent] = ()) -> None:
        """An installed provisioner type, or exit 2: the install line when one of ``components`` enables it
        (its backend_type's plugin; read only when the type is missing), else the close match."""
        types = self.registry.provisioner_types()
        if provisioner_type not in types:
            for component in components:
                check_enabled_types(self.registry, component, provisioner_type)
            close = difflib.get_close_matches(provisioner_type, types, n=1)
            failed = "; ".join(f"{info.distribution} failed to load: {info.reason}" for info in self.registry.failed())
            raise ConfigError(
                f"unknown provisioner type '{provisioner_type}'",
                hint=([f"Not loaded: {failed}"] if failed else [])
                + [(f"Did you mean '{close[0]}'? " if close else "") + f"Installed types: {', '.join(types) or '(none)'}; see `provision plugins`."]
                + ([] if close else [f"If a plugin provides it: {install_hint('<backend_type>') if provisioner_type == 'backend' else f'pip install provisioner-{provisioner_type}'}."]),
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


__all__ = ["Provisioning", "check_component_runs"]
