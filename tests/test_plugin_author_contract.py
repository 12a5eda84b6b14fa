"""Plugin contract v1, the author's side: options schemas, the concurrency contract, captured and
redacted output, read-only inputs, timeouts that stop work, the project root.

The ledger provisioner (tests/plugins/provisioner-test-contract) is the issue's careless plugin:
a read-modify-write of one shared JSON file, prints (a secret, even) and logs.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from provisioner_core import ChangeRecorder, ProvisionerSpec, ProvisionResult, Status, hookimpl, provisioner
from provisioner_core.plugins import PluginRegistry
from provisioner_core.testing import CliRunner

TOKEN = "tok-Ledger-Secret-4242"


def ledger_project(stack_tree, components: int = 40, **ledger):
    stack_tree.stack("dev", {
        "vars": {"stage": "dev", "api_token": TOKEN},
        "components": {"terraform": {f"c{i:02d}": {"provision": {"ledger": {"enabled": True, **ledger}}} for i in range(components)}},
    })  # fmt: skip
    return stack_tree


@pytest.fixture
def cli(stack_tree):
    return CliRunner(stack_tree.root, PluginRegistry(environ={}))


def test_a_careless_plugin_keeps_every_entry_under_all_because_it_runs_serially(stack_tree, cli):
    ledger_project(stack_tree)
    result = json.loads(cli.run(["ledger", "--all", "--jobs", "16", "-o", "json"]).stdout)
    assert result["metrics"]["concurrency"] == "serial" and result["metrics"]["workers"] == 1
    entries = json.loads((stack_tree.root / "ledger.json").read_text())
    assert sorted(entries) == [f"dev/c{i:02d}" for i in range(40)]  # all 40 (a parallel run kept 7-12)


def test_a_plugins_print_and_log_are_captured_redacted_and_kept_out_of_the_json(stack_tree, cli):
    ledger_project(stack_tree, components=1, note="hello")
    out = cli.run(["ledger", "c00", "-s", "dev", "-o", "json"])
    data = json.loads(out.stdout)  # stdout is one JSON document: the print did not break it
    messages = data["results"][0]["messages"]
    assert {"level": "stdout", "text": "recorded dev/c00 (token ***) hello"} in messages
    assert {"level": "info", "text": "the ledger has 1 entries"} in messages
    assert all(m["level"] != "debug" for m in messages) and TOKEN not in out.output
    text = cli.run(["ledger", "c00", "-s", "dev"])
    assert "Output: recorded dev/c00 (token ***) hello" in text.stdout and "Info: the ledger has 2 entries" in text.stdout
    assert "Debug: ledger file" in cli.run(["-v", "ledger", "c00", "-s", "dev"]).stdout and TOKEN not in text.output


def test_options_are_validated_against_the_schema_all_at_once(stack_tree, cli):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {
        "ledger": {"enabled": True, "fil": "x.json", "note": 3, "timeout": "soon"},
    }}}}})  # fmt: skip
    result = cli.run(["ledger", "app", "-s", "dev"], exit_code=2)
    assert "has 3 invalid provisioner options" in result.stderr
    assert "provision.ledger.timeout must be a positive number of seconds, got 'soon'" in result.stderr
    assert "unknown option 'fil' (did you mean 'file'?)" in result.stderr
    assert "provision.ledger.note: must be a string, got int 3" in result.stderr
    assert not (stack_tree.root / "x.json").exists() and not (stack_tree.root / "ledger.json").exists()


def test_relative_paths_resolve_against_the_project_root_not_the_shells_cwd(stack_tree, tmp_path):
    ledger_project(stack_tree, components=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    CliRunner(elsewhere, PluginRegistry(environ={})).run(["--config", str(stack_tree.root / "atmos.yaml"), "ledger", "c00", "-s", "dev"])
    assert (stack_tree.root / "ledger.json").exists() and not (elsewhere / "ledger.json").exists()


def test_provisioners_get_read_only_inputs(stack_tree, provisioner_registry, register_plugin):
    seen = {}

    def mutate(component, options):
        seen["vars"] = dict(component.vars)
        try:
            component.vars["size"] = "huge"
        except TypeError as error:
            seen["error"] = str(error)
        try:
            component.vars["tags"]["team"] = "x"
        except TypeError:
            seen["nested"] = True
        try:
            options["extra"] = 1
        except TypeError:
            seen["options"] = True
        return None

    register_plugin(provisioner(ProvisionerSpec(name="mutator", type="mutator", events=("manual.provision",), description="tries to mutate"), mutate))
    stack_tree.stack("dev", {"vars": {"stage": "dev", "size": "small", "tags": {"team": "a"}},
                             "components": {"terraform": {"app": {"provision": {"mutator": {"enabled": True}}}}}})  # fmt: skip
    from provisioner_core import Provisioning

    provisioning = Provisioning.from_path(None, stack_tree.root, provisioner_registry)
    provisioning.provision("mutator", "dev", "app")
    assert "read-only" in seen["error"] and seen["nested"] and seen["options"]
    assert provisioning.component("dev", "app").vars["size"] == "small"  # the run's component is untouched


def test_a_timed_out_provisioner_is_stopped_and_cannot_write_afterwards(stack_tree, provisioner_registry, register_plugin):
    written, released, done = [], threading.Event(), threading.Event()

    def slow(dry_run):
        recorder = ChangeRecorder("thing", dry_run=dry_run)
        released.wait(10)  # still running when its timeout is reported
        try:
            recorder.write("create", "thing", lambda: written.append("late write"), creates=True)
        finally:
            done.set()
        return recorder.result()

    register_plugin(provisioner(ProvisionerSpec(name="slow", type="slow", events=("manual.provision",), description="too slow", timeout_s=0.2), slow))
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"slow": {"enabled": True}}}}}})
    from provisioner_core import EventFailed, Provisioning

    with pytest.raises(EventFailed, match="timed out after 0.2s") as failed:
        Provisioning.from_path(None, stack_tree.root, provisioner_registry).provision("slow", "dev", "app")
    assert failed.value.exit_code == 5
    released.set()
    assert done.wait(10)
    assert written == [], "the stopped run's write was refused"


def test_a_type_declared_parallel_runs_concurrently(stack_tree, provisioner_registry, register_plugin):
    from provisioner_core import Concurrency, Provisioning
    from provisioner_core.batch import run_batch

    active, peak, lock = [0], [0], threading.Lock()

    def work():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return ProvisionResult(status=Status.UNCHANGED)

    spec = ProvisionerSpec(name="fast", type="fast", events=("manual.provision",), description="thread-safe", concurrency=Concurrency.PARALLEL)
    register_plugin(provisioner(spec, work))
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {f"c{i}": {"provision": {"fast": {"enabled": True}}} for i in range(8)}}})
    result = run_batch(Provisioning.from_path(None, stack_tree.root, provisioner_registry), "fast", jobs=4)
    assert result.metrics["concurrency"] == "parallel" and peak[0] > 1


def test_plugins_exits_non_zero_when_one_failed_and_debug_shows_the_traceback(stack_tree, provisioner_registry):
    class Broken:
        @hookimpl
        def register_provisioner(self):
            raise RuntimeError("boom in register")

    provisioner_registry.register(Broken(), name="broken", distribution="provisioner-broken")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    result = CliRunner(stack_tree.root, provisioner_registry).run(["plugins"], exit_code=1)
    assert "broken: failed: register_provisioner raised RuntimeError: boom in register" in result.stdout


def test_schema_describes_every_installed_provisioners_options(stack_tree, cli):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}})
    schema = json.loads(cli.run(["schema"]).stdout)
    ledger = schema["$defs"]["provision"]["properties"]["ledger"]
    assert ledger["properties"]["file"] == {"type": "string", "default": "ledger.json", "description": "the shared ledger, relative to the project root"}
    assert ledger["additionalProperties"] is False and ledger["properties"]["enabled"]["type"] == "boolean"
    assert schema["$defs"]["component"]["properties"]["auth"]["properties"]["providers"]["properties"]["httpstate"]["properties"]["type"]["enum"] == ["basic"]
    assert json.loads(cli.run(["plugins", "--options", "ledger", "-o", "json"]).stdout)["provisioners"]["ledger"]["schema"]["properties"]["note"]["type"] == "string"
