"""Pair what the source and the target environment define, component by component.

A Unit is one Atmos component (stack + component) or one plain terraform folder, seen in
both environments: the mapping table, the name checks and ``verify`` all work on Units, so
both layouts share one set of rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from provisioner_core import BackendType, ConfigError, ResolvedComponent, StackRepository
from provisioner_env import hcl, tfvars
from provisioner_env.layouts import TFVARS, EnvFile, atmos_target, backend_names, plain_name, plain_target, relative_to, tfvars_names
from provisioner_env.state import state_location


@frozen
class Side:
    """One environment's view of a unit."""

    label: str  # "dev/app" (stack/component) or the terraform folder
    file: str  # the stack file or tfvars file, relative to the project root
    vars: Mapping[str, Any] = field(factory=dict)
    env: Mapping[str, Any] = field(factory=dict)
    settings: Mapping[str, Any] = field(factory=dict)
    backend_type: str | None = None
    backend: Mapping[str, Any] = field(factory=dict)
    folder: str = ""  # the terraform folder, relative to the project root
    stack: str | None = None
    component: str | None = None
    provision: Mapping[str, Any] = field(factory=dict)
    workspace: str = "default"  # plain terraform folders always use the default workspace
    state: str = ""  # the state's full address (see state_location)
    environment: str = ""  # the environment this side belongs to (plain folders)
    varfiles: tuple[str, ...] = ()  # plain folders: the var files, relative to the project root, in -var-file order
    backend_files: tuple[str, ...] = ()  # plain folders: the backend settings files

    def sections(self) -> dict[str, Mapping[str, Any]]:
        return {"vars": self.vars, "env": self.env, "settings": self.settings}

    def backend_enabled(self) -> bool:
        options = self.provision.get("backend") if isinstance(self.provision, Mapping) else None
        return isinstance(options, Mapping) and options.get("enabled") is True


@frozen
class Unit:
    layout: str
    name: str  # the component name, or the folder's name (policy `component:` matches it)
    source: Side
    target: Side | None  # None: the target does not have it


def side_of(component: ResolvedComponent, file: str, terraform_base: Path, root: Path, backend_types: Mapping[str, BackendType]) -> Side:
    folder = relative_to(terraform_base / component.terraform_component, root)
    return Side(
        label=f"{component.stack}/{component.name}",
        file=file,
        vars=component.vars,
        env=component.env,
        settings=component.settings,
        backend_type=component.backend_type,
        backend=component.backend,
        folder=folder,
        stack=component.stack,
        component=component.name,
        provision=component.provision,
        workspace=component.workspace,
        state=state_location(component.backend_type, component.backend, folder, backend_types, component.workspace),
    )


def atmos_units(
    source_repo: StackRepository, target_repo: StackRepository, files: list[EnvFile], source: str, target: str, root: Path, protect: Iterable[str] = ()
) -> tuple[list[Unit], list[str]]:
    """Units of every non-abstract component of the source's stacks; and the target stacks that are missing."""
    by_relative = {stack.relative: stack for stack in target_repo.stacks().values()}
    terraform_base = source_repo.config.terraform_base_path
    units: list[Unit] = []
    missing: list[str] = []
    for env_file in files:
        if env_file.role != "stack" or env_file.stack is None:
            continue
        target_stacks_relative = atmos_target(env_file.stacks_relative, source, target, protect)
        target_stack = by_relative.get(target_stacks_relative)
        target_file = relative_to(source_repo.config.stacks_base_path / target_stacks_relative, root)
        if target_stack is None:
            missing.append(f"stack file {target_file} (the clone of {env_file.relative})")
        target_names = set(target_repo.component_names(target_stack.name)) if target_stack is not None else set()
        for name in source_repo.component_names(env_file.stack):
            component = source_repo.component(env_file.stack, name)
            if component.abstract:
                continue
            source_side = side_of(component, env_file.relative, terraform_base, root, source_repo.backend_types)
            target_side = None
            if target_stack is not None and name in target_names:
                target_side = side_of(target_repo.component(target_stack.name, name), target_file, terraform_base, root, source_repo.backend_types)
            elif target_stack is not None:
                missing.append(f"component {name} in stack {target_stack.name}")
            units.append(Unit("atmos", name, source_side, target_side))
    return units, missing


def disk_reader(root: Path) -> Callable[[str], str | None]:
    def read(relative: str) -> str | None:
        path = root / relative
        return path.read_text() if path.is_file() else None

    return read


