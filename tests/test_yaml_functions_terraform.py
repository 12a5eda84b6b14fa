"""!terraform.output (real terraform, local backend) and !terraform.state (a moto S3 server, read
through the s3 plugin), and a backend section's own credentials used as explicit credentials."""

from __future__ import annotations

import json

import boto3
import pytest

from provisioner_core import Provisioning
from provisioner_core.testing import CliRunner

pytestmark = pytest.mark.terraform

NET_TF = """
variable "stage" { type = string }
variable "cidr" { type = string }
resource "terraform_data" "net" { input = var.cidr }
output "id" { value = "net-${var.stage}" }
output "cidr" { value = terraform_data.net.output }
output "token" {
  value     = "Sensitive-Output-9931"
  sensitive = true
}
"""
APP_TF = 'variable "stage" { type = string }\n'
KEY_ID, SECRET = "AKIAFUNCTIONS", "functions-Secret-Value-55"


@pytest.fixture
def project(stack_tree):
    stack_tree.component("net", NET_TF)
    stack_tree.component("app", APP_TF)
    stack_tree.stack("dev", "vars: {stage: dev}\nbackend_type: local\ncomponents:\n  terraform:\n"
                            "    net:\n      vars: {cidr: 10.0.0.0/16}\n"
                            "    app:\n      vars:\n        net_id: !terraform.output net id\n        cidr: !terraform.output net dev .cidr\n"
                            "        absent: !terraform.output net nope\n        fallback: !terraform.output net .nope // \"none\"\n"
                            "        carried: !terraform.output net token\n")  # fmt: skip
    return stack_tree


def test_terraform_output_reads_the_applied_component_once_per_run(project, provisioner_registry, monkeypatch):
    from provisioner_core.terraform import outputs

    before = Provisioning.from_path(None, project.root, provisioner_registry)
    assert before.component("dev", "app").vars["net_id"] is None  # not applied yet: no outputs, null as in Atmos
    CliRunner(project.root, provisioner_registry).run(["terraform", "apply", "net", "-s", "dev", "--auto-approve"])
    calls = []
    real = outputs.terraform_outputs
    monkeypatch.setattr(outputs, "terraform_outputs", lambda *a: calls.append(a) or real(*a))
    provisioning = Provisioning.from_path(None, project.root, provisioner_registry)
    app = provisioning.component("dev", "app")
    assert (app.vars["net_id"], app.vars["cidr"], app.vars["absent"], app.vars["fallback"]) == ("net-dev", "10.0.0.0/16", None, "none")
    assert len(calls) == 1  # three functions, one `terraform output` per component per run
    # A sensitive output joins the redactor: describe never prints it.
    out = CliRunner(project.root, provisioner_registry).run(["describe", "app", "-s", "dev"]).stdout
    assert "Sensitive-Output-9931" not in out and "carried: '***'" in out


def test_terraform_state_reads_the_state_object_through_the_backend_plugin(stack_tree, moto_server, provisioner_registry):
    endpoint = moto_server.url
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    s3.create_bucket(Bucket="functions-state")
    state = {"version": 4, "outputs": {"vpc_id": {"value": "vpc-123", "type": "string"}, "subnets": {"value": ["a", "b"], "type": ["list", "string"]}}}
    s3.put_object(Bucket="functions-state", Key="net/dev/terraform.tfstate", Body=json.dumps(state).encode())
    # Credentials written in the backend section are this component's explicit credentials.
    stack_tree.stack("dev", f"""vars: {{stage: dev}}
backend_type: s3
backend:
  s3: {{bucket: functions-state, key: terraform.tfstate, region: us-east-1, use_path_style: true,
       endpoints: {{s3: "{endpoint}"}}, access_key: {KEY_ID}, secret_key: {SECRET}}}
components:
  terraform:
    net: {{}}
    app:
      vars:
        vpc_id: !terraform.state net vpc_id
        first: !terraform.state net .subnets[0]
""")
    app = Provisioning.from_path(None, stack_tree.root, provisioner_registry).component("dev", "app")
    assert (app.vars["vpc_id"], app.vars["first"]) == ("vpc-123", "a")


def test_backend_section_credentials_are_used_unless_auth_providers_names_them(stack_tree, provisioner_registry):
    backend = {"bucket": "b", "key": "k", "region": "us-east-1"}
    stack_tree.stack("dev", {
        "vars": {"stage": "dev"}, "backend_type": "s3",
        "components": {"terraform": {
            "keys": {"backend": {"s3": {**backend, "access_key": KEY_ID, "secret_key": SECRET}}},
            "profile": {"backend": {"s3": {**backend, "profile": "state-admin"}}},
            "both": {"backend": {"s3": {**backend, "access_key": KEY_ID, "secret_key": SECRET}},
                     "auth": {"providers": {"aws": {"type": "profile", "profile": "from-auth"}}}},
        }},
    })  # fmt: skip
    provisioning = Provisioning.from_path(None, stack_tree.root, provisioner_registry)
    keys = provisioning.auth(provisioning.component("dev", "keys")).require("aws")
    assert keys.terraform_env() == {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    assert SECRET in provisioning.redactor._secrets  # redacted like every other secret
    assert provisioning.auth(provisioning.component("dev", "profile")).require("aws").terraform_env() == {"AWS_PROFILE": "state-admin"}
    assert provisioning.auth(provisioning.component("dev", "both")).require("aws").terraform_env() == {"AWS_PROFILE": "from-auth"}
