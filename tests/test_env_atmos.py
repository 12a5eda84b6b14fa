"""`provision env create` on Atmos stacks: round-trip cloning, isolation, state, limits, dry run, overwrite."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from provisioner_core.testing import StackTree

DEV_STACK = """\
# The dev environment of acme. Comments, order and quoting must survive cloning.
import:
  - catalog/app        # shared defaults
  - mixins/stage/dev   # dev-only settings, cloned too
vars:
  stage: dev
  namespace: acme
backend:
  s3:
    bucket: acme-dev-tfstate    # carries the environment
    region: us-east-1
components:
  terraform:
    api:
      metadata:
        component: app            # a folder reference: never renamed
        inherits: [app/defaults]
      settings:
        depends_on:
          1: {component: db}
      vars:
        function_name: "acme-api-dev"
        role_name: 'acme-api-role-dev'
        devices_table: acme-devices    # 'devices' is not the environment
        tags: {Team: devops, Env: dev}
        line_channel_access_token: dev-line-token-1234   # isolated: never copied
        db_password: dev-db-password-5678                # undeclared but secret-looking
        openrouter_api_key: or-shared-key-9999           # declared shared
        description: >-
          The dev API
      provision:
        backend: {enabled: true}
    db:
      vars:
        cluster_name: acme-aurora-dev
"""

CATALOG = """\
backend_type: s3
backend:
  s3:
    key: app/terraform.tfstate
components:
  terraform:
    app/defaults:
      metadata: {type: abstract, component: app}
      vars: {owner: platform}
