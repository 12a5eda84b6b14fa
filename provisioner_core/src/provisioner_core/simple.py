"""``provisioner(spec, run)``: the PRD's Provisioner{Type, HookEvent, Func} as one plugin object.

Most provisioners run the same function at every event they declare. Instead of writing one
``@hookimpl`` per event, build the plugin from the declaration and the function::

    SPEC = ProvisionerSpec(name="hello", type="hello", events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION), description="...")

    def run(component, options, dry_run):
        ...

    plugin = provisioner(SPEC, run)        # entry point: hello = "provisioner_hello.plugin:plugin"

``run`` may take any subset of the lifecycle arguments (``component``, ``auth``, ``options``,
``dry_run``, ``clients``, ``event``, ``spec``), exactly as a hook implementation may.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from provisioner_core.events import hook_name
from provisioner_core.hookspecs import LIFECYCLE_ARGS, hookimpl
from provisioner_core.results import ProvisionResult
from provisioner_core.spec import ProvisionerSpec


def provisioner(spec: ProvisionerSpec, run: Callable[..., ProvisionResult | None]) -> Any:
    """A plugin object that declares ``spec`` and calls ``run`` at each of ``spec.events``."""
    wanted = list(inspect.signature(run).parameters)
    unknown = [name for name in wanted if name not in LIFECYCLE_ARGS]
    if unknown:
        # Fail when the plugin is built (at import), not on the first run.
        raise TypeError(f"{run.__name__}() takes {', '.join(unknown)}, which no lifecycle hook passes; choose from {', '.join(LIFECYCLE_ARGS)}")

    def declare() -> ProvisionerSpec:
        return spec

    members: dict[str, Any] = {"register_provisioner": staticmethod(hookimpl(declare)), "spec": spec, "run": staticmethod(run)}
    for event in spec.events:
        members[hook_name(event)] = staticmethod(hookimpl(_lifecycle(run, wanted, hook_name(event))))
    plugin_class = type(f"{spec.name.replace('-', '_')}_provisioner", (), members)
    return plugin_class()


def _lifecycle(run: Callable[..., ProvisionResult | None], wanted: list[str], name: str) -> Callable[..., ProvisionResult | None]:
    # The full lifecycle signature, so pluggy passes every argument; run gets the ones it names.
    def hook(component, auth, options, dry_run, clients, event, spec):  # type: ignore[no-untyped-def]
        given = {"component": component, "auth": auth, "options": options, "dry_run": dry_run, "clients": clients, "event": event, "spec": spec}
        return run(**{arg: given[arg] for arg in wanted})

    hook.__name__ = hook.__qualname__ = name
    return hook
