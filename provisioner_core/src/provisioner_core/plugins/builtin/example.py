"""The built-in ``example`` provisioner: writes a marker file, to show the whole lifecycle.

Enable it with ``provision: {example: {enabled: true, path: .provisioned/marker.txt}}``;
the path is relative to the working directory unless absolute.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioner_core.changes import ChangeRecorder
from provisioner_core.events import BEFORE_TERRAFORM_INIT, MANUAL_PROVISION
from provisioner_core.hookspecs import hookimpl
from provisioner_core.options import OptionReader
from provisioner_core.results import ProvisionResult
from provisioner_core.spec import ProvisionerSpec
from provisioner_core.stacks.component import ResolvedComponent

SPEC = ProvisionerSpec(
    name="example",
    type="example",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Writes a marker file naming the stack and component (a template for your own)",
)


@hookimpl
def register_provisioner() -> ProvisionerSpec:
    return SPEC


def _provision(component: ResolvedComponent, options: Mapping[str, Any], dry_run: bool) -> ProvisionResult:
    reader = OptionReader(options, "provision.example")
    path = Path(reader.str("path", f".provisioned/{component.stack}/{component.name}.txt") or "")
    content = reader.str("content", f"provisioned {component.stack}/{component.name}\n") or ""
    recorder = ChangeRecorder(f"file {path}", dry_run=dry_run)
    for warning in reader.unknown_keys(("enabled", "timeout")):
        recorder.warn(warning)
    existing = path.read_text() if path.exists() else None
    if existing == content:
        return recorder.result()

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(content)
        os.replace(tmp, path)  # atomic: never a half-written marker

    recorder.write("create" if existing is None else "update", f"file {path}", write, creates=existing is None)
    return recorder.result()


@hookimpl
def before_terraform_init(component: ResolvedComponent, options: Mapping[str, Any], dry_run: bool) -> ProvisionResult:
    return _provision(component, options, dry_run)


@hookimpl
def manual_provision(component: ResolvedComponent, options: Mapping[str, Any], dry_run: bool) -> ProvisionResult:
    return _provision(component, options, dry_run)
