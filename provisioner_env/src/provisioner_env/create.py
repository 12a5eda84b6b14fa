"""``provision env create``: plan, check, then write atomically and (optionally) provision backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import define, field

from provisioner_core import Outcome, Provisioning, ResourceConflict
from provisioner_env.backends import needs_backend, provision_backends
from provisioner_env.hooks import call_env_hook
from provisioner_env.plan import EnvironmentPlan
from provisioner_env.planner import build_plan, secret_items
from provisioner_env.policy import load_policy
from provisioner_env.secrets import SecretStored, hook_results, stored_text
from provisioner_env.writer import environment_lock, write_all


@define
class CreateResult:
    plan: EnvironmentPlan
    dry_run: bool
    written: list[str] = field(factory=list)
    outcomes: list[Outcome] = field(factory=list)
    warnings: list[str] = field(factory=list)
    stored: list[SecretStored] = field(factory=list)  # what secrets plugins did with the target's references

    @property
    def checklist(self) -> list[str]:
        """The plan's checklist, each secret's line saying where a secrets plugin stored it."""
        planned = secret_items(self.plan.references, ())
        return secret_items(self.plan.references, self.stored) + [item for item in self.plan.checklist if item not in planned]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan.to_dict(diff=self.dry_run),
            "dry_run": self.dry_run,
            "written": self.written,
            "provisioned": [o.to_dict() for o in self.outcomes],
            "warnings": [*self.plan.warnings, *self.warnings],
            "checklist": self.checklist,
            "secrets": [{**r.to_dict(), "stored": stored_text(self.stored, r.variable)} for r in self.plan.references],
            "ok": True,
        }


def create_environment(
    provisioning: Provisioning,
    target: str,
    source: str | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    provision: bool = False,
    status: Callable[[str], None] = lambda _: None,
) -> CreateResult:
    """Clone ``source`` (default: the policy's default_source) into ``target``."""
    status(f"Planning environment {target}" + (f" from {source}..." if source else "..."))
    plan = build_plan(provisioning, source, target, force=force, provision=provision)
    provisioning.redactor.add(plan.secrets)
    result = CreateResult(plan, dry_run)
    policy = load_policy(provisioning.config)
    plain = [f.folder for f in plan.folders if needs_backend(f.backend_type)]
    if provision and not plan.components and not plain:
        result.warnings.append("--provision: no component of the target enables provision.backend and no plain folder has a backend to create; nothing to provision")
    if dry_run:
        return result
    root = provisioning.config.root
    with environment_lock(root, plan.target):
        # Checked again under the lock: another run may have created the target since the plan.
        taken = [f.target for f in plan.files if f.existing is None and (root / f.target).exists()]
        if taken:
            raise ResourceConflict(
                f"environment '{plan.target}' was created by another run meanwhile: {', '.join(taken)}",
                hint="Nothing was written by this run. Pass --force to overwrite it.",
                context={"target": plan.target},
            )
        call_env_hook(provisioning.registry, "before_env_create", plan=plan, config=provisioning.config)
        result.written = write_all(root, plan.files, force=force)
    status(f"Wrote {len(result.written)} file(s) for environment {plan.target}")
    if provision or (plain and policy.terraform.backend_enabled()):
        result.outcomes = provision_backends(provisioning, plan.target, policy, components=plan.components if provision else (),
                                             folders=plain, force_plain=provision, status=status)
    if plan.references:
        found = hook_results(provisioning.registry, "env_secrets_create", environment=plan.target, source=plan.source, references=list(plan.references),
                             config=provisioning.config)
        result.stored = [s for s in found if isinstance(s, SecretStored)]
    call_env_hook(provisioning.registry, "after_env_create", plan=plan, config=provisioning.config, written=list(result.written), outcomes=list(result.outcomes))
    return result
