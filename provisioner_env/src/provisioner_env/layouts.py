"""Find an environment's files in both layouts, by exact identity, and name the target's files.

An environment's files are exactly its own; a file never belongs to ``dev`` because its name
contains ``dev`` somewhere (``feature-dev-tools.yaml`` is feature-dev-tools's):

* **Atmos**: a stack belongs to the environment its naming vars name (``vars.stage: dev``,
  imports merged; the var names come from ``environments.naming.vars``); a stack that sets
  none of them, and any other YAML file under ``stacks.base_path`` (an env-only mixin), belongs
  to ``dev`` when a segment of its path is exactly ``dev`` (``dev.yaml``, ``dev/app.yaml``,
  ``orgs/acme/dev/us-east-1.yaml``, ``mixins/stage/dev.yaml``).
* **Plain Terraform**: ``terraform.<env>.tfvars``, ``<env>.tfvars`` (and their ``.tfvars.json``
  forms) anywhere under the project (not in hidden folders or ``.terraform``), and per-environment
  backend settings (``backend.<env>.hcl``, ``<env>.backend.hcl``, ``backend.<env>.tfbackend``,
  ``<env>.tfbackend``). ``terraform.tfvars`` and ``*.auto.tfvars`` belong to every environment.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from attrs import field as attr_field
from attrs import frozen, validators

from provisioner_core import ConfigError, ProjectConfig, Provisioning, StackRepository
from provisioner_env.policy import EnvironmentPolicy, load_policy
from provisioner_env.substitute import substitute

YAML_SUFFIXES = (".yaml", ".yml")

ATMOS = "atmos"
TFVARS = "tfvars"
BACKEND = "backend"
ROLES = ("stack", "import", TFVARS, BACKEND)
_SKIPPED_DIRS = frozenset({".terraform", ".git", "node_modules", "__pycache__", ".venv"})

# (prefix, suffix, role) of the plain layout's per-environment file names, most specific first.
PLAIN_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("terraform.", ".tfvars", TFVARS),
    ("terraform.", ".tfvars.json", TFVARS),
    ("", ".tfvars", TFVARS),
    ("", ".tfvars.json", TFVARS),
    ("backend.", ".hcl", BACKEND),
    ("", ".backend.hcl", BACKEND),
    ("backend.", ".tfbackend", BACKEND),
    ("", ".tfbackend", BACKEND),
)
_PLAIN_ENV = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")
_SHARED_PLAIN = re.compile(r"terraform\.tfvars(\.json)?|.*\.auto\.tfvars(\.json)?")


def plain_name(name: str) -> tuple[int, str] | None:
    """(pattern index, environment) of a plain-layout file name; None for any other file."""
    if _SHARED_PLAIN.fullmatch(name):
        return None
    for index, (prefix, suffix, _role) in enumerate(PLAIN_PATTERNS):
        if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
            env = name[len(prefix) : len(name) - len(suffix)]
            if _PLAIN_ENV.fullmatch(env):
                return index, env
    return None


def plain_file_name(index: int, env: str) -> str:
    prefix, suffix, _role = PLAIN_PATTERNS[index]
    return f"{prefix}{env}{suffix}"


def tfvars_names(env: str) -> tuple[str, ...]:
    return tuple(plain_file_name(i, env) for i, p in enumerate(PLAIN_PATTERNS) if p[2] == TFVARS)


def backend_names(env: str) -> tuple[str, ...]:
    return tuple(plain_file_name(i, env) for i, p in enumerate(PLAIN_PATTERNS) if p[2] == BACKEND)


@frozen
class EnvFile:
    """One file of an environment."""

    layout: str = attr_field(validator=validators.in_((ATMOS, TFVARS)))
    role: str = attr_field(validator=validators.in_(ROLES))
    path: Path
    relative: str  # to the project root, posix
    stacks_relative: str = ""  # Atmos: to stacks.base_path
    stack: str | None = None  # Atmos: the stack this file defines (role "stack")
    pattern: int = -1  # plain layout: the index in PLAIN_PATTERNS


def relative_to(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def without_suffix(stacks_relative: str) -> str:
    return re.sub(r"\.ya?ml$", "", stacks_relative)


def path_names(stacks_relative: str) -> list[str]:
    """The folders of a path and its file name without extension: the parts that name an environment."""
    parts = list(PurePosixPath(without_suffix(stacks_relative)).parts)
    return parts


def naming_values(document: Mapping[str, Any], policy: EnvironmentPolicy) -> set[str]:
    """The environments a stack's naming vars name (``stage: dev``)."""
    vars_ = document.get("vars") if isinstance(document, Mapping) else None
    if not isinstance(vars_, Mapping):
        return set()
    return {str(vars_[name]) for name in policy.naming.vars if isinstance(vars_.get(name), str) and vars_[name]}


