"""Credentials in URLs and the external id (issue 16, items 9-12), with the real CLI, a moto server and terraform.

A password in every endpoint URL and an ``assume_role.external_id`` are planted; neither may appear in any
output (describe, list, a run, ``--all -o json``, a network error in text, JSON and ``--debug``, terraform's
output). The URL passwords must not reach any file either: terraform reads those endpoints from its
environment. The external id has no variable in terraform's s3 backend: it stays in backend.tf.json (mode
0600), and terraform copies it into .terraform/terraform.tfstate (docs/backends/s3.md says so).
"""

from __future__ import annotations

import json
import re

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner
from support.servers import free_port

URL_PASSWORD = "Url-Planted-Pa55"
DOWN_PASSWORD = "Down-Planted-Pa55"
EXTERNAL_ID = "Ext-Id-Planted-77"
AWS_SECRET = "Aws-Planted-Secret-999"
PLANTED = (URL_PASSWORD, DOWN_PASSWORD, EXTERNAL_ID, AWS_SECRET)


def _s3(bucket: str, endpoint: str) -> dict:
    return {"bucket": bucket, "key": "app.tfstate", "region": "us-east-1", "use_lockfile": True, "use_path_style": True,
            "endpoints": {"s3": endpoint, "sts": endpoint, "dynamodb": endpoint},
            "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True,
            "skip_region_validation": True, "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/terraform", "external_id": EXTERNAL_ID}}  # fmt: skip


@pytest.fixture
def project(stack_tree, moto_server):
    stack_tree.component("app", 'resource "terraform_data" "this" { input = "x" }\n')
    port = moto_server.url.rsplit(":", 1)[1]
    auth = {"providers": {"aws": {"type": "static", "access_key_id": "AKIAURLS", "secret_access_key": AWS_SECRET}}}
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {
        "app": {"backend_type": "s3", "backend": {"s3": _s3("urls-planted", f"http://ci-user:{URL_PASSWORD}@127.0.0.1:{port}")},
                # moto cannot evaluate aws:SecureTransport: without the TLS statement terraform can read the state over HTTP.
                "provision": {"backend": {"enabled": True, "skip": ["tls_policy"]}}, "auth": auth},
        "down": {"backend_type": "s3", "backend": {"s3": _s3("urls-down", f"http://ci-user:{DOWN_PASSWORD}@127.0.0.1:{free_port()}")},
                 "provision": {"backend": {"enabled": True, "retries": 1}}, "auth": auth},
    }}})  # fmt: skip
    return stack_tree


def test_url_passwords_and_the_external_id_appear_in_no_output(project):
    cli = CliRunner(project.root, PluginRegistry(environ={}))
    env = {"CHECKPOINT_DISABLE": "1"}
    runs = {
        "describe": cli.run(["describe", "app", "-s", "dev"], env=env),
        "describe-json": cli.run(["describe", "app", "-s", "dev", "-o", "json"], env=env),
        "list": cli.run(["list", "components", "-o", "json"], env=env),
        "backend": cli.run(["backend", "app", "-s", "dev"], env=env),
        "backend-json": cli.run(["backend", "app", "-s", "dev", "-o", "json"], env=env),
        "all-json": cli.run(["backend", "--all", "-o", "json"], exit_code=5, env=env),
        "down": cli.run(["backend", "down", "-s", "dev"], exit_code=5, env=env),
        "down-json": cli.run(["backend", "down", "-s", "dev", "-o", "json"], exit_code=5, env=env),
        "down-debug": cli.run(["--debug", "backend", "down", "-s", "dev"], exit_code=5, env=env),
        "plan": cli.run(["terraform", "plan", "app", "-s", "dev"], env=env),
        "plan-json": cli.run(["terraform", "plan", "app", "-s", "dev", "-o", "json"], env=env),
    }
    for name, result in runs.items():
        for secret in PLANTED:
            assert secret not in result.output, f"{secret} printed by {name}"
    assert "Traceback" in runs["down-debug"].stderr  # --debug printed one, redacted
    assert "127.0.0.1" in runs["down"].stderr and "ci-user:***@127.0.0.1" in runs["down"].stderr  # the hint still names the endpoint

    described = json.loads(runs["describe-json"].stdout)["backend"]
    assert {key: url.split("@")[0] for key, url in described["endpoints"].items()} == dict.fromkeys(("s3", "sts", "dynamodb"), "http://ci-user:***")
    assert described["assume_role"]["external_id"] == "***"

    # --all: the identity masks what describe masks, and carries no digest of the auth section.
    unit = next(u for u in json.loads(runs["all-json"].stdout)["units"] if u["components"] == ["dev/app"])
    identity = unit["identity"]
    assert identity["backend"]["assume_role"]["external_id"] == "***"
    assert identity["backend"]["endpoints"]["s3"].startswith("http://ci-user:***@")
    assert identity["auth"] == {"providers": {"aws": {"type": "static", "access_key_id": "AKIAURLS", "secret_access_key": "***"}}}
    assert not re.search(r'"[0-9a-f]{16}"', json.dumps(identity))


def test_url_passwords_reach_terraform_through_its_environment_and_no_file(project):
    cli = CliRunner(project.root, PluginRegistry(environ={}))
    cli.run(["terraform", "plan", "app", "-s", "dev"], env={"CHECKPOINT_DISABLE": "1"})  # terraform reached moto through the variables
    folder = project.root / "components" / "terraform" / "app"
    backend = folder / "backend.tf.json"
    settings = json.loads(backend.read_text())["terraform"]["backend"]["s3"]
    assert "endpoints" not in settings  # every endpoint carried a password: all three moved to AWS_ENDPOINT_URL_*
    assert settings["assume_role"]["external_id"] == EXTERNAL_ID  # no variable exists for it: kept, privately
    assert backend.stat().st_mode & 0o777 == 0o600
    for path in (p for p in folder.rglob("*") if p.is_file()):
        assert URL_PASSWORD.encode() not in path.read_bytes(), f"the URL password was written to {path.relative_to(folder)}"
