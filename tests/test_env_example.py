"""The shipped examples (examples/environments) work as their README says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner_core.testing import CliRunner

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "environments"


@pytest.fixture
def example(tmp_path, provisioner_registry):
    def copy(name: str) -> tuple[Path, CliRunner]:
        root = tmp_path / name
        shutil.copytree(EXAMPLES / name, root)
        return root, CliRunner(root, provisioner_registry)

    return copy


def test_atmos_example(example):
    root, cli = example("atmos")
    plan = json.loads(cli.run(["env", "create", "feature/auth", "--dry-run", "-o", "json"]).stdout)
    assert plan["target"] == "feature-auth" and plan["cost"]["delta_per_month"] == 43.0
    assert [f["target"] for f in plan["files"]] == ["stacks/feature-auth.yaml", "stacks/mixins/stage/feature-auth.yaml"]
    # The stack loader reads `!env`, so isolated secrets become references to FEATURE_AUTH_* variables, not placeholders.
    assert plan["placeholders"] == []
    assert {s["key"]: s["variable"] for s in plan["secrets"]} == {
        "LINE_CHANNEL_ACCESS_TOKEN": "FEATURE_AUTH_LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_CHANNEL_SECRET": "FEATURE_AUTH_LINE_CHANNEL_SECRET",
        "AURORA_HOST": "FEATURE_AUTH_AURORA_HOST",
    }
    assert plan["components"] == [{"stack": "feature-auth", "component": "watchlist"}, {"stack": "feature-auth", "component": "line-bot"}]
    cli.run(["env", "create", "feature/auth"])
    text = (root / "stacks" / "feature-auth.yaml").read_text()
    assert "LINE_CHANNEL_ACCESS_TOKEN: !env FEATURE_AUTH_LINE_CHANNEL_ACCESS_TOKEN" in text and "AURORA_HOST: !env FEATURE_AUTH_AURORA_HOST" in text
    cli.run(["env", "verify", "feature-auth"])
    destroy = cli.run(["env", "destroy", "feature-auth"], exit_code=2)
    assert "terraform destroy, in this order:\n    - feature-auth/line-bot\n    - feature-auth/watchlist" in destroy.stdout
    assert "protected" in cli.run(["env", "destroy", "prod", "--force"], exit_code=2).stderr


def test_tfvars_example(example):
    root, cli = example("tfvars")
    cli.run(["env", "create", "feature/auth"])
    backend = (root / "terraform" / "backend.feature-auth.hcl").read_text()
    assert backend.endswith('key = "feature-auth/terraform.tfstate"\n')
    source = (root / "terraform" / "terraform.dev.tfvars").read_text().splitlines()
    clone = (root / "terraform" / "terraform.feature-auth.tfvars").read_text().splitlines()
    assert [i for i, (a, b) in enumerate(zip(source, clone, strict=True)) if a != b] == [4, 20]
    assert clone[20].startswith("# line_channel_access_token: from TF_VAR_line_channel_access_token (isolated: a new value for feature-auth")
    assert json.loads(cli.run(["env", "verify", "feature-auth", "-o", "json"]).stdout)["violations"] == []  # the token is a reference, not a file value


def test_the_ci_workflow_is_valid_yaml_and_uses_the_commands():
    from ruamel.yaml import YAML

    workflow = YAML(typ="safe").load((EXAMPLES / "feature-env.yml").read_text())
    steps = "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])
    for command in ("provision env create", "--provision", "provision env verify", "provision terraform apply", "provision env destroy"):
        assert command in steps
