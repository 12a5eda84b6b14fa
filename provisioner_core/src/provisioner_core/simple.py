"""``provisioner(spec, run)``: the PRD's Provisioner{Type, HookEvent, Func} as one plugin object.

Most provisioners run the same function at every event they declare. Instead of writing one
``@hookimpl`` per event, build the plugin from the declaration and the function::

    SPEC = ProvisionerSpec(name="hello", type="hello", events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION), description="...")

    def run(component, options, dry_run):
        ...

    plugin = provisioner(SPEC, run)        # entry point: hello = "provisioner_hello.plugin:plugin"

``run`` may take any subset of the lifecycle arguments (``component``, ``auth``, ``options``,
``dry_run``, ``clients``, ``event``, ``spec``, ``project_root``), exactly as a hook
implementation may. The keyword arguments register the rest of what a distribution provides:
its backend types, credential providers, events, component sections and CLI commands.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from provisioner_core.auth.credentials import CredentialProvider
from provisioner_core.events import EventSpec
from provisioner_core.hookspecs import LIFECYCLE_ARGS, hookimpl
from provisioner_core.results import ProvisionResult
from provisioner_core.sections import ComponentSection
from provisioner_core.spec import ProvisionerSpec
from provisioner_core.state.backend_types import BackendType
from provisioner_core.version import API_VERSION

if TYPE_CHECKING:
    import click

RunFunction = Callable[..., "ProvisionResult | None"]


class SimpleProvisioner:
    """A plugin object: registers ``spec`` (and the rest) and calls ``run`` at each of its events."""

    def __init__(
        self,
        spec: ProvisionerSpec,
        run: RunFunction,
        *,
        backend_types: Sequence[BackendType] = (),
        credential_providers: Sequence[CredentialProvider] = (),
        events: Sequence[EventSpec] = (),
        sections: Sequence[ComponentSection] = (),
        commands: Callable[[click.Group], None] | None = None,
        requires_api: str = API_VERSION,
    ) -> None:
        self.spec = spec
        self.run = run
        self.requires_api = requires_api
        self._backend_types = tuple(backend_types)
        self._credential_providers = tuple(credential_providers)
        self._events = tuple(events)
        self._sections = tuple(sections)
        self._commands = commands
        wanted = list(inspect.signature(run).parameters)
        unknown = [name for name in wanted if name not in LIFECYCLE_ARGS]
        if unknown:
            # Fail when the plugin is built (at import), not on the first run.
            raise TypeError(f"{getattr(run, '__name__', run)}() takes {', '.join(unknown)}, which no lifecycle hook passes; choose from {', '.join(LIFECYCLE_ARGS)}")
        for event in spec.events:
            setattr(self, event.replace(".", "_"), hookimpl(_lifecycle(run, wanted, event.replace(".", "_"))))
        if commands is not None:
            add_commands = commands

            def register_commands(cli: click.Group) -> None:
                add_commands(cli)

            self.register_commands = hookimpl(register_commands)

    @hookimpl
    def register_provisioner(self) -> ProvisionerSpec:
        return self.spec

    @hookimpl
    def register_backend_types(self) -> Sequence[BackendType]:
        return self._backend_types

    @hookimpl
    def register_credential_providers(self) -> Sequence[CredentialProvider]:
        return self._credential_providers

    @hookimpl
    def register_events(self) -> Sequence[EventSpec]:
        return self._events

    @hookimpl
    def register_component_sections(self) -> Sequence[ComponentSection]:
        return self._sections

    def __repr__(self) -> str:
        return f"<provisioner {self.spec.name}>"


def provisioner(
    spec: ProvisionerSpec,
    run: RunFunction,
    *,
    backend_types: Sequence[BackendType] = (),
    credential_providers: Sequence[CredentialProvider] = (),
    events: Sequence[EventSpec] = (),
    sections: Sequence[ComponentSection] = (),
    commands: Callable[[click.Group], None] | None = None,
    requires_api: str = API_VERSION,
) -> SimpleProvisioner:
    """A plugin object that declares ``spec`` and calls ``run`` at each of ``spec.events``.

    ``backend_types``, ``credential_providers``, ``events``, ``sections``: registered as the
    matching ``register_*`` hooks would; ``commands(cli)``: adds CLI commands; ``requires_api``: the
    plugin API this plugin was written for (default: the installed core's).
    """
    return SimpleProvisioner(
        spec, run, backend_types=backend_types, credential_providers=credential_providers, events=events, sections=sections, commands=commands,
        requires_api=requires_api,
    )


def _lifecycle(run: RunFunction, wanted: list[str], name: str) -> Callable[..., ProvisionResult | None]:
    # The full lifecycle signature, so pluggy passes every argument; run gets the ones it names.
    def hook(component: Any, auth: Any, options: Any, dry_run: Any, clients: Any, event: Any, spec: Any, project_root: Any) -> ProvisionResult | None:
        given = {"component": component, "auth": auth, "options": options, "dry_run": dry_run, "clients": clients, "event": event, "spec": spec,
                 "project_root": project_root}  # fmt: skip
        return run(**{arg: given[arg] for arg in wanted})

    hook.__name__ = hook.__qualname__ = name
    return hook
