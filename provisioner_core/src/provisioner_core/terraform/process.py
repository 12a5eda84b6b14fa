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

# Ambient credential variables, dropped for each cloud the AuthContext provides.
AMBIENT_CREDENTIALS: Mapping[str, tuple[str, ...]] = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"),
    "gcp": ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN", "GOOGLE_BACKEND_CREDENTIALS", "GOOGLE_IMPERSONATE_SERVICE_ACCOUNT"),
    "azure": ("ARM_CLIENT_ID", "ARM_CLIENT_SECRET", "ARM_TENANT_ID", "ARM_ACCESS_KEY", "ARM_SAS_TOKEN", "ARM_USE_CLI", "ARM_USE_MSI", "ARM_USE_OIDC", "ARM_CLIENT_CERTIFICATE_PATH"),
}


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
    for cloud in auth.providers:
        for name in AMBIENT_CREDENTIALS.get(cloud, ()):
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
