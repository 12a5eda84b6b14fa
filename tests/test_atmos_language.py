"""Our own Atmos project (tests/atmos_language) uses every construct of the stack language we
support; `provision describe` of each component must print exactly the expected JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner_core.testing import CliRunner

FIXTURE = Path(__file__).parent / "atmos_language"
CASES = sorted(p.name for p in (FIXTURE / "expected").glob("*.json"))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("atmos_language") / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("expected"))
    return root


@pytest.mark.parametrize("case", CASES)
def test_describe_prints_the_expected_sections(project, case, monkeypatch):
    monkeypatch.delenv("PROVISION_TEST_REGION", raising=False)
    stack, component = case.removesuffix(".json").split(".", 1)
    result = CliRunner(project).run(["describe", component, "-s", stack, "-o", "json"])
    assert json.loads(result.stdout) == json.loads((FIXTURE / "expected" / case).read_text())


def test_list_stacks_lists_named_stacks_with_components_only(project):
    # acme-shared has no components; unnamed.yaml has no stage var and is skipped (as Atmos does).
    assert CliRunner(project).run(["list", "stacks"]).stdout == (FIXTURE / "expected" / "stacks.txt").read_text()


def test_describe_of_a_folder_finds_its_component(project):
    folder = project / "components" / "terraform" / "vpc"
    result = CliRunner(folder).run(["describe", ".", "-s", "acme-production", "-o", "json"])
    assert json.loads(result.stdout)["component"] == "vpc"
    error = CliRunner(project).run(["describe", "./stacks", "-s", "acme-dev"], exit_code=2).stderr
    assert error.startswith("Error: ") and "is not a component folder under components.terraform.base_path" in error


def test_the_project_is_found_from_a_sub_folder(project):
    result = CliRunner(project / "stacks" / "orgs").run(["list", "stacks"])
    assert result.stdout.split() == ["acme-dev", "acme-production"]
