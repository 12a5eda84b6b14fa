"""End to end: `env create feature-x --from dev --provision`, then `provision terraform apply` in it against a real
moto server with real terraform; the two environments' states live at different places. Then verify and destroy.

moto cannot evaluate aws:SecureTransport, so (as in test_terraform_s3_e2e.py) the stacks skip the TLS-only bucket policy.
"""

from __future__ import annotations

import json

import boto3
import pytest

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "stage" { type = string }
variable "name" { type = string }
resource "terraform_data" "this" { input = var.name }
output "name" { value = terraform_data.this.output }
"""
KEY_ID, SECRET = "AKIAENVE2E", "env-e2e-Secret-Value-31"
POLICY = {"resources": {"app": {"type": "aws_lambda_function", "isolation": "isolated", "vars": ["name"]}}}


def dev_stack(endpoint: str, bucket: str) -> str:
    return f"""\
# dev: the working environment feature branches are cloned from
vars:
  stage: dev
backend_type: s3
backend:
  s3:
    bucket: {bucket}     # one state bucket per environment
    key: terraform.tfstate
    region: us-east-1
    use_lockfile: true
    endpoints: {{s3: "{endpoint}", sts: "{endpoint}"}}
    use_path_style: true
    skip_credentials_validation: true
    skip_requesting_account_id: true
    skip_metadata_api_check: true
    skip_region_validation: true
auth:
  providers:
    aws: {{type: static, access_key_id: {KEY_ID}, secret_access_key: {SECRET}}}
components:
  terraform:
    app:
      vars:
        name: acme-app-dev
      provision:
        backend: {{enabled: true, skip: [tls_policy]}}
"""


@pytest.fixture
def provision_cli(stack_tree):
    """The CLI with the installed plugins (the S3 backend provisioner), as users run it."""
    from provisioner_core.plugins import PluginRegistry
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


@pytest.fixture
def project(stack_tree, moto_server, request):
    stack_tree.config["environments"] = POLICY
    stack_tree.write_config()
    stack_tree.component("app", MAIN_TF)
    prefix = "env-" + request.node.name.replace("_", "-")[5:25].strip("-")
    stack_tree.bucket = lambda env: f"{prefix}-{env}-tfstate"
    stack_tree.file("stacks/dev.yaml", dev_stack(moto_server.url, stack_tree.bucket("dev")))
    return stack_tree


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def state(client, bucket: str, stack: str) -> dict:
    # Atmos's layout: <component>/<workspace = stack>/<key>.
    return json.loads(client.get_object(Bucket=bucket, Key=f"app/{stack}/terraform.tfstate")["Body"].read())


def test_create_provision_apply_with_separate_state_then_destroy(project, provision_cli, moto_server):
    client = s3(moto_server.url)
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])

    created = json.loads(provision_cli.run(["env", "create", "feature-x", "--from", "dev", "--provision", "-o", "json"]).stdout)
    assert created["written"] == ["stacks/feature-x.yaml"]
    assert [(o["status"], o["resource"]) for o in created["provisioned"]] == [("created", f"s3://{project.bucket('feature-x')}")]
    assert client.get_bucket_versioning(Bucket=project.bucket("feature-x"))["Status"] == "Enabled"
    assert SECRET not in json.dumps(created)
    provision_cli.run(["env", "verify", "feature-x", "--against", "dev", "--check-backends"])

    provision_cli.run(["terraform", "apply", "app", "-s", "feature-x", "--auto-approve"])
    dev, feature = state(client, project.bucket("dev"), "dev"), state(client, project.bucket("feature-x"), "feature-x")
    assert dev["outputs"]["name"]["value"] == "acme-app-dev"
    assert feature["outputs"]["name"]["value"] == "acme-app-feature-x"
    assert dev["lineage"] != feature["lineage"]
    assert project.bucket("dev") != project.bucket("feature-x")

    destroyed = provision_cli.run(["env", "destroy", "feature-x", "--force"])
    assert "Destroyed environment feature-x." in destroyed.stdout
    assert f"state object s3://{project.bucket('feature-x')}/app/feature-x/terraform.tfstate of feature-x/app" in destroyed.stdout
    assert f"state storage {project.bucket('feature-x')}: made for feature-x" in destroyed.stdout
    assert state(client, project.bucket("feature-x"), "feature-x")["resources"] == []
    assert state(client, project.bucket("dev"), "dev")["resources"] != []  # dev is untouched
    assert not (project.root / "stacks" / "feature-x.yaml").exists()
    assert SECRET not in destroyed.output
    # The component folder's backend.tf.json pointed at feature-x: removed, so plain terraform there cannot hit a destroyed env.
    assert not (project.root / "components" / "terraform" / "app" / "backend.tf.json").exists()


def test_verify_checks_backends_and_destroy_skips_a_never_applied_environment(project, provision_cli, moto_server):
    client = s3(moto_server.url)
    provision_cli.run(["env", "create", "feature-x"])
    result = provision_cli.run(["env", "verify", "feature-x", "--check-backends"], exit_code=2)
    assert "[backend-exists] feature-x/app: the state backend does not exist yet (provisioning would create-bucket" in result.stdout
    provision_cli.run(["env", "verify", "feature-x"])  # without --check-backends every other check passes

    destroyed = provision_cli.run(["env", "destroy", "feature-x", "--force", "-o", "json"])
    data = json.loads(destroyed.stdout)
    assert data["skipped"] == ["feature-x/app: its state backend does not exist (never applied); destroying would only create it"]
    assert data["destroyed"] == [] and data["removed"] == ["stacks/feature-x.yaml"] and data["done"] is True
    assert project.bucket("feature-x") not in [b["Name"] for b in client.list_buckets()["Buckets"]]
