"""The `provision` CLI with this plugin installed, on a tiny stack tree, against the moto server.

The terraform test runs the real terraform binary with the table this plugin created as its
lock table. moto cannot evaluate aws:SecureTransport, so terraform's plain-HTTP state writes
would be refused by the TLS-only statement: that stack skips ``tls_policy`` (the statement is
asserted in test_bucket.py).
"""

from __future__ import annotations

import json
import shutil
import socket
from typing import Any

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner
from support.s3_helpers import ACCESS_KEY, SECRET_KEY


def _stack(backend: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "vars": {"stage": "dev"},
        "components": {
            "terraform": {
                "vpc": {
                    "backend_type": "s3",
                    "backend": {"s3": backend},
                    "provision": {"backend": {"enabled": True, **(options or {})}},
                    "auth": {"providers": {"aws": {"type": "static", "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}}},
                }
            }
        },
    }


def _backend(endpoint: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "bucket": bucket,
        "key": "vpc/terraform.tfstate",
        "region": "eu-west-1",
        "use_path_style": True,
        "endpoints": {"s3": endpoint, "dynamodb": endpoint, "sts": endpoint},
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        **extra,
    }


@pytest.fixture
def cli(stack_tree):  # type: ignore[no-untyped-def]
    stack_tree.component("vpc", 'resource "terraform_data" "this" { input = "vpc" }\noutput "id" { value = terraform_data.this.id }\n')
    return CliRunner(stack_tree.root, PluginRegistry(environ={"PROVISIONER_LOAD_PLUGINS": "backend-s3"}))


def test_dry_run_then_create_then_unchanged_through_the_cli(cli, stack_tree, proxy, bucket):
    stack_tree.stack("dev", _stack(_backend(proxy.url, bucket, use_lockfile=True), {"tags": {"Team": "platform"}}))

    planned = json.loads(cli.run(["backend", "vpc", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert proxy.writes() == []
    created = cli.run(["backend", "vpc", "-s", "dev"])
    proxy.reset()
    again = cli.run(["backend", "vpc", "-s", "dev"])

    (result,) = planned["results"]
    assert result["status"] == "planned" and result["provisioner"] == "backend-s3"
    assert [a["verb"] for a in result["actions"]][:2] == ["create-bucket", "put-bucket-versioning"]
    assert result["details"]["tags"] == "ManagedBy=provisioner, Purpose=terraform-state, Team=platform"
    assert f"created s3://{bucket}" in created.stdout
    assert f"unchanged s3://{bucket}" in again.stdout
    assert proxy.writes() == []
    for output in (created.output, again.output, json.dumps(planned)):
        assert SECRET_KEY not in output


def test_config_error_exits_2_with_the_rule(cli, stack_tree, proxy):
    stack_tree.stack("dev", _stack(_backend(proxy.url, "Acme_TFState", use_lockfile=True)))

    result = cli.run(["backend", "vpc", "-s", "dev"], exit_code=2)

    assert "only lowercase letters, digits, hyphens and dots are allowed" in result.stderr
    assert proxy.calls == []
    assert SECRET_KEY not in result.output


def test_unreachable_endpoint_exits_5_naming_it(cli, stack_tree, bucket):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stack_tree.stack("dev", _stack(_backend(endpoint, bucket, use_lockfile=True), {"attempts": 1, "connect_timeout": 1}))

    result = cli.run(["backend", "vpc", "-s", "dev", "-o", "json"], exit_code=5)

    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 5 and endpoint in error["message"]


@pytest.mark.terraform
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on the PATH")
def test_terraform_apply_uses_the_lock_table_it_created(cli, stack_tree, moto, admin, bucket, table, monkeypatch):
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    # skip tls_policy: moto refuses every plain-HTTP object call once the TLS-only statement exists.
    stack_tree.stack("dev", _stack(_backend(moto.url, bucket, dynamodb_table=table), {"skip": ["tls_policy"]}))

    result = cli.run(["terraform", "apply", "vpc", "-s", "dev", "--auto-approve", "-o", "json"])

    summary = json.loads(result.stdout)
    assert summary["results"][0]["status"] == "created"
    # Workspace dev, workspace_key_prefix vpc (Atmos's defaults): vpc/dev/<key>.
    state = json.loads(admin().get_object(Bucket=bucket, Key="vpc/dev/vpc/terraform.tfstate")["Body"].read())
    assert state["outputs"]["id"]["value"]
    # terraform took its lock in our table (and left the state digest item behind).
    items = admin("dynamodb").scan(TableName=table)["Items"]
    assert any(item["LockID"]["S"] == f"{bucket}/vpc/dev/vpc/terraform.tfstate-md5" for item in items)
