"""A plugin event fired in the terraform flow between after.component.load and before.terraform.init."""

from __future__ import annotations

from pathlib import Path

from provisioner_core import EventSpec, ProvisionerSpec, ProvisionResult, ResolvedComponent, Status, provisioner

EVENT = EventSpec("before.network.check", "Checks the component's network before terraform init", after="after.component.load")
SPEC = ProvisionerSpec(name="netcheck", type="netcheck", events=(EVENT.name,), description="Records that the network check ran")


def run(component: ResolvedComponent, event: str, project_root: Path, dry_run: bool) -> ProvisionResult:
    marker = project_root / ".contract" / f"netcheck-{component.stack}-{component.name}.txt"
    if not dry_run:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{event} {component.stack}/{component.name}\n")
    return ProvisionResult(status=Status.PLANNED if dry_run else Status.UNCHANGED, resource=str(marker))


plugin = provisioner(SPEC, run, events=(EVENT,))
