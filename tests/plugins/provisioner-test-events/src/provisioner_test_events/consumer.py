"""A provisioner at ``after.audit.ready``, an event another plugin declares (whatever the load order)."""

from __future__ import annotations

from provisioner_core import ProvisionerSpec, ProvisionResult, ResolvedComponent, Status, provisioner

SPEC = ProvisionerSpec(name="audit", type="audit", events=("after.audit.ready",), description="Writes an audit line")


def run(component: ResolvedComponent, event: str) -> ProvisionResult:
    return ProvisionResult(status=Status.UNCHANGED, resource=f"audit {component.stack}/{component.name} at {event}")


plugin = provisioner(SPEC, run)
