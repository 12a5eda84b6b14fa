"""The PRD's registry tests, plus discovery: broken, duplicate and misspelled plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from provisioner_core import EventSpec, ProvisionerSpec, ProvisionResult, Status, hookimpl
from provisioner_core.plugins import PluginRegistry

FAKE_DIST = Path(__file__).parent / "fixtures" / "fake_dist"


class Widget:
    @staticmethod
    @hookimpl
    def register_provisioner():
        return ProvisionerSpec(name="widget", type="widget", events=("before.terraform.init", "manual.provision"), description="Makes widgets")

    @staticmethod
    @hookimpl
    def before_terraform_init():
        return ProvisionResult(status=Status.CREATED)

    @staticmethod
    @hookimpl
    def manual_provision():
        return None


class Gadget:
    @staticmethod
    @hookimpl
    def register_provisioner():
        return ProvisionerSpec(name="gadget", type="gadget", events=("before.terraform.init",), description="Makes gadgets")

    @staticmethod
    @hookimpl
    def before_terraform_init():
        return None


def test_register_provisioner(provisioner_registry, register_plugin):
    info = register_plugin(Widget, name="widget-plugin")
    assert info.status == "loaded"
    assert [rp.spec.name for rp in provisioner_registry.provisioners()] == ["example", "widget"]
    assert "widget" in provisioner_registry.provisioner_types()


def test_get_provisioners_for_event(provisioner_registry, register_plugin):
    register_plugin(Widget)
    at_init = [rp.spec.name for rp in provisioner_registry.provisioners() if "before.terraform.init" in rp.spec.events]
    assert at_init == ["example", "widget"]


def test_get_provisioners_for_event_no_provisioners(provisioner_registry):
    assert [rp for rp in provisioner_registry.provisioners() if "after.terraform.apply" in rp.spec.events] == []


def test_multiple_provisioners_for_same_event(provisioner_registry, register_plugin):
    register_plugin(Widget)
    register_plugin(Gadget)
    names = sorted(rp.spec.name for rp in provisioner_registry.provisioners() if "before.terraform.init" in rp.spec.events)
    assert names == ["example", "gadget", "widget"]


def test_declared_event_without_its_hook_fails_the_plugin(provisioner_registry, register_plugin):
    class Liar:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="liar", type="liar", events=("after.terraform.apply",), description="Declares but does not implement")

    info = register_plugin(Liar)
    assert info.status == "failed"
    assert "implements no after_terraform_apply hook" in info.reason
    assert "liar" not in provisioner_registry.provisioner_types()


def test_register_provisioner_returning_wrong_type_fails_the_plugin(register_plugin):
    class Wrong:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return {"name": "wrong"}

    info = register_plugin(Wrong)
    assert info.status == "failed"
    assert "expected ProvisionerSpec" in info.reason


def test_misspelled_hook_is_reported_with_close_match(provisioner_registry, register_plugin):
    class Typo:
        @staticmethod
        @hookimpl
        def before_terraform_inti():
            return None

    info = register_plugin(Typo, name="typo")
    assert info.status == "failed"
    assert "did you mean 'before_terraform_init'" in info.reason


def test_plugin_declares_a_new_event(provisioner_registry, register_plugin):
    """The PRD: provisioners can register for any hook event, including ones a plugin adds."""

    class Workflow:
        @staticmethod
        @hookimpl
        def register_events():
            return [EventSpec("before.workflow.execute", "Runs before a workflow")]

        @staticmethod
        @hookimpl
        def register_provisioner():
            return ProvisionerSpec(name="workflow", type="workflow", events=("before.workflow.execute",), description="Generates workflows")

        @staticmethod
        @hookimpl
        def before_workflow_execute(component):
            return ProvisionResult(status=Status.CREATED, resource=f"workflow for {component.name}")

    info = register_plugin(Workflow)
    assert info.status == "loaded", info.reason
    assert "before.workflow.execute" in provisioner_registry.events()
    assert hasattr(provisioner_registry.pm.hook, "before_workflow_execute")


def test_duplicate_provisioner_name_is_reported_not_dropped(register_plugin):
    class WidgetAgain(Widget):
        pass

    register_plugin(Widget, name="first")
    info = register_plugin(WidgetAgain, name="second", distribution="second-dist")
    assert info.status == "duplicate"
    assert "already provided by test-plugin" in info.reason


def test_two_plugins_serving_one_backend_type_are_reported(register_plugin):
    def backend(name):
        class B:
            @staticmethod
            @hookimpl
            def register_provisioner():
                return ProvisionerSpec(name=name, type="backend", events=("manual.provision",), description="x", backend_types=("s3",))

            @staticmethod
            @hookimpl
            def manual_provision():
                return None

        return B

    assert register_plugin(backend("s3-a"), name="a").status == "loaded"
    info = register_plugin(backend("s3-b"), name="b")
    assert info.status == "duplicate"
    assert "backend type 's3' is already served by 's3-a'" in info.reason


def _discover(env: dict[str, str]) -> str:
    """Load the fake distributions (good, broken, misspelled, duplicates) in a clean interpreter."""
    code = textwrap.dedent(
        """
        import json, sys
        from provisioner_core.plugins import PluginRegistry
        registry = PluginRegistry()
        print(json.dumps([i.to_dict() for i in registry.plugins()]))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**env, "PYTHONPATH": str(FAKE_DIST)}, check=True)
    return run.stdout


