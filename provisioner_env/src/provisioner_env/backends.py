"""An environment's state backends, through the installed backend plugins: provision them, check they exist.

Atmos components are provisioned as ``provision backend COMPONENT -s STACK`` would. A plain
terraform folder has no stack, so its component is built here: the folder's ``backend "<type>"``
block merged with ``backend.<env>.hcl``, with the provision options and auth of
``environments.terraform`` (docs/environments.md), and provisioned through core's
``Provisioning.provision_component``: the same checks, events and plugins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from provisioner_core import Outcome, PluginRegistry, ProvisionerError, Provisioning, ResolvedComponent
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.units import Side, disk_reader, plain_side

BACKEND = "backend"
# terraform's own backends that need nothing created (core registers them): never provisioned.
_NOTHING_TO_CREATE = frozenset({"local", "http"})


def plain_component(side: Side, policy: EnvironmentPolicy, *, provision: bool = False) -> ResolvedComponent:
    """A plain folder of one environment as a component: stack = the environment, name = the folder.

    ``provision``: enable the backend provisioner even if ``environments.terraform`` does not.
    """
    sections = {str(name): dict(options) for name, options in policy.terraform.provision.items()}
    if provision:
        sections[BACKEND] = {**sections.get(BACKEND, {}), "enabled": True}
    return ResolvedComponent(
        stack=side.environment,
        name=side.folder,
        terraform_component=side.folder,
        backend_type=side.backend_type,
        backend=dict(side.backend),
        provision=sections,
        auth=dict(policy.terraform.auth),
        source_file=side.file,
    )


def needs_backend(backend_type: str | None) -> bool:
    """True when the backend is storage someone must create (not terraform's local or http state)."""
    return backend_type is not None and backend_type not in _NOTHING_TO_CREATE


def serves(registry: PluginRegistry, backend_type: str | None) -> bool:
    """True when an installed backend provisioner serves ``backend_type``."""
    return any(rp.spec.type == BACKEND and rp.spec.serves(backend_type) for rp in registry.provisioners())


def missing_backend(provisioning: Provisioning, component: ResolvedComponent) -> str | None:
    """What a dry run of the backend provisioner would create first (None: the backend exists)."""
    outcomes = provisioning.provision_component(BACKEND, component, dry_run=True)
    creates = [str(a) for o in outcomes for a in o.result.actions if a.verb.startswith("create")]
    return creates[0] if creates else None


def plain_sides(provisioning: Provisioning, env: str, folders: Sequence[str]) -> list[Side]:
    """The plain folders of ``env`` as they are on disk now."""
    root = provisioning.config.root
    types = provisioning.registry.backend_types()
    sides = [plain_side(root, root / folder, env, disk_reader(root), types) for folder in folders]
    return [side for side in sides if side is not None]


def provision_backends(
    provisioning: Provisioning,
    env: str,
    policy: EnvironmentPolicy,
    *,
    components: Sequence[tuple[str, str]] = (),
    folders: Sequence[str] = (),
    force_plain: bool = False,
    dry_run: bool = False,
    status: Callable[[str], None] = lambda _: None,
) -> list[Outcome]:
    """Run the backend provisioners of ``env``: Atmos ``components`` (stack, name) in order, then plain ``folders``.

    A plain folder is provisioned when ``environments.terraform.provision.backend.enabled`` is
    true or ``force_plain`` (``--provision``), and its backend is storage to create.
    """
    fresh = Provisioning(provisioning.config, provisioning.registry)  # the files as written, read from disk
    fresh.redactor = provisioning.redactor  # one redactor: every secret seen is masked in the output
    outcomes: list[Outcome] = []
    for stack, name in components:
        status(f"{'Planning' if dry_run else 'Provisioning'} the backend of {name} in {stack}...")
        outcomes += _attributed(functools.partial(fresh.provision, BACKEND, stack, name, dry_run=dry_run), f"{name} -s {stack}", env)
    if force_plain or policy.terraform.backend_enabled():
        for side in plain_sides(fresh, env, folders):
            if not needs_backend(side.backend_type):
                continue
            status(f"{'Planning' if dry_run else 'Provisioning'} the {side.backend_type} backend of {side.folder} for {env}...")
            component = plain_component(side, policy, provision=force_plain)
            outcomes += _attributed(functools.partial(fresh.provision_component, BACKEND, component, dry_run=dry_run), "", env, folder=side.folder)
    return outcomes


def _attributed(call: Callable[[], list[Outcome]], component: str, env: str, folder: str = "") -> list[Outcome]:
    try:
        return call()
    except ProvisionerError as error:
        again = f"provision backend {component}" if component else f"provision env backends {env}"
        where = f" ({Path(folder).as_posix()})" if folder else ""
        error.hints = (*error.hints, f"Provision again with `{again}`{where} once fixed; the environment's files are kept.")
        raise


def environment_backends(
    provisioning: Provisioning, env: str, *, dry_run: bool = False, status: Callable[[str], None] = lambda _: None
) -> list[Outcome]:
    """``provision env backends ENV``: every backend of an existing environment, Atmos components that
    enable ``provision.backend`` (dependency order) and plain folders whose backend is storage."""
    from provisioner_core import ConfigError
    from provisioner_env.layouts import ATMOS, TFVARS, EnvProject
    from provisioner_env.names import normalise_env_name
    from provisioner_env.order import dependency_order

    env = normalise_env_name(env)
    project = EnvProject(provisioning)
    files = project.files(env)
    if not files:
        raise ConfigError(f"no files of environment '{env}' found", hint="Create it first with `provision env create`.", context={"target": env})
    components: list[tuple[str, str]] = []
    for env_file in files:
        if env_file.layout == ATMOS and env_file.stack is not None:
            resolved = [provisioning.component(env_file.stack, n) for n in provisioning.stacks.component_names(env_file.stack)]
            enabled = [c for c in resolved if not c.abstract and not c.disabled and c.is_enabled(BACKEND)]
            components += [(c.stack, c.name) for c in dependency_order(enabled, lambda c: c.name, lambda c: c.settings)]
    root = provisioning.config.root
    from provisioner_env.layouts import relative_to

    folders = sorted({relative_to(f.path.parent, root) for f in files if f.layout == TFVARS and f.role == TFVARS})
    return provision_backends(provisioning, env, project.policy, components=components, folders=folders, force_plain=True, dry_run=dry_run, status=status)
