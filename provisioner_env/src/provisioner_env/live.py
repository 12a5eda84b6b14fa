"""``provision env verify --live``: the workflow's step 7, against the real backends.

Per component of the target: its state backend exists (a dry run of its backend provisioner
plans no create); its state object exists (applied, with how many resources) or not (never
applied); with ``--plan``, ``terraform plan -detailed-exitcode`` is clean; its secrets are set.
After ``env destroy`` (the target has no files; its components are planned again from the
source): each state is empty or gone, and each backend was removed or kept as
``environments.destroy.backends`` says — leftovers reported by name.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
from attrs import frozen

from provisioner_core import DEFAULT_WORKSPACE, ProvisionerError, Provisioning, ResolvedComponent, locate, run_terraform
from provisioner_env.backends import missing_backend, needs_backend, plain_component, serves
from provisioner_env.commands import FolderLeft
from provisioner_env.layouts import ATMOS
from provisioner_env.mapping import Finding
from provisioner_env.plainrun import run_plain, secret_environment
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.secrets import SecretReference, secret_value
from provisioner_env.units import Side, Unit

LIVE_CHECKS = ("backend-exists", "secret-set", "plan-clean")
DESTROYED_CHECKS = ("leftover-state", "leftover-backend")


@frozen
class LiveComponent:
    """What the real backend says about one component of the target."""

    component: str
    state_address: str
    backend: str  # exists | missing (...) | nothing to create | not checked (...)
    state: str  # applied (N resources) | empty | absent | not readable (...)
    resources: int | None = None
    plan: str | None = None  # clean | changes | failed (...) | skipped (...); None: not asked

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "state_address": self.state_address, "backend": self.backend, "state": self.state,
                "resources": self.resources, "plan": self.plan}

    def text(self) -> str:
        return f"{self.component}: backend {self.backend}; state {self.state_address} {self.state}" + (f"; plan {self.plan}" if self.plan else "")


def component_of(provisioning: Provisioning, unit: Unit, side: Side, policy: EnvironmentPolicy) -> ResolvedComponent:
    """The target side as a component: the stack's own when it exists, else the source's with the target's placement."""
    if unit.layout != ATMOS:
        return plain_component(side, policy, provision=True)
    if side.stack and side.component and side.stack in provisioning.stacks.stack_names():
        return provisioning.component(side.stack, side.component)
    source = provisioning.component(str(unit.source.stack), str(unit.source.component))
    return attrs.evolve(source, stack=str(side.stack), backend=dict(side.backend), backend_type=side.backend_type, workspace=side.workspace)


def _backend(provisioning: Provisioning, unit: Unit, component: ResolvedComponent) -> tuple[str, bool | None]:
    """(what to say, exists: True/False/None for unknown)."""
    enabled = component.is_enabled("backend") if unit.layout == ATMOS else serves(provisioning.registry, component.backend_type)
    if not needs_backend(component.backend_type):
        return "nothing to create", True
    if not enabled:
        return f"not checked (no backend provisioner for {component.backend_type})" if unit.layout != ATMOS else "not checked (provision.backend not enabled)", None
    try:
        missing = missing_backend(provisioning, component)
    except ProvisionerError as error:
        return f"not checked ({error.message})", None
    return (f"missing (provisioning would {missing})", False) if missing else ("exists", True)


def _state(provisioning: Provisioning, component: ResolvedComponent, side: Side) -> tuple[str, int | None, str]:
    """(what to say, resources or None, address)."""
    types = provisioning.registry.backend_types()
    where = locate(component.backend_type, component.backend, component.workspace or DEFAULT_WORKSPACE, side.folder, types)
    try:
        if component.backend_type in (None, "local"):
            path = provisioning.config.root / where.object
            body = path.read_bytes() if path.is_file() else None
        else:
            body = provisioning.read_state(component)
    except ProvisionerError as error:
        return f"not readable ({error.message})", None, where.address
    if body is None:
        return "absent (never applied)", None, where.address
    try:
        resources = len([r for r in json.loads(body).get("resources", []) if r.get("mode") == "managed"])
    except (ValueError, AttributeError):
        return "present (not a terraform state)", None, where.address
    return (f"applied ({resources} resources)" if resources else "empty (0 resources)"), resources, where.address


