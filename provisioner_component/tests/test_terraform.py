"""End to end through ``provision terraform`` with the real terraform binary: the provisioner runs at
before.component.load and terraform runs in the vendored working folder it returns (core's workdir).

Components have no backend_type: terraform keeps its state in the working folder, per workspace
(``terraform.tfstate.d/<stack>``), which the swaps of new versions must carry over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from provisioner_core.testing import CliRunner, StackTree
from support.component_helpers import FileServer, GitCounter, GitRepo, module_tf, sha256_of, tar_gz

pytestmark = [pytest.mark.terraform, pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")]
ENV = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}


def stack(project: StackTree, name: str, components: dict[str, dict[str, Any]]) -> None:
    project.stack(name, {"vars": {"stage": name}, "components": {"terraform": components}})


def vendored(repo: GitRepo, ref: str) -> dict[str, Any]:
    return {"provision": {"component": {"enabled": True, "source": f"git::{repo.url}//modules/vpc?ref={ref}"}}}


def terraform(cli: CliRunner, subcommand: str, component: str, stack_name: str, *extra: str, exit_code: int = 0) -> dict[str, Any]:
    args = ["terraform", subcommand, component, "-s", stack_name, *extra, "-o", "json"]
    if subcommand in ("apply", "destroy"):
        args.insert(5, "--auto-approve")
    return json.loads(cli.run(args, env=ENV, exit_code=exit_code).stdout)


def component_result(run: dict[str, Any]) -> dict[str, Any]:
    [result] = [r for r in run["results"] if r["type"] == "component"]
    assert result["event"] == "before.component.load"
    return result


def applied_version(workdir: Path, workspace: str) -> str:
    state = json.loads((workdir / "terraform.tfstate.d" / workspace / "terraform.tfstate").read_text())
    return str(state["outputs"]["version"]["value"])


def test_vendor_v1_apply_bump_to_v2_apply_then_a_third_run_runs_no_git(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    workdir = project.root / ".provisioner/workdir/dev/vpc"
    stack(project, "dev", {"vpc": vendored(repo, "v1")})
    first = terraform(cli, "apply", "vpc", "dev")
    assert component_result(first)["status"] == "created" and first["folder"] == str(workdir)
    assert applied_version(workdir, "dev") == "v1"
    assert not (project.root / "components").exists()  # the component folder was never needed

    stack(project, "dev", {"vpc": vendored(repo, "v2")})
    second = terraform(cli, "apply", "vpc", "dev")
    assert component_result(second)["status"] == "updated"
    assert applied_version(workdir, "dev") == "v2"  # the state in the working folder survived the swap
    assert json.loads((workdir / "terraform.tfstate.d/dev/terraform.tfstate").read_text())["serial"] > 1

    git_counter.reset()
    third = terraform(cli, "plan", "vpc", "dev")
    assert component_result(third)["status"] == "unchanged" and third["exit_code"] == 0
    assert git_counter.count() == 0


def test_two_stacks_pinning_different_tags_apply_their_own_trees(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": vendored(repo, "v2")})
    stack(project, "prod", {"vpc": vendored(repo, "v1")})
    dev_run, prod_run = terraform(cli, "apply", "vpc", "dev"), terraform(cli, "apply", "vpc", "prod")
    dev, prod = Path(dev_run["folder"]), Path(prod_run["folder"])
    assert dev != prod and dev.name == prod.name == "vpc"
    assert (applied_version(dev, "dev"), applied_version(prod, "prod")) == ("v2", "v1")
    # Bumping one stack never touches the other's tree.
    stack(project, "prod", {"vpc": vendored(repo, "v2")})
    terraform(cli, "apply", "vpc", "prod")
    stack(project, "dev", {"vpc": vendored(repo, "v1")})
    assert "v2" in (prod / "main.tf").read_text() and "v2" in (dev / "main.tf").read_text()
    assert applied_version(prod, "prod") == "v2"


def test_atmos_source_section_works_as_written(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    # An Atmos project: a catalog component pins the uri, each stack only its version; no provision: section.
    project.file("stacks/catalog/vpc.yaml", {"components": {"terraform": {"vpc-defaults": {
        "metadata": {"type": "abstract", "component": "vpc"},
        "source": {"uri": f"git::{repo.url}//modules/vpc", "version": "v1", "included_paths": ["**/*.tf"], "excluded_paths": ["test/**"]},
    }}}})  # fmt: skip
    for name, version in (("dev", "v2"), ("prod", "v1")):
        project.stack(name, {"import": ["catalog/vpc"], "vars": {"stage": name}, "components": {"terraform": {
            "vpc": {"metadata": {"inherits": ["vpc-defaults"], "component": "vpc"}, "source": {"version": version}},
        }}})  # fmt: skip
    run = terraform(cli, "apply", "vpc", "dev")
    assert component_result(run)["status"] == "created"
    workdir = Path(run["folder"])
    assert applied_version(workdir, "dev") == "v2"
    assert sorted(p.name for p in workdir.iterdir() if not p.name.startswith((".", "terraform.tfstate"))) == ["main.tf"]  # test/ excluded
    listed = {(r["stack"], r["state"]) for r in json.loads(cli.run(["component", "list", "-o", "json"]).stdout)["components"]}
    assert listed == {("dev", "vendored"), ("prod", "missing")}
    assert "1 created, 1 unchanged" in cli.run(["component", "--all"]).stdout
    described = json.loads(cli.run(["describe", "vpc", "-s", "prod", "-o", "json"]).stdout)
    assert described["source"]["version"] == "v1" and described["provision"]["component"] == {"enabled": True}


def test_atmos_simple_form_and_an_explicit_opt_out(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    own = project.component("net", module_tf("own"))
    stack(project, "dev", {
        "vpc": {"source": f"git::{repo.url}//modules/vpc?ref=v1"},
        "net": {"source": f"git::{repo.url}//modules/vpc?ref=v1", "provision": {"component": {"enabled": False}}},
    })  # fmt: skip
    assert applied_version(Path(terraform(cli, "apply", "vpc", "dev")["folder"]), "dev") == "v1"
    net = terraform(cli, "apply", "net", "dev")
    assert net["folder"] == str(own.resolve()) and not [r for r in net["results"] if r["type"] == "component"]
    assert applied_version(own, "dev") == "own"


def test_a_component_with_its_own_code_is_untouched(cli: CliRunner, project: StackTree) -> None:
    own = project.component("vpc", module_tf("own"))
    stack(project, "dev", {"vpc": {"vars": {}}})
    run = terraform(cli, "apply", "vpc", "dev")
    assert run["folder"] == str(own.resolve()) and applied_version(own, "dev") == "own"
    assert not (project.root / ".provisioner").exists()


def test_a_dry_run_plans_in_the_folder_it_would_vendor(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    stack(project, "dev", {"vpc": vendored(repo, "v1")})
    run = terraform(cli, "plan", "vpc", "dev", "--dry-run")
    assert component_result(run)["status"] == "planned" and run["folder"] == str(project.root / ".provisioner/workdir/dev/vpc")
    assert run["terraform"][0]["would_run"] is True
    assert not (project.root / ".provisioner").exists() and git_counter.count() == 0


def test_an_archive_with_a_checksum_is_vendored_and_applied(cli: CliRunner, project: StackTree, served: FileServer) -> None:
    bundle = tar_gz(served.root / "vpc-1.2.0.tar.gz", {"vpc-1.2.0/": ("dir", None), "vpc-1.2.0/main.tf": module_tf("1.2.0")})
    options = {"enabled": True, "source": served.url("vpc-1.2.0.tar.gz") + "//vpc-1.2.0", "checksum": sha256_of(bundle)}
    stack(project, "dev", {"vpc": {"provision": {"component": options}}})
    run = terraform(cli, "apply", "vpc", "dev")
    assert component_result(run)["status"] == "created" and applied_version(Path(run["folder"]), "dev") == "1.2.0"
    served.requests.clear()
    assert component_result(terraform(cli, "plan", "vpc", "dev"))["status"] == "unchanged"
    assert served.requests == []  # no network call on a warm run


def test_a_local_edit_stops_terraform_before_it_runs(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": vendored(repo, "v1")})
    workdir = Path(terraform(cli, "apply", "vpc", "dev")["folder"])
    cli.run(["component", "vpc", "-s", "dev", "--force"])  # --force lasts for that command only, even in one process
    (workdir / "main.tf").write_text(module_tf("mine"))
    failed = cli.run(["terraform", "apply", "vpc", "-s", "dev", "--auto-approve"], env=ENV, exit_code=4)
    assert "edited locally: modified main.tf" in failed.stderr
    assert applied_version(workdir, "dev") == "v1"  # terraform never ran with the edited tree
