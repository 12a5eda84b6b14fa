"""The built-in ``example`` provisioner: writes a marker file, to show the whole lifecycle.

Enable it with ``provision: {example: {enabled: true, path: .provisioned/marker.txt}}``;
the path is relative to the project root unless absolute.
"""

from __future__ import annotations

import os
from pathlib import Path

from attrs import frozen

from provisioner_core.changes import ChangeRecorder
from provisioner_core.events import BEFORE_TERRAFORM_INIT, MANUAL_PROVISION
from provisioner_core.hookspecs import hookimpl
from provisioner_core.results import ProvisionResult
from provisioner_core.schema import option
from provisioner_core.spec import ProvisionerSpec
from provisioner_core.stacks.component import ResolvedComponent


@frozen
class ExampleOptions:
    path: str | None = option(None, description="the marker file (default .provisioned/<stack>/<component>.txt), relative to the project root")
    content: str | None = option(None, description="what the file holds (default: provisioned <stack>/<component>)")


SPEC = ProvisionerSpec(
    name="example",
    type="example",
    events=(BEFORE_TERRAFORM_INIT, MANUAL_PROVISION),
    description="Writes a marker file naming the stack and component (a template for your own)",
    options=ExampleOptions,
)


@hookimpl
def register_provisioner() -> ProvisionerSpec:
    return SPEC


def _provision(component: ResolvedComponent, options: ExampleOptions, dry_run: bool, project_root: Path) -> ProvisionResult:
    path = project_root / (options.path or f".provisioned/{component.stack}/{component.name}.txt")
    content = options.content if options.content is not None else f"provisioned {component.stack}/{component.name}\n"
    recorder = ChangeRecorder(f"file {path}", dry_run=dry_run)
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
def before_terraform_init(component: ResolvedComponent, options: ExampleOptions, dry_run: bool, project_root: Path) -> ProvisionResult:
    return _provision(component, options, dry_run, project_root)


@hookimpl
def manual_provision(component: ResolvedComponent, options: ExampleOptions, dry_run: bool, project_root: Path) -> ProvisionResult:
    return _provision(component, options, dry_run, project_root)