def _by_name(stdout: str) -> dict[tuple[str, str], dict]:
    import json

    return {(p["name"], p["distribution"]): p for p in json.loads(stdout)}


def test_entry_point_discovery_isolates_broken_and_reports_duplicates():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    plugins = _by_name(_discover(env))
    assert plugins[("good", "fake-provisioners")]["status"] == "loaded"
    broken = plugins[("broken", "fake-provisioners")]
    assert broken["status"] == "failed" and "broken on purpose" in broken["reason"]
    typo = plugins[("typo", "fake-provisioners")]
    assert typo["status"] == "failed" and "before_terraform_init" in typo["reason"]
    assert plugins[("shared-name", "fake-provisioners")]["status"] == "loaded"
    dup = plugins[("shared-name", "other-provisioners")]
    assert dup["status"] == "duplicate" and "already used by fake-provisioners" in dup["reason"]
    clash = plugins[("dup-spec", "other-provisioners")]
    assert clash["status"] == "duplicate" and "provisioner name 'good'" in clash["reason"]


def test_load_plugins_variable_restricts_and_empty_loads_none():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    only_good = _by_name(_discover({**env, "PROVISIONER_LOAD_PLUGINS": "good"}))
    assert {name for name, dist in only_good if dist != "provisioner-core"} == {"good"}
    none = _by_name(_discover({**env, "PROVISIONER_LOAD_PLUGINS": ""}))
    assert {dist for _, dist in none} == {"provisioner-core"}
    blocked = _by_name(_discover({**env, "PROVISIONER_BLOCK_PLUGINS": "broken"}))
    assert blocked[("broken", "fake-provisioners")]["status"] == "blocked"


def test_trace_plugins_prints_hook_calls(capsys):
    registry = PluginRegistry(load_entrypoints=False, environ={"PROVISIONER_TRACE_PLUGINS": "1"}).load()
    registry.build_credentials("nimbus", "static", {"type": "static"})  # no provider: the deprecated hook is asked
    assert "[trace] resolve_credentials" in capsys.readouterr().err


def test_load_is_idempotent(provisioner_registry):
    before = provisioner_registry.plugins()
    provisioner_registry.load()
    assert provisioner_registry.plugins() == before


@pytest.mark.parametrize("bad", [dict(name="Bad Name"), dict(events=()), dict(events=("init",)), dict(description="two\nlines"), dict(type="backend")])
def test_spec_is_validated_when_constructed(bad):
    fields = dict(name="ok", type="ok", events=("before.terraform.init",), description="fine")
    fields.update(bad)
    with pytest.raises(ValueError):
        ProvisionerSpec(**fields)


def test_event_spec_requires_dotted_name():
    with pytest.raises(ValueError):
        EventSpec("beforeworkflow", "x")
