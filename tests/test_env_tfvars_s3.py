"""The workflow's own layout end to end: plain terraform, `terraform.<env>.tfvars` + `backend.<env>.hcl` (S3), against
a real moto server and real terraform (issue 17, items 1, 2 and 6).

create --provision creates the target's bucket through provisioner-backend-s3; the printed init/plan/apply commands
apply the target; verify --live checks backends, state objects and a clean plan; destroy removes it, leaves the folder
uninitialised, and dev's plan is clean against dev's state. moto cannot evaluate aws:SecureTransport, so the bucket
policy step is skipped (as in test_terraform_s3_e2e.py).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from provisioner_core import PluginRegistry
from provisioner_core.testing import CliRunner

KEY_ID, SECRET = "AKIAENVTFVARS", "env-tfvars-Secret-Value-77"

MAIN_TF = """\
terraform {
  backend "s3" {}
}
variable "environment" { type = string }
variable "project_name" { type = string }
variable "line_channel_access_token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "line_bot" {
  input = "${var.project_name}-line-bot-${var.environment}"
}
resource "terraform_data" "token_seen" {
  input = sha256(var.line_channel_access_token)
}
output "line_bot" { value = terraform_data.line_bot.output }
"""


def backend_hcl(env: str, endpoint: str, bucket: str) -> str:
    return f"""\
# backend.{env}.hcl: terraform init -reconfigure -backend-config=backend.{env}.hcl
bucket = "{bucket}"
key    = "bot/terraform.tfstate"
region = "us-east-1"
use_lockfile = true
endpoints = {{
  s3  = "{endpoint}"
  sts = "{endpoint}"
}}
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_metadata_api_check     = true
skip_region_validation      = true
"""


def config(provision: bool) -> str:
    return f"""\
