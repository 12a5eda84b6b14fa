"""The CLI in CI logs and shells (issue 20, item 5): per-unit lines, -q/-v, did-you-mean, the JSON
error envelope, config from the environment, completion, install hints with core alone."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from provisioner_core.cli.batch_command import unit_line
from provisioner_core.cli.main import cli
from provisioner_core.cli.state import CliState
from provisioner_core.terraform.flow import wants_color


@pytest.fixture
def project(stack_tree):
    for stage in ("dev", "prod"):
        stack_tree.stack(stage, {
            "vars": {"stage": stage},
            "components": {"terraform": {
                "vpc": {"provision": {"example": {"enabled": True}}},
                "dns": {"provision": {"example": {"enabled": True}}},
                "eks": {"backend_type": "gcs", "backend": {"gcs": {"bucket": "b", "prefix": "eks"}}, "provision": {"backend": {"enabled": True}}},
            }},
        })  # fmt: skip
    return stack_tree


def test_all_off_a_terminal_prints_one_line_per_unit_as_it_ends(project, provision_cli):
    result = provision_cli.run(["example", "--all"])
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 4, result.stderr
    assert sorted(line.split("]")[0] + "]" for line in lines) == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert any(line.split("] ")[1].startswith("dev/vpc: created file ") for line in lines)
    assert all(line.endswith(" s") for line in lines)
    assert "4 distinct example unit(s)" in result.stdout


def test_quiet_prints_the_summary_and_failures_only(project, provision_cli):
    result = provision_cli.run(["-q", "example", "--all"])
    assert result.stderr == ""
    assert result.stdout.strip().splitlines() == [result.stdout.strip().splitlines()[-1]]
    assert "4 distinct example unit(s) for 4 component(s); 0 failed" in result.stdout


def test_json_prints_no_unit_lines(project, provision_cli):
    result = provision_cli.run(["example", "--all", "-o", "json"])
    assert result.stderr == "" and json.loads(result.stdout)["metrics"]["distinct_units"] == 4


def test_a_terminal_gets_clicks_progress_bar(project, provision_cli, monkeypatch):
    from provisioner_core.cli import batch_command
    from provisioner_core.cli.console import Console

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(Console, "err", property(lambda self: err))
    bars: list[int] = []
    real = click.progressbar

    def spy(*args, **kwargs):
        bars.append(kwargs["length"])
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_command.click, "progressbar", spy)
    provision_cli.run(["example", "--all"])
    assert bars == [4]
    assert "example --all" in err.getvalue() and "4/4" in err.getvalue()
    assert "[1/4]" not in err.getvalue()  # the bar, not the log lines


def test_unit_line_names_the_failure_on_one_line(project, provision_cli):
    from provisioner_core.batch import Unit
    from provisioner_core.errors import ConfigError
    from provisioner_core.session import Provisioning

    component = Provisioning.from_path(None, project.root).component("dev", "vpc")
    unit = Unit("x", [component, component], error=ConfigError("bad\nthing"), ran=True, duration_s=0.214)
    assert unit_line(unit, 3, 9) == "[3/9] dev/vpc (+1 more): failed (exit 2): bad thing  0.21 s"


@pytest.mark.parametrize("word, close, what", [("descibe", "describe", "command"), ("plugin", "plugins", "command"), ("terrafrom", "terraform", "command"),
                                               ("exampel", "example", "provisioner type")])  # fmt: skip
def test_a_typo_of_a_command_or_type_gets_did_you_mean(project, provision_cli, word, close, what):
    result = provision_cli.run([word, "vpc", "-s", "dev"], exit_code=2)
    assert result.stderr.splitlines()[0] == f"Error: unknown {what} '{word}'; did you mean '{close}'?"
    assert result.stderr.splitlines()[1].startswith("Hint: ")


def test_an_unknown_word_far_from_everything_is_still_an_unknown_type(project, provision_cli):
    result = provision_cli.run(["zzzz", "vpc", "-s", "dev"], exit_code=2)
    assert "unknown provisioner type 'zzzz'" in result.stderr and "pip install provisioner-zzzz" in result.stderr


# -- one JSON error envelope ------------------------------------------------------------------

FAILING = [
    (["describe", "nope", "-s", "dev", "-o", "json"], 2),
    (["describe", "vpc", "-o", "json"], 2),  # missing -s: a usage error
    (["list", "components", "-s", "nope", "-o", "json"], 2),
    (["list", "stacks", "-o", "json", "--bogus"], 2),
    (["plugins", "--options", "nope", "-o", "json"], 2),
    (["example", "vpc", "-s", "nope", "-o", "json"], 2),
    (["example", "--all", "-s", "nope", "-o", "json"], 2),
    (["example", "--all", "--shard", "9/2", "-o", "json"], 2),
    (["example", "--all", "--matrix", "2", "--shard", "1/2", "-o", "json"], 2),
    (["backend", "eks", "-s", "dev", "-o", "json"], 2),
    (["backend", "--all", "-o", "json"], 2),
    (["terraform", "plan", "nope", "-s", "dev", "-o", "json"], 2),
]


@pytest.mark.parametrize("args, code", FAILING, ids=[" ".join(a[:3]) for a, _ in FAILING])
def test_every_command_prints_the_json_error_envelope(project, provision_cli, args, code):
    result = provision_cli.run(args, exit_code=code)
    document = json.loads(result.stdout)  # exactly one document
    assert document["ok"] is False
    assert document["error"]["exit_code"] == code and document["error"]["message"]
    assert set(document["error"]) == {"error", "message", "hints", "context", "exit_code"}
    assert result.stderr.startswith("Error: ") or "\nError: " in result.stderr


def test_the_envelope_covers_every_registered_command(provision_cli, project):
    # Each command with -o json, given an unknown stack or component, answers with the envelope.
    state = CliState(None, False)
    state._registry = provision_cli.registry
    names = cli.list_commands(click.Context(cli, obj=state))
    covered = {args[0] for args, _ in FAILING}
    uncovered = [n for n in names if n not in covered and n not in ("schema",)]  # schema has no -o json (-o is its file)
    assert uncovered == []


def test_text_output_prints_nothing_on_stdout_on_error(project, provision_cli):
    result = provision_cli.run(["describe", "nope", "-s", "dev"], exit_code=2)
    assert result.stdout == ""


# -- config from the environment -----------------------------------------------------------------


@pytest.fixture
def elsewhere(tmp_path, stack_tree, project):
    """The project's config moved into conf/, its stacks under base/ (as ATMOS_BASE_PATH users lay it out)."""
    root = tmp_path / "elsewhere"
    (root / "conf").mkdir(parents=True)
    (root / "base").mkdir()
    (project.root / "stacks").rename(root / "base" / "stacks")
    config = dict(project.config, base_path=".")
    (root / "conf" / "atmos.yaml").write_text(json.dumps(config))
    (project.root / "atmos.yaml").unlink()
    return root


