"""provisioner(spec, run): one function at every declared event, through the same registry and runner."""

from __future__ import annotations

import pytest

from provisioner_core import AuthContext, ProvisionerSpec, ProvisionResult, ResolvedComponent, Status, provisioner
from provisioner_core.runner import run_event

SPEC = ProvisionerSpec(name="simple", type="simple", events=("before.terraform.init", "manual.provision"), description="one function")


def test_runs_at_every_declared_event_with_the_arguments_it_names(provisioner_registry, register_plugin):
    calls = []

    def run(component, event, dry_run):
        calls.append((component.name, event, dry_run))
        return ProvisionResult(status=Status.PLANNED if dry_run else Status.CREATED)

    info = register_plugin(provisioner(SPEC, run), name="simple")
    assert info.status == "loaded" and {"before_terraform_init", "manual_provision", "register_provisioner"} <= set(info.hooks)
    component = ResolvedComponent(stack="dev", name="app", terraform_component="app", provision={"simple": {"enabled": True}})
    for event in SPEC.events:
        [outcome] = run_event(provisioner_registry, event, component, AuthContext(), dry_run=event == "manual.provision")
        assert outcome.provisioner == "simple"
    assert calls == [("app", "before.terraform.init", False), ("app", "manual.provision", True)]


def test_an_argument_no_hook_passes_fails_at_construction():
    def run(component, stack):
        return None

    with pytest.raises(TypeError, match="takes stack, which no lifecycle hook passes"):
        provisioner(SPEC, run)
