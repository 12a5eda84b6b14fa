"""No planted secret value appears in any output: text, JSON, dry run, describe, errors, debug, traces, generated files.

Runs the real CLI against a moto server (S3) and the real terraform binary.
"""

from __future__ import annotations

import pytest

from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner

SECRETS = {
    "aws": "Aws-Planted-Secret-111",
    "session": "Aws-Planted-Session-222",
    "var": "Var-Planted-Password-333",
    "env": "Env-Planted-Token-444",
    "backend": "Backend-Planted-Key-555",
    "hook": "Hook-Planted-Secret-666",
}

MAIN_TF = """
variable "stage" { type = string }
variable "db_password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "this" { input = var.stage }
"""


@pytest.fixture
def project(stack_tree, moto_server):
    stack_tree.component("app", MAIN_TF)
    s3 = {"bucket": "secrets-scan-bucket", "key": "app.tfstate", "region": "us-east-1", "use_lockfile": True,
          "endpoints": {"s3": moto_server.url, "sts": moto_server.url}, "use_path_style": True,
          "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True,
          "skip_region_validation": True, "secret_key": SECRETS["backend"]}
    stack_tree.stack("dev", {
        "vars": {"stage": "dev"},
        "components": {"terraform": {
            "app": {
                "backend_type": "s3",
                "backend": {"s3": s3},
                "vars": {"db_password": SECRETS["var"]},
                "env": {"API_TOKEN": SECRETS["env"]},
                "provision": {"backend": {"enabled": True, "skip": ["tls_policy"]}},
                "auth": {"providers": {"aws": {"type": "static", "access_key_id": "AKIASCAN", "secret_access_key": SECRETS["aws"], "session_token": SECRETS["session"]}}},
                "hooks": {"echo": {"events": ["after.terraform.plan"], "command": f"echo hook sees $API_TOKEN {SECRETS['hook']}"}},
                "settings": {"webhook": {"password": SECRETS["hook"]}},
            },
            "broken": {
                "backend_type": "s3",
                "backend": {"s3": {**s3, "bucket": "Bad_Bucket"}},
                "provision": {"backend": {"enabled": True}},
                "auth": {"providers": {"aws": {"type": "static", "access_key_id": "AKIASCAN", "secret_access_key": SECRETS["aws"]}}},
            },
        }},
    })
    return stack_tree


COMMANDS = [
    (["describe", "app", "-s", "dev"], 0),
    (["describe", "app", "-s", "dev", "-o", "json"], 0),
    (["list", "components", "-o", "json"], 0),
    (["backend", "app", "-s", "dev", "--dry-run"], 0),
    (["backend", "app", "-s", "dev", "--dry-run", "-o", "json"], 0),
    (["backend", "app", "-s", "dev"], 0),
    (["backend", "app", "-s", "dev", "-o", "json"], 0),
    (["backend", "--all", "-o", "json"], 2),
    (["backend", "broken", "-s", "dev"], 2),
    (["--debug", "backend", "broken", "-s", "dev", "-o", "json"], 2),
    (["terraform", "plan", "app", "-s", "dev"], 0),
    (["terraform", "plan", "app", "-s", "dev", "-o", "json"], 0),
]


def test_no_secret_in_any_output_or_written_file(project):
    cli = CliRunner(project.root, PluginRegistry(environ={"PROVISIONER_TRACE_PLUGINS": "1"}))
    outputs = []
    for args, code in COMMANDS:
        result = cli.run(args, exit_code=code, env={"CHECKPOINT_DISABLE": "1", "PROVISIONER_TRACE_PLUGINS": "1"})
        outputs.append((args, result.stdout + result.stderr))
    assert any("[trace]" in text for _, text in outputs), "hook tracing was on"
    assert any("Traceback" in text for _, text in outputs), "--debug printed a traceback"
    assert any("hook sees ***" in text for _, text in outputs), "the user hook ran and its output was redacted"
    for args, text in outputs:
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} secret leaked by `provision {' '.join(args)}`"
    written = [p for p in project.root.rglob("*") if p.is_file() and "stacks" not in p.relative_to(project.root).parts]
    assert any(p.name == "backend.tf.json" for p in written)
    for path in written:
        data = path.read_bytes()
        for name, secret in SECRETS.items():
            assert secret.encode() not in data, f"{name} secret written to {path.relative_to(project.root)}"