def _plan(
    provisioning: Provisioning, unit: Unit, side: Side, policy: EnvironmentPolicy, references: Sequence[SecretReference], *, out: IO[str],
    status: Callable[[str], None],
) -> str:
    try:
        if unit.layout == ATMOS:
            run = run_terraform(provisioning, "plan", str(side.stack), str(side.component), ["-detailed-exitcode", "-lock=false"],
                                stdout=out, stderr=out, interactive=False, status=status)
            code = run.exit_code
        else:
            args = ["plan", "-input=false", "-lock=false", "-detailed-exitcode", *(f"-var-file={Path(v).name}" for v in side.varfiles)]
            mine = [r for r in references if r.file in side.varfiles + side.backend_files]
            left: list[FolderLeft] = []
            code, _ = run_plain(provisioning, side, policy, [args], left=left, extra_env=secret_environment(provisioning, mine), stdout=out, stderr=out,
                                status=status, ok_codes=(0, 2))
    except ProvisionerError as error:
        return f"failed ({error.message})"
    return {0: "clean", 2: "changes"}.get(code, f"failed (terraform exit code {code})")


def live_checks(
    provisioning: Provisioning,
    units: Sequence[Unit],
    policy: EnvironmentPolicy,
    references: Sequence[SecretReference],
    *,
    plan: bool = False,
    out: IO[str] | None = None,
    status: Callable[[str], None] = lambda _: None,
) -> tuple[list[LiveComponent], list[Finding]]:
    """The target's components as the backends see them, and the violations (backend-exists, secret-set, plan-clean)."""
    found: list[LiveComponent] = []
    findings: list[Finding] = []
    for ref in references:
        if secret_value(provisioning.registry, ref, provisioning.config, os.environ) is None:
            findings.append(Finding("secret-set", f"{ref.file}: {ref.path} comes from {ref.variable}, which is not set (and no secrets plugin has it)"))
    for unit in units:
        side = unit.target
        if side is None:
            continue
        component = component_of(provisioning, unit, side, policy)
        backend, exists = _backend(provisioning, unit, component)
        state, resources, address = _state(provisioning, component, side) if exists is not False else ("absent (no backend)", None, side.state)
        planned = None
        if plan:
            planned = "skipped (the backend does not exist)" if exists is False else _plan(provisioning, unit, side, policy, references, out=out or sys.stderr, status=status)
        live = LiveComponent(side.label, address, backend, state, resources, planned)
        found.append(live)
        if exists is False:
            findings.append(Finding("backend-exists", f"{side.label}: the state backend does not exist ({backend})"))
        if planned == "changes":
            findings.append(Finding("plan-clean", f"{side.label}: terraform plan -detailed-exitcode shows changes (state {address})"))
        elif planned is not None and planned.startswith("failed"):
            findings.append(Finding("plan-clean", f"{side.label}: terraform plan {planned}"))
    return found, findings


def destroyed_checks(provisioning: Provisioning, units: Sequence[Unit], policy: EnvironmentPolicy) -> tuple[list[LiveComponent], list[Finding]]:
    """After destroy: every state empty or gone; backends removed or kept as the policy says (leftover-state, leftover-backend)."""
    found: list[LiveComponent] = []
    findings: list[Finding] = []
    remove = policy.destroy_backends == "remove"
    for unit in units:
        side = unit.target
        if side is None:
            continue
        component = component_of(provisioning, unit, side, policy)
        backend, exists = _backend(provisioning, unit, component)
        state, resources, address = _state(provisioning, component, side) if exists is not False else ("gone (no backend)", None, side.state)
        if exists and needs_backend(component.backend_type):
            backend = "exists" + (" (a leftover: environments.destroy.backends is remove)" if remove else " (kept: environments.destroy.backends is keep)")
        found.append(LiveComponent(side.label, address, backend, state, resources))
        if resources:
            findings.append(Finding("leftover-state", f"{side.label}: state {address} still holds {resources} resources"))
        if remove and exists and needs_backend(component.backend_type):
            findings.append(Finding("leftover-backend", f"{side.label}: the {component.backend_type} backend of state {address} still exists"))
    return found, findings
