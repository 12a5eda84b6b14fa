"""`provision env` on plain Terraform with terraform.<env>.tfvars files (the seed's own pattern)."""

from __future__ import annotations

import difflib
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from provisioner_core.testing import CliRunner

DEV_TFVARS = """\
# terraform/terraform.dev.tfvars
# Purpose: the dev environment

# REQUIRED CHANGE: Set unique environment name
environment  = "dev"  # e.g., "feature-auth", "feature-charts"

# Project Configuration
project_name = "dr-daily-report"
owner        = "data-team"
cost_center  = "engineering"
devices_api  = "https://devices.example.com"   // 'devices' is not the environment

# Lambda Configuration
lambda_memory  = 512
lambda_timeout = 120
log_retention_days = 3  # Shorter retention for feature envs (cost savings)

tags = {
  Environment = "dev"
  Team        = "devops"
}

# Credentials
line_channel_access_token = "dev-line-token-1234"
openrouter_api_key        = "or-shared-key-5678"

# OPTIONAL: Override for testing
# aurora_min_acu = 0.5  # Same as dev by default
"""

MAIN_TF = """\
terraform {
  backend "local" {}
}
variable "environment" { type = string }
variable "project_name" { type = string }
variable "owner" { type = string }
variable "cost_center" { type = string }
variable "devices_api" { type = string }
variable "lambda_memory" { type = number }
variable "lambda_timeout" { type = number }
variable "log_retention_days" { type = number }
variable "tags" { type = map(string) }
variable "line_channel_access_token" {
  type      = string
  sensitive = true
}
variable "openrouter_api_key" {
  type      = string
  sensitive = true
}
resource "terraform_data" "line_bot" {
  input = "${var.project_name}-line-bot-${var.environment}"
}
output "line_bot" { value = terraform_data.line_bot.output }
"""

