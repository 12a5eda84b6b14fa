"""An environment's files, stacks and names are matched by exact identity, never by substring (issue 17, item 3).

Property tests over random source/target names where one contains the other as a name part
(``dev`` / ``feature-dev-tools``, ``dev-tools`` / ``dev``): verify finds no false violation, a
third environment cloned from the source gets only the source's files, and destroy of either
lists only its own components.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner_core import PluginRegistry, Provisioning
from provisioner_core.testing import CliRunner, StackTree
from provisioner_env.create import create_environment
from provisioner_env.destroy import plan_destroy
from provisioner_env.verify import verify_environment

TEST_ONLY_PLUGINS = "provisioner-test-contract,provisioner-test-events"


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry(environ={"PROVISIONER_BLOCK_PLUGINS": TEST_ONLY_PLUGINS}).load()


def atmos_stack(env: str) -> str:
    return f"""\
# {env}: named in values, paths and URLs
vars:
  stage: {env}
  namespace: acme
backend_type: s3
backend:
  s3:
    bucket: acme-{env}-tfstate
    key: app/terraform.tfstate
    region: us-east-1
components:
  terraform:
    app:
      vars:
        name: acme-app-{env}
        url: https://api.{env}.example.com/{env}
        queue: "{env}-jobs"
        tags: {{Env: {env}, Team: platform}}
    worker:
      vars:
        name: acme-worker-{env}
"""


def atmos_project(root: Path, source: str) -> StackTree:
    tree = StackTree(root, config={"environments": {"naming": {"vars": ["stage"]}, "protected": []}})
    tree.component("app")
    tree.component("worker")
    tree.file(f"stacks/{source}.yaml", atmos_stack(source))
    return tree


def plain_project(root: Path, source: str) -> Path:
    folder = root / "terraform"
    folder.mkdir(parents=True)
    (root / "provisioner.yaml").write_text("environments:\n  protected: []\n")
    (folder / "main.tf").write_text('terraform {\n  backend "local" {}\n}\nvariable "environment" { type = string }\n')
    (folder / f"terraform.{source}.tfvars").write_text(
        f'environment = "{source}"\nname = "acme-app-{source}"\nurl = "https://api.{source}.example.com/{source}"\ntags = {{ Env = "{source}" }}\n'
    )
    (folder / f"backend.{source}.hcl").write_text(f'path = "{source}.terraform.tfstate"\n')
    return root


_word = st.from_regex(r"[a-z][a-z0-9]{1,5}", fullmatch=True)


@st.composite
def nested_names(draw: st.DrawFn) -> tuple[str, str, str]:
    """(source, target, unrelated): one of source/target contains the other as a name part."""
    inner = draw(_word)
    a, b = draw(_word), draw(_word)
    outer = "-".join(draw(st.sampled_from([[a, inner, b], [a, inner], [inner, b]])))
    source, target = draw(st.sampled_from([(inner, outer), (outer, inner)]))
    other = "zq" + draw(_word)
    parts = set(outer.split("-"))
    if other in parts or inner == outer or any(p.startswith("zq") for p in parts):
        other = "zqzq"
    return source, target, other


def _fresh(root: Path, registry: PluginRegistry) -> Provisioning:
    return Provisioning.from_path(cwd=root, registry=registry)


def _check_identity(root: Path, registry: PluginRegistry, source: str, target: str, other: str, files_of) -> None:  # noqa: ANN001
    verified = verify_environment(_fresh(root, registry), target, source)
    assert verified.violations == [], verified.to_dict()
    third = create_environment(_fresh(root, registry), other, source)
    assert sorted(third.written) == files_of(other)
    for env in (source, target, other):
        assert sorted(plan_destroy(_fresh(root, registry), env)[0].files) == files_of(env)


@settings(max_examples=20)
@given(nested_names())
def test_atmos_names_where_one_contains_the_other(registry, names):
    source, target, other = names
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        atmos_project(root, source)
        created = create_environment(_fresh(root, registry), target, source)
        assert created.written == [f"stacks/{target}.yaml"]
        text = (root / "stacks" / f"{target}.yaml").read_text()
        assert f"url: https://api.{target}.example.com/{target}" in text and f"bucket: acme-{target}-tfstate" in text
        _check_identity(root, registry, source, target, other, lambda env: [f"stacks/{env}.yaml"])
        destroyed = plan_destroy(_fresh(root, registry), source)[0]
        assert sorted(destroyed.components) == [f"{source}/app", f"{source}/worker"]


@settings(max_examples=20)
@given(nested_names())
def test_plain_terraform_names_where_one_contains_the_other(registry, names):
    source, target, other = names
    with tempfile.TemporaryDirectory() as tmp:
        root = plain_project(Path(tmp) / "p", source)
        created = create_environment(_fresh(root, registry), target, source)
        assert sorted(created.written) == sorted([f"terraform/terraform.{target}.tfvars", f"terraform/backend.{target}.hcl"])
        assert f'url = "https://api.{target}.example.com/{target}"' in (root / "terraform" / f"terraform.{target}.tfvars").read_text()
        _check_identity(root, registry, source, target, other, lambda env: [f"terraform/backend.{env}.hcl", f"terraform/terraform.{env}.tfvars"])


def test_the_issue_case_feature_dev_tools_from_dev(tmp_path, registry):
    """feature/dev-tools from dev: no false violation; qa from dev plans only qa's file; destroy dev lists only dev's."""
    tree = atmos_project(tmp_path / "p", "dev")
    cli = CliRunner(tree.root, registry)
    cli.run(["env", "create", "feature/dev-tools", "--from", "dev"])
    assert "stage: feature-dev-tools" in (tree.root / "stacks" / "feature-dev-tools.yaml").read_text()
    verified = json.loads(cli.run(["env", "verify", "feature-dev-tools", "--against", "dev", "-o", "json"]).stdout)
    assert verified["ok"] is True and verified["violations"] == []
    planned = json.loads(cli.run(["env", "create", "qa", "--from", "dev", "--dry-run", "-o", "json"]).stdout)
    assert [f["target"] for f in planned["files"]] == ["stacks/qa.yaml"]
    destroy = json.loads(cli.run(["env", "destroy", "dev", "-o", "json"], exit_code=2).stdout)
    assert sorted(destroy["components"]) == ["dev/app", "dev/worker"] and destroy["files"] == ["stacks/dev.yaml"]
