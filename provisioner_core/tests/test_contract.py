"""Plugin contract v1 in core: registrations collected order-independently, events and where they fire,
commands, hookspecs, component validation, the API version, one table for every lifecycle hook."""

from __future__ import annotations

import inspect
import types

import click
import pytest

from provisioner_core import (
    API_VERSION,
    BUILTIN_EVENTS,
    BackendType,
    ConfigError,
    EventSpec,
    ProvisionerSpec,
    ProvisionResult,
    Status,
    hookimpl,
    hookspec,
    provisioner,
)
from provisioner_core import hookspecs as core_hookspecs
from provisioner_core.events import event_name, hook_name, is_valid_event_name
from provisioner_core.hookspecs import LIFECYCLE_ARGS
from provisioner_core.plugins import PluginRegistry
from provisioner_core.simple import _lifecycle


def fresh() -> PluginRegistry:
    return PluginRegistry(load_entrypoints=False, environ={})


def declares(*events: EventSpec) -> object:
    class Declarer:
        @hookimpl
        def register_events(self):
            return events

    return Declarer()


def consumer(name: str, event: str) -> object:
    return provisioner(ProvisionerSpec(name=name, type=name, events=(event,), description="uses an event"), lambda: None)


# --- events -------------------------------------------------------------------------------


def test_event_names_map_one_to_one_to_hook_names():
    assert not is_valid_event_name("before.a_b") and not is_valid_event_name("after-terraform-apply") and not is_valid_event_name("one")
    with pytest.raises(ValueError, match="no '_' or '-'"):
        EventSpec("before.a_b", "an underscore would collide with before.a.b")
    for event in BUILTIN_EVENTS:
        assert event_name(hook_name(event)) == event


def test_every_lifecycle_hookspec_comes_from_the_one_table():
    for event in BUILTIN_EVENTS:
        spec = getattr(core_hookspecs, hook_name(event))
        assert hasattr(spec, "provisioner_spec") and spec.__code__ is core_hookspecs.lifecycle.__code__
    assert LIFECYCLE_ARGS == ("component", "auth", "options", "dry_run", "clients", "event", "spec", "project_root")
    assert tuple(inspect.signature(_lifecycle(lambda: None, [], "x")).parameters) == LIFECYCLE_ARGS  # provisioner() passes every argument


@pytest.mark.parametrize("order", ["provider-first", "consumer-first"])
def test_a_plugin_event_is_known_whatever_the_load_order(order):
    registry = fresh()
    plugins = [("provider", declares(EventSpec("before.network.check", "checks", after="after.component.load"))), ("consumer", consumer("net", "before.network.check"))]
    for name, plugin in plugins if order == "provider-first" else plugins[::-1]:
        registry.register(plugin, name=name, check=False)
    registry.load()
    assert [p.status for p in registry.plugins() if p.name in ("provider", "consumer")] == ["loaded", "loaded"]
    assert registry.events_after("after.component.load") == ["before.network.check"]
    assert "before.network.check" in registry.events()


def test_events_chain_after_events_in_name_order():
    registry = fresh()
    registry.register(declares(
        EventSpec("before.zone.two", "second", after="before.zone.one"),
        EventSpec("before.zone.one", "first", after="after.terraform.init"),
        EventSpec("before.zone.alpha", "also after init", after="after.terraform.init"),
        EventSpec("when.asked", "only a command fires it"),
    ), name="zones", check=False)  # fmt: skip
    registry.load()
    assert registry.events_after("after.terraform.init") == ["before.zone.alpha", "before.zone.one", "before.zone.two"]
    assert "when.asked" in registry.events() and all("when.asked" not in registry.events_after(e) for e in BUILTIN_EVENTS)


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ((EventSpec("before.x.y", "d", after="after.nowhere"),), "fires after unknown event 'after.nowhere'"),
        ((EventSpec("before.x.y", "d", after="before.x.z"), EventSpec("before.x.z", "d", after="before.x.y")), "a cycle"),
        ((EventSpec("before.terraform.init", "d"),), "which is core's own"),
    ],
)
def test_a_bad_event_declaration_fails_its_plugin_only(events, reason):
    registry = fresh()
    registry.register(declares(*events), name="bad", check=False)
    registry.register(consumer("fine", "before.terraform.init"), name="fine", check=False)
    registry.load()
    infos = {i.name: i for i in registry.plugins()}
    assert infos["bad"].status == "failed" and reason in infos["bad"].reason
    assert infos["fine"].status == "loaded"


def test_a_consumer_of_an_event_whose_provider_failed_fails_too_and_says_so():
    registry = fresh()
    registry.register(declares(EventSpec("before.x.y", "d", after="after.nowhere")), name="provider", check=False)
    registry.register(consumer("user", "before.x.y"), name="user", check=False)
    registry.load()
    reason = {i.name: i.reason for i in registry.plugins()}["user"]
    assert "declares unknown event 'before.x.y'" in reason