POLICY = """\
environments:
  resources:
    line_bot:
      type: aws_lambda_function
      isolation: isolated
      names: ["{project_name}-line-bot-{environment}"]
    aurora:
      type: aws_rds_cluster
      isolation: isolated
      monthly_cost: 43
      names: ["{project_name}-aurora-{environment}"]
    reports_bucket:
      type: aws_s3_bucket
      isolation: shared
  keys:
    LINE_CHANNEL_ACCESS_TOKEN: {isolation: isolated, hint: "create a new LINE channel and issue its access token"}
    OPENROUTER_API_KEY: shared
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "bot"
    (root / "terraform").mkdir(parents=True)
    (root / "provisioner.yaml").write_text(POLICY)
    (root / "terraform" / "main.tf").write_text(MAIN_TF)
    (root / "terraform" / "terraform.dev.tfvars").write_text(DEV_TFVARS)
    (root / "terraform" / "backend.dev.hcl").write_text('path = "dev.terraform.tfstate"   # local state, one file per environment\n')
    return root


@pytest.fixture
def cli(project, provisioner_registry) -> CliRunner:
    return CliRunner(project, provisioner_registry)


def test_the_new_tfvars_keeps_every_line_and_comment(project, cli):
    result = cli.run(["env", "create", "feature/auth", "--from", "dev"])
    clone = (project / "terraform" / "terraform.feature-auth.tfvars").read_text()
    diff = [line for line in difflib.ndiff(DEV_TFVARS.splitlines(), clone.splitlines()) if line[:2] in ("- ", "+ ")]
    assert diff == [
        '- environment  = "dev"  # e.g., "feature-auth", "feature-charts"',
        '+ environment  = "feature-auth"  # e.g., "feature-auth", "feature-charts"',
        '-   Environment = "dev"',
        '+   Environment = "feature-auth"',
        '- line_channel_access_token = "dev-line-token-1234"',
        '+ # line_channel_access_token: from TF_VAR_line_channel_access_token (isolated: a new value for feature-auth, never copied from dev; '
        'create a new LINE channel and issue its access token)',
    ]
    assert len(clone.splitlines()) == len(DEV_TFVARS.splitlines())
    assert (project / "terraform" / "backend.feature-auth.hcl").read_text() == 'path = "feature-auth.terraform.tfstate"   # local state, one file per environment\n'
    assert "dev-line-token-1234" not in result.output
    assert "Apply: `cd terraform && terraform init -reconfigure -backend-config=backend.feature-auth.hcl && terraform apply -var-file=terraform.feature-auth.tfvars`" in result.stdout


def test_report_names_resources_and_cost_from_tfvars(project, cli):
    data = json.loads(cli.run(["env", "create", "feature-auth", "--dry-run", "-o", "json"]).stdout)
    assert data["layouts"] == ["tfvars"]
    rows = {(r["kind"], r["source"], r["target"], r["action"]) for r in data["mapping"]}
    assert ("aws_lambda_function", "dr-daily-report-line-bot-dev", "dr-daily-report-line-bot-feature-auth", "clone+rename") in rows
    assert ("aws_rds_cluster", "dr-daily-report-aurora-dev", "dr-daily-report-aurora-feature-auth", "NEW paid resource") in rows
    assert ("state", "local:terraform/dev.terraform.tfstate", "local:terraform/feature-auth.terraform.tfstate", "separate state") in rows
    assert ("key", "line_channel_access_token", "TF_VAR_line_channel_access_token", "NEW credential") in rows
    assert data["secrets"] == [{"environment": "feature-auth", "key": "line_channel_access_token", "variable": "TF_VAR_line_channel_access_token",
                                "file": "terraform/terraform.feature-auth.tfvars", "path": "line_channel_access_token", "section": "vars",
                                "hint": "create a new LINE channel and issue its access token", "credential": True, "stored": None}]
    assert ("[ ] Create a new credential line_channel_access_token for feature-auth: create a new LINE channel and issue its access token; "
            "set it in the environment as TF_VAR_line_channel_access_token (a secret store or CI secret, never a file)") in cli.run(
                ["env", "create", "feature-auth", "--dry-run"]).stdout
    assert ("key", "openrouter_api_key", "openrouter_api_key", "shared") in rows
    assert data["cost"]["delta_per_month"] == 43.0
    assert "vars.owner" in data["portable"] and "vars.openrouter_api_key (shared)" in data["portable"]
    assert any("terraform/terraform.feature-auth.tfvars: environment: dev -> feature-auth" == line for line in data["context_bound"])
    assert not (project / "terraform" / "terraform.feature-auth.tfvars").exists()


def test_a_backend_file_is_generated_when_the_source_has_none(project, cli):
    (project / "terraform" / "backend.dev.hcl").unlink()
    (project / "terraform" / "main.tf").write_text(MAIN_TF.replace('backend "local" {}', 'backend "s3" {\n    bucket = "acme-tfstate"\n    key    = "bot/terraform.tfstate"\n  }'))
    data = json.loads(cli.run(["env", "create", "feature-auth", "-o", "json"]).stdout)
    generated = (project / "terraform" / "backend.feature-auth.hcl").read_text()
    assert generated.endswith('key = "feature-auth/bot/terraform.tfstate"\n')
    assert "terraform init -reconfigure -backend-config=backend.feature-auth.hcl" in generated
    states = [(r["source"], r["target"]) for r in data["mapping"] if r["kind"] == "state"]
    assert states == [("s3://acme-tfstate/bot/terraform.tfstate", "s3://acme-tfstate/feature-auth/bot/terraform.tfstate")]
    assert {f["target"]: f["source"] for f in data["files"]} == {"terraform/terraform.feature-auth.tfvars": "terraform/terraform.dev.tfvars",
                                                               "terraform/backend.feature-auth.hcl": None}
    cli.run(["env", "verify", "feature-auth"])  # the token is a reference (TF_VAR_line_channel_access_token), not a missing key
    tfvars = project / "terraform" / "terraform.feature-auth.tfvars"
    tfvars.write_text(tfvars.read_text() + 'line_channel_access_token = "feature-auth-token-1"\n')  # a secret written back into the file
    result = cli.run(["env", "verify", "feature-auth"], exit_code=2)
    assert "[secret-in-file] terraform/terraform.feature-auth.tfvars: vars.line_channel_access_token is written in the file" in result.stdout


def test_shared_default_state_and_missing_backends_are_refused(project, cli):
    (project / "terraform" / "backend.dev.hcl").unlink()
    result = cli.run(["env", "create", "feature-auth"], exit_code=2)
    assert "keeps its state in the folder's default terraform.tfstate" in result.stderr and "then empty the file" in result.stderr
    (project / "terraform" / "main.tf").write_text(MAIN_TF.replace('backend "local" {}', ""))
    result = cli.run(["env", "create", "feature-auth"], exit_code=2)
    assert "terraform folder terraform declares no backend" in result.stderr
    assert sorted(p.name for p in (project / "terraform").iterdir()) == ["main.tf", "terraform.dev.tfvars"]


def _terraform(folder: Path, *args: str, code: int = 0, token: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", **({"TF_VAR_line_channel_access_token": token} if token else {})}
    if not Path(env.get("TF_CLI_CONFIG_FILE", "/")).is_file():
        env.pop("TF_CLI_CONFIG_FILE", None)
    run = subprocess.run(["terraform", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == code, run.stdout + run.stderr
    return run


def _printed(command: str) -> list[str]:
    """A printed command's arguments after `terraform`."""
    words = shlex.split(command)
    assert words[0] == "terraform"
    return words[1:]


