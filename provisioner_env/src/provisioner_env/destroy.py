"""``provision env destroy``: the seed's cleanup as one command.

``terraform destroy`` per component in reverse dependency order (Atmos through
``run_terraform``, so the provisioners and user hooks run as usual; plain folders with their
``-var-file`` and backend file), then the environment's files are removed, and what may be
left (state objects, buckets created for it, credentials to revoke) is reported. Protected
environments are refused, and nothing happens without ``--force``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from attrs import define, field

from provisioner_core import (
    BACKEND_FILE,
    BackendType,
    ConfigError,
    ProvisionerError,
    Provisioning,
    ResolvedComponent,
    backend_config,
    run_terraform,
)
from provisioner_env.backends import missing_backend, needs_backend, plain_component, serves
from provisioner_env.commands import Commands, FolderLeft, plain_commands
from provisioner_env.hooks import call_env_hook
from provisioner_env.layouts import ATMOS, TFVARS, EnvFile, EnvProject, relative_to
from provisioner_env.mapping import policy_names
from provisioner_env.names import normalise_env_name
from provisioner_env.order import dependency_order
from provisioner_env.plainrun import run_plain, secret_environment
from provisioner_env.policy import ISOLATED, EnvironmentPolicy, load_policy
from provisioner_env.secrets import SecretReference, file_references, hook_results
from provisioner_env.state import state_container
from provisioner_env.substitute import contains
from provisioner_env.units import Side, disk_reader, plain_side, side_of
from provisioner_env.writer import environment_lock, remove_files


@define
class _Step:
    """One thing to destroy: an Atmos component or a plain terraform folder."""

    label: str
    side: Side
    component: ResolvedComponent | None = None
    folder: Path | None = None
    varfile: str = ""
    backend_file: str = ""


@define
class DestroyResult:
    target: str
    files: list[str] = field(factory=list)
    components: list[str] = field(factory=list)  # in destroy order
    destroyed: list[str] = field(factory=list)
    skipped: list[str] = field(factory=list)
    removed: list[str] = field(factory=list)
    leftovers: list[str] = field(factory=list)
    terraform: list[dict[str, Any]] = field(factory=list)
    secrets: list[SecretReference] = field(factory=list)  # the references its files hold
    secrets_deleted: list[str] = field(factory=list)  # variables a secrets plugin deleted
    folders: list[FolderLeft] = field(factory=list)  # how each shared plain folder was left
    commands: list[Commands] = field(factory=list)  # the other environments of those folders: how to init them again
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "done": self.done, "files": self.files, "components": self.components, "destroyed": self.destroyed,
                "skipped": self.skipped, "removed": self.removed, "leftovers": self.leftovers, "terraform": self.terraform,
                "folders": [f.to_dict() for f in self.folders], "commands": _by_environment(self.commands),
                "secrets": [r.to_dict() for r in self.secrets], "secrets_deleted": self.secrets_deleted}


def _by_environment(commands: list[Commands]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for command in commands:
        found.setdefault(command.environment, []).append(command.to_dict())
    return found


class DestroyFailed(ProvisionerError):
    """terraform destroy failed for one component: the later ones and the file removal did not run."""

    def __init__(self, message: str, result: DestroyResult, *, exit_code: int, hint: str) -> None:
        super().__init__(message, hint=hint, context={"target": result.target}, exit_code=exit_code)
        self.result = result


def plan_destroy(provisioning: Provisioning, target: str) -> tuple[DestroyResult, list[_Step], EnvironmentPolicy]:
    """What destroy would do; refuses protected and unknown environments (exit 2)."""
    policy = load_policy(provisioning.config)
    target = normalise_env_name(target)
    if target in policy.protected:
        raise ConfigError(
            f"environment '{target}' is protected (environments.protected: {', '.join(policy.protected)}): destroy refuses it, even with --force",
            hint="Destroy it with terraform by hand if you really mean it, or change environments.protected.",
            context={"target": target},
        )
    project = EnvProject(provisioning, policy)
    files = project.files(target)
    if not files:
        raise ConfigError(f"no files of environment '{target}' found", hint="List the environments' stacks with `provision list stacks`.", context={"target": target})
    steps = _steps(provisioning, files, target)
    result = DestroyResult(target, [f.relative for f in files], [s.label for s in steps])
    root, types = provisioning.config.root, provisioning.registry.backend_types()
    for step in steps:
        if step.folder is None:
            continue
        for env in project.plain_environments(step.folder):
            other = plain_side(root, step.folder, env, disk_reader(root), types) if env != target else None
            if other is not None:
                result.commands.append(plain_commands(other, provisioning.config.terraform_command))
    result.secrets = file_references(files, target)
    result.leftovers = _leftovers(steps, policy, target, provisioning.registry.backend_types(), project.protect())
    revoke = [f"credential {ref.key}: revoke the one created for {target} in its service" for ref in result.secrets if ref.credential]
    result.leftovers += [line for line in revoke if line not in result.leftovers]
    return result, steps, policy


def destroy_environment(
    provisioning: Provisioning,
    target: str,
    *,
    force: bool = False,
    terraform_bin: str | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    status: Callable[[str], None] = lambda _: None,
) -> DestroyResult:
    result, steps, policy = plan_destroy(provisioning, target)
    if not force:
        raise ConfigError(
            f"destroying environment '{result.target}' needs --force",
            hint=[f"It would run terraform destroy for: {', '.join(result.components) or '(no component)'}",
                  f"and remove: {', '.join(result.files)}", f"Run `provision env destroy {result.target} --force`."],
            context={"target": result.target},
        )
    root = provisioning.config.root
    with environment_lock(root, result.target):
        call_env_hook(provisioning.registry, "before_env_destroy", target=result.target, config=provisioning.config, files=list(result.files), components=list(result.components))
        for step in steps:
            reason = _never_applied(provisioning, step, policy)
            if reason:
                result.skipped.append(f"{step.label}: {reason}")
                status(f"Skipping {step.label}: {reason}")
                continue
            status(f"Destroying {step.label}...")
            code = _destroy_step(provisioning, step, result, policy, terraform_bin=terraform_bin, stdout=stdout, stderr=stderr, status=status)
            if code != 0:
                raise DestroyFailed(
                    f"terraform destroy of {step.label} failed with exit code {code}; environment '{result.target}' is only partly destroyed",
                    result,
                    exit_code=code,
                    hint=f"Nothing was removed. Fix the cause and run `provision env destroy {result.target} --force` again (destroyed so far: {', '.join(result.destroyed) or 'none'}).",
                )
            result.destroyed.append(step.label)
        result.removed = remove_files(root, result.files) + _stale_backend_files(provisioning, steps)
        result.done = True
        if result.secrets:
            deleted = hook_results(provisioning.registry, "env_secrets_delete", environment=result.target, references=list(result.secrets), config=provisioning.config)
            result.secrets_deleted = sorted({str(d) for d in deleted})
        result.leftovers += [f"secret {ref.variable} ({ref.key}): delete it where it is stored" for ref in result.secrets if ref.variable not in result.secrets_deleted]
        call_env_hook(provisioning.registry, "after_env_destroy", target=result.target, config=provisioning.config, removed=list(result.removed), leftovers=list(result.leftovers))
    return result


# --- steps --------------------------------------------------------------------------------


def _steps(provisioning: Provisioning, files: list[EnvFile], target: str) -> list[_Step]:
    """Components (Atmos) and folders (plain) in destroy order: the reverse of the creation order."""
    config = provisioning.config
    steps: list[_Step] = []
    for env_file in files:
        if env_file.layout == ATMOS and env_file.role == "stack" and env_file.stack is not None:
            components = [provisioning.component(env_file.stack, n) for n in provisioning.stacks.component_names(env_file.stack)]
            real = [c for c in components if not c.abstract]
            for component in reversed(dependency_order(real, lambda c: c.name, lambda c: c.settings)):
                side = side_of(component, env_file.relative, config.terraform_base_path, config.root, provisioning.registry.backend_types())
                steps.append(_Step(side.label, side, component=component))
    types = provisioning.registry.backend_types()
    for folder in sorted({f.path.parent for f in files if f.layout == TFVARS and f.role == TFVARS}):
        plain = plain_side(config.root, folder, target, disk_reader(config.root), types)
        if plain is None:
            continue
        names = ", ".join(Path(v).name for v in plain.varfiles)
        steps.append(_Step(f"{plain.folder} ({names})", plain, folder=folder, varfile=" ".join(Path(v).name for v in plain.varfiles),
                           backend_file=" ".join(Path(b).name for b in plain.backend_files)))
    return steps


def _never_applied(provisioning: Provisioning, step: _Step, policy: EnvironmentPolicy) -> str:
    """Why terraform destroy has nothing to do here ("" when it must run)."""
    component = None
    if step.component is not None and step.component.is_enabled("backend"):
        component = step.component
    elif step.folder is not None and needs_backend(step.side.backend_type) and serves(provisioning.registry, step.side.backend_type):
        component = plain_component(step.side, policy, provision=True)
    if component is not None:
        try:
            missing = missing_backend(provisioning, component)
        except ProvisionerError:
            return ""  # cannot tell: let terraform decide
        if missing:
            return "its state backend does not exist (never applied); destroying would only create it"
    if step.folder is not None and step.side.backend_type == "local":
        state = step.folder / str(step.side.backend.get("path") or "terraform.tfstate")
        if not state.is_file():
            return f"no state file {relative_to(state, provisioning.config.root)} (never applied)"
    return ""


def _destroy_step(
    provisioning: Provisioning, step: _Step, result: DestroyResult, policy: EnvironmentPolicy, *, terraform_bin: str | None, stdout: IO[str] | None,
    stderr: IO[str] | None, status: Callable[[str], None],
) -> int:
    if step.component is not None:
        run = run_terraform(provisioning, "destroy", step.component.stack, step.component.name, terraform_bin=terraform_bin, auto_approve=True,
                            stdout=stdout, stderr=stderr, interactive=False, status=status)
        result.terraform.append({"component": step.label, "exit_code": run.exit_code, "commands": run.commands})
        return run.exit_code
    assert step.folder is not None
    destroy = ["destroy", "-input=false", "-auto-approve", *(f"-var-file={Path(v).name}" for v in step.side.varfiles)]
    mine = [ref for ref in result.secrets if ref.file in step.side.varfiles + step.side.backend_files]
    code, commands = run_plain(provisioning, step.side, policy, [destroy], terraform_bin=terraform_bin, destroyed=True, left=result.folders,
                               extra_env=secret_environment(provisioning, mine), stdout=stdout, stderr=stderr, status=status)
    result.terraform.append({"component": step.label, "exit_code": code, "commands": commands})
    return code


# --- what may be left ---------------------------------------------------------------------


def _leftovers(steps: list[_Step], policy: EnvironmentPolicy, target: str, backend_types: Mapping[str, BackendType], protect: frozenset[str]) -> list[str]:
    found: dict[str, None] = {}
    for step in steps:
        side = step.side
        found[f"state object {side.state} of {step.label} (terraform destroy empties it but keeps it)"] = None
        container = state_container(side.backend_type, side.backend, backend_types)
        if container and contains(container, target, protect):
            found[f"state storage {container}: made for {target}; delete it once its state history is no longer needed"] = None
        table = side.backend.get("dynamodb_table")
        if isinstance(table, str) and contains(table, target, protect):
            found[f"lock table {table}: made for {target}; delete it"] = None
        for section, values in side.sections().items():
            for key in values:
                if policy.isolated_key(key, section) is not None:
                    found[f"credential {key}: revoke the one created for {target} in its service"] = None
        for resource in policy.resources:
            if resource.isolation == ISOLATED and (resource.component is None or resource.component == (step.component.name if step.component else step.side.folder)):
                for name in policy_names(resource, side):
                    found[f"check that no {resource.type} named {name} is left (anything created outside terraform)"] = None
    return list(found)


def _stale_backend_files(provisioning: Provisioning, steps: list[_Step]) -> list[str]:
    """Remove a component folder's backend.tf.json when it still points at the destroyed environment."""
    removed = []
    for step in steps:
        if step.component is None:
            continue
        path = provisioning.config.terraform_base_path / step.component.terraform_component / BACKEND_FILE
        try:
            current = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if current == backend_config(step.component, provisioning.registry.backend_types()):
            path.unlink(missing_ok=True)
            removed.append(relative_to(path, provisioning.config.root))
    return removed


__all__ = ["DestroyFailed", "DestroyResult", "destroy_environment", "plan_destroy"]
