"""The workflow's own layout end to end: plain terraform, `terraform.<env>.tfvars` + `backend.<env>.hcl` (S3), against
a real moto server and real terraform (issue 17, items 1, 2 and 6).

create --provision creates the target's bucket through provisioner-backend-s3; the printed init/plan/apply commands
apply the target; verify --live checks backends, state objects and a clean plan; destroy removes it, leaves the folder
uninitialised, and dev's plan is clean against dev's state. moto cannot evaluate aws:SecureTransport, so the bucket
policy step is skipped (as in test_terraform_s3_e2e.py).
"""

from __future__ import annotations

import json
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