"""

POLICY = {
    "default_source": "dev",
    "protected": ["prod", "staging"],
    "naming": {"vars": ["stage"]},
    "resources": {
        "api_function": {"type": "aws_lambda_function", "isolation": "isolated", "monthly_cost": 0, "vars": ["function_name"]},
        "api_role": {"type": "aws_iam_role", "isolation": "isolated", "names": ["{namespace}-api-role-{stage}"]},
        "aurora": {"type": "aws_rds_cluster", "isolation": "isolated", "monthly_cost": 43, "vars": ["cluster_name"], "component": "db"},
        "nat": {"type": "aws_nat_gateway", "isolation": "shared", "monthly_cost": 32},
    },
    "keys": {
        "LINE_CHANNEL_ACCESS_TOKEN": {"isolation": "isolated", "hint": "issue a token for a new LINE channel"},
        "OPENROUTER_API_KEY": "shared",
    },
    # These tests check the REQUIRED: placeholder form; the default (`!env` references, the loader reads them) is in test_env_secrets.
    "secrets": {"yaml": "placeholder"},
}
SECRETS = ("dev-line-token-1234", "dev-db-password-5678")


def atmos_project(root: Path, policy: dict | None = None) -> StackTree:
    tree = StackTree(root, config={"environments": policy if policy is not None else POLICY})
    tree.file("stacks/dev.yaml", DEV_STACK)
    tree.file("stacks/catalog/app.yaml", CATALOG)
    tree.file("stacks/mixins/stage/dev.yaml", "vars:\n  log_level: debug   # dev is chatty\n  queue: acme-dev-jobs\n")
    tree.file("stacks/prod.yaml", "import: [catalog/app]\nvars: {stage: prod, namespace: acme}\nbackend: {s3: {bucket: acme-prod-tfstate}}\n"
              "components: {terraform: {api: {metadata: {component: app}}}}\n")
    tree.component("app")
    return tree


@pytest.fixture
def project(stack_tree):
    return atmos_project(stack_tree.root)


def resolved(root: Path, stack: str, component: str):
    """The resolved component, unredacted (describe masks secret-looking keys)."""
    from provisioner_core.session import Provisioning

    return Provisioning.from_path(cwd=root).component(stack, component)


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_create_clones_the_stack_keeping_comments_order_and_quotes(project, provision_cli):
    result = provision_cli.run(["env", "create", "feature-x", "--from", "dev"])
    clone = (project.root / "stacks" / "feature-x.yaml").read_text()
    changed = [line for line in difflib.ndiff(DEV_STACK.splitlines(), clone.splitlines()) if line.startswith(("- ", "+ "))]
    # Only the lines that name the environment (or hold an isolated secret) differ; every comment survives.
    assert [line[2:].strip() for line in changed if line.startswith("- ")] == [
        "- mixins/stage/dev   # dev-only settings, cloned too",
        "stage: dev",
        "bucket: acme-dev-tfstate    # carries the environment",
        'function_name: "acme-api-dev"',
        "role_name: 'acme-api-role-dev'",
        "tags: {Team: devops, Env: dev}",
        "line_channel_access_token: dev-line-token-1234   # isolated: never copied",
        "db_password: dev-db-password-5678                # undeclared but secret-looking",
        "The dev API",
        "cluster_name: acme-aurora-dev",
    ]
    assert '  function_name: "acme-api-feature-x"' in clone and "role_name: 'acme-api-role-feature-x'" in clone
    assert "tags: {Team: devops, Env: feature-x}" in clone and "devices_table: acme-devices" in clone
    assert "component: app            # a folder reference: never renamed" in clone
    assert "1: {component: db}" in clone and "openrouter_api_key: or-shared-key-9999" in clone
    assert "# The dev environment of acme." in clone  # comments are copied, not rewritten
    # The env-only mixin is cloned too, and the import points at the clone; the catalog stays shared.
    assert "- mixins/stage/feature-x   # dev-only settings, cloned too" in clone and "- catalog/app        # shared defaults" in clone
    assert (project.root / "stacks/mixins/stage/feature-x.yaml").read_text() == "vars:\n  log_level: debug   # dev is chatty\n  queue: acme-feature-x-jobs\n"
    assert "Created environment feature-x: 2 file(s) written. 2 REQUIRED placeholder(s)" in result.stdout


def test_isolated_secrets_are_never_copied_anywhere(project, provision_cli):
    result = provision_cli.run(["env", "create", "feature-x", "-o", "json"])
    written = "".join(snapshot(project.root / "stacks").get(p, "") for p in ("feature-x.yaml", "mixins/stage/feature-x.yaml"))
    for secret in SECRETS:
        assert secret not in written and secret not in result.output
    component = resolved(project.root, "feature-x", "api")
    assert component.vars["line_channel_access_token"].startswith("REQUIRED: a new line_channel_access_token for feature-x")
    assert "issue a token for a new LINE channel" in component.vars["line_channel_access_token"]
    assert component.vars["db_password"].startswith("REQUIRED:")
    assert component.vars["openrouter_api_key"] == "or-shared-key-9999"  # shared: the same value
    data = json.loads(result.stdout)
    assert {p["key"] for p in data["placeholders"]} == {"line_channel_access_token", "db_password"}
    rows = {(r["source"], r["action"]) for r in data["mapping"] if r["kind"] == "key"}
    assert ("line_channel_access_token", "NEW credential") in rows and ("openrouter_api_key", "shared") in rows
    # terraform refuses to run while a placeholder is left (the existing check in `provision terraform`).
    refused = provision_cli.run(["terraform", "plan", "api", "-s", "feature-x"], exit_code=2)
    assert "still has required placeholders: vars.line_channel_access_token" in refused.stderr


def test_an_isolated_secret_inherited_from_a_shared_catalog_is_overridden(stack_tree, provision_cli):
    project = atmos_project(stack_tree.root)
    project.file("stacks/catalog/app.yaml", CATALOG + "env:\n  LINE_CHANNEL_ACCESS_TOKEN: catalog-line-token-42\n")
    provision_cli.run(["env", "create", "feature-x"])
    assert resolved(project.root, "feature-x", "api").env["LINE_CHANNEL_ACCESS_TOKEN"].startswith("REQUIRED: a new LINE_CHANNEL_ACCESS_TOKEN")
    assert resolved(project.root, "feature-x", "db").env["LINE_CHANNEL_ACCESS_TOKEN"].startswith("REQUIRED:")
    assert "catalog-line-token-42" not in (project.root / "stacks/feature-x.yaml").read_text()
    assert resolved(project.root, "dev", "api").env["LINE_CHANNEL_ACCESS_TOKEN"] == "catalog-line-token-42"  # dev keeps its own


def test_state_is_separate_even_when_the_bucket_is_shared(stack_tree, provision_cli):
    project = atmos_project(stack_tree.root)
    project.file("stacks/dev.yaml", DEV_STACK.replace("bucket: acme-dev-tfstate", "bucket: acme-tfstate"))
    data = json.loads(provision_cli.run(["env", "create", "feature-x", "-o", "json"]).stdout)
    states = {r["source"]: r["target"] for r in data["mapping"] if r["kind"] == "state"}
    # Each stack is its own workspace (Atmos): the shared bucket and key already give the clone its own state objects.
    assert states == {
        "s3://acme-tfstate/app/dev-api/app/terraform.tfstate": "s3://acme-tfstate/app/feature-x-api/app/terraform.tfstate",
        "s3://acme-tfstate/db/dev/app/terraform.tfstate": "s3://acme-tfstate/db/feature-x/app/terraform.tfstate",
    }
    for component in ("api", "db"):
        target = json.loads(provision_cli.run(["describe", component, "-s", "feature-x", "-o", "json"]).stdout)["backend"]
        source = json.loads(provision_cli.run(["describe", component, "-s", "dev", "-o", "json"]).stdout)["backend"]
        assert (target["bucket"], source["bucket"]) == ("acme-tfstate", "acme-tfstate")
        assert target["key"] == source["key"] == "app/terraform.tfstate"  # nothing to rewrite


def test_with_workspaces_off_the_clone_gets_its_own_key(stack_tree, provision_cli):
    project = atmos_project(stack_tree.root)
    project.config["components"]["terraform"]["workspaces_enabled"] = False
    project.write_config()
    project.file("stacks/dev.yaml", DEV_STACK.replace("bucket: acme-dev-tfstate", "bucket: acme-tfstate"))
    data = json.loads(provision_cli.run(["env", "create", "feature-x", "-o", "json"]).stdout)
    states = {r["source"]: r["target"] for r in data["mapping"] if r["kind"] == "state"}
    assert states == {"s3://acme-tfstate/app/terraform.tfstate": "s3://acme-tfstate/feature-x/app/terraform.tfstate"}
    for component in ("api", "db"):
        target = json.loads(provision_cli.run(["describe", component, "-s", "feature-x", "-o", "json"]).stdout)["backend"]
        source = json.loads(provision_cli.run(["describe", component, "-s", "dev", "-o", "json"]).stdout)["backend"]
        assert target["key"] == "feature-x/app/terraform.tfstate" and source["key"] == "app/terraform.tfstate"
        assert target["workspace_key_prefix"] == source["workspace_key_prefix"]


def test_the_report_has_every_step_and_the_cost_delta(project, provision_cli):
    out = provision_cli.run(["env", "create", "feature/x", "--dry-run"]).stdout
    for heading in ("1. Inventory of dev", "2. Mapping (source -> target -> action)", "3. Portable", "Context-bound", "4. Cost: +$43.00/month for feature-x",
                    "5. Manual checklist", "6. Files (would write)"):
        assert heading in out
    assert "acme-aurora-dev" in out and "acme-aurora-feature-x" in out and "NEW paid resource (+$43.00/month)" in out
    assert "Warning: aurora (aws_rds_cluster) is isolated: feature-x gets its own, about +$43.00/month" in out
    assert "nat (aws_nat_gateway): shared, $32.00/month, one for all environments -> +$0.00" in out
    assert "aurora (aws_rds_cluster) in dev/db: 1 x $43.00/month -> +$43.00 (named acme-aurora-dev)" in out
    assert "[ ] Create a new credential line_channel_access_token for feature-x: issue a token for a new LINE channel" in out
    assert "environment name 'feature/x' normalised to 'feature-x'" in out
    data = json.loads(provision_cli.run(["env", "create", "feature/x", "--dry-run", "-o", "json"]).stdout)
    assert data["cost"]["delta_per_month"] == 43.0 and data["target"] == "feature-x" and data["requested"] == "feature/x"
    assert [line["label"] for line in data["cost"]["lines"] if line["delta"] > 0] == ["aurora"]
    rows = {(r["source"], r["target"], r["action"]) for r in data["mapping"]}
    assert ("acme-api-dev", "acme-api-feature-x", "clone+rename") in rows
    assert ("acme-api-role-dev", "acme-api-role-feature-x", "clone+rename") in rows
    assert ("acme-dev-tfstate", "acme-feature-x-tfstate", "clone+rename") in rows
    assert "terraform code in components/terraform/app" in data["portable"] and "vars.owner" in data["portable"]
    assert data["components"] == [{"stack": "feature-x", "component": "api"}]  # only components that enable provision.backend


def test_dry_run_writes_nothing_and_prints_the_diff(project, provision_cli):
    before = snapshot(project.root)
    out = provision_cli.run(["env", "create", "feature-x", "--dry-run"]).stdout
    assert snapshot(project.root) == before
    assert "--- a/stacks/dev.yaml\n+++ b/stacks/feature-x.yaml\n" in out
    assert "-  stage: dev\n+  stage: feature-x\n" in out
    assert "--- a/stacks/mixins/stage/dev.yaml\n+++ b/stacks/mixins/stage/feature-x.yaml\n" in out
    for secret in SECRETS:
        assert secret not in out  # the removed line of an isolated secret is masked


def test_refuses_to_overwrite_without_force_and_force_overwrites(project, provision_cli):
    provision_cli.run(["env", "create", "feature-x"])
    target = project.root / "stacks" / "feature-x.yaml"
    target.write_text(target.read_text() + "# a local edit\n")
    edited = snapshot(project.root)
    refused = provision_cli.run(["env", "create", "feature-x"], exit_code=4)
    assert "environment 'feature-x' already exists: stacks/feature-x.yaml, stacks/mixins/stage/feature-x.yaml" in refused.stderr
    assert snapshot(project.root) == edited
    preview = provision_cli.run(["env", "create", "feature-x", "--force", "--dry-run"]).stdout
    assert "--- a/stacks/feature-x.yaml" in preview and "-# a local edit" in preview and "overwrites the existing file" in preview
    provision_cli.run(["env", "create", "feature-x", "--force"])
    assert "# a local edit" not in target.read_text()


def test_never_overwrites_a_protected_environment(project, provision_cli):
    result = provision_cli.run(["env", "create", "prod", "--force"], exit_code=2)
    assert "environment 'prod' is protected" in result.stderr
    assert "stage: prod" in (project.root / "stacks" / "prod.yaml").read_text()


def test_a_long_branch_name_fails_up_front_naming_the_resource(stack_tree, provision_cli):
    project = atmos_project(stack_tree.root)
    project.file("stacks/dev.yaml", DEV_STACK.replace("acme-dev-tfstate", "acme-platform-terraform-state-dev-use1"))
    before = snapshot(project.root)
    branch = "feature/customer-portal-sso-v2"  # 30 characters: a valid environment name
    result = provision_cli.run(["env", "create", branch], exit_code=2)
    assert "cannot be created from 'dev'" in result.stderr and "nothing was written" in result.stderr
    assert "aws_s3_bucket name 'acme-platform-terraform-state-feature-customer-portal-sso-v2-use1'" in result.stderr
    assert "is 65 characters, over the limit of 63" in result.stderr
    assert "aws_lambda_function" not in result.stderr  # only the offending names are listed
    assert snapshot(project.root) == before


def test_names_and_layout_errors(project, provision_cli):
    assert "over the limit of 32" in provision_cli.run(["env", "create", "x" * 33], exit_code=2).stderr
    assert "same environment" in provision_cli.run(["env", "create", "dev"], exit_code=2).stderr
    assert "no files of environment 'qa' found" in provision_cli.run(["env", "create", "x1", "--from", "qa"], exit_code=2).stderr


def test_an_isolated_resource_that_keeps_its_name_is_refused(stack_tree, provision_cli):
    policy = {**POLICY, "resources": {"queue": {"type": "aws_sqs_queue", "isolation": "isolated", "names": ["{namespace}-jobs"]}}}
    atmos_project(stack_tree.root, policy)
    result = provision_cli.run(["env", "create", "feature-x"], exit_code=2)
    assert "isolated resource queue (aws_sqs_queue) keeps the name 'acme-jobs' in both environments" in result.stderr


def test_folder_per_environment_layout(tmp_path, provisioner_registry):
    from provisioner_core.testing import CliRunner

    tree = StackTree(tmp_path / "p", name_pattern=None)  # stack names are paths: dev/network, dev/app
    tree.component("app")
    for name in ("network", "app"):
        tree.file(f"stacks/dev/{name}.yaml", f"vars: {{stage: dev}}\nbackend_type: s3\nbackend: {{s3: {{bucket: acme-dev-{name}, key: {name}.tfstate}}}}\n"
                  f"components: {{terraform: {{{name}: {{metadata: {{component: app}}}}}}}}\n")
    cli = CliRunner(tree.root, provisioner_registry)
    cli.run(["env", "create", "feature-x"])
    assert sorted(p.name for p in (tree.root / "stacks" / "feature-x").iterdir()) == ["app.yaml", "network.yaml"]
    stacks = cli.run(["list", "stacks"]).stdout.split()
    assert stacks == ["dev/app", "dev/network", "feature-x/app", "feature-x/network"]
    backend = json.loads(cli.run(["describe", "network", "-s", "feature-x/network", "-o", "json"]).stdout)["backend"]
    assert backend["bucket"] == "acme-feature-x-network"


def test_a_component_without_a_backend_is_refused(stack_tree, provision_cli):
    stack_tree.component("app")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"vars": {"name": "app-dev"}}}}})
    result = provision_cli.run(["env", "create", "feature-x"], exit_code=2)
    assert "component dev/app has no backend_type" in result.stderr and "share" in result.stderr
    assert not (stack_tree.root / "stacks" / "feature-x.yaml").exists()