def _stacks(provision_cli, env):
    return json.loads(provision_cli.run(["list", "stacks", "-o", "json"], env=env).stdout)["stacks"]


def test_atmos_variables_find_the_config_and_the_base_path(elsewhere, provision_cli):
    env = {"ATMOS_CLI_CONFIG_PATH": str(elsewhere / "conf"), "ATMOS_BASE_PATH": str(elsewhere / "base")}
    assert [s["name"] for s in _stacks(provision_cli, env)] == ["dev", "prod"]
    # Without ATMOS_BASE_PATH the config's own base_path (its folder) has no stacks folder.
    result = provision_cli.run(["list", "stacks"], env={"ATMOS_CLI_CONFIG_PATH": str(elsewhere / "conf")}, exit_code=2)
    assert f"stacks folder {elsewhere / 'conf' / 'stacks'} does not exist" in result.stderr


def test_provisioner_config_wins_over_atmos_and_the_flag_over_both(elsewhere, provision_cli, tmp_path):
    ours = tmp_path / "ours.yaml"
    ours.write_text(json.dumps({"base_path": str(elsewhere / "base"), "stacks": {"base_path": "stacks", "name_pattern": "{stage}"}}))
    (tmp_path / "none").mkdir()
    empty = tmp_path / "empty.yaml"
    empty.write_text("stacks: {base_path: none}\n")
    atmos = {"ATMOS_CLI_CONFIG_PATH": str(elsewhere / "conf"), "ATMOS_BASE_PATH": str(tmp_path / "nowhere")}
    assert [s["name"] for s in _stacks(provision_cli, {**atmos, "PROVISIONER_CONFIG": str(ours)})] == ["dev", "prod"]
    result = provision_cli.run(["--config", str(empty), "list", "stacks"], env={**atmos, "PROVISIONER_CONFIG": str(ours)})
    assert result.stdout == ""


