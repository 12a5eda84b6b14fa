"""The hooks a provisioner plugin can implement.

Three kinds, by purpose:

* **registration** hooks (``register_provisioner``, ``register_events``): every plugin's
  result is collected;
* **selection** hooks (``resolve_credentials``): ``firstresult``, ``None`` means "not mine";
* **lifecycle** hooks, one per event (``before_terraform_init`` …): the system calls the
  implementation of each *enabled* provisioner separately, in a documented order, and stops
  at the first failure. They return a :class:`~provisioner_core.ProvisionResult` or ``None``.

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

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from provisioner_core.auth import AuthContext
    from provisioner_core.cache import ClientCache
    from provisioner_core.env.plan import EnvironmentPlan
    from provisioner_core.results import Outcome, ProvisionResult
    from provisioner_core.spec import EventSpec, ProvisionerSpec
    from provisioner_core.stacks.component import ResolvedComponent
    from provisioner_core.stacks.config import ProjectConfig

PROJECT_NAME = "provisioner"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# Arguments every lifecycle hook receives (a plugin may take any subset):
#   component  the resolved component (sections merged from its stack, read-only)
#   auth       the AuthContext built from the component's ``auth`` section
#   options    the component's ``provision.<type>`` mapping for this provisioner
#   dry_run    True when only planning: make no write call, return status ``planned``
#   clients    the run's ClientCache, to reuse SDK clients across components
#   event      the dotted event name being run, e.g. ``before.terraform.init``
#   spec       this provisioner's own ProvisionerSpec
LIFECYCLE_ARGS: tuple[str, ...] = ("component", "auth", "options", "dry_run", "clients", "event", "spec")


# --- registration -------------------------------------------------------------------------


@hookspec
def register_provisioner() -> ProvisionerSpec | None:
    """Declare the provisioner this plugin provides (name, type, events, backend types).

    All implementations are collected; a plugin that provides no provisioner (e.g. only an
    auth provider) does not implement it. Duplicate names are reported, not dropped.
    """


@hookspec
def register_events() -> Sequence[EventSpec]:
    """Declare new lifecycle events; each becomes a hook with the lifecycle arguments.

    All implementations are collected. Trigger a declared event with
    ``Provisioning.run_event("before.workflow.execute", component)``.
    """
    return ()


# --- selection ----------------------------------------------------------------------------


@hookspec(firstresult=True)
def resolve_credentials(cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any | None:
    """Build credentials for ``auth.providers.<cloud>`` of ``type: <provider_type>``.

    First non-None result wins; return None for a provider type that is not yours. The
    built-in aws, gcp and azure types run last, so a plugin can override them.
    """


# --- lifecycle ----------------------------------------------------------------------------


@hookspec
def before_component_load(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs after the stacks are resolved, before the component's terraform folder is used."""


@hookspec
def after_component_load(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs once the component's terraform folder is located and its files are generated."""


@hookspec
def before_terraform_init(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs before ``terraform init``: the place to create a state backend."""


@hookspec
def after_terraform_init(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs after a successful ``terraform init``."""


@hookspec
def before_terraform_plan(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs before ``terraform plan``."""


@hookspec
def after_terraform_plan(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs after a successful ``terraform plan``."""


@hookspec
def before_terraform_apply(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs before ``terraform apply`` (and ``destroy``)."""


@hookspec
def after_terraform_apply(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs after a successful ``terraform apply`` (and ``destroy``)."""


@hookspec
def manual_provision(
    component: ResolvedComponent, auth: AuthContext, options: Mapping[str, Any], dry_run: bool, clients: ClientCache, event: str, spec: ProvisionerSpec
) -> ProvisionResult | None:
    """Runs for the explicit ``provision <type> <component> -s <stack>`` command."""


def lifecycle_spec(hook: str) -> Any:
    """A hookspec function named ``hook`` with the lifecycle arguments (for plugin-declared events)."""

    def lifecycle(component, auth, options, dry_run, clients, event, spec):  # type: ignore[no-untyped-def]
        """A plugin-declared lifecycle event."""

    lifecycle.__name__ = lifecycle.__qualname__ = hook
    return hookspec(lifecycle)


# --- environment lifecycle (provision env) ------------------------------------------------
# Called once per command (not per component), with keyword arguments; all implementations
# run, in pluggy's order; an exception stops the command and the error names the plugin.


@hookspec
def before_env_create(plan: EnvironmentPlan, config: ProjectConfig) -> None:
    """Runs when ``provision env create`` has planned and checked everything, before any file is written.

    ``plan`` is the frozen EnvironmentPlan (``plan.source``, ``plan.target``, ``plan.files``,
    ``plan.placeholders``, ``plan.checklist``, ``plan.to_dict()``). Raise to stop: nothing is
    written. Not called for ``--dry-run``.
    """


@hookspec
def after_env_create(plan: EnvironmentPlan, config: ProjectConfig, written: Sequence[str], outcomes: Sequence[Outcome]) -> None:
    """Runs after the target's files are written (``written``: paths relative to the project root)
    and, with ``--provision``, its backends provisioned (``outcomes``; empty otherwise)."""


@hookspec
def before_env_destroy(target: str, config: ProjectConfig, files: Sequence[str], components: Sequence[str]) -> None:
    """Runs when ``provision env destroy TARGET --force`` is about to destroy: ``files`` it will remove,
    ``components`` (``stack/component`` or terraform folders) in destroy order. Raise to stop: nothing is destroyed."""


@hookspec
def after_env_destroy(target: str, config: ProjectConfig, removed: Sequence[str], leftovers: Sequence[str]) -> None:
    """Runs after terraform destroyed every component and the environment's files were removed;
    ``leftovers`` lists what may be left (state objects, buckets, external credentials to revoke)."""
