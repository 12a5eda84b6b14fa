"""Concurrent creates of one environment: one wins, the other fails cleanly; writes are all or nothing."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from provisioner_core import hookimpl
from provisioner_core.errors import ResourceConflict
from provisioner_core.plugins import PluginRegistry
from provisioner_core.session import Provisioning
from provisioner_env import create_environment
from provisioner_env.plan import FileChange
from provisioner_env.writer import write_all, write_atomic

STACK = ("vars: {stage: dev}\nbackend_type: s3\nbackend: {s3: {bucket: acme-dev-tfstate, key: app.tfstate}}\n"
         "components: {terraform: {app: {vars: {name: app-dev}}}}\n")


@pytest.fixture
def project(stack_tree):
    stack_tree.component("app")
    stack_tree.file("stacks/dev.yaml", STACK)
    stack_tree.file("stacks/mixins/stage/dev.yaml", "vars: {queue: jobs-dev}\n")
    return stack_tree.root


def registry() -> PluginRegistry:
    import provisioner_env.plugin

    built = PluginRegistry(load_entrypoints=False, environ={}).load()
    built.register(provisioner_env.plugin, name="env", distribution="provisioner-env")  # its hooks exist only with it
    return built


def test_a_second_create_during_the_first_fails_on_the_lock(project):
    """Deterministic: the first run's before_env_create hook runs the second create to completion."""
    outcome: dict[str, BaseException | None] = {}

    def second() -> None:
        try:
            create_environment(Provisioning.from_path(cwd=project, registry=registry()), "feature-x", "dev")
            outcome["second"] = None
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome["second"] = exc

    class Interleave:
        @hookimpl
        def before_env_create(self, plan):
            thread = threading.Thread(target=second)
            thread.start()
            thread.join(timeout=30)

    first = registry()
    first.register(Interleave(), name="interleave")
    result = create_environment(Provisioning.from_path(cwd=project, registry=first), "feature-x", "dev")
    error = outcome["second"]
    assert isinstance(error, ResourceConflict) and error.exit_code == 4
    assert "another `provision env` run is changing environment 'feature-x' (lock file .provision-env.feature-x.lock: pid" in error.message
    assert result.written == ["stacks/dev.yaml".replace("dev", "feature-x"), "stacks/mixins/stage/feature-x.yaml"]
    assert (project / "stacks" / "feature-x.yaml").read_text() == result.plan.files[0].content
    assert not (project / ".provision-env.feature-x.lock").exists()


def test_two_processes_racing_one_wins_and_the_other_fails_cleanly(project):
    provision = str(Path(sys.executable).parent / "provision")
    runs = [subprocess.Popen([provision, "env", "create", "feature-x", "-o", "json"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(run.wait(timeout=60), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert sorted(code for code, _, _ in results) == [0, 4], results
    loser = next(err for code, _, err in results if code == 4)
    assert "already exists" in loser or "another `provision env` run" in loser or "created by another run" in loser
    expected = create_environment(Provisioning.from_path(cwd=project, registry=registry()), "feature-y", "dev", dry_run=True).plan.files[0].content
    assert (project / "stacks" / "feature-x.yaml").read_text() == expected.replace("feature-y", "feature-x")
    assert sorted(p.name for p in (project / "stacks").iterdir()) == ["dev.yaml", "feature-x.yaml", "mixins"]
    assert not list(project.glob(".provision-env.*"))


def test_a_leftover_lock_is_reported_with_its_owner(project, provision_cli):
    (project / ".provision-env.feature-x.lock").write_text("pid 4242 on build-host\n")
    result = provision_cli.run(["env", "create", "feature-x"], exit_code=4)
    assert "lock file .provision-env.feature-x.lock: pid 4242 on build-host" in result.stderr
    assert "If no such run is active, remove" in result.stderr
    assert not (project / "stacks" / "feature-x.yaml").exists()


def test_a_failed_write_restores_everything(tmp_path, monkeypatch):
    (tmp_path / "keep.yaml").write_text("old\n")
    changes = [FileChange("atmos", "stack", "a", "new/deep/one.yaml", "1\n"), FileChange("atmos", "stack", "b", "keep.yaml", "2\n"),
               FileChange("atmos", "stack", "c", "three.yaml", "3\n")]
    calls = []

    def failing(path, content, *, replace):
        calls.append(path.name)
        if path.name == "three.yaml":
            raise OSError(28, "No space left on device")
        write_atomic(path, content, replace=replace)

    monkeypatch.setattr("provisioner_env.writer.write_atomic", failing)
    with pytest.raises(OSError, match="No space left"):
        write_all(tmp_path, changes, force=True)
    assert calls == ["one.yaml", "keep.yaml", "three.yaml", "keep.yaml"]  # the last: keep.yaml restored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.yaml"]  # the new folders are gone too
    assert (tmp_path / "keep.yaml").read_text() == "old\n"


def test_an_exclusive_write_never_replaces_an_existing_file(tmp_path):
    target = tmp_path / "dev.yaml"
    target.write_text("theirs\n")
    with pytest.raises(ResourceConflict, match="already exists"):
        write_atomic(target, "ours\n", replace=False)
    assert target.read_text() == "theirs\n" and [p.name for p in tmp_path.iterdir()] == ["dev.yaml"]
    write_atomic(target, "ours\n", replace=True)
    assert target.read_text() == "ours\n"