def plain_side(root: Path, folder: Path, env: str, read: Callable[[str], str | None], backend_types: Mapping[str, BackendType]) -> Side | None:
    """One environment's view of a plain terraform folder: its var files, merged, and its backend (None: no var file)."""
    folder_rel = relative_to(folder, root) if folder.resolve() != root.resolve() else "."
    variables: dict[str, Any] = {}
    varfiles: list[str] = []
    for name in tfvars_names(env):
        relative = relative_to(folder / name, root)
        text = read(relative)
        if text is not None:
            varfiles.append(relative)
            variables.update(tfvars.read_vars(text, relative))
    if not varfiles:
        return None
    block = folder_backend_block(folder, root)
    backend_type = block[0] if block else None
    backend: dict[str, Any] = dict(block[1]) if block else {}
    backend_files: list[str] = []
    for name in backend_names(env):
        relative = relative_to(folder / name, root)
        text = read(relative)
        if text is not None:
            backend_files.append(relative)
            backend.update(tfvars.parse(text, relative, kind="backend file"))
    state = state_location(backend_type, backend, folder_rel, backend_types)
    return Side(varfiles[0], varfiles[0], variables, backend_type=backend_type, backend=backend, folder=folder_rel, state=state,
                environment=env, varfiles=tuple(varfiles), backend_files=tuple(backend_files))


def tfvars_units(
    root: Path, files: list[EnvFile], source: str, target: str, read: Callable[[str], str | None], backend_types: Mapping[str, BackendType]
) -> tuple[list[Unit], list[str]]:
    """One unit per terraform folder holding the source's var files; ``read`` gives a target file's text (None: absent)."""
    units: list[Unit] = []
    missing: list[str] = []
    for folder in sorted({f.path.parent for f in files if f.role == TFVARS}):
        source_side = plain_side(root, folder, source, disk_reader(root), backend_types)
        if source_side is None:
            continue
        target_side = plain_side(root, folder, target, read, backend_types)
        if target_side is None:
            missing += [f"tfvars file {plain_target(f, i, target)} (the clone of {f})" for f in source_side.varfiles for i in [_pattern_of(f)]]
        units.append(Unit(TFVARS, folder.name if source_side.folder != "." else root.name, source_side, target_side))
    return units, missing


def _pattern_of(relative: str) -> int:
    matched = plain_name(relative.rsplit("/", 1)[-1])
    assert matched is not None
    return matched[0]


def folder_backend_block(folder: Path, root: Path) -> tuple[str, dict[str, Any]] | None:
    """The backend block declared by the folder's ``*.tf`` files (None: local state in the folder)."""
    for path in sorted(folder.glob("*.tf")):
        found = hcl.backend_of(path.read_text(), relative_to(path, root))
        if found is not None:
            return found
    return None


def require_backend(unit: Unit) -> None:
    """A component without a backend keeps its state in the shared terraform folder: refuse it."""
    if unit.layout == "atmos" and unit.source.backend_type is None:
        raise ConfigError(
            f"component {unit.source.label} has no backend_type: its state is the local terraform.tfstate in {unit.source.folder}, "
            "which every environment running there would share",
            hint="Give it a backend whose settings carry the environment, e.g. backend_type: s3 with a bucket or key naming it "
            f"(or backend_type: local with backend.local.path: terraform.{unit.source.stack}.tfstate).",
            context={"stack": unit.source.stack, "component": unit.name},
        )
    if unit.layout == TFVARS and unit.source.backend_type is None:
        raise ConfigError(
            f"terraform folder {unit.source.folder} declares no backend: its state is the local terraform.tfstate there, "
            "which every environment's tfvars file would share",
            hint='Add `terraform { backend "local" {} }` (or your real backend) to the folder; create then writes a per-environment backend file.',
        )
    if unit.source.backend_type == "local" and str(unit.source.backend.get("path") or "terraform.tfstate") == "terraform.tfstate":
        # terraform init for any other state path in this folder offers to migrate terraform.tfstate and then empties it.
        where = unit.source.label
        raise ConfigError(
            f"{where} keeps its state in the folder's default terraform.tfstate: initialising another environment there "
            "would offer to migrate that state and then empty the file",
            hint=["Give the source its own path first: path = \"<env>.terraform.tfstate\" in backend.<env>.hcl (or backend.local.path "
                  "in the stack), then run `terraform init -migrate-state` there once.",
                  "create then gives the target a path of its own the same way."],
        )
