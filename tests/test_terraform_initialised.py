"""`provision terraform` never plans or applies in a folder that `terraform init` left pointing at another state
(the folder's own backend code chose it: auto_generate_backend_file false). Real terraform, local backend."""

from __future__ import annotations

import json

import pytest

from provisioner_core import initialised_backend

pytestmark = pytest.mark.terraform

CODE = """
terraform {
  backend "local" { path = "dev.terraform.tfstate" }
}
variable "stage" { type = string }
resource "terraform_data" "this" { input = var.stage }
"""


def stack(stage: str) -> dict:
    return {"vars": {"stage": stage}, "backend_type": "local", "backend": {"local": {"path": f"{stage}.terraform.tfstate"}},
            "components": {"terraform": {"app": {}}}}


@pytest.fixture
def project(stack_tree):
    stack_tree.config["components"]["terraform"].update(auto_generate_backend_file=False, workspaces_enabled=False)
    stack_tree.write_config()
    stack_tree.component("app", CODE)
    stack_tree.stack("dev", stack("dev"))
    stack_tree.stack("qa", stack("qa"))
    return stack_tree


def test_plan_is_refused_where_init_chose_another_environments_state(project, provision_cli):
    folder = project.root / "components" / "terraform" / "app"
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])  # code and stack agree
    assert initialised_backend(folder) == ("local", {"path": "dev.terraform.tfstate"})

    refused = provision_cli.run(["terraform", "apply", "app", "-s", "qa", "--auto-approve", "-o", "json"], exit_code=4)
    assert "is initialised for local:" in refused.stderr and "dev.terraform.tfstate, not for qa/app's state" in refused.stderr
    assert "(differs: path)" in refused.stderr
    assert json.loads(refused.stdout)["error"]["exit_code"] == 4
    assert not (folder / "qa.terraform.tfstate").exists()
    assert json.loads((folder / "dev.terraform.tfstate").read_text())["resources"][0]["instances"][0]["attributes"]["input"]["value"] == "dev"


def test_initialised_backend_reads_what_init_recorded(tmp_path):
    assert initialised_backend(tmp_path) is None
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "terraform.tfstate").write_text("not json")
    assert initialised_backend(tmp_path) is None
    record = {"version": 3, "backend": {"type": "s3", "config": {"bucket": "b", "key": "k", "endpoints": {"s3": "http://x", "sts": None}, "profile": None}, "hash": 1}}
    (tmp_path / ".terraform" / "terraform.tfstate").write_text(json.dumps(record))
    assert initialised_backend(tmp_path) == ("s3", {"bucket": "b", "key": "k", "endpoints": {"s3": "http://x"}})
