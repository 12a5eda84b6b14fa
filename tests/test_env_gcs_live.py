"""One Atmos flow against fake-gcs-server with real terraform and `verify --live` (issue 17, item 6): create --provision,
live before and after apply (backend, state object, plan), destroy, then the leftovers check.

fake-gcs-server drops labels, uniform access, public access prevention and soft delete, so the stacks skip those
settings (as provisioner_backend_gcs/tests/test_gcs_terraform.py does); terraform authenticates with the access token.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from provisioner_core import PluginRegistry
from provisioner_core.testing import CliRunner
from support.gcs_helpers import sdk_client
from support.gcs_servers import start_fake_gcs_server
from support.servers import ServerProcess

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "stage" { type = string }
variable "name" { type = string }
resource "terraform_data" "this" { input = var.name }
output "name" { value = terraform_data.this.output }
"""
TOKEN = "env-live-dummy-token"


@pytest.fixture(scope="module")
def fake_gcs() -> Iterator[ServerProcess]:
    server = start_fake_gcs_server()
    yield server
    server.stop()


def dev_stack(endpoint: str, bucket: str) -> str:
    return f"""\
vars:
  stage: dev
backend_type: gcs
backend:
  gcs:
    bucket: {bucket}
    prefix: app
    storage_custom_endpoint: {endpoint}/storage/v1/
auth:
  providers:
    gcp: {{type: access-token, token: {TOKEN}}}
components:
  terraform:
    app:
      vars:
        name: app-dev
      provision:
        backend: {{enabled: true, project: test-project, location: US, skip: [uniform_access, public_access_prevention, labels, soft_delete]}}
"""


@pytest.fixture
def project(stack_tree, fake_gcs):
    stack_tree.config["environments"] = {"resources": {"app": {"type": "google_cloud_run_v2_service", "isolation": "isolated", "vars": ["name"]}}}
    stack_tree.write_config()
    stack_tree.component("app", MAIN_TF)
    stem = f"envlive-{uuid.uuid4().hex[:8]}"
    stack_tree.bucket = lambda env: f"{stem}-{env}-tfstate"
    stack_tree.file("stacks/dev.yaml", dev_stack(fake_gcs.url, stack_tree.bucket("dev")))
    return stack_tree


@pytest.fixture
def cli(project):
    return CliRunner(project.root, PluginRegistry(environ={"PROVISIONER_BLOCK_PLUGINS": "provisioner-test-contract,provisioner-test-events"}))


def test_atmos_gcs_flow_with_live_verification(project, cli, fake_gcs):
    cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    created = json.loads(cli.run(["env", "create", "feature-x", "--provision", "-o", "json"]).stdout)
    assert [(o["status"], o["resource"]) for o in created["provisioned"]] == [("created", f"gs://{project.bucket('feature-x')}")]
    assert created["commands"]["feature-x"][0]["apply"] == "provision terraform apply app -s feature-x"

    before = json.loads(cli.run(["env", "verify", "feature-x", "--live", "-o", "json"]).stdout)
    assert before["ok"] is True
    assert [(c["backend"], c["state"]) for c in before["live"]] == [("exists", "absent (never applied)")]
    assert before["live"][0]["state_address"] == f"gs://{project.bucket('feature-x')}/app/feature-x.tfstate"

    cli.run(["terraform", "apply", "app", "-s", "feature-x", "--auto-approve"])
    applied = json.loads(cli.run(["env", "verify", "feature-x", "--live", "--plan", "-o", "json"]).stdout)
    assert [(c["backend"], c["state"], c["plan"]) for c in applied["live"]] == [("exists", "applied (1 resources)", "clean")]

    # Drift: the stack now asks for another name; the live plan is not clean, and says so.
    stack = project.root / "stacks" / "feature-x.yaml"
    stack.write_text(stack.read_text().replace("name: app-feature-x", "name: app-feature-x-renamed"))
    drifted = json.loads(cli.run(["env", "verify", "feature-x", "--live", "--plan", "-o", "json"], exit_code=2).stdout)
    assert [v["check"] for v in drifted["violations"]] == ["plan-clean"]
    stack.write_text(stack.read_text().replace("name: app-feature-x-renamed", "name: app-feature-x"))

    cli.run(["env", "destroy", "feature-x", "--force"])
    after = json.loads(cli.run(["env", "verify", "feature-x", "--live", "-o", "json"]).stdout)
    assert after["destroyed"] is True and after["ok"] is True
    assert [(c["backend"], c["state"]) for c in after["live"]] == [("exists (kept: environments.destroy.backends is keep)", "empty (0 resources)")]
    objects = sorted(b.name for b in sdk_client(fake_gcs.url).list_blobs(project.bucket("feature-x")))
    assert "app/feature-x.tfstate" in objects  # terraform destroy empties the state object and keeps it: reported, not a leftover
    dev = json.loads(sdk_client(fake_gcs.url).bucket(project.bucket("dev")).blob("app/dev.tfstate").download_as_bytes())
    assert len(dev["resources"]) == 1  # dev untouched
