"""The one path every command takes to run provisioners: check → select → route → auth → run.

``provision terraform``, ``provision <type>``, ``provision <type> --all`` and Python tools
(``Provisioning.run_event``) all come through here, so a rule added here holds everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from provisioner_core.auth import AuthContext
from provisioner_core.errors import ConfigError
from provisioner_core.events import MANUAL_PROVISION
from provisioner_core.plugins.manager import PluginRegistry, RegisteredProvisioner
from provisioner_core.results import Outcome
from provisioner_core.runner import run_event, select
from provisioner_core.schema import check_core_keys, structure_options
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.state.backend_types import install_hint

if TYPE_CHECKING:
    from provisioner_core.session import Provisioning


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


def enabled_types(component: ResolvedComponent) -> list[str]:
    """The provisioner types the component enables (``provision.<type>.enabled: true``)."""
    return sorted(t for t in component.provision if component.is_enabled(str(t)))


def check_enabled_types(registry: PluginRegistry, component: ResolvedComponent, only: str | None = None) -> None:
    """Every type the component enables has an installed provisioner serving it, or exit 2.

    A type is never silently skipped: when its plugin failed to load, the error names the
    distribution and why it failed.
    """
    for provisioner_type in [only] if only is not None else enabled_types(component):
        if component.provision_options(provisioner_type).get("enabled") is not True:
            continue
        of_type = [rp for rp in registry.provisioners() if rp.spec.type == provisioner_type]
        if of_type and any(rp.spec.serves(component.backend_type) for rp in of_type):
            continue
        raise _missing_provisioner(registry, component, provisioner_type, of_type)


def _missing_provisioner(registry: PluginRegistry, component: ResolvedComponent, provisioner_type: str, of_type: Sequence[RegisteredProvisioner]) -> ConfigError:
    where = {"stack": component.stack, "component": component.name}
    failed = registry.failed()  # an import failure does not say which types the plugin would have provided
    failed_note = "; ".join(f"{info.distribution} ({info.name}) failed to load: {info.reason}" for info in failed)
    if of_type:  # the type exists, but nobody serves this backend_type
        if not component.backend_type:
            return ConfigError(
                f"component '{component.name}' enables provision.{provisioner_type} but sets no backend_type",
                hint=f"Add `backend_type: <type>` and a matching `backend:` section (installed {provisioner_type} types: "
                + ", ".join(sorted({t for rp in of_type for t in rp.spec.backend_types})) + ").",
                context=where,
            )
        served = sorted({t for rp in of_type for t in rp.spec.backend_types})
        return ConfigError(
            f"no installed {provisioner_type} provisioner serves backend_type '{component.backend_type}'",
            hint=[f"{install_hint(component.backend_type)} (installed {provisioner_type} types: {', '.join(served) or 'none'})."]
            + ([f"Not loaded: {failed_note}"] if failed_note else []),
            context=where,
        )
    hint = install_hint(component.backend_type) if provisioner_type == "backend" and component.backend_type else f"pip install provisioner-{provisioner_type}"
    types = sorted(registry.provisioner_types())
    close = difflib.get_close_matches(provisioner_type, types, n=1)
    return ConfigError(
        f"component '{component.name}' enables provision.{provisioner_type}, but no installed plugin provides the '{provisioner_type}' provisioner",
        hint=([f"Not loaded: {failed_note}"] if failed_note else [])
        + [(f"Did you mean '{close[0]}'? " if close else "") + f"Install one ({hint}), or set provision.{provisioner_type}.enabled: false. Installed types: {', '.join(types) or 'none'}."],
        context=where,
    )


def check_options(registry: PluginRegistry, component: ResolvedComponent, only: str | None = None) -> None:
    """Every enabled provisioner's options against its schema, all problems of all types reported at once (exit 2)."""
    problems: list[str] = []
    for provisioner_type in [only] if only is not None else enabled_types(component):
        where = f"provision.{provisioner_type}"
        raw = component.provision_options(provisioner_type)
        problems += check_core_keys(raw, where)
        for rp in registry.provisioners():
            if rp.spec.type != provisioner_type or rp.spec.options is None or not rp.spec.serves(component.backend_type):
                continue
            try:
                structure_options(rp.spec.options, raw, where)
            except ConfigError as error:
                problems += list(error.hints[:-1])
    if problems:
        raise ConfigError(
            f"component '{component.name}' in stack '{component.stack}' has {len(problems)} invalid provisioner option{'s' if len(problems) > 1 else ''}: "
            + "; ".join(problems),
            hint=[*problems, "`provision plugins --options <type>` lists each provisioner's options."],
            context={"stack": component.stack, "component": component.name, "source": component.source_file},
        )


def prepare(provisioning: Provisioning, component: ResolvedComponent, provisioner_type: str | None = None, *, guard: bool = True) -> None:
    """Before anything runs for a component: it runs at all, its provisioners exist with valid options, plugins accept it, its state is its own."""
    check_component_runs(component)
    check_enabled_types(provisioning.registry, component, provisioner_type)
    check_options(provisioning.registry, component, provisioner_type)
    provisioning.registry.validate_component(component=component, project=provisioning.config)
    if guard:
        provisioning.check_state_collisions([component])


def explicit_events(registry: PluginRegistry, provisioner_type: str) -> list[str]:
    """The events ``provision <type> <component>`` runs: manual.provision where the type declares it, else its own events in flow order."""
    declared = {event for rp in registry.provisioners() if rp.spec.type == provisioner_type for event in rp.spec.events}
    if MANUAL_PROVISION in declared:
        return [MANUAL_PROVISION]
    order = registry.events()
    return sorted(declared, key=order.index)


def run_provisioners(
    provisioning: Provisioning,
    event: str,
    component: ResolvedComponent,
    *,
    provisioner_type: str | None = None,
    auth: AuthContext | None = None,
    dry_run: bool = False,
    on_start: Callable[[RegisteredProvisioner], None] | None = None,
) -> list[Outcome]:
    """Select the enabled provisioners of ``event`` (of one type, or all), build auth once, run them in order."""
    chosen = select(provisioning.registry, event, component, provisioner_type)
    if not chosen:
        return []
    auth = auth if auth is not None else provisioning.auth(component)
    return run_event(
        provisioning.registry, event, component, auth,
        dry_run=dry_run, clients=provisioning.clients, provisioners=chosen, on_start=on_start, project_root=provisioning.config.root,
        redact=provisioning.redactor, read_only=provisioning.read_only(component), stop=provisioning.stop,
    )  # fmt: skip
