"""The exact terraform commands of one environment, and leaving a shared folder as it was found.

Plain terraform folders hold every environment's var files and one ``.terraform`` folder:
``terraform init -backend-config=backend.<env>.hcl`` switches the whole folder to that
environment's state, and a later ``terraform plan -var-file=terraform.<other>.tfvars`` there
plans the other environment against it. So every command list starts with that init, and when
env runs terraform in a folder for one environment (destroy, verify --live) it leaves the folder
initialised for the state it had before, or uninitialised when that was the environment just
destroyed: never pointing at a state nobody asked for.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core import DEFAULT_WORKSPACE, BackendType, initialised_backend, locate
from provisioner_env.units import Side

_RECORD = Path(".terraform") / "terraform.tfstate"


@frozen
class Commands:
    """How to init, plan, apply and destroy one environment's component (``cwd``: where, relative to the project root)."""

    environment: str
    component: str  # the plain folder, or stack/component
    cwd: str
    init: str
    plan: str
    apply: str
    destroy: str
    variables: tuple[str, ...] = ()  # environment variables that must be set first (TF_VAR_<name>, ...)

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "component": self.component, "cwd": self.cwd, "init": self.init, "plan": self.plan,
                "apply": self.apply, "destroy": self.destroy, "variables": list(self.variables)}

    def lines(self) -> list[str]:
        needs = [f"(set {', '.join(self.variables)} first)"] if self.variables else []
        cd = f"cd {shlex.quote(self.cwd)} && " if self.cwd not in ("", ".") else ""
        return [*needs, f"{cd}{self.init}", self.plan, self.apply]


def plain_commands(side: Side, binary: str = "terraform", variables: tuple[str, ...] = ()) -> Commands:
    backend = [f"-backend-config={shlex.quote(Path(b).name)}" for b in side.backend_files]
    varfiles = " ".join(f"-var-file={shlex.quote(Path(v).name)}" for v in side.varfiles)
    return Commands(
        side.environment, side.folder, side.folder,
        init=" ".join([binary, "init", "-reconfigure", *backend]),
        plan=f"{binary} plan {varfiles}",
        apply=f"{binary} apply {varfiles}",
        destroy=f"{binary} destroy {varfiles}",
        variables=variables,
    )  # fmt: skip


def atmos_commands(side: Side, environment: str) -> Commands:
    where = f"{side.component} -s {shlex.quote(str(side.stack))}"
    return Commands(
        environment, side.label, "",
        init=f"provision terraform init {where}",
        plan=f"provision terraform plan {where}",
        apply=f"provision terraform apply {where}",
        destroy=f"provision terraform destroy {where}",
    )  # fmt: skip


def initialised_state(folder: Path, folder_rel: str, backend_types: Mapping[str, BackendType]) -> str | None:
    """The state address a plain folder is initialised for (None: not initialised)."""
    found = initialised_backend(folder)
    if found is None:
        return None
    return locate(found[0], found[1], DEFAULT_WORKSPACE, folder_rel, backend_types).address


@frozen
class FolderLeft:
    """How env left a shared folder after running terraform there for one environment."""

    folder: str
    initialised: str | None  # the state it is initialised for; None: uninitialised

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "initialised_for": self.initialised}

    def text(self) -> str:
        if self.initialised is None:
            return f"{self.folder} is left uninitialised: run the init command of the environment you work on next"
        return f"{self.folder} is left initialised for {self.initialised}, as it was"


@contextlib.contextmanager
def borrowed_folder(folder: Path, side: Side, backend_types: Mapping[str, BackendType], *, destroyed: bool, left: list[FolderLeft]) -> Iterator[None]:
    """Run terraform for ``side``'s environment in a shared plain folder, then restore ``.terraform``'s record.

    Before: the record of the backend the folder was initialised for. After (even on failure):
    that record back, or none when there was none, or when it was ``side``'s state and
    ``destroyed``. Providers and modules stay installed.
    """
    record = folder / _RECORD
    before = record.read_bytes() if record.is_file() else None
    before_state = initialised_state(folder, side.folder, backend_types)
    try:
        yield
    finally:
        if before is None or (destroyed and before_state == side.state):
            record.unlink(missing_ok=True)
            left.append(FolderLeft(side.folder, None))
        else:
            record.write_bytes(before)
            left.append(FolderLeft(side.folder, before_state))