def test_two_plugins_declaring_one_event_differently_is_a_failure():
    registry = fresh()
    registry.register(declares(EventSpec("before.x.y", "one meaning")), name="one", check=False)
    registry.register(declares(EventSpec("before.x.y", "another meaning")), name="two", check=False)
    registry.register(declares(EventSpec("before.x.y", "one meaning")), name="same", check=False)
    registry.load()
    statuses = {i.name: (i.status, i.reason) for i in registry.plugins() if i.name in ("one", "two", "same")}
    assert statuses["one"][0] == "loaded" and statuses["same"][0] == "loaded"
    assert statuses["two"] == ("failed", "declares event 'before.x.y' differently from plugin 'one'")


# --- registrations ------------------------------------------------------------------------


def test_backend_types_first_registration_wins_and_the_second_is_reported():
    registry = fresh()

    def types_plugin(description):
        class P:
            @hookimpl
            def register_backend_types(self):
                return (BackendType("store", description=description),)

        return P()

    registry.register(types_plugin("first"), name="a", check=False)
    registry.register(types_plugin("second"), name="b", check=False)
    registry.load()
    assert registry.backend_types()["store"].description == "first"
    assert "backend type 'store' is already registered by 'a'; not used" in {i.name: i.reason for i in registry.plugins()}["b"]


def test_a_registration_of_the_wrong_type_fails_the_plugin():
    class Wrong:
        @hookimpl
        def register_backend_types(self):
            return ("store",)

    registry = fresh()
    registry.register(Wrong(), name="wrong", check=False)
    registry.load()
    assert "expected BackendType" in {i.name: i.reason for i in registry.plugins()}["wrong"]


def test_register_commands_adds_commands_and_reports_a_taken_name():
    @click.command("hello")
    def hello() -> None:
        """Say hello."""

    @click.command("plugins")
    def clash() -> None:
        """Takes core's name."""

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(hello)
            cli.add_command(clash)

    registry = fresh()
    registry.register(Commands(), name="cmds", check=False)
    registry.load()
    group = click.Group("provision")
    registry.register_commands(group)
    assert group.commands["hello"] is hello and group.commands["plugins"] is not clash
    assert "command 'plugins' is already provided by another plugin" in {i.name: i.reason for i in registry.plugins()}["cmds"]


def test_register_hookspecs_adds_a_plugins_own_hooks():
    holder = types.ModuleType("my_hooks")

    @hookspec
    def on_my_thing(value):
        """A hook of the plugin's own."""

    holder.on_my_thing = on_my_thing
    seen = []

    class Owner:
        @hookimpl
        def register_hookspecs(self):
            return (holder,)

    class Listener:
        @hookimpl
        def on_my_thing(self, value):
            seen.append(value)

    registry = fresh()
    registry.register(Listener(), name="listener", check=False)  # before the spec exists: still fine
    registry.register(Owner(), name="owner", check=False)
    registry.load()
    registry.pm.hook.on_my_thing(value=42)
    assert seen == [42] and {i.name: i.status for i in registry.plugins()}["listener"] == "loaded"


def test_validate_component_refuses_a_component_before_anything_runs(stack_tree, provision_cli, register_plugin):
    ran = []

    class Gate:
        @hookimpl
        def validate_component(self, component, project):
            if component.vars.get("frozen"):
                raise ConfigError(f"{component.name} is frozen", hint="Unfreeze it first.")

    register_plugin(Gate(), name="gate")
    register_plugin(provisioner(ProvisionerSpec(name="note", type="note", events=("manual.provision",), description="notes"), lambda: ran.append(1)), name="note")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"vars": {"frozen": True}, "provision": {"note": {"enabled": True}}}}}})
    result = provision_cli.run(["note", "app", "-s", "dev"], exit_code=2)
    assert "app is frozen" in result.stderr and ran == []


def test_a_component_enabling_a_type_whose_plugin_failed_names_it(stack_tree, provision_cli, register_plugin):
    class Broken:
        @hookimpl
        def register_provisioner(self):
            raise RuntimeError("missing dependency")

    register_plugin(Broken(), name="dns-plugin", distribution="provisioner-dns")
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"app": {"provision": {"dns": {"enabled": True}}}}}})
    for args in (["dns", "app", "-s", "dev"], ["terraform", "plan", "app", "-s", "dev"]):
        result = provision_cli.run(args, exit_code=2)
        assert "no installed plugin provides the 'dns' provisioner" in result.stderr
        assert "provisioner-dns (dns-plugin) failed to load: register_provisioner raised RuntimeError: missing dependency" in result.stderr


# --- the API version ----------------------------------------------------------------------


@pytest.mark.parametrize(("required", "loads"), [("1", True), (API_VERSION, True), ("1.99", False), ("2.0", False), ("0.9", False), ("one", False)])
def test_a_plugin_declares_the_api_it_needs(required, loads):
    plugin = provisioner(ProvisionerSpec(name="versioned", type="versioned", events=("manual.provision",), description="v"),
                         lambda: ProvisionResult(status=Status.UNCHANGED), requires_api=required)  # fmt: skip
    registry = fresh()
    info = registry.register(plugin, name="versioned", distribution="provisioner-versioned")
    assert (info.status == "loaded") is loads
    if not loads:
        assert "requires_api" in info.reason or "provisioner plugin API" in info.reason
    if required in ("1.99", "2.0"):
        assert "upgrade provisioner-core" in info.reason  # the plugin is newer than this core
    if required == "0.9":
        assert "install a release of provisioner-versioned made for API 1.x" in info.reason  # an older major
