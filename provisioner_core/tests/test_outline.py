"""Listing and `--all` selection evaluate YAML functions only where they look (backend, metadata,
provision): one component's unsupported or failing function fails that component alone, not the
whole project (found on Atmos's quick-start-advanced, whose app-config uses `!secret`)."""

from __future__ import annotations

import json

import pytest

STACK = """\
vars: {stage: dev}
components:
  terraform:
    good:
      provision: {example: {enabled: true}}
    secretive:
      vars:
        api_key: !secret API_KEY
      provision: {example: {enabled: true}}
    idle:
      vars:
        api_key: !secret API_KEY
"""


@pytest.fixture
def project(stack_tree):
    stack_tree.file("stacks/dev.yaml", STACK)
    return stack_tree


def test_list_components_lists_a_component_whose_vars_hold_an_unsupported_function(project, provision_cli):
    rows = json.loads(provision_cli.run(["list", "components", "-o", "json"]).stdout)["components"]
    assert {(r["component"], tuple(r["provision"])) for r in rows} == {("good", ("example",)), ("secretive", ("example",)), ("idle", ())}


def test_describe_still_refuses_the_function_by_name(project, provision_cli):
    result = provision_cli.run(["describe", "secretive", "-s", "dev"], exit_code=2)
    assert "unsupported YAML function !secret" in result.stderr and "stacks/dev.yaml:8" in result.stderr


def test_all_runs_the_others_and_fails_the_one_that_needs_the_function(project, provision_cli):
    result = provision_cli.run(["example", "--all", "-o", "json"], exit_code=2)
    data = json.loads(result.stdout)
    status = {c["component"]: c["status"] for c in data["components"]}
    assert status == {"good": "created", "secretive": "failed"}  # idle enables nothing: never resolved in full, never failed
    assert [s["component"] for s in data["skipped"]] == ["idle"]
    failed = next(u for u in data["units"] if u["status"] == "failed")
    assert "unsupported YAML function !secret" in failed["error"]["message"] and failed["error"]["exit_code"] == 2
    assert (project.root / ".provisioned/dev/good.txt").is_file()
