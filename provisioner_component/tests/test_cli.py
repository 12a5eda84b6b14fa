"""The CLI on core's contract: ``provision component`` (registered with register_commands), core's checks
and option schema, ``--all``, list, describe, delete, credentials and plugin listing."""

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


def test_pull_dry_run_then_created_then_unchanged(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    planned = cli.run(["component", "vpc", "-s", "dev", "--dry-run"])
    assert "? component (component) dev/vpc: planned" in planned.stdout and "vendor" in planned.stdout
    assert not (project.root / ".provisioner").exists() and git_counter.count() == 0
    created = json.loads(cli.run(["component", "vpc", "-s", "dev", "-o", "json"]).stdout)
    [result] = created["results"]
    assert (result["status"], result["event"]) == ("created", "manual.provision")
    assert result["workdir"] == str(project.root / ".provisioner/workdir/dev/vpc")
    assert result["details"]["resolved"]["commit"] == repo.git("rev-parse", "v1^{commit}")
    git_counter.reset()
    assert "= component (component) dev/vpc: unchanged" in cli.run(["component", "pull", "vpc", "-s", "dev"]).stdout
    assert git_counter.count() == 0


def test_the_prd_form_runs_too(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": {"enabled": True, "vendor": True, "source": f"git::{repo.url}//modules/vpc?ref=v2"}})
    cli.run(["component", "vpc", "-s", "dev"])
    assert "v2" in (project.root / ".provisioner/workdir/dev/vpc/main.tf").read_text()


def test_vendor_false_skips(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": {**git(repo, "v1"), "vendor": False}})
    done = json.loads(cli.run(["component", "vpc", "-s", "dev", "-o", "json"]).stdout)
    assert done["results"][0]["status"] == "skipped" and "workdir" not in done["results"][0]
    assert not (project.root / ".provisioner").exists()


def test_options_are_checked_by_core_before_anything_runs(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    stack(project, "dev", {"vpc": {**git(repo, "v1"), "vendr": False, "checksum": 5, "retry": {"max_attempts": "3"}}})
    failed = cli.run(["component", "vpc", "-s", "dev"], exit_code=2)
    assert "unknown option 'vendr' (did you mean 'vendor'?)" in failed.stderr
    assert "provision.component.checksum: must be a string" in failed.stderr and "provision.component.retry.max_attempts: must be an integer" in failed.stderr
    assert git_counter.count() == 0 and not (project.root / ".provisioner").exists()
    options = json.loads(cli.run(["plugins", "--options", "component", "-o", "json"]).stdout)
    assert {"source", "vendor", "checksum", "included_paths", "excluded_paths", "ttl", "max_size", "retry"} <= {o["name"] for o in options["provisioners"]["component"]["options"]}


def test_local_edits_exit_4_and_force_restores(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    cli.run(["component", "vpc", "-s", "dev"])
    main_tf = project.root / ".provisioner/workdir/dev/vpc/main.tf"
    original = main_tf.read_text()
    main_tf.write_text("# mine\n")
    failed = cli.run(["component", "pull", "vpc", "-s", "dev"], exit_code=4)
    assert "edited locally: modified main.tf" in failed.stderr and "--force" in failed.stderr
    forced = cli.run(["component", "vpc", "-s", "dev", "--force"])
    assert "updated" in forced.stdout and "overwrites local edits (modified main.tf)" in forced.stdout
    assert main_tf.read_text() == original
    assert "unchanged" in cli.run(["component", "vpc", "-s", "dev"]).stdout  # --force lasted one command


def test_unknown_schemes_exit_2_naming_them(cli: CliRunner, project: StackTree) -> None:
    stack(project, "dev", {"vpc": {"enabled": True, "source": "s3::https://s3.amazonaws.com/bucket/vpc.zip"}})
    failed = cli.run(["component", "vpc", "-s", "dev"], exit_code=2)
    assert "s3:: sources (Amazon S3) are not supported yet" in failed.stderr


def test_a_component_without_a_source_is_untouched(cli: CliRunner, project: StackTree) -> None:
    folder = project.component("vpc", module_tf("own"))
    project.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {}}}}})
    assert "provisioner 'component' is not enabled" in cli.run(["component", "vpc", "-s", "dev"], exit_code=2).stderr
    assert (folder / "main.tf").read_text() == module_tf("own") and not (project.root / ".provisioner").exists()
    assert "0 components" in cli.run(["component", "--all"]).stdout


