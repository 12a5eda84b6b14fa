"""`*.tfvars.json` environments, and names of kinds the provider compares without case (issue 17, item 7)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from provisioner_core.testing import CliRunner, StackTree

MAIN_TF = """\
terraform {
  backend "local" {}
}
variable "environment" { type = string }
variable "role_name" { type = string }
variable "tags" { type = map(string) }
resource "terraform_data" "role" { input = "${var.role_name}/${var.tags["Env"]}" }
output "role" { value = terraform_data.role.output }
"""
POLICY = """\
environments:
  resources:
    bot_role: {type: aws_iam_role, isolation: isolated, vars: [role_name]}
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "p"
    folder = root / "terraform"
    folder.mkdir(parents=True)
    (root / "provisioner.yaml").write_text(POLICY)
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "terraform.dev.tfvars.json").write_text(json.dumps({"environment": "dev", "role_name": "Acme-Bot-DEV", "tags": {"Env": "Dev", "Team": "devops"}}, indent=2) + "\n")
    (folder / "backend.dev.hcl").write_text('path = "dev.terraform.tfstate"\n')
    return root


@pytest.fixture
def cli(project, provisioner_registry):
    return CliRunner(project, provisioner_registry)


def terraform(folder: Path, *args: str) -> None:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    if not Path(env.get("TF_CLI_CONFIG_FILE", "/")).is_file():
        env.pop("TF_CLI_CONFIG_FILE", None)
    run = subprocess.run(["terraform", *args, "-input=false"], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_tfvars_json_is_cloned_and_a_case_insensitive_name_is_renamed_in_its_case(project, cli):
    data = json.loads(cli.run(["env", "create", "feature-x", "-o", "json"]).stdout)
    clone = json.loads((project / "terraform" / "terraform.feature-x.tfvars.json").read_text())
    # role_name names an aws_iam_role, which IAM compares without case: DEV is the environment too, renamed in its own case.
    assert clone == {"environment": "feature-x", "role_name": "Acme-Bot-FEATURE-X", "tags": {"Env": "Dev", "Team": "devops"}}
    assert ("aws_iam_role", "Acme-Bot-DEV", "Acme-Bot-FEATURE-X", "clone+rename") in {(r["kind"], r["source"], r["target"], r["action"]) for r in data["mapping"]}
    assert data["commands"]["feature-x"][0]["plan"] == "terraform plan -var-file=terraform.feature-x.tfvars.json"
    cli.run(["env", "verify", "feature-x"])


def test_a_name_that_differs_only_in_case_is_the_same_name(project, cli):
    cli.run(["env", "create", "feature-x"])
    target = project / "terraform" / "terraform.feature-x.tfvars.json"
    target.write_text(target.read_text().replace("Acme-Bot-FEATURE-X", "ACME-BOT-DEV"))
    result = cli.run(["env", "verify", "feature-x"], exit_code=2)
    assert "[same-name] isolated resource bot_role (aws_iam_role) keeps the name 'Acme-Bot-DEV' in both environments ('ACME-BOT-DEV' is the same name" in result.stdout
    assert "[renamed] terraform/terraform.feature-x.tfvars.json: vars.role_name = 'ACME-BOT-DEV' still names dev" in result.stdout


def test_case_stays_significant_for_other_kinds(tmp_path, provisioner_registry):
    tree = StackTree(tmp_path / "p", config={"environments": {"resources": {"fn": {"type": "aws_lambda_function", "isolation": "isolated", "vars": ["function_name"]}}}})
    tree.component("app")
    tree.file("stacks/dev.yaml", "vars: {stage: dev}\nbackend_type: s3\nbackend: {s3: {bucket: acme-dev-tfstate, key: app.tfstate}}\n"
              "components: {terraform: {app: {vars: {function_name: Acme-Fn-DEV}}}}\n")
    result = CliRunner(tree.root, provisioner_registry).run(["env", "create", "feature-x"], exit_code=2)
    assert "isolated resource fn (aws_lambda_function) keeps the name 'Acme-Fn-DEV' in both environments" in result.stderr


@pytest.mark.terraform
def test_a_tfvars_json_environment_applies_and_destroys(project, cli):
    folder = project / "terraform"
    cli.run(["env", "create", "feature-x"])
    terraform(folder, "init", "-reconfigure", "-backend-config=backend.feature-x.hcl")
    terraform(folder, "apply", "-auto-approve", "-var-file=terraform.feature-x.tfvars.json")
    state = json.loads((folder / "feature-x.terraform.tfstate").read_text())
    assert state["outputs"]["role"]["value"] == "Acme-Bot-FEATURE-X/Dev"
    destroyed = json.loads(cli.run(["env", "destroy", "feature-x", "--force", "-o", "json"]).stdout)
    assert destroyed["destroyed"] == ["terraform (terraform.feature-x.tfvars.json)"]
    assert json.loads((folder / "feature-x.terraform.tfstate").read_text())["resources"] == []
    assert not (folder / "terraform.feature-x.tfvars.json").exists()