def test_atmos_config_path_without_a_config_is_exit_2(tmp_path, provision_cli):
    result = provision_cli.run(["list", "stacks"], env={"ATMOS_CLI_CONFIG_PATH": str(tmp_path)}, exit_code=2)
    assert "ATMOS_CLI_CONFIG_PATH" in result.stderr and "folder that holds atmos.yaml" in result.stderr


# -- completion ----------------------------------------------------------------------------------


def _complete(args: list[str], incomplete: str, cwd: Path) -> list[str]:
    from click.shell_completion import ShellComplete

    state = CliState(None, False, cwd=cwd)
    completion = ShellComplete(cli, {"obj": state}, "provision", "_PROVISION_COMPLETE")
    return [item.value for item in completion.get_completions(args, incomplete)]


def test_completes_stack_names(project):
    assert _complete(["describe", "vpc", "-s"], "", project.root) == ["dev", "prod"]
    assert _complete(["example", "--all", "-s"], "p", project.root) == ["prod"]
    assert _complete(["terraform", "plan", "vpc", "-s"], "d", project.root) == ["dev"]


def test_completes_component_names_of_the_given_stack(project):
    project.stack("qa", {"vars": {"stage": "qa"}, "components": {"terraform": {"only-qa": {}}}})
    assert _complete(["describe", "-s", "qa"], "", project.root) == ["only-qa"]
    assert _complete(["describe"], "", project.root) == ["dns", "eks", "only-qa", "vpc"]
    assert _complete(["example", "-s", "dev"], "d", project.root) == ["dns"]


def test_a_broken_project_completes_nothing(project):
    project.stack("broken", "vars: [unclosed\n")
    assert _complete(["describe", "vpc", "-s"], "", project.root) == []
    assert _complete(["descibe", "vpc", "-s"], "", project.root) == []  # a typo: no error either


def test_completion_through_the_shell_protocol(project):
    env = {**os.environ, "_PROVISION_COMPLETE": "bash_complete", "COMP_WORDS": "provision describe vpc -s d", "COMP_CWORD": "4"}
    done = subprocess.run([sys.executable, "-m", "provisioner_core.cli.main"], cwd=project.root, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines() == ["plain,dev"], done.stderr


# -- install hints with core alone ---------------------------------------------------------------


def test_core_alone_gives_the_pip_line_for_the_components_backend_type(project, provision_cli):
    for args in (["backend", "eks", "-s", "dev"], ["backend", "--all"]):
        result = provision_cli.run(args, exit_code=2)
        assert "pip install provisioner-backend-gcs" in result.stderr, result.stderr


def test_core_alone_in_a_process_with_no_plugin_loaded(project):
    env = {**os.environ, "PROVISIONER_LOAD_PLUGINS": ""}
    done = subprocess.run([sys.executable, "-m", "provisioner_core.cli.main", "backend", "--all"], cwd=project.root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "pip install provisioner-backend-gcs" in done.stderr
    assert "Traceback" not in done.stderr


# -- terraform colours ---------------------------------------------------------------------------


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_terraform_colour_only_to_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_color(_Stream(True)) is True
    assert wants_color(_Stream(False)) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_color(_Stream(True)) is False
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: set *and not empty*
    assert wants_color(_Stream(True)) is True


def test_dry_run_shows_no_color_on_every_terraform_command(project, provision_cli):
    project.component("vpc")
    result = provision_cli.run(["terraform", "plan", "vpc", "-s", "dev", "--dry-run", "-o", "json"])
    commands = [c["args"] for c in json.loads(result.stdout)["terraform"]]
    assert [args[0] for args in commands] == ["init", "workspace", "plan"]
    assert all("-no-color" in args for args in commands), commands
    assert commands[1] == ["workspace", "select", "-or-create", "-no-color", "dev"]
