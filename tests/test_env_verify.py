"""`provision env verify`: each invariant, when broken, is reported on its own line (exit 2); all hold -> exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner_core.testing import StackTree

DEV = """\
vars:
  stage: dev
backend_type: s3
backend:
  s3:
    bucket: acme-dev-tfstate
    key: app/terraform.tfstate
components:
  terraform:
    app:
      vars:
        function_name: acme-app-dev
        queue_name: acme-jobs
        owner: platform
      env:
        API_TOKEN: dev-api-token-1234
        LOG_LEVEL: debug
"""
POLICY = {"resources": {
    "function": {"type": "aws_lambda_function", "isolation": "isolated", "vars": ["function_name"]},
    "queue": {"type": "aws_sqs_queue", "isolation": "isolated", "vars": ["queue_name"]},
}, "secrets": {"yaml": "placeholder"}}  # the placeholder check needs placeholders (the default writes `!env` references)


@pytest.fixture
def project(stack_tree: StackTree, provision_cli) -> StackTree:
    stack_tree.config["environments"] = POLICY
    stack_tree.write_config()
    stack_tree.component("app")
    stack_tree.file("stacks/dev.yaml", DEV)
    return stack_tree


def good_target(project: StackTree) -> Path:
    """feature-x as create would write it, with the placeholder filled and the shared-named queue renamed."""
    target = project.root / "stacks" / "feature-x.yaml"
    target.write_text(DEV.replace("dev", "feature-x").replace("feature-x-api-token-1234", "fx-api-token-9876").replace("acme-jobs", "acme-fx-jobs"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_correct_environment_passes(project, provision_cli):
    good_target(project)
    result = provision_cli.run(["env", "verify", "feature-x", "--against", "dev"])
    assert "Environment feature-x passes every check against dev (10 checks, 1 component(s))" in result.stdout
    assert json.loads(provision_cli.run(["env", "verify", "feature-x", "-o", "json"]).stdout) == {
        "source": "dev", "target": "feature-x", "ok": True, "components": 1, "violations": [],
        "checks": ["env-name", "files", "name-limit", "same-name", "same-state", "renamed", "missing-key", "isolated-key", "secret-in-file", "placeholder"],
    }


@pytest.mark.parametrize(
    ("old", "new", "check", "message"),
    [
        ("fx-api-token-9876", "dev-api-token-1234", "isolated-key", "feature-x/app: env.API_TOKEN has the same value as in dev; it is isolated and must be new"),
        ("fx-api-token-9876", "'REQUIRED: a new API_TOKEN'", "placeholder", "feature-x/app: env.API_TOKEN is still a REQUIRED: placeholder"),
        ("        owner: platform\n", "", "missing-key", "feature-x/app: vars.owner is defined in dev (dev/app) but missing"),
        ("LOG_LEVEL: debug", "LEVEL: debug", "missing-key", "feature-x/app: env.LOG_LEVEL is defined in dev (dev/app) but missing"),
        ("acme-app-feature-x", "acme-app-dev", "same-name", "isolated resource function (aws_lambda_function) keeps the name 'acme-app-dev' in both environments"),
        ("acme-fx-jobs", "acme-jobs", "same-name", "isolated resource queue (aws_sqs_queue) keeps the name 'acme-jobs'"),
        ("acme-app-feature-x", "acme-app-for-devices", None, None),
        ("LOG_LEVEL: debug", "LOG_LEVEL: https://logs.dev.example.com", "renamed", "feature-x/app: env.LOG_LEVEL = 'https://logs.dev.example.com' still names dev"),
        # The same bucket alone is not the same state (the workspace differs); the same workspace too is.
        ("bucket: acme-feature-x-tfstate", "bucket: acme-dev-tfstate", "renamed", "feature-x/app: backend.bucket = 'acme-dev-tfstate' still names dev"),
        ("bucket: acme-feature-x-tfstate\n    key: app/terraform.tfstate\ncomponents:\n  terraform:\n    app:\n",
         "bucket: acme-dev-tfstate\n    key: app/terraform.tfstate\ncomponents:\n  terraform:\n    app:\n      metadata: {terraform_workspace: dev}\n", "same-state",
         "feature-x/app keeps its state at s3://acme-dev-tfstate/app/dev/app/terraform.tfstate, the same place as dev/app"),
        ("bucket: acme-feature-x-tfstate", "bucket: Acme_Feature_X", "name-limit", "aws_s3_bucket name 'Acme_Feature_X' (backend.bucket of feature-x/app) has characters"),
        ("acme-app-feature-x", "acme-app-feature-x-" + "x" * 50, "name-limit",
         f"aws_lambda_function name 'acme-app-feature-x-{'x' * 50}' (dev/app -> feature-x/app) is 69 characters, over the limit of 64"),
    ],
)
def test_each_violation_is_reported(project, provision_cli, old, new, check, message):
    edit(good_target(project), old, new)
    if check is None:  # 'devices' is not the environment: no violation
        provision_cli.run(["env", "verify", "feature-x"])
        return
    result = provision_cli.run(["env", "verify", "feature-x"], exit_code=2)
    assert f"[{check}] {message}" in result.stdout
    assert f"Hint: [{check}] {message}" in result.stderr  # one line per violation in the error too
    data = json.loads(provision_cli.run(["env", "verify", "feature-x", "-o", "json"], exit_code=2).stdout)
    assert data["ok"] is False and any(v["check"] == check and message in v["message"] for v in data["violations"])
    assert "dev-api-token-1234" not in result.output


def test_every_violation_is_listed_at_once(project, provision_cli):
    target = good_target(project)
    edit(target, "fx-api-token-9876", "dev-api-token-1234")
    edit(target, "acme-app-feature-x", "acme-app-dev")
    edit(target, "        owner: platform\n", "")
    data = json.loads(provision_cli.run(["env", "verify", "feature-x", "-o", "json"], exit_code=2).stdout)
    assert sorted(v["check"] for v in data["violations"]) == ["isolated-key", "missing-key", "renamed", "renamed", "same-name"]
    result = provision_cli.run(["env", "verify", "feature-x"], exit_code=2)
    assert "Error: environment 'feature-x' fails 5 check(s) against 'dev'" in result.stderr
    assert "[renamed] feature-x/app: env.API_TOKEN = *** still names dev" in result.stdout  # a secret's value is never shown
    assert "dev-api-token-1234" not in result.output


def test_missing_environment_and_invalid_name(project, provision_cli):
    result = provision_cli.run(["env", "verify", "feature-y"], exit_code=2)
    assert "[files] environment 'feature-y' has no files (expected the clones of stacks/dev.yaml)" in result.stdout
    result = provision_cli.run(["env", "verify", "9-lives"], exit_code=2)
    assert "[env-name] environment name '9-lives' is not valid" in result.stdout
    good_target(project)
    edit(project.root / "stacks" / "feature-x.yaml", "    app:\n", "    web:\n")
    result = provision_cli.run(["env", "verify", "feature-x"], exit_code=2)
    assert "[files] feature-x has no component app in stack feature-x" in result.stdout


def test_verify_right_after_create_reports_only_the_placeholders(project, provision_cli):
    provision_cli.run(["env", "create", "feature-x"], exit_code=2)  # acme-jobs is isolated but keeps its name: refused up front
    edit(project.root / "stacks" / "dev.yaml", "acme-jobs", "acme-jobs-dev")
    provision_cli.run(["env", "create", "feature-x"])
    result = provision_cli.run(["env", "verify", "feature-x"], exit_code=2)
    assert result.stdout.splitlines()[1:] == ["  [placeholder] feature-x/app: env.API_TOKEN is still a REQUIRED: placeholder"]