def test_the_token_is_redacted_in_every_output(cli: CliRunner, project: StackTree, served: FileServer, monkeypatch: Any) -> None:
    token = "ghp_VerySecretTokenValue99"
    monkeypatch.setenv("TEST_COMPONENT_TOKEN", token)
    stack(
        project, "dev", {"vpc": {"enabled": True, "source": f"git::http://127.0.0.1:{served.port}/status/403//mod?ref=v1"}},
        auth={"providers": {"git": {"type": "token", "token_env": "TEST_COMPONENT_TOKEN"}}},
    )
    for args in (["component", "vpc", "-s", "dev", "-o", "json"], ["component", "vpc", "-s", "dev"], ["component", "--all", "-o", "json"], ["--debug", "component", "vpc", "-s", "dev"]):
        failed = cli.run(args, exit_code=3)
        assert token not in failed.stdout + failed.stderr
    assert served.requests and all(r["authorization"] for r in served.requests)


def test_pull_all_over_twenty_components_sharing_three_sources_fetches_three_times(
    cli: CliRunner, project: StackTree, repo: GitRepo, tmp_path: Path, git_counter: GitCounter
) -> None:
    other = GitRepo(tmp_path / "other")
    other.commit({"modules/vpc/main.tf": module_tf("other")}, "o", tag="v1")
    sources = [git(repo, "v1"), git(repo, "v2"), {"enabled": True, "source": f"git::{other.url}//modules/vpc?ref=v1"}]
    for index in range(4):
        stack(project, f"s{index}", {f"c{index}-{n}": sources[(index * 5 + n) % 3] for n in range(5)})
    done = cli.run(["component", "--all", "--jobs", "3"])
    assert "20 components (20 created); 3 source fetches" in done.stdout
    assert git_counter.count("fetch") == 3
    assert "other" in (project.root / ".provisioner/workdir/s0/c0-2/main.tf").read_text()
    git_counter.reset()
    warm = json.loads(cli.run(["component", "--all", "-o", "json"]).stdout)
    assert {r["results"][0]["status"] for r in warm["results"]} == {"unchanged"}
    assert warm["metrics"]["fetches"] == 0 and git_counter.count() == 0


def test_pull_all_keeps_failures_apart_and_exits_with_the_highest_code(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"good": git(repo, "v1"), "edited": git(repo, "v1")})
    cli.run(["component", "--all"])
    (project.root / ".provisioner/workdir/dev/edited/main.tf").write_text("# mine\n")
    stack(project, "dev", {"good": git(repo, "v2"), "edited": git(repo, "v2"), "bad": git(repo, "v9")})
    done = cli.run(["component", "--all", "-o", "json"], exit_code=4)
    by_name = {r["component"]: r for r in json.loads(done.stdout)["results"]}
    assert by_name["good"]["results"][0]["status"] == "updated"
    assert by_name["edited"]["error"]["exit_code"] == 4 and by_name["bad"]["error"]["exit_code"] == 2
    assert "ref 'v9' not found" in by_name["bad"]["error"]["message"]
    text = cli.run(["component", "--all", "--force"], exit_code=2)
    assert "! component dev/bad: failed (exit 2)" in text.stdout and "3 components (1 failed, 2 updated)" in text.stdout


def test_pull_all_dry_run_plans_without_fetching(cli: CliRunner, project: StackTree, repo: GitRepo, git_counter: GitCounter) -> None:
    stack(project, "dev", {"a": git(repo, "v1"), "b": git(repo, "v2")})
    stack(project, "prod", {"a": git(repo, "v1")})
    done = json.loads(cli.run(["component", "--all", "--dry-run", "-o", "json"]).stdout)
    assert [r["results"][0]["status"] for r in done["results"]] == ["planned"] * 3
    assert git_counter.count() == 0 and not (project.root / ".provisioner/workdir").exists()
    assert [(r["stack"], r["component"]) for r in json.loads(cli.run(["component", "--all", "-s", "prod", "--dry-run", "-o", "json"]).stdout)["results"]] == [("prod", "a")]


