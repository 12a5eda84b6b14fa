"""ProvisionResult.workdir: a provisioner at before.component.load names the folder terraform runs in."""

from __future__ import annotations

import json
from pathlib import Path

from provisioner_core import BEFORE_COMPONENT_LOAD, ProvisionerSpec, ProvisionResult, Status, provisioner


def workdir_plugin(folder: Path):
    def run(dry_run):
        return ProvisionResult(status=Status.PLANNED if dry_run else Status.UNCHANGED, resource="code", workdir=str(folder))

    return provisioner(ProvisionerSpec(name="code", type="code", events=(BEFORE_COMPONENT_LOAD,), description="names a workdir"), run)


def project(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"code": {"enabled": True}}}}}})


def test_terraform_runs_in_the_workdir_a_provisioner_names(stack_tree, provision_cli, register_plugin):
    folder = stack_tree.root / "elsewhere" / "app"
    folder.mkdir(parents=True)
    register_plugin(workdir_plugin(folder), name="code")
    project(stack_tree)  # no components/terraform/app: only the workdir exists
    run = json.loads(provision_cli.run(["terraform", "plan", "app", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert run["folder"] == str(folder.resolve())
    assert all(Path(f).parent == folder.resolve() for f in run["generated_files"])
    assert run["results"][0]["workdir"] == str(folder)


def test_a_dry_run_accepts_a_workdir_the_provisioner_would_create(stack_tree, provision_cli, register_plugin):
    folder = stack_tree.root / "not-yet" / "app"
    register_plugin(workdir_plugin(folder), name="code")
    project(stack_tree)
    run = json.loads(provision_cli.run(["terraform", "plan", "app", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert run["folder"] == str(folder.resolve()) and not folder.exists()
    # A real run needs the folder: exit 2 before terraform runs.
    failed = provision_cli.run(["terraform", "plan", "app", "-s", "dev"], exit_code=2)
    assert f"terraform component folder {folder.resolve()} does not exist" in failed.stderr
