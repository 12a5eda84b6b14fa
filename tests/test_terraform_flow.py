"""provision terraform with the real terraform binary and a local backend: order, hooks, files, failures.

The S3 end to end (moto server) is in test_terraform_s3_e2e.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner_core import ConfigError, ProvisionerSpec, ProvisionResult, Status, hookimpl
from provisioner_core.events import BUILTIN_EVENTS, MANUAL_PROVISION, hook_name

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "stage" { type = string }
variable "name" { type = string }
variable "db_password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "this" { input = var.name }
output "name" { value = terraform_data.this.output }
output "password_length" { value = nonsensitive(length(var.db_password)) }
"""
SECRET = "Planted-Secret-4411"


def recording_plugin(calls: list[str], fail_at: str | None = None):
    """A provisioner implementing every lifecycle hook, recording the order it is called in."""
    lifecycle = [e for e in BUILTIN_EVENTS if e != MANUAL_PROVISION]
    namespace: dict = {}

    @hookimpl
    def register_provisioner():
        return ProvisionerSpec(name="recorder", type="recorder", events=tuple(lifecycle), description="records events")

    namespace["register_provisioner"] = register_provisioner
    for event in lifecycle:
        def make(event=event):
            @hookimpl
            def impl(component):
                calls.append(event)
                if event == fail_at:
                    raise ConfigError(f"refusing at {event}", hint="test")
                return ProvisionResult(status=Status.UNCHANGED, resource=component.name)
            impl.__name__ = hook_name(event)
            return impl
        namespace[hook_name(event)] = staticmethod(make())
    return type("Recorder", (), namespace)


@pytest.fixture
def project(stack_tree, tmp_path):
    stack_tree.component("app", MAIN_TF)
    marker = tmp_path / "hooks.log"
    stack_tree.stack("dev", {
        "vars": {"stage": "dev"},
        "components": {"terraform": {"app": {
            "vars": {"name": "dev-app", "db_password": SECRET},
            "backend_type": "local",
            "backend": {"local": {"path": str(tmp_path / "state" / "dev.tfstate")}},
            "provision": {"recorder": {"enabled": True}},
            "auth": {"providers": {"aws": {"type": "static", "access_key_id": "AKIATEST", "secret_access_key": SECRET + "-aws"}}},
            "hooks": {
                "a-first": {"events": ["after.terraform.apply"], "command": f"echo \"$PROVISION_EVENT $PROVISION_STACK $AWS_ACCESS_KEY_ID\" >> {marker}"},
                "b-second": {"events": ["after-terraform-init"], "command": ["sh", "-c", f"echo init-hook >> {marker}"]},
            },
        }}},
    })
    return stack_tree


def test_hook_order_files_and_user_hooks(project, provision_cli, register_plugin, tmp_path):
    calls: list[str] = []
    register_plugin(recording_plugin(calls), name="recorder")
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"])
    summary = json.loads(result.stdout)
    expected = ["before.component.load", "after.component.load", "before.terraform.init", "after.terraform.init", "before.terraform.apply", "after.terraform.apply"]
    assert calls == expected
    assert summary["events"] == expected and summary["exit_code"] == 0
    assert [c["args"][0] for c in summary["terraform"]] == ["init", "apply"]
    assert (tmp_path / "hooks.log").read_text().splitlines() == ["init-hook", "after.terraform.apply dev AKIATEST"]
    assert (tmp_path / "state" / "dev.tfstate").exists()
    folder = project.root / "components" / "terraform" / "app"
    backend = json.loads((folder / "backend.tf.json").read_text())
    assert backend == {"terraform": {"backend": {"local": {"path": str(tmp_path / "state" / "dev.tfstate")}}}}
    assert not list(folder.glob("*.tfvars.json")), "the var file is removed after the run"
    # The secret var reached terraform (through TF_VAR_), never a file or the output.
    state = json.loads((tmp_path / "state" / "dev.tfstate").read_text())
    assert state["outputs"]["password_length"]["value"] == len(SECRET)
    assert SECRET not in result.stdout + result.stderr
    assert SECRET not in (folder / "backend.tf.json").read_text()


