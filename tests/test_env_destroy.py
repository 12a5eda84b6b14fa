"""`provision env destroy`: protected environments are refused, nothing happens without --force."""

from __future__ import annotations

import json

import pytest

STACK = ("vars: {{stage: {env}}}\nbackend_type: s3\nbackend: {{s3: {{bucket: acme-{env}-tfstate, key: app.tfstate}}}}\n"
         "components: {{terraform: {{app: {{vars: {{name: app-{env}}}}}, db: {{settings: {{depends_on: [app]}}, vars: {{name: db-{env}}}}}}}}}\n")


@pytest.fixture
def project(stack_tree):
    stack_tree.component("app")
    stack_tree.component("db")
    for env in ("dev", "staging", "prod", "qa", "feature-x"):
        stack_tree.file(f"stacks/{env}.yaml", STACK.format(env=env))
    return stack_tree


def files(project) -> list[str]:
    return sorted(p.name for p in (project.root / "stacks").iterdir())


@pytest.mark.parametrize("env", ["prod", "staging", "Prod"])
def test_protected_environments_are_refused_even_with_force(project, provision_cli, env):
    result = provision_cli.run(["env", "destroy", env, "--force"], exit_code=2)
    assert f"environment '{env.lower()}' is protected (environments.protected: prod, staging): destroy refuses it, even with --force" in result.stderr
    assert files(project) == ["dev.yaml", "feature-x.yaml", "prod.yaml", "qa.yaml", "staging.yaml"]


def test_the_policy_decides_what_is_protected(project, provision_cli):
    project.config["environments"] = {"protected": ["qa"]}
    project.write_config()
    assert "is protected (environments.protected: qa)" in provision_cli.run(["env", "destroy", "qa", "--force"], exit_code=2).stderr
    preview = provision_cli.run(["env", "destroy", "staging"], exit_code=2)  # no longer protected: only --force is missing
    assert "destroying environment 'staging' needs --force" in preview.stderr


def test_without_force_it_only_shows_what_it_would_do(project, provision_cli):
    result = provision_cli.run(["env", "destroy", "feature-x"], exit_code=2)
    # Reverse dependency order: db depends on app, so db is destroyed first.
    assert "Environment feature-x would be destroyed:\n  terraform destroy, in this order:\n    - feature-x/db\n    - feature-x/app" in result.stdout
    assert "files to remove:\n    - stacks/feature-x.yaml" in result.stdout
    assert "state object s3://acme-feature-x-tfstate/app/feature-x/app.tfstate of feature-x/app" in result.stdout
    assert "Error: destroying environment 'feature-x' needs --force" in result.stderr
    data = json.loads(provision_cli.run(["env", "destroy", "feature-x", "-o", "json"], exit_code=2).stdout)
    assert data["components"] == ["feature-x/db", "feature-x/app"] and data["done"] is False and data["removed"] == []
    assert "feature-x.yaml" in files(project)


def test_an_unknown_environment(project, provision_cli):
    assert "no files of environment 'feature-y' found" in provision_cli.run(["env", "destroy", "feature-y", "--force"], exit_code=2).stderr


def test_a_failing_terraform_destroy_removes_nothing(project, provision_cli, tmp_path):
    fake = tmp_path / "fake-terraform"
    fake.write_text("#!/bin/sh\n[ \"$1\" = init ] && exit 0\necho 'Error: destroy failed on purpose' >&2\nexit 7\n")
    fake.chmod(0o755)
    result = provision_cli.run(["env", "destroy", "feature-x", "--force", "--terraform-bin", str(fake)], exit_code=7)
    assert "terraform destroy of feature-x/db failed with exit code 7; environment 'feature-x' is only partly destroyed" in result.stderr
    assert "Nothing was removed" in result.stderr and "feature-x.yaml" in files(project)
    assert not list(project.root.glob(".provision-env.*.lock"))
