"""The hooks a plugin can implement (plugin contract v1; see docs/hooks.md).

Four kinds, by purpose:

* **registration** hooks: every plugin's results are collected, after all plugins have
  loaded, so the order plugins load in never matters (``register_provisioner``,
  ``register_events``, ``register_backend_types``, ``register_credential_providers``,
  ``register_component_sections``, ``register_commands``, ``register_hookspecs``);
* a **validation** hook, ``validate_component``: every implementation runs before anything
  runs for a component; raising refuses it;
* **lifecycle** hooks, one per event (``before_terraform_init`` …): generated from one table
  (:data:`provisioner_core.events.BUILTIN_EVENT_SPECS` and the plugins' ``register_events``),
  all with the signature of :func:`lifecycle`. Core calls the implementation of each
  *enabled* provisioner separately, in a documented order, and stops at the first failure.
  They return a :class:`~provisioner_core.ProvisionResult` or ``None``;
* ``resolve_credentials``: deprecated (``register_credential_providers`` replaces it).

Implementations may accept any subset of a hook's arguments, so hooks can grow without
breaking plugins. A complete example::

    from provisioner_core import ProvisionResult, ProvisionerSpec, Status, hookimpl

    @hookimpl
    def register_provisioner():
        return ProvisionerSpec(
            name="example", type="example", events=("before.terraform.init",),
            description="Writes a marker file before terraform init",
        )

    @hookimpl
    def before_terraform_init(component, options, dry_run):
        return ProvisionResult(status=Status.UNCHANGED, resource=component.name)
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from provisioner_core.events import BUILTIN_EVENT_SPECS, EventSpec

if TYPE_CHECKING:
    import click

    from provisioner_core.auth import AuthContext, CredentialProvider
    from provisioner_core.cache import ClientCache
    from provisioner_core.results import ProvisionResult
    from provisioner_core.sections import ComponentSection
    from provisioner_core.spec import ProvisionerSpec
    from provisioner_core.stacks.component import ResolvedComponent
    from provisioner_core.stacks.config import ProjectConfig
    from provisioner_core.state.backend_types import BackendType

PROJECT_NAME = "provisioner"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- registration -------------------------------------------------------------------------


@hookspec
def register_provisioner() -> ProvisionerSpec | None:
    """Declare the provisioner this plugin provides (name, type, events, backend types).

    All implementations are collected; a plugin that provides no provisioner (e.g. only
    credential providers) does not implement it. Duplicate names are reported, not dropped.
    """


@hookspec
def register_events() -> Sequence[EventSpec]:
    """Declare new lifecycle events; each becomes a hook with the lifecycle arguments.

    ``EventSpec(name, description, after="after.component.load")`` fires in the terraform
    flow right after that event; without ``after`` only a command fires it
    (``Provisioning.run_event``). All implementations are collected, whatever their order.
    """
    return ()


@hookspec
def register_backend_types() -> Sequence[BackendType]:
    """Declare the backend types this plugin knows: state placement, defaults, secret settings, name rules."""
    return ()


@hookspec
def register_credential_providers() -> Sequence[CredentialProvider]:
    """Declare credential providers: one per ``auth.providers.<name>.type`` this plugin builds."""
    return ()


@hookspec
def register_component_sections() -> Sequence[ComponentSection]:
    """Declare top-level component sections this plugin reads (Atmos's ``source:``): merged like ``vars``.

    Provisioners find them in ``component.plugin_sections``; ``enables="<type>"`` makes a
    component that sets the section run that provisioner type unless it says ``enabled: false``.
    """
    return ()


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``provision`` CLI: ``cli.add_command(...)`` (llm, datasette style).

    A name another plugin (or core) already took is reported in ``provision plugins``.
    """


@hookspec
def register_hookspecs() -> Sequence[object]:
    """Return modules or classes holding ``@hookspec`` functions of your own (e.g. env's hooks)."""
    return ()


# --- validation ---------------------------------------------------------------------------


@hookspec
def validate_component(component: ResolvedComponent, project: ProjectConfig) -> None:
    """Runs before anything runs for a component (terraform, explicit provisioning, ``--all``).

    Raise a ProvisionerError (e.g. ConfigError, exit 2) to refuse the component. All
    implementations run.
    """


# --- deprecated ---------------------------------------------------------------------------


@hookspec(
    firstresult=True,
    warn_on_impl=DeprecationWarning("resolve_credentials is deprecated since API 1.0: return CredentialProvider objects from register_credential_providers"),
)
def resolve_credentials(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any | None:
    """Build credentials for ``auth.providers.<cloud>`` of ``type: <provider_type>``; first non-None wins.

    Asked only when no registered credential provider has the type. The result must satisfy
    the Credentials protocol.
    """


# --- lifecycle ----------------------------------------------------------------------------


def lifecycle(
    component: ResolvedComponent,
    auth: AuthContext,
    options: Mapping[str, Any],
    dry_run: bool,
    clients: ClientCache,
    event: str,
    spec: ProvisionerSpec,
    project_root: Path,
) -> ProvisionResult | None:
    """The signature of every lifecycle hook (a plugin takes any subset of the arguments).

    component     the resolved component (sections merged from its stack, read-only)
    auth          the AuthContext built from the component's ``auth`` section
    options       the component's ``provision.<type>`` mapping for this provisioner
    dry_run       True when only planning: make no write call, return status ``planned``
    clients       the run's ClientCache, to reuse SDK clients across components
    event         the dotted event name being run, e.g. ``before.terraform.init``
    spec          this provisioner's own ProvisionerSpec
    project_root  the project's root folder: the base for relative paths in options
    """


LIFECYCLE_ARGS: tuple[str, ...] = lifecycle.__code__.co_varnames[: lifecycle.__code__.co_argcount]


def lifecycle_spec(event: EventSpec) -> Callable[..., ProvisionResult | None]:
    """The hookspec of ``event``: :func:`lifecycle`'s code under the event's hook name."""
    function = types.FunctionType(lifecycle.__code__, lifecycle.__globals__, event.hook)
    function.__qualname__ = event.hook
    function.__doc__ = f"{event.description} (event ``{event.name}``)."
    function.__annotations__ = dict(lifecycle.__annotations__)
    marked: Callable[..., ProvisionResult | None] = hookspec(function)
    return marked


def lifecycle_specs(events: Sequence[EventSpec]) -> types.ModuleType:
    """A module holding the hookspec of each event, for ``PluginManager.add_hookspecs``."""
    module = types.ModuleType("provisioner_lifecycle_hooks")
    for event in events:
        setattr(module, event.hook, lifecycle_spec(event))
    return module


# Core's events get their hookspecs here, in this module, so they can be documented and tested by name.
for _event in BUILTIN_EVENT_SPECS:
    globals()[_event.hook] = lifecycle_spec(_event)
del _event