class EnvProject:
    """One command's view of a project's environments: every environment's files, found once."""

    def __init__(self, provisioning: Provisioning, policy: EnvironmentPolicy | None = None) -> None:
        self.provisioning = provisioning
        self.config: ProjectConfig = provisioning.config
        self.root = self.config.root
        self.policy = policy or load_policy(self.config)

    @functools.cached_property
    def _yaml_files(self) -> list[tuple[Path, str, str | None, frozenset[str]]]:
        """Every YAML file under stacks.base_path: (path, stacks-relative, stack name, environments its vars name)."""
        base = self.config.stacks_base_path
        if not base.is_dir():
            return []
        repo: StackRepository = self.provisioning.stacks
        stacks_by_file = {stack.file.resolve(): stack for stack in repo.stacks().values()}
        found = []
        for path in sorted(base.rglob("*")):
            if path.suffix not in YAML_SUFFIXES or not path.is_file() or any(part in _SKIPPED_DIRS for part in path.relative_to(base).parts):
                continue
            stack = stacks_by_file.get(path.resolve())
            named = frozenset(naming_values(stack.document, self.policy)) if stack is not None else frozenset()
            found.append((path, path.relative_to(base).as_posix(), stack.name if stack is not None else None, named))
        return found

    @functools.cached_property
    def _plain_files(self) -> dict[str, list[EnvFile]]:
        """Plain-layout files by environment."""
        skipped = {self.config.stacks_base_path.resolve()}
        found: dict[str, list[EnvFile]] = {}
        for folder, dirs, names in os.walk(self.root):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith(".") and (here / d).resolve() not in skipped)
            for name in sorted(names):
                matched = plain_name(name)
                if matched is None:
                    continue
                index, env = matched
                path = here / name
                found.setdefault(env, []).append(EnvFile(TFVARS, PLAIN_PATTERNS[index][2], path, relative_to(path, self.root), pattern=index))
        return found

    @functools.cached_property
    def known(self) -> frozenset[str]:
        """Every environment the project defines (naming vars of its stacks, names of its plain files)."""
        names: set[str] = set(self._plain_files)
        for _path, _relative, _stack, named in self._yaml_files:
            names |= named
        return frozenset(names)

    def protect(self, *also: str) -> frozenset[str]:
        """Names whose occurrences belong to another environment (see substitute's ``protect``)."""
        return self.known | set(also)

    def atmos_files(self, env: str) -> list[EnvFile]:
        found = []
        for path, stacks_relative, stack, named in self._yaml_files:
            mine = env in named if named else env in path_names(stacks_relative)
            if mine:
                found.append(EnvFile(ATMOS, "stack" if stack is not None else "import", path, relative_to(path, self.root), stacks_relative, stack))
        return found

    def plain_files(self, env: str) -> list[EnvFile]:
        return list(self._plain_files.get(env, []))

    def plain_environments(self, folder: Path) -> list[str]:
        """The environments with a var file in ``folder``."""
        where = folder.resolve()
        return sorted(env for env, files in self._plain_files.items() if any(f.role == TFVARS and f.path.parent.resolve() == where for f in files))

    def files(self, env: str) -> list[EnvFile]:
        """Every file of ``env`` in either layout."""
        return self.atmos_files(env) + self.plain_files(env)


def atmos_target(stacks_relative: str, source: str, target: str, protect: Iterable[str] = ()) -> str:
    """The target's path: each path segment that is the source becomes the target; a stack named
    only by its vars gets the source's name part in its file name replaced instead."""
    parts = PurePosixPath(stacks_relative).parts
    stem, suffix = re.match(r"(.*?)((?:\.ya?ml)?)$", parts[-1]).groups()  # type: ignore[union-attr]
    names = [*parts[:-1], stem]
    if source in names:
        new = [target if part == source else part for part in names]
    else:
        new = [*parts[:-1], substitute(stem, source, target, protect)]
    result = "/".join([*new[:-1], new[-1] + suffix])
    if result == stacks_relative:
        raise ConfigError(
            f"{stacks_relative} belongs to environment '{source}' (its vars name it) but its path does not, so the target's file cannot be named",
            hint=f"Name stack files after their environment (stacks/{source}.yaml or stacks/{source}/...), as Atmos projects usually do.",
        )
    return result


def plain_target(relative: str, pattern: int, target: str) -> str:
    """The target's file: the same kind of name in the same folder (``terraform.dev.tfvars`` -> ``terraform.qa.tfvars``)."""
    folder, slash, _name = relative.rpartition("/")
    return f"{folder}{slash}{plain_file_name(pattern, target)}"
