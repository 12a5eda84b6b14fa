"""End to end: `provision terraform` with the S3 backend provisioner, a real moto server and real terraform.

moto cannot evaluate aws:SecureTransport (../shared/REFERENCE.md): a deny-non-TLS bucket policy
would make terraform's plain-HTTP state writes 403 here, so these stacks turn that one setting
off with the provisioner's own `skip: [tls_policy]`. The policy itself is asserted in the S3
provisioner's own tests.
"""

from __future__ import annotations

import json

import boto3
import pytest

from support.servers import enforce_iam

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "stage" { type = string }
variable "name" { type = string }
resource "terraform_data" "this" { input = var.name }
output "name" { value = terraform_data.this.output }
"""
KEY_ID, SECRET = "AKIAE2ETEST", "e2e-Secret-Value-77"


def s3_stack(stage: str, endpoint: str, bucket: str, *, key_id: str = KEY_ID, secret: str = SECRET, extra_backend: dict | None = None) -> dict:
    return {
        "vars": {"stage": stage},
        "backend_type": "s3",
        "backend": {"s3": {
            "bucket": bucket, "key": "terraform.tfstate", "region": "us-east-1", "use_lockfile": True,
            "endpoints": {"s3": endpoint, "sts": endpoint}, "use_path_style": True,
            "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True, "skip_region_validation": True,
            **(extra_backend or {}),
        }},
        "auth": {"providers": {"aws": {"type": "static", "access_key_id": key_id, "secret_access_key": secret}}},
        "components": {"terraform": {"app": {
            "vars": {"name": f"app-{stage}"},
            "provision": {"backend": {"enabled": True, "skip": ["tls_policy"]}},
        }}},
    }


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


@pytest.fixture
def provision_cli(stack_tree):
    """The CLI with the installed plugins (entry points), as users run it."""
    from provisioner_core.plugins import PluginRegistry
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


@pytest.fixture
def project(stack_tree, moto_server, request):
    stack_tree.component("app", MAIN_TF)
    prefix = request.node.name.replace("_", "-")[:30].strip("-")
    buckets = {stage: f"{prefix}-{stage}" for stage in ("dev", "staging")}
    for stage, bucket in buckets.items():
        stack_tree.stack(stage, s3_stack(stage, moto_server.url, bucket))
    stack_tree.buckets = buckets
    return stack_tree


def test_apply_creates_backend_and_state_lands_under_the_key(project, provision_cli, moto_server):
    bucket = project.buckets["dev"]
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"])
    summary = json.loads(result.stdout)
    assert summary["results"][0]["status"] == "created"
    assert summary["results"][0]["event"] == "before.terraform.init"
    client = s3(moto_server.url)
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    # Atmos's layout: <workspace_key_prefix = component>/<workspace = stack>/<key>.
    state = json.loads(client.get_object(Bucket=bucket, Key="app/dev/terraform.tfstate")["Body"].read())
    assert state["outputs"]["name"]["value"] == "app-dev"
    assert SECRET not in result.stdout + result.stderr

    # Second run: backend unchanged, terraform sees no changes (-detailed-exitcode 0).
    again = json.loads(provision_cli.run(["terraform", "plan", "app", "-s", "dev", "-o", "json", "--", "-detailed-exitcode"]).stdout)
    assert again["results"][0]["status"] == "unchanged" and again["exit_code"] == 0


def test_two_stacks_get_two_separate_state_objects(project, provision_cli, moto_server):
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    provision_cli.run(["terraform", "apply", "app", "-s", "staging", "--auto-approve"])
    client = s3(moto_server.url)
    dev = json.loads(client.get_object(Bucket=project.buckets["dev"], Key="app/dev/terraform.tfstate")["Body"].read())
    staging = json.loads(client.get_object(Bucket=project.buckets["staging"], Key="app/staging/terraform.tfstate")["Body"].read())
    assert dev["outputs"]["name"]["value"] == "app-dev" and staging["outputs"]["name"]["value"] == "app-staging"
    assert dev["lineage"] != staging["lineage"]


def test_planted_lockfile_makes_apply_fail(project, provision_cli, moto_server):
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    lock = {"ID": "11111111-2222-3333-4444-555555555555", "Operation": "OperationTypeApply", "Who": "someone@elsewhere", "Version": "1.11.4", "Created": "2026-11-22T00:00:00Z", "Path": f"{project.buckets['dev']}/app/dev/terraform.tfstate"}
    s3(moto_server.url).put_object(Bucket=project.buckets["dev"], Key="app/dev/terraform.tfstate.tflock", Body=json.dumps(lock).encode())
    project.stack("dev", s3_stack("dev", moto_server.url, project.buckets["dev"]) | {})
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "--", "-lock-timeout=0s"], exit_code=None)
    assert result.exit_code != 0
    assert "lock" in result.output.lower() and "someone@elsewhere" in result.output


def test_access_denied_means_terraform_never_ran(stack_tree, provision_cli, moto_iam_server):
    key_id, secret = enforce_iam(moto_iam_server.url, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    stack_tree.component("app", MAIN_TF)
    stack_tree.stack("dev", s3_stack("dev", moto_iam_server.url, "denied-bucket", key_id=key_id, secret=secret))
    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"], exit_code=3)
    assert "Error: provisioner 'backend' (backend-s3" in result.stderr
    assert "s3:" in result.stderr  # the hint names the IAM actions needed
    assert secret not in result.output
    folder = stack_tree.root / "components" / "terraform" / "app"
    assert not (folder / ".terraform").exists(), "terraform init never ran"