def test_plan_runs_init_first_and_plan_events(project, provision_cli, register_plugin):
    calls: list[str] = []
    register_plugin(recording_plugin(calls), name="recorder")
    summary = json.loads(provision_cli.run(["terraform", "plan", "app", "-s", "dev", "-o", "json"]).stdout)
    assert calls[-2:] == ["before.terraform.plan", "after.terraform.plan"]
    assert [c["args"][0] for c in summary["terraform"]] == ["init", "plan"]


def test_provisioning_failure_means_terraform_never_runs(project, provision_cli, register_plugin, tmp_path):
    calls: list[str] = []
    register_plugin(recording_plugin(calls, fail_at="before.terraform.init"), name="recorder")
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"], exit_code=2)
    assert "refusing at before.terraform.init" in result.stderr
    folder = project.root / "components" / "terraform" / "app"
    assert not (folder / ".terraform").exists()
    assert not (tmp_path / "state").exists()
    assert calls == ["before.component.load", "after.component.load", "before.terraform.init"]
    assert not (tmp_path / "hooks.log").exists()


def test_failing_user_hook_stops_the_run(project, provision_cli, register_plugin, tmp_path):
    register_plugin(recording_plugin([]), name="recorder")
    project.stack("dev", project.root.joinpath("stacks/dev.yaml").read_text().replace("echo init-hook", "exit 7"))
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"], exit_code=1)
    assert "user hook 'b-second' failed at after.terraform.init with exit code 7" in result.stderr
    assert not (tmp_path / "state").exists(), "apply never ran"


def test_terraform_exit_code_passes_through(project, provision_cli, register_plugin):
    register_plugin(recording_plugin([]), name="recorder")
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    # -detailed-exitcode: 0 = no changes after the apply.
    assert provision_cli.run(["terraform", "plan", "app", "-s", "dev", "--", "-detailed-exitcode"]).exit_code == 0
    project.stack("dev", project.root.joinpath("stacks/dev.yaml").read_text().replace("dev-app", "dev-app-2"))
    provision_cli.run(["terraform", "plan", "app", "-s", "dev", "--", "-detailed-exitcode"], exit_code=2)


def test_missing_binary_is_exit_2(project, provision_cli, register_plugin):
    register_plugin(recording_plugin([]), name="recorder")
    result = provision_cli.run(["terraform", "plan", "app", "-s", "dev", "--terraform-bin", "no-such-terraform"], exit_code=2)
    assert "terraform binary 'no-such-terraform' not found" in result.stderr and "tofu" in result.stderr


def test_placeholders_are_refused(project, provision_cli):
    from ruamel.yaml import YAML

    stack = YAML(typ="safe").load(project.root.joinpath("stacks/dev.yaml").read_text())
    stack["components"]["terraform"]["app"]["vars"]["db_password"] = "REQUIRED: a new password for this environment"
    project.stack("dev", stack)
    result = provision_cli.run(["terraform", "plan", "app", "-s", "dev"], exit_code=2)
    assert "still has required placeholders: vars.db_password" in result.stderr


def test_unknown_user_hook_event_is_exit_2(project, provision_cli):
    project.stack("dev", project.root.joinpath("stacks/dev.yaml").read_text().replace("after-terraform-init", "after-terrafrom-init"))
    result = provision_cli.run(["terraform", "plan", "app", "-s", "dev"], exit_code=2)
    assert "unknown event 'after-terrafrom-init'" in result.stderr and "after.terraform.init" in result.stderr


def test_abstract_component_is_refused(stack_tree, provision_cli):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"base": {"metadata": {"type": "abstract"}}}}})
    assert "is abstract" in provision_cli.run(["terraform", "plan", "base", "-s", "dev"], exit_code=2).stderr


def test_missing_component_folder_is_exit_2(stack_tree, provision_cli):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"ghost": {}}}})
    assert "terraform component folder" in provision_cli.run(["terraform", "plan", "ghost", "-s", "dev"], exit_code=2).stderr


def test_ambient_credentials_are_replaced_for_terraform(project, provision_cli, register_plugin, tmp_path, monkeypatch):
    register_plugin(recording_plugin([]), name="recorder")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAAMBIENT")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "ambient-token")
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    assert "AKIATEST" in Path(tmp_path / "hooks.log").read_text()
    assert "AKIAAMBIENT" not in Path(tmp_path / "hooks.log").read_text()