environments:
  protected: [prod]
  keys:
    LINE_CHANNEL_ACCESS_TOKEN: {{isolation: isolated, hint: "issue a token for a new LINE channel"}}
  terraform:
    provision:
      backend: {{enabled: {str(provision).lower()}, skip: [tls_policy]}}
    auth:
      providers:
        aws: {{type: static, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}
"""


@pytest.fixture
def project(tmp_path, moto_server, request):
    root = tmp_path / "bot"
    folder = root / "terraform"
    folder.mkdir(parents=True)
    prefix = "tfv-" + request.node.name.replace("_", "-")[5:22].strip("-")
    project = SimpleNamespace(root=root, folder=folder, bucket=lambda env: f"{prefix}-{env}-tfstate")
    (root / "provisioner.yaml").write_text(config(provision=False))
    (folder / "main.tf").write_text(MAIN_TF)
    (folder / "terraform.dev.tfvars").write_text('environment  = "dev"\nproject_name = "dr-daily-report"\nline_channel_access_token = "dev-line-token-1234"\n')
    (folder / "backend.dev.hcl").write_text(backend_hcl("dev", moto_server.url, project.bucket("dev")))
    return project


@pytest.fixture
def cli(project) -> CliRunner:
    return CliRunner(project.root, PluginRegistry(environ={"PROVISIONER_BLOCK_PLUGINS": "provisioner-test-contract,provisioner-test-events"}))


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def buckets(endpoint: str) -> list[str]:
    return [b["Name"] for b in s3(endpoint).list_buckets()["Buckets"]]


def test_create_provision_creates_the_backend_of_backend_hcl_and_verify_checks_it(project, cli, moto_server):
    created = json.loads(cli.run(["env", "create", "feature-x", "--from", "dev", "-o", "json"]).stdout)
    assert created["provisioned"] == []  # not opted in: nothing created
    assert any("provision env backends feature-x" in item for item in created["checklist"])
    result = cli.run(["env", "verify", "feature-x", "--check-backends"], exit_code=2)
    assert f"[backend-exists] terraform/terraform.feature-x.tfvars: the state backend does not exist yet (provisioning would create-bucket s3 bucket {project.bucket('feature-x')}" in result.stdout

    provisioned = json.loads(cli.run(["env", "backends", "feature-x", "-o", "json"]).stdout)
    assert [(r["status"], r["resource"], r["stack"], r["component"]) for r in provisioned["results"]] == [
        ("created", f"s3://{project.bucket('feature-x')}", "feature-x", "terraform")]
    assert s3(moto_server.url).get_bucket_versioning(Bucket=project.bucket("feature-x"))["Status"] == "Enabled"
    assert SECRET not in json.dumps(provisioned)
    assert project.bucket("dev") not in buckets(moto_server.url)  # only the target's backend
    cli.run(["env", "verify", "feature-x", "--check-backends"])  # the token is a reference (TF_VAR_line_channel_access_token)


def test_the_project_config_opts_in_and_a_missing_plugin_or_auth_is_named(project, cli, moto_server):
    (project.root / "provisioner.yaml").write_text(config(provision=True))
    created = json.loads(cli.run(["env", "create", "feature-y", "-o", "json"]).stdout)
    assert [(o["status"], o["resource"]) for o in created["provisioned"]] == [("created", f"s3://{project.bucket('feature-y')}")]

    (project.root / "provisioner.yaml").write_text(config(provision=True).replace("    auth:\n", "    unused:\n"))
    result = cli.run(["env", "create", "feature-z"], exit_code=2)
    assert "environments.terraform: unknown key 'unused'" in result.stderr

    (project.root / "provisioner.yaml").write_text("environments:\n  terraform:\n    provision: {backend: {enabled: true}}\n")
    result = cli.run(["env", "create", "feature-z"], exit_code=2)
    assert "aws" in result.stderr and "provision env backends feature-z" in result.stderr
    assert (project.root / "terraform" / "terraform.feature-z.tfvars").is_file()  # the files are kept; provisioning can be rerun


def run_printed(folder: Path, command: str, env: dict[str, str], *extra: str, code: int = 0) -> subprocess.CompletedProcess:
    """Run one of the commands `provision env create` printed, as a user would (plus non-interactive flags)."""
    argv = shlex.split(command)
    assert argv[0] == "terraform"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_VAR_"))}
    environ |= {"CHECKPOINT_DISABLE": "1", "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, **env}
    if not Path(environ.get("TF_CLI_CONFIG_FILE", "/")).is_file():
        environ.pop("TF_CLI_CONFIG_FILE", None)
    run = subprocess.run([*argv, "-input=false", *extra], cwd=folder, env=environ, capture_output=True, text=True, timeout=180)
    assert run.returncode == code, f"{command}: {run.stdout}{run.stderr}"
    return run


@pytest.mark.terraform
def test_tfvars_s3_end_to_end_with_the_printed_commands(project, cli, moto_server):
    """create --provision -> init/apply with the printed commands -> verify --live -> destroy -> dev plan is clean on dev's state."""
    folder, token = project.folder, {"TF_VAR_line_channel_access_token": "feature-x-new-token-99"}
    cli.run(["env", "backends", "dev"])  # dev's own bucket, through the same plugin
    created = json.loads(cli.run(["env", "create", "feature-x", "--from", "dev", "--provision", "-o", "json"]).stdout)
    assert [(o["status"], o["resource"]) for o in created["provisioned"]] == [("created", f"s3://{project.bucket('feature-x')}")]
    target, dev = created["commands"]["feature-x"][0], created["commands"]["dev"][0]
    assert target["variables"] == ["TF_VAR_line_channel_access_token"] and dev["variables"] == []

    run_printed(folder, dev["init"], {})
    run_printed(folder, dev["apply"], {}, "-auto-approve")

    fresh = json.loads(cli.run(["env", "verify", "feature-x", "--live", "-o", "json"], exit_code=2).stdout)
    assert [v["check"] for v in fresh["violations"]] == ["secret-set"]  # the new token is not set yet
    assert fresh["live"] == [{"component": "terraform/terraform.feature-x.tfvars", "backend": "exists", "state": "absent (never applied)", "resources": None,
                              "plan": None, "state_address": f"s3://{project.bucket('feature-x')}/bot/terraform.tfstate"}]

    run_printed(folder, target["init"], token)
    run_printed(folder, target["apply"], token, "-auto-approve")
    verified = json.loads(cli.run(["env", "verify", "feature-x", "--live", "--plan", "-o", "json"], env=token).stdout)
    assert verified["ok"] is True and "plan-clean" in verified["checks"]
    assert [(c["backend"], c["state"], c["plan"]) for c in verified["live"]] == [("exists", "applied (2 resources)", "clean")]
    assert verified["live"][0]["state_address"] == f"s3://{project.bucket('feature-x')}/bot/terraform.tfstate"

    destroyed = cli.run(["env", "destroy", "feature-x", "--force", "-o", "json"], env=token)
    result = json.loads(destroyed.stdout)
    assert result["done"] is True and result["folders"] == [{"folder": "terraform", "initialised_for": None}]
    assert "feature-x-new-token-99" not in destroyed.output and SECRET not in destroyed.output
    after = json.loads(cli.run(["env", "verify", "feature-x", "--against", "dev", "--live", "-o", "json"]).stdout)
    assert after["destroyed"] is True and after["ok"] is True
    assert [(c["backend"], c["state"]) for c in after["live"]] == [("exists (kept: environments.destroy.backends is keep)", "empty (0 resources)")]
    (project.root / "provisioner.yaml").write_text(config(provision=False) + "  destroy: {backends: remove}\n")
    leftover = json.loads(cli.run(["env", "verify", "feature-x", "--live", "-o", "json"], exit_code=2).stdout)
    assert leftover["violations"] == [{"check": "leftover-backend", "message": "terraform/terraform.feature-x.tfvars: the s3 backend of state "
                                       f"s3://{project.bucket('feature-x')}/bot/terraform.tfstate still exists"}]

    # The shared folder was feature-x's: destroy left it uninitialised, so plain terraform cannot plan dev against feature-x's state.
    assert "Backend initialization required" in run_printed(folder, dev["plan"], {}, code=1).stderr
    run_printed(folder, dev["init"], {})
    run_printed(folder, dev["plan"], {}, "-detailed-exitcode")  # clean: dev's resources are all in dev's state
    record = json.loads((folder / ".terraform" / "terraform.tfstate").read_text())
    assert record["backend"]["config"]["bucket"] == project.bucket("dev")
    dev_state = json.loads(s3(moto_server.url).get_object(Bucket=project.bucket("dev"), Key="bot/terraform.tfstate")["Body"].read())
    assert len(dev_state["resources"]) == 2
