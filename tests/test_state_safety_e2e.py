"""State safety end to end (issue 12): real terraform, a real moto server, an Atmos org-level backend.

The usual Atmos layout: one bucket and `key: terraform.tfstate` in the defaults, two components
in two stacks. Each component's state must land at Atmos's object (<component>/<stack>/key),
and a stack that would share another's state must stop before anything is written.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.terraform

MAIN_TF = """
variable "who" { type = string }
variable "stage" { type = string }
resource "terraform_data" "this" { input = var.who }
output "who" { value = terraform_data.this.output }
"""
KEY_ID, SECRET = "AKIASTATESAFETY", "state-Safety-Secret-55"


def defaults(endpoint: str, bucket: str) -> dict:
    return {
        "backend_type": "s3",
        "backend": {"s3": {
            "bucket": bucket, "key": "terraform.tfstate", "region": "us-east-1", "use_lockfile": True,
            "endpoints": {"s3": endpoint, "sts": endpoint}, "use_path_style": True,
            "skip_credentials_validation": True, "skip_requesting_account_id": True, "skip_metadata_api_check": True, "skip_region_validation": True,
        }},
        "auth": {"providers": {"aws": {"type": "static", "access_key_id": KEY_ID, "secret_access_key": SECRET}}},
        # moto cannot evaluate aws:SecureTransport (REFERENCE.md): the TLS statement is asserted in the S3 tests.
        "terraform": {"provision": {"backend": {"enabled": True, "skip": ["tls_policy"]}}},
    }


def stage(name: str, components: dict | None = None, **extra) -> dict:
    return {"import": ["catalog/defaults"], "vars": {"stage": name},
            "components": {"terraform": components or {"vpc": {"vars": {"who": f"vpc-{name}"}}, "eks": {"vars": {"who": f"eks-{name}"}}}}, **extra}


@pytest.fixture
def project(stack_tree, moto_server, request):
    stack_tree.component("vpc", MAIN_TF)
    stack_tree.component("eks", MAIN_TF)
    stack_tree.bucket = "st-" + request.node.name.replace("_", "-")[5:40].strip("-").lower()
    stack_tree.stack("catalog/defaults", defaults(moto_server.url, stack_tree.bucket))
    stack_tree.stack("dev", stage("dev"))
    stack_tree.stack("prod", stage("prod"))
    return stack_tree


@pytest.fixture
def provision_cli(stack_tree):
    from provisioner_core.plugins import PluginRegistry
    from provisioner_core.testing import CliRunner

    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


@pytest.fixture
def counting_terraform(tmp_path):
    """A terraform on PATH-less disk that records each start, then runs the real one."""
    log = tmp_path / "terraform-starts.log"
    wrapper = tmp_path / "bin" / "terraform"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {shutil.which("terraform")} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return wrapper, log


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def objects(endpoint: str, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3(endpoint).list_objects_v2(Bucket=bucket).get("Contents", []))


def state(endpoint: str, bucket: str, key: str) -> dict:
    return json.loads(s3(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read())


def written(root: Path) -> list[str]:
    folders = root / "components" / "terraform"
    return sorted(str(p.relative_to(folders)) for p in folders.rglob("*") if p.name != "main.tf" and p.is_file() or p.name == ".terraform")


def test_an_org_level_backend_gives_every_component_its_own_state(project, provision_cli, moto_server):
    for stack in ("dev", "prod"):
        for component in ("vpc", "eks"):
            summary = json.loads(provision_cli.run(["terraform", "apply", component, "-s", stack, "--auto-approve", "-o", "json"]).stdout)
            assert summary["workspace"] == stack
            assert ["workspace", "select", "-or-create", "-no-color", stack] in [c["args"] for c in summary["terraform"]]
    keys = objects(moto_server.url, project.bucket)
    assert keys == ["eks/dev/terraform.tfstate", "eks/prod/terraform.tfstate", "vpc/dev/terraform.tfstate", "vpc/prod/terraform.tfstate"]
    for key in keys:
        component, stack, _ = key.split("/")
        assert state(moto_server.url, project.bucket, key)["outputs"]["who"]["value"] == f"{component}-{stack}"
    # A second plan of each: no changes (-detailed-exitcode 0), so nothing overwrote anything.
    for stack in ("dev", "prod"):
        for component in ("vpc", "eks"):
            again = json.loads(provision_cli.run(["terraform", "plan", component, "-s", stack, "-o", "json", "--", "-detailed-exitcode"]).stdout)
            assert again["exit_code"] == 0, again
    assert SECRET not in json.dumps(keys)


def test_a_hand_copied_stack_sharing_devs_state_stops_before_anything_runs(project, provision_cli, moto_server, counting_terraform):
    wrapper, log = counting_terraform
    # A copy of dev that pins dev's workspace: it would plan and apply against dev's state.
    project.stack("feature-y", stage("feature-y", {"vpc": {"vars": {"who": "vpc-feature-y"}, "metadata": {"terraform_workspace": "dev"}}}))
    before = written(project.root)

    result = provision_cli.run(["terraform", "plan", "vpc", "-s", "feature-y", "--terraform-bin", str(wrapper)], exit_code=4)
    assert "state collision: component 'vpc' in stack 'feature-y' and component 'vpc' in stack 'dev'" in result.stderr
    assert f"s3://{project.bucket}/vpc/dev/terraform.tfstate" in result.stderr and "Hint:" in result.stderr
    assert not log.exists(), "terraform never started"
    assert written(project.root) == before, "nothing was written"
    assert s3(moto_server.url).list_buckets()["Buckets"] == [] or project.bucket not in [b["Name"] for b in s3(moto_server.url).list_buckets()["Buckets"]]

    for args in (["backend", "vpc", "-s", "feature-y"], ["backend", "--all"], ["backend", "--all", "-s", "dev"]):
        refused = provision_cli.run(args, exit_code=4)
        assert "state collision" in refused.stderr, args
    assert project.bucket not in [b["Name"] for b in s3(moto_server.url).list_buckets()["Buckets"]], "no backend was provisioned"


def test_workspace_pattern_literal_and_workspaces_off(project, provision_cli, moto_server):
    project.stack("dev", stage("dev", {
        "vpc": {"vars": {"who": "vpc-dev", "tenant": "acme"}, "metadata": {"terraform_workspace_pattern": "{tenant}-{stage}"}},
        "eks": {"vars": {"who": "eks-dev"}, "metadata": {"terraform_workspace": "blue"}},
    }))
    provision_cli.run(["terraform", "apply", "vpc", "-s", "dev", "--auto-approve"])
    provision_cli.run(["terraform", "apply", "eks", "-s", "dev", "--auto-approve"])
    assert objects(moto_server.url, project.bucket) == ["eks/blue/terraform.tfstate", "vpc/acme-dev/terraform.tfstate"]

    # Workspaces off (atmos.yaml): the default workspace, the key itself; give each component its own key.
    project.config["components"]["terraform"]["workspaces_enabled"] = False
    project.write_config()
    project.stack("prod", stage("prod", {"vpc": {"vars": {"who": "vpc-prod"}, "backend": {"s3": {"key": "prod/vpc.tfstate"}}}}))
    summary = json.loads(provision_cli.run(["terraform", "apply", "vpc", "-s", "prod", "--auto-approve", "-o", "json"]).stdout)
    assert summary["workspace"] == "default" and [c["args"][0] for c in summary["terraform"]] == ["init", "apply"]
    assert "prod/vpc.tfstate" in objects(moto_server.url, project.bucket)


def test_disabled_components_are_listed_skipped_and_refused(project, provision_cli, moto_server):
    project.stack("prod", stage("prod", metadata={"enabled": False}))
    rows = json.loads(provision_cli.run(["list", "components", "-o", "json"]).stdout)["components"]
    assert {(r["stack"], r["component"]): r["disabled"] for r in rows} == {
        ("dev", "eks"): False, ("dev", "vpc"): False, ("prod", "eks"): True, ("prod", "vpc"): True}
    assert "prod\tvpc\ts3\tbackend (disabled)" in provision_cli.run(["list", "components"]).stdout

    batch = json.loads(provision_cli.run(["backend", "--all", "--dry-run", "-o", "json"]).stdout)
    assert {(s["stack"], s["component"], s["reason"]) for s in batch["skipped"]} == {
        ("prod", "vpc", "disabled (metadata.enabled: false)"), ("prod", "eks", "disabled (metadata.enabled: false)")}
    for args in (["backend", "vpc", "-s", "prod"], ["terraform", "plan", "vpc", "-s", "prod"]):
        refused = provision_cli.run(args, exit_code=2)
        assert "is disabled (metadata.enabled: false)" in refused.stderr and "Hint:" in refused.stderr
    assert written(project.root) == []


def test_dry_run_prints_the_commands_and_writes_nothing(project, provision_cli, moto_server):
    text = provision_cli.run(["terraform", "apply", "vpc", "-s", "dev", "--auto-approve", "--dry-run"]).stdout
    assert "planned s3://" in text and "Workspace: dev" in text
    assert "terraform init -reconfigure -input=false -no-color" in text  # not a terminal: -no-color
    assert "terraform workspace select -or-create -no-color dev" in text
    assert "terraform apply -input=false -var-file=dev-vpc.terraform.tfvars.json -auto-approve -no-color" in text
    summary = json.loads(provision_cli.run(["terraform", "plan", "vpc", "-s", "dev", "--dry-run", "-o", "json"]).stdout)
    assert summary["dry_run"] is True and summary["workspace"] == "dev"
    assert all(c["would_run"] for c in summary["terraform"]) and summary["results"][0]["status"] == "planned"
    assert written(project.root) == []
    assert project.bucket not in [b["Name"] for b in s3(moto_server.url).list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--dry-runn"], "unknown option '--dry-runn'; did you mean --dry-run?"),
        (["-detailed-exitcode"], "unknown option '-detailed-exitcode'"),
        (["extra"], "unexpected extra argument (extra)"),
    ],
)
def test_anything_before_the_double_dash_that_is_not_ours_is_exit_2(project, provision_cli, moto_server, args, error):
    result = provision_cli.run(["terraform", "plan", "vpc", "-s", "dev", *args], exit_code=2)
    assert error in result.stderr and "Hint:" in result.stderr
    assert written(project.root) == []
    assert project.bucket not in [b["Name"] for b in s3(moto_server.url).list_buckets()["Buckets"]], "the provisioners never ran"


def test_auto_generate_backend_file_false_uses_the_components_own_backend(project, provision_cli, tmp_path):
    project.config["components"]["terraform"]["auto_generate_backend_file"] = False
    project.write_config()
    own = tmp_path / "own-state"
    project.component("vpc", 'terraform {\n  backend "local" {\n    workspace_dir = "' + str(own) + '"\n  }\n}\n' + MAIN_TF)
    project.stack("dev", stage("dev", {"vpc": {"vars": {"who": "vpc-dev"}, "provision": {"backend": {"enabled": False}}}}))
    folder = project.root / "components" / "terraform" / "vpc"
    (folder / "backend.tf.json").write_text(json.dumps({"//": "Generated by provisioner from the stack configuration; regenerated on every run. Do not edit."}))
    provision_cli.run(["terraform", "apply", "vpc", "-s", "dev", "--auto-approve"])
    assert not (folder / "backend.tf.json").exists(), "our stale generated file is removed, none is written"
    assert json.loads((own / "dev" / "terraform.tfstate").read_text())["outputs"]["who"]["value"] == "vpc-dev"
