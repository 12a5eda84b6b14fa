"""Find an environment's files in both layouts, and name the target's files.

* **Atmos**: every YAML file under ``stacks.base_path`` whose path has the environment as a
  name part (``dev.yaml``, ``orgs/acme/dev/app.yaml``, ``mixins/stage/dev.yaml``), plus every
  stack whose vars name it (``vars.stage: dev``; the var names come from
  ``environments.naming.vars``).
* **Plain Terraform**: ``terraform.<env>.tfvars`` / ``<env>.tfvars`` files anywhere under the
  project (not in hidden folders or ``.terraform``), and per-environment backend settings
  (``backend.<env>.hcl``, ``<env>.backend.hcl``, ``backend.<env>.tfbackend``, ``<env>.tfbackend``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from attrs import field as attr_field
from attrs import frozen, validators

from provisioner_core import ConfigError, StackRepository
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.substitute import contains, substitute

YAML_SUFFIXES = (".yaml", ".yml")

ATMOS = "atmos"
TFVARS = "tfvars"
BACKEND = "backend"
ROLES = ("stack", "import", TFVARS, BACKEND)
_SKIPPED_DIRS = frozenset({".terraform", ".git", "node_modules", "__pycache__", ".venv"})


def tfvars_names(env: str) -> tuple[str, ...]:
    return (f"terraform.{env}.tfvars", f"{env}.tfvars")


def backend_names(env: str) -> tuple[str, ...]:
    return (f"backend.{env}.hcl", f"{env}.backend.hcl", f"backend.{env}.tfbackend", f"{env}.tfbackend")


@frozen
class EnvFile:
    """One file of an environment."""

    layout: str = attr_field(validator=validators.in_((ATMOS, TFVARS)))
    role: str = attr_field(validator=validators.in_(ROLES))
    path: Path
    relative: str  # to the project root, posix
    stacks_relative: str = ""  # Atmos: to stacks.base_path
    stack: str | None = None  # Atmos: the stack this file defines (role "stack")


def relative_to(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def atmos_files(repo: StackRepository, policy: EnvironmentPolicy, env: str, root: Path) -> list[EnvFile]:
    """The Atmos files of ``env``: stacks that name it, and any stack-folder file whose path does."""
    base = repo.config.stacks_base_path
    if not base.is_dir():
        return []
    stacks_by_file = {stack.file.resolve(): stack for stack in repo.stacks().values()}
    found: list[EnvFile] = []
    for path in sorted(base.rglob("*")):
        if path.suffix not in YAML_SUFFIXES or not path.is_file():
            continue
        stacks_relative = path.relative_to(base).as_posix()
        stack = stacks_by_file.get(path.resolve())
        named_by_path = contains(stacks_relative.rsplit(".", 1)[0], env)
        named_by_vars = stack is not None and _vars_name(stack.document.get("vars"), policy, env)
        if named_by_path or named_by_vars:
            role = "stack" if stack is not None else "import"
            found.append(EnvFile(ATMOS, role, path, relative_to(path, root), stacks_relative, stack.name if stack is not None else None))
    return found


def _vars_name(vars_: object, policy: EnvironmentPolicy, env: str) -> bool:
    return isinstance(vars_, dict) and any(vars_.get(name) == env for name in policy.naming.vars)


def tfvars_files(root: Path, env: str, skip: tuple[Path, ...] = ()) -> list[EnvFile]:
    """``terraform.<env>.tfvars`` and per-environment backend files anywhere under ``root``."""
    wanted = {name: TFVARS for name in tfvars_names(env)} | {name: BACKEND for name in backend_names(env)}
    skipped = {p.resolve() for p in skip}
    found: list[EnvFile] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".") and (here / d).resolve() not in skipped)
        for name in sorted(names):
            role = wanted.get(name)
            if role is not None:
                path = here / name
                found.append(EnvFile(TFVARS, role, path, relative_to(path, root)))
    return found


def target_relative(relative: str, source: str, target: str, *, name_only: bool = False) -> str:
    """The target file's path: the environment substituted in the path's name parts.

    Atmos paths change everywhere (``dev/app.yaml`` -> ``feature-x/app.yaml``); a tfvars file
    stays in its terraform folder (``name_only``), only its name changes.
    """
    folder, slash, name = relative.rpartition("/")
    new = f"{folder}{slash}{substitute(name, source, target)}" if name_only else substitute(relative, source, target)
    if new == relative:
        raise ConfigError(
            f"{relative} belongs to environment '{source}' (its vars name it) but its path does not, so the target's file cannot be named",
            hint=f"Name stack files after their environment (stacks/{source}.yaml or stacks/{source}/...), as Atmos projects usually do.",
        )
    return new


def without_suffix(stacks_relative: str) -> str:
    return re.sub(r"\.ya?ml$", "", stacks_relative)
