"""The CLI: today's generic ``provision component <c> -s <stack>`` and this distribution's command group."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from provisioner_core.testing import CliRunner, StackTree
from support.component_helpers import FileServer, GitCounter, GitRepo, module_tf


def stack(project: StackTree, name: str, components: dict[str, dict[str, Any]], **extra: Any) -> None:
    project.stack(name, {"vars": {"stage": name}, **extra, "components": {"terraform": {c: {"provision": {"component": o}} for c, o in components.items()}}})


def git(repo: GitRepo, ref: str) -> dict[str, Any]:
    return {"enabled": True, "source": f"git::{repo.url}//modules/vpc?ref={ref}"}


# --- today's core: the generic per-type command --------------------------------------------


def test_provision_component_through_core(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    planned = cli.run(["component", "vpc", "-s", "dev", "--dry-run"])
    assert "vendor" in planned.stdout and not (project.root / ".provisioner").exists()
    created = cli.run(["component", "vpc", "-s", "dev", "-o", "json"])
    result = json.loads(created.stdout)["results"][0]
    assert result["status"] == "created" and result["details"]["workdir"].endswith(".provisioner/workdir/dev/vpc")
    assert "unchanged" in cli.run(["component", "vpc", "-s", "dev"]).stdout


def test_the_prd_form_runs_too(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": {"enabled": True, "vendor": True, "source": f"git::{repo.url}//modules/vpc?ref=v2"}})
    cli.run(["component", "vpc", "-s", "dev"])
    assert "v2" in (project.root / ".provisioner/workdir/dev/vpc/main.tf").read_text()


def test_local_edits_exit_4_through_core(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    cli.run(["component", "vpc", "-s", "dev"])
    (project.root / ".provisioner/workdir/dev/vpc/main.tf").write_text("# mine\n")
    failed = cli.run(["component", "vpc", "-s", "dev"], exit_code=4)
    assert "edited locally: modified main.tf" in failed.stderr and "--force" in failed.stderr


def test_unknown_schemes_exit_2_through_core(cli: CliRunner, project: StackTree) -> None:
    stack(project, "dev", {"vpc": {"enabled": True, "source": "s3::https://s3.amazonaws.com/bucket/vpc.zip"}})
    failed = cli.run(["component", "vpc", "-s", "dev"], exit_code=2)
    assert "s3:: sources (Amazon S3) are not supported yet" in failed.stderr


def test_a_component_without_provision_component_is_untouched(cli: CliRunner, project: StackTree) -> None:
    folder = project.component("vpc", module_tf("own"))
    project.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {}}}}})
    cli.run(["component", "vpc", "-s", "dev"], exit_code=2)  # not enabled: core refuses, nothing is vendored
    assert (folder / "main.tf").read_text() == module_tf("own") and not (project.root / ".provisioner").exists()


def test_the_token_is_redacted_in_every_output(cli: CliRunner, project: StackTree, served: FileServer, monkeypatch: Any) -> None:
    token = "ghp_VerySecretTokenValue99"
    monkeypatch.setenv("TEST_COMPONENT_TOKEN", token)
    stack(
        project, "dev", {"vpc": {"enabled": True, "source": f"git::http://127.0.0.1:{served.port}/status/403//mod?ref=v1"}},
        auth={"providers": {"git": {"type": "token", "token_env": "TEST_COMPONENT_TOKEN"}}},
    )
    failed = cli.run(["component", "vpc", "-s", "dev", "-o", "json"], exit_code=3)
    assert token not in failed.stdout + failed.stderr
    assert served.requests and all(r["authorization"] for r in served.requests)


# --- this distribution's command group (registered the way the coming hook will) -----------


def test_pull_force_restores_a_local_edit(component_cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    component_cli.run(["component", "vpc", "-s", "dev"])
    main_tf = project.root / ".provisioner/workdir/dev/vpc/main.tf"
    original = main_tf.read_text()
    main_tf.write_text("# mine\n")
    component_cli.run(["component", "pull", "vpc", "-s", "dev"], exit_code=4)
    forced = component_cli.run(["component", "vpc", "-s", "dev", "--force"])
    assert "updated" in forced.stdout and "overwrites local edits (modified main.tf)" in forced.stdout
    assert main_tf.read_text() == original


def test_all_over_twenty_components_sharing_three_sources_fetches_three_times(
    component_cli: CliRunner, project: StackTree, repo: GitRepo, tmp_path: Path, git_counter: GitCounter
) -> None:
    other = GitRepo(tmp_path / "other")
    other.commit({"modules/vpc/main.tf": module_tf("other")}, "o", tag="v1")
    sources = [git(repo, "v1"), git(repo, "v2"), {"enabled": True, "source": f"git::{other.url}//modules/vpc?ref=v1"}]
    for index in range(4):
        stack(project, f"s{index}", {f"c{index}-{n}": sources[(index * 5 + n) % 3] for n in range(5)})
    done = component_cli.run(["component", "--all", "--jobs", "3"])
    assert "20 components, 3 distinct sources to fetch, 3 fetches, 0 failed" in done.stdout
    assert git_counter.count("fetch") == 3
    git_counter.reset()
    warm = component_cli.run(["component", "--all", "-o", "json"])
    assert {r["result"]["status"] for r in json.loads(warm.stdout)["results"]} == {"unchanged"}
    assert git_counter.count() == 0


def test_list_shows_lock_state_and_drift(component_cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1"), "net": git(repo, "v1"), "dns": git(repo, "v1")})
    component_cli.run(["component", "vpc", "-s", "dev"])
    component_cli.run(["component", "net", "-s", "dev"])
    (project.root / ".provisioner/workdir/dev/net/main.tf").write_text("# mine\n")
    stack(project, "dev", {"vpc": git(repo, "v2"), "net": git(repo, "v1"), "dns": git(repo, "v1")})
    rows = {r["component"]: r for r in json.loads(component_cli.run(["component", "list", "-o", "json"]).stdout)["components"]}
    assert (rows["vpc"]["state"], rows["net"]["state"], rows["dns"]["state"]) == ("outdated", "modified", "missing")
    assert rows["net"]["changes"]["modified"] == ["main.tf"]
    text = component_cli.run(["component", "list", "-s", "dev"]).stdout
    assert "dev\tvpc\toutdated\tgit " in text


def test_describe_shows_source_lock_and_changes(component_cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    component_cli.run(["component", "vpc", "-s", "dev"])
    described = json.loads(component_cli.run(["component", "describe", "vpc", "-s", "dev", "-o", "json"]).stdout)
    assert described["state"] == "vendored" and described["source"]["ref"] == "v1"
    assert described["lock"]["resolved"]["commit"] == repo.git("rev-parse", "v1^{commit}")
    assert described["files"] == ["main.tf", "test/fixture.tf"]
    assert "state: vendored" in component_cli.run(["component", "describe", "vpc", "-s", "dev"]).stdout


def test_delete_needs_force_and_keeps_terraform_state(component_cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    component_cli.run(["component", "vpc", "-s", "dev"])
    workdir = project.root / ".provisioner/workdir/dev/vpc"
    assert "confirm with --force" in component_cli.run(["component", "delete", "vpc", "-s", "dev"], exit_code=2).stderr
    (workdir / "terraform.tfstate").write_text("{}")
    assert "holds terraform state" in component_cli.run(["component", "delete", "vpc", "-s", "dev", "--force"], exit_code=4).stderr
    (workdir / "terraform.tfstate").unlink()
    component_cli.run(["component", "delete", "vpc", "-s", "dev", "--force"])
    assert not workdir.exists()
    assert "dev/vpc" not in json.loads((project.root / ".provisioner/component.lock.json").read_text())["components"]


def test_plugins_lists_both_plugins(cli: CliRunner) -> None:
    plugins = {p["name"]: p for p in json.loads(cli.run(["plugins", "-o", "json"]).stdout)["plugins"]}
    assert plugins["component"]["provisioners"][0]["events"] == ["before.component.load", "manual.provision"]
    assert plugins["component-git-auth"]["status"] == "loaded"


def test_listing_plugins_imports_no_engine_module() -> None:
    code = (
        "import sys\n"
        "from provisioner_core.plugins import PluginRegistry\n"
        "PluginRegistry().load()\n"
        "print(sorted(m for m in sys.modules if m.startswith('provisioner_component')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['provisioner_component', 'provisioner_component.plugin']"


def test_it_runs_at_before_component_load_inside_provision_terraform(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    # Today's core still runs terraform in components/terraform/<component>: the working folder is
    # vendored by the time terraform runs; running terraform in it needs the coming workdir contract.
    project.component("vpc", module_tf("local"))
    stack(project, "dev", {"vpc": git(repo, "v1")})
    done = cli.run(["terraform", "plan", "vpc", "-s", "dev", "-o", "json"], env={"CHECKPOINT_DISABLE": "1"})
    assert "v1" in (project.root / ".provisioner/workdir/dev/vpc/main.tf").read_text()
    events = [r for r in json.loads(done.stdout)["results"] if r["type"] == "component"]
    assert [(r["event"], r["status"]) for r in events] == [("before.component.load", "created")]


def test_cores_own_all_also_fetches_each_source_once(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    # Core's generic `--all` runs one unit per component; the run's ClientCache shares one Fetcher.
    for index in range(3):
        stack(project, f"s{index}", {f"c{n}": git(repo, "v1" if n % 2 else "v2") for n in range(4)})
    done = cli.run(["component", "--all", "-o", "json"])
    assert json.loads(done.stdout)["ok"] is True
    assert git_counter.count("fetch") == 2
