"""The files generated for terraform: ``backend.tf.json`` and a per-stack ``.tfvars.json``.

Neither ever holds a ``provision`` key or a secret: secret-looking backend keys are dropped
(credentials reach terraform through its environment) and secret-looking vars are passed
as ``TF_VAR_*`` environment variables instead of being written to disk.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core.errors import ConfigError
from provisioner_core.redaction import is_secret_entry
from provisioner_core.stacks.component import ResolvedComponent

BACKEND_FILE = "backend.tf.json"


# Secret keys of a backend section, and the variable each backend reads them from instead.
BACKEND_SECRET_ENV: Mapping[str, Mapping[str, str]] = {
    "s3": {"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY", "token": "AWS_SESSION_TOKEN"},
    "gcs": {"encryption_key": "GOOGLE_ENCRYPTION_KEY", "access_token": "GOOGLE_OAUTH_ACCESS_TOKEN", "credentials": "GOOGLE_BACKEND_CREDENTIALS"},
    "azurerm": {"access_key": "ARM_ACCESS_KEY", "sas_token": "ARM_SAS_TOKEN", "client_secret": "ARM_CLIENT_SECRET"},
}


@frozen
class GeneratedFiles:
    backend_file: Path | None
    varfile: Path
    secret_vars: Mapping[str, str]  # name -> value, handed over as TF_VAR_<name>
    secret_env: Mapping[str, str]  # backend secrets, handed over in the backend's own variables


def component_folder(base_path: Path, component: ResolvedComponent) -> Path:
    folder = (base_path / component.terraform_component).resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"terraform component folder {folder} does not exist",
            hint="Set metadata.component to the folder name under components.terraform.base_path, or create the folder.",
            context={"stack": component.stack, "component": component.name},
        )
    return folder


def varfile_name(component: ResolvedComponent) -> str:
    safe_stack = component.stack.replace("/", "-")
    return f"{safe_stack}-{component.name.replace('/', '-')}.terraform.tfvars.json"


def backend_config(component: ResolvedComponent) -> dict[str, Any] | None:
    if not component.backend_type:
        return None
    settings = {k: v for k, v in component.backend.items() if not is_secret_entry(k, v) and k not in BACKEND_SECRET_ENV.get(component.backend_type, {})}
    return {"terraform": {"backend": {component.backend_type: settings}}}


def backend_secret_env(component: ResolvedComponent) -> dict[str, str]:
    """Secrets written in the backend section, as the environment variables terraform reads them from."""
    names = BACKEND_SECRET_ENV.get(component.backend_type or "", {})
    return {names[k]: str(v) for k, v in component.backend.items() if k in names and v not in (None, "")}


def write_files(folder: Path, component: ResolvedComponent) -> GeneratedFiles:
    """Write both files atomically into the component folder."""
    backend = backend_config(component)
    backend_path = None
    if backend is not None:
        backend_path = folder / BACKEND_FILE
        write_json_atomic(backend_path, backend)
    public_vars: dict[str, Any] = {}
    secret_vars: dict[str, str] = {}
    for name, value in component.vars.items():
        if is_secret_entry(name, value):
            secret_vars[str(name)] = str(value)
        else:
            public_vars[str(name)] = value
    varfile = folder / varfile_name(component)
    write_json_atomic(varfile, public_vars)
    return GeneratedFiles(backend_path, varfile, secret_vars, backend_secret_env(component))


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