def test_list_shows_lock_state_and_drift(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1"), "net": git(repo, "v1"), "dns": git(repo, "v1")})
    cli.run(["component", "vpc", "-s", "dev"])
    cli.run(["component", "net", "-s", "dev"])
    (project.root / ".provisioner/workdir/dev/net/main.tf").write_text("# mine\n")
    stack(project, "dev", {"vpc": git(repo, "v2"), "net": git(repo, "v1"), "dns": git(repo, "v1")})
    rows = {r["component"]: r for r in json.loads(cli.run(["component", "list", "-o", "json"]).stdout)["components"]}
    assert (rows["vpc"]["state"], rows["net"]["state"], rows["dns"]["state"]) == ("outdated", "modified", "missing")
    assert rows["net"]["changes"]["modified"] == ["main.tf"]
    text = cli.run(["component", "list", "-s", "dev"]).stdout
    assert "dev\tvpc\toutdated\tgit " in text


def test_describe_shows_source_lock_and_changes(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    cli.run(["component", "vpc", "-s", "dev"])
    described = json.loads(cli.run(["component", "describe", "vpc", "-s", "dev", "-o", "json"]).stdout)
    assert described["state"] == "vendored" and described["source"]["ref"] == "v1"
    assert described["lock"]["resolved"]["commit"] == repo.git("rev-parse", "v1^{commit}")
    assert described["files"] == ["main.tf", "test/fixture.tf"]
    assert "state: vendored" in cli.run(["component", "describe", "vpc", "-s", "dev"]).stdout
    project.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {}, "own": {}}}})
    assert "vendors no source" in cli.run(["component", "describe", "own", "-s", "dev"], exit_code=2).stderr


def test_delete_needs_force_and_keeps_terraform_state(cli: CliRunner, project: StackTree, repo: GitRepo) -> None:
    stack(project, "dev", {"vpc": git(repo, "v1")})
    cli.run(["component", "vpc", "-s", "dev"])
    workdir = project.root / ".provisioner/workdir/dev/vpc"
    assert "confirm with --force" in cli.run(["component", "delete", "vpc", "-s", "dev"], exit_code=2).stderr
    assert "would delete" in cli.run(["component", "delete", "vpc", "-s", "dev", "--dry-run"]).stdout and workdir.exists()
    (workdir / "terraform.tfstate").write_text("{}")
    assert "holds terraform state" in cli.run(["component", "delete", "vpc", "-s", "dev", "--force"], exit_code=4).stderr
    (workdir / "terraform.tfstate").unlink()
    cli.run(["component", "delete", "vpc", "-s", "dev", "--force"])
    assert not workdir.exists()
    assert "dev/vpc" not in json.loads((project.root / ".provisioner/component.lock.json").read_text())["components"]
    assert "nothing to delete" in cli.run(["component", "delete", "vpc", "-s", "dev", "--force"]).stdout


def test_plugins_lists_what_the_plugin_registers(cli: CliRunner) -> None:
    plugins = {p["name"]: p for p in json.loads(cli.run(["plugins", "-o", "json"]).stdout)["plugins"]}
    component = plugins["component"]
    assert component["status"] == "loaded" and component["provisioners"][0]["events"] == ["before.component.load", "manual.provision"]
    assert component["credential_providers"] == ["git/token", "git/ssh-key"] and component["component_sections"] == ["source"]
    assert "register_commands" in component["hooks"]
    assert "pull" in cli.run(["component", "--help"]).stdout


def test_listing_plugins_imports_no_engine_module(tmp_path: Path) -> None:
    # `provision plugins` builds the command list too (register_commands): the engine stays unloaded.
    code = (
        "import sys\n"
        "from provisioner_core.cli.main import main\n"
        "try:\n"
        "    main(['plugins'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('provisioner_component')), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "component" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "['provisioner_component', 'provisioner_component.cli', 'provisioner_component.plugin']"


def test_shell_completion_of_stacks_and_components(stack_tree):
    from click.shell_completion import ShellComplete

    from provisioner_core.cli.main import cli
    from provisioner_core.cli.state import CliState

    for stage in ("dev", "prod"):
        stack_tree.stack(stage, {"vars": {"stage": stage}, "components": {"terraform": {"vpc": {}, f"only-{stage}": {}}}})

    def complete(args: list[str], incomplete: str) -> list[str]:
        completion = ShellComplete(cli, {"obj": CliState(None, False, cwd=stack_tree.root)}, "provision", "_PROVISION_COMPLETE")
        return [item.value for item in completion.get_completions(args, incomplete)]

    assert complete(["component", "pull", "vpc", "-s"], "") == ["dev", "prod"]
    assert complete(["component", "describe", "-s", "prod"], "") == ["only-prod", "vpc"]
    assert complete(["component", "delete", "-s", "dev"], "o") == ["only-dev"]
