"""Running the terraform binary: environment from the AuthContext, output redacted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from provisioner_core.auth import AuthContext
from provisioner_core.errors import ConfigError


def find_binary(command: str) -> str:
    found = shutil.which(command)
    if found is None:
        raise ConfigError(
            f"terraform binary '{command}' not found on PATH",
            hint="Install terraform (1.x), or choose another binary with --terraform-bin (e.g. tofu) or components.terraform.command in atmos.yaml.",
        )
    return found


def terraform_env(auth: AuthContext, component_env: Mapping[str, object], secret_vars: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    # The workspace is selected per component (docs/configuration.md); an ambient one would override it.
    env.pop("TF_WORKSPACE", None)
    # Ambient credentials of every provider in use (the providers name them): never inherited.
    for name in auth.ambient_env:
        env.pop(name, None)
    env.update(auth.terraform_env())
    env.update({str(k): "" if v is None else str(v) for k, v in component_env.items()})
    env.update({f"TF_VAR_{name}": value for name, value in secret_vars.items()})
    return env


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str], *, redact: Callable[[str], str], stdout: IO[str], stderr: IO[str], interactive: bool) -> int:
    """Run terraform; its exit code passes through. Output is redacted line by line unless interactive."""
    if interactive:
        # A person at a terminal may need to answer prompts: hand over the terminal unchanged.
        return subprocess.run(list(argv), cwd=cwd, env=dict(env), check=False).returncode
    process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def pump(source: IO[str], sink: IO[str]) -> None:
        for line in source:
            sink.write(redact(line))
            sink.flush()

    threads = [threading.Thread(target=pump, args=(process.stdout, stdout)), threading.Thread(target=pump, args=(process.stderr, stderr))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return process.wait()


def stdin_is_interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