def test_create_prints_the_commands_of_both_environments(project, cli):
    data = json.loads(cli.run(["env", "create", "feature-auth", "--dry-run", "-o", "json"]).stdout)
    assert data["commands"] == {
        "feature-auth": [{"environment": "feature-auth", "component": "terraform", "cwd": "terraform",
                          "init": "terraform init -reconfigure -backend-config=backend.feature-auth.hcl",
                          "plan": "terraform plan -var-file=terraform.feature-auth.tfvars", "apply": "terraform apply -var-file=terraform.feature-auth.tfvars",
                          "destroy": "terraform destroy -var-file=terraform.feature-auth.tfvars", "variables": ["TF_VAR_line_channel_access_token"]}],
        "dev": [{"environment": "dev", "component": "terraform", "cwd": "terraform", "init": "terraform init -reconfigure -backend-config=backend.dev.hcl",
                 "plan": "terraform plan -var-file=terraform.dev.tfvars", "apply": "terraform apply -var-file=terraform.dev.tfvars",
                 "destroy": "terraform destroy -var-file=terraform.dev.tfvars", "variables": []}],
    }  # fmt: skip
    text = cli.run(["env", "create", "feature-auth", "--dry-run"]).stdout
    assert "7. Commands per environment" in text
    assert "  dev:\n    terraform:\n      cd terraform && terraform init -reconfigure -backend-config=backend.dev.hcl\n      terraform plan -var-file=terraform.dev.tfvars\n" in text


@pytest.mark.terraform
def test_create_apply_verify_destroy_with_real_terraform(project, cli):
    folder = project / "terraform"
    _terraform(folder, "init", "-input=false", "-reconfigure", "-backend-config=backend.dev.hcl")
    _terraform(folder, "apply", "-input=false", "-auto-approve", "-var-file=terraform.dev.tfvars")
    cli.run(["env", "create", "feature-auth"])
    tfvars = folder / "terraform.feature-auth.tfvars"
    cli.run(["env", "verify", "feature-auth", "--against", "dev"])
    _terraform(folder, "init", "-input=false", "-reconfigure", "-backend-config=backend.feature-auth.hcl")
    _terraform(folder, "apply", "-input=false", "-auto-approve", "-var-file=terraform.feature-auth.tfvars", token="feature-auth-token-1")
    dev_state = json.loads((folder / "dev.terraform.tfstate").read_text())
    target_state = json.loads((folder / "feature-auth.terraform.tfstate").read_text())
    assert dev_state["outputs"]["line_bot"]["value"] == "dr-daily-report-line-bot-dev"
    assert target_state["outputs"]["line_bot"]["value"] == "dr-daily-report-line-bot-feature-auth"
    assert dev_state["lineage"] != target_state["lineage"]

    result = cli.run(["env", "destroy", "feature-auth", "--force"], env={"TF_VAR_line_channel_access_token": "feature-auth-token-1"})
    assert "Destroyed environment feature-auth." in result.stdout
    assert "state object local:terraform/feature-auth.terraform.tfstate" in result.stdout
    assert "credential line_channel_access_token: revoke the one created for feature-auth" in result.stdout
    assert "check that no aws_rds_cluster named dr-daily-report-aurora-feature-auth is left" in result.stdout
    assert json.loads((folder / "feature-auth.terraform.tfstate").read_text())["resources"] == []
    assert json.loads((folder / "dev.terraform.tfstate").read_text())["resources"] != []  # dev untouched
    assert not tfvars.exists() and not (folder / "backend.feature-auth.hcl").exists()
    assert (folder / "terraform.dev.tfvars").read_text() == DEV_TFVARS
    # The folder was initialised for feature-auth: it is left uninitialised, never pointing at the destroyed state.
    assert "terraform is left uninitialised" in result.stdout
    assert "cd terraform && terraform init -reconfigure -backend-config=backend.dev.hcl" in result.stdout
    assert not (folder / ".terraform" / "terraform.tfstate").exists()
    refused = _terraform(folder, "plan", "-input=false", "-var-file=terraform.dev.tfvars", code=1)
    assert "Backend initialization required" in refused.stderr
    _terraform(folder, *_printed("terraform init -reconfigure -backend-config=backend.dev.hcl"), "-input=false")
    _terraform(folder, "plan", "-input=false", "-detailed-exitcode", "-var-file=terraform.dev.tfvars")  # clean: dev's own state
    assert json.loads((folder / ".terraform" / "terraform.tfstate").read_text())["backend"]["config"]["path"] == "dev.terraform.tfstate"


@pytest.mark.terraform
def test_destroy_leaves_a_folder_initialised_for_another_environment_as_it_was(project, cli):
    folder = project / "terraform"
    cli.run(["env", "create", "feature-auth"])
    for env in ("feature-auth", "dev"):  # apply both; dev last, so the folder is dev's
        _terraform(folder, "init", "-input=false", "-reconfigure", f"-backend-config=backend.{env}.hcl")
        _terraform(folder, "apply", "-input=false", "-auto-approve", f"-var-file=terraform.{env}.tfvars", token="feature-auth-token-1" if env != "dev" else None)
    data = json.loads(cli.run(["env", "destroy", "feature-auth", "--force", "-o", "json"], env={"TF_VAR_line_channel_access_token": "t-2"}).stdout)
    assert data["folders"] == [{"folder": "terraform", "initialised_for": "local:terraform/dev.terraform.tfstate"}]
    assert [c["init"] for c in data["commands"]["dev"]] == ["terraform init -reconfigure -backend-config=backend.dev.hcl"]
    _terraform(folder, "plan", "-input=false", "-detailed-exitcode", "-var-file=terraform.dev.tfvars")  # no init needed: still dev's
