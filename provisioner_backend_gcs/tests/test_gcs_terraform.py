"""End to end with real terraform and its gcs backend, against fake-gcs-server.

Server: fake-gcs-server (it enforces ifGenerationMatch, so terraform's gcs locking works),
behind the recording proxy so the provisioner's bucket-level calls can be counted. It
drops labels, uniform access, public access prevention and soft delete (see
support/gcs_servers.py), so the stacks here skip those settings with the provisioner's own
``skip`` option; they are asserted against gcp-storage-emulator in test_gcs_provision.py.
Terraform authenticates with GOOGLE_OAUTH_ACCESS_TOKEN, which core sets from the
``access-token`` provider (fake-gcs-server accepts any token).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.gcs_helpers import raw_bucket, run, sdk_client
from support.gcs_servers import RecordingProxy
from support.servers import ServerProcess

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

MAIN_TF = """
variable "stage" { type = string }
variable "name" { type = string }
resource "terraform_data" "this" { input = var.name }
output "name" { value = terraform_data.this.output }
"""
FAKE_GCS_SKIPS = ["uniform_access", "public_access_prevention", "labels"]
TOKEN = "e2e-dummy-token"


def gcs_stack(stage: str, endpoint: str, bucket: str, *, options: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "vars": {"stage": stage},
        "backend_type": "gcs",
        "backend": {"gcs": {"bucket": bucket, "prefix": f"{stage}/app", "storage_custom_endpoint": f"{endpoint}/storage/v1/"}},
        "auth": {"providers": {"gcp": {"type": "access-token", "token": TOKEN}}},
        "components": {"terraform": {"app": {
            "vars": {"name": f"app-{stage}"},
            "provision": {"backend": {"enabled": True, "project": "test-project", "location": "US", "skip": FAKE_GCS_SKIPS, **(options or {})}},
        }}},
    }  # fmt: skip


def bucket_writes(proxy: RecordingProxy) -> list[str]:
    """Bucket-level write calls (the provisioner's); terraform's object writes are under /o."""
    return [f"{r.method} {r.path}" for r in proxy.writes() if "/o" not in r.path.split("/b/", 1)[-1] and not r.path.startswith("/upload/")]


def state_objects(url: str, bucket: str) -> list[str]:
    return sorted(blob.name for blob in sdk_client(url).list_blobs(bucket))


@pytest.fixture
def provision_cli(stack_tree):  # type: ignore[no-untyped-def]
    """The CLI with the installed plugins (entry points), as users run it."""
    from provisioner_core.plugins import PluginRegistry
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


def test_terraform_apply_creates_the_bucket_state_lands_under_the_prefix_and_rerun_is_idempotent(
    stack_tree, provision_cli, fake_proxy: RecordingProxy, fake_gcs: ServerProcess, bucket_name: str  # type: ignore[no-untyped-def]
) -> None:
    stack_tree.component("app", MAIN_TF)
    stack_tree.stack("dev", gcs_stack("dev", fake_proxy.url, bucket_name))

    first = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "-o", "json"])

    summary = json.loads(first.stdout)
    backend = next(r for r in summary["results"] if r["provisioner"] == "backend-gcs")
    assert (backend["status"], backend["event"]) == ("created", "before.terraform.init")
    assert raw_bucket(fake_gcs.url, bucket_name)["versioning"] == {"enabled": True}
    # Workspace dev under the prefix (terraform's gcs backend also writes an empty default.tfstate); no lock left behind.
    assert state_objects(fake_gcs.url, bucket_name) == ["dev/app/default.tfstate", "dev/app/dev.tfstate"]
    state = json.loads(sdk_client(fake_gcs.url).bucket(bucket_name).blob("dev/app/dev.tfstate").download_as_bytes())
    assert state["outputs"]["name"]["value"] == "app-dev"
    assert TOKEN not in first.output
    assert bucket_writes(fake_proxy) == ["POST /storage/v1/b"]  # created with its settings in one call
    fake_proxy.clear()

    # Second run: the provisioner makes no bucket write and terraform sees no changes.
    again = provision_cli.run(["terraform", "plan", "app", "-s", "dev", "-o", "json", "--", "-detailed-exitcode"])

    summary = json.loads(again.stdout)
    backend = next(r for r in summary["results"] if r["provisioner"] == "backend-gcs")
    assert backend["status"] == "unchanged" and backend["actions"] == []
    assert summary["exit_code"] == 0
    assert bucket_writes(fake_proxy) == []
    assert fake_proxy.calls()[0] == f"GET /storage/v1/b/{bucket_name}"


def test_a_held_lock_stops_apply(stack_tree, provision_cli, fake_gcs: ServerProcess, bucket_name: str) -> None:  # type: ignore[no-untyped-def]
    # fake-gcs-server enforces ifGenerationMatch=0, so terraform's gcs lock is real here.
    stack_tree.component("app", MAIN_TF)
    stack_tree.stack("dev", gcs_stack("dev", fake_gcs.url, bucket_name))
    provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"])
    lock = {"ID": "11111111-2222-3333-4444-555555555555", "Operation": "OperationTypeApply", "Who": "someone@elsewhere", "Version": "1.11.0"}
    sdk_client(fake_gcs.url).bucket(bucket_name).blob("dev/app/dev.tflock").upload_from_string(json.dumps(lock))

    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve", "--", "-lock-timeout=0s"], exit_code=None)

    assert result.exit_code != 0
    assert "lock" in result.output.lower() and "someone@elsewhere" in result.output


def test_permission_error_stops_before_terraform_init(stack_tree, provision_cli, fake_proxy: RecordingProxy, bucket_name: str) -> None:  # type: ignore[no-untyped-def]
    fake_proxy.fail("GET", r"^/storage/v1/b/[^/]+$", 403)  # proxy-injected
    folder = stack_tree.component("app", MAIN_TF)
    stack_tree.stack("dev", gcs_stack("dev", fake_proxy.url, bucket_name))

    result = provision_cli.run(["terraform", "apply", "app", "-s", "dev", "--auto-approve"], exit_code=3)

    assert "backend-gcs" in result.stderr and "storage.buckets.get" in result.stderr
    assert not (folder / ".terraform").exists(), "terraform init never ran"


def test_raw_terraform_uses_a_bucket_the_provisioner_created(fake_gcs: ServerProcess, bucket_name: str, tmp_path: Path) -> None:
    """Without the CLI: provision the bucket, then plain `terraform init/apply` with the gcs backend."""
    result = run(fake_gcs.url, bucket_name, {"skip": FAKE_GCS_SKIPS})
    assert result.status.value == "created" and result.warnings == ()
    (tmp_path / "main.tf").write_text('terraform {\n  backend "gcs" {}\n}\n' + MAIN_TF)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    config = [f"-backend-config=bucket={bucket_name}", "-backend-config=prefix=raw", f"-backend-config=storage_custom_endpoint={fake_gcs.url}/storage/v1/",
              "-backend-config=access_token=dummy"]  # fmt: skip
    subprocess.run(["terraform", "init", "-input=false", *config], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run(["terraform", "apply", "-input=false", "-auto-approve", "-var=stage=dev", "-var=name=raw"], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert state_objects(fake_gcs.url, bucket_name) == ["raw/default.tfstate"]


def test_two_components_sharing_an_org_level_backend_get_two_state_objects(
    stack_tree, provision_cli, fake_gcs: ServerProcess, bucket_name: str  # type: ignore[no-untyped-def]
) -> None:
    """Atmos's layout: one bucket, no prefix in the stack; each component's prefix defaults to its name."""
    stack_tree.component("vpc", MAIN_TF)
    stack_tree.component("eks", MAIN_TF)
    stack = gcs_stack("dev", fake_gcs.url, bucket_name)
    del stack["backend"]["gcs"]["prefix"]
    app = stack["components"]["terraform"].pop("app")
    stack["components"]["terraform"] = {"vpc": {**app, "vars": {"name": "vpc-dev"}}, "eks": {**app, "vars": {"name": "eks-dev"}}}
    stack_tree.stack("dev", stack)

    for component in ("vpc", "eks"):
        provision_cli.run(["terraform", "apply", component, "-s", "dev", "--auto-approve"])

    states = [name for name in state_objects(fake_gcs.url, bucket_name) if not name.endswith("/default.tfstate")]
    assert states == ["eks/dev.tfstate", "vpc/dev.tfstate"]
    for component in ("vpc", "eks"):
        state = json.loads(sdk_client(fake_gcs.url).bucket(bucket_name).blob(f"{component}/dev.tfstate").download_as_bytes())
        assert state["outputs"]["name"]["value"] == f"{component}-dev"
