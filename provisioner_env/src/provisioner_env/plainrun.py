"""Run terraform in a plain folder for one environment (destroy, verify --live's plan).

Its environment: the shell's, without the ambient credentials of the providers in
``environments.terraform.auth`` and with theirs instead (when configured), ``TF_WORKSPACE``
removed (plain folders use the default workspace), and the environment's secrets as
``TF_VAR_<name>`` when a secrets plugin provides them. The folder's ``.terraform`` record is
put back afterwards (see commands.borrowed_folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from provisioner_core import Provisioning, find_terraform_binary, run_process
from provisioner_env.backends import plain_component
from provisioner_env.commands import FolderLeft, borrowed_folder
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.secrets import SecretReference, secret_value
from provisioner_env.units import Side


def terraform_environment(provisioning: Provisioning, side: Side, policy: EnvironmentPolicy, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TF_WORKSPACE", None)
    if policy.terraform.auth.get("providers"):
        auth = provisioning.auth(plain_component(side, policy))
        for name in auth.ambient_env:
            env.pop(name, None)
        env.update(auth.terraform_env())
    env.update(dict(extra or {}))
    return env


def run_plain(
    provisioning: Provisioning,
    side: Side,
    policy: EnvironmentPolicy,
    steps: Sequence[Sequence[str]],
    *,
    terraform_bin: str | None = None,
    destroyed: bool = False,
    left: list[FolderLeft],
    extra_env: Mapping[str, str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    status: Callable[[str], None] = lambda _: None,
    ok_codes: Sequence[int] = (0,),
) -> tuple[int, list[dict[str, Any]]]:
    """``terraform init -reconfigure -backend-config=…`` then each of ``steps`` (terraform's arguments); stops at the
    first exit code not in ``ok_codes`` (init must return 0). Returns the last exit code and the commands run."""
    root = provisioning.config.root
    folder = root / side.folder if side.folder != "." else root
    binary = find_terraform_binary(terraform_bin or provisioning.config.terraform_command)
    env = terraform_environment(provisioning, side, policy, extra_env)
    init = ["init", "-reconfigure", "-input=false", *(f"-backend-config={Path(b).name}" for b in side.backend_files)]
    commands: list[dict[str, Any]] = []
    code = 0
    with borrowed_folder(folder, side, provisioning.registry.backend_types(), destroyed=destroyed, left=left):
        for index, args in enumerate([init, *[list(s) for s in steps]]):
            status(f"Running terraform {' '.join(args)} in {side.folder}")
            code = run_process([binary, *args], folder, env, redact=provisioning.redactor, stdout=stdout or sys.stdout, stderr=stderr or sys.stderr,
                               interactive=False)
            commands.append({"args": args, "exit_code": code})
            if code != 0 and (index == 0 or code not in ok_codes):
                break
    return code, commands


def secret_environment(provisioning: Provisioning, references: Sequence[SecretReference]) -> dict[str, str]:
    """Each reference's variable with its value (set in env's environment, or from a secrets plugin); unknown ones left out."""
    found: dict[str, str] = {}
    for ref in references:
        value = secret_value(provisioning.registry, ref, provisioning.config, os.environ)
        if value is not None:
            provisioning.redactor.add([value])
            found[ref.variable] = value
    return found
