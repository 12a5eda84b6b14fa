"""Component sections plugins register (register_component_sections): merged like vars, handed to
provisioners read-only, and able to enable a provisioner type (Atmos's `source:`)."""

from __future__ import annotations

import json

import pytest

from provisioner_core import MANUAL_PROVISION, ComponentSection, ProvisionerSpec, ProvisionResult, Status, hookimpl, provisioner
from provisioner_core.plugins import PluginRegistry
from provisioner_core.sections import merge_section


def source_plugin(seen: list, enables: str | None = "fetch"):
    def run(component):
        seen.append(component.plugin_sections.get("source"))
        return ProvisionResult(status=Status.UNCHANGED, resource=component.name)

    spec = ProvisionerSpec(name="fetch", type="fetch", events=(MANUAL_PROVISION,), description="reads source:")
    return provisioner(spec, run, sections=(ComponentSection("source", "where the code comes from", enables=enables),))


def stack(components: dict, **extra) -> dict:
    return {"vars": {"stage": "dev"}, **extra, "components": {"terraform": components}}


def test_a_section_merges_like_vars_from_globals_terraform_bases_and_the_component(stack_tree, provision_cli, register_plugin):
    seen: list = []
    register_plugin(source_plugin(seen), name="fetch")
    stack_tree.stack("dev", stack(
        {
            "base": {"metadata": {"type": "abstract"}, "source": {"uri": "git::https://example.com/base.git", "version": "1.0.0", "included_paths": ["*.tf"]}},
            "vpc": {"metadata": {"inherits": ["base"]}, "source": {"version": "2.0.0"}},
        },
        terraform={"source": {"retry": {"max_attempts": 2}}},
    ))  # fmt: skip
    provision_cli.run(["fetch", "vpc", "-s", "dev"])
    assert seen == [{"retry": {"max_attempts": 2}, "uri": "git::https://example.com/base.git", "version": "2.0.0", "included_paths": ["*.tf"]}]
    described = json.loads(provision_cli.run(["describe", "vpc", "-s", "dev", "-o", "json"]).stdout)
    assert described["source"]["version"] == "2.0.0" and described["provision"] == {"fetch": {"enabled": True}}


def test_a_set_section_enables_its_type_and_an_explicit_false_wins(stack_tree, provision_cli, register_plugin):
    seen: list = []
    register_plugin(source_plugin(seen), name="fetch")
    stack_tree.stack("dev", stack({
        "on": {"source": "git::https://example.com/a.git?ref=v1"},
        "off": {"source": "git::https://example.com/a.git?ref=v1", "provision": {"fetch": {"enabled": False}}},
        "none": {"vars": {}},
        "empty": {"source": {}},
    }))  # fmt: skip
    provision_cli.run(["fetch", "on", "-s", "dev"])
    assert seen == ["git::https://example.com/a.git?ref=v1"]
    for name in ("off", "none", "empty"):
        assert "provisioner 'fetch' is not enabled" in provision_cli.run(["fetch", name, "-s", "dev"], exit_code=2).stderr
    assert len(seen) == 1


def test_a_section_without_enables_only_carries_the_value(stack_tree, provision_cli, register_plugin):
    seen: list = []
    register_plugin(source_plugin(seen, enables=None), name="fetch")
    stack_tree.stack("dev", stack({"app": {"source": "./src"}, "other": {"source": "./src", "provision": {"fetch": {"enabled": True}}}}))
    provision_cli.run(["fetch", "app", "-s", "dev"], exit_code=2)
    provision_cli.run(["fetch", "other", "-s", "dev"])
    assert seen == ["./src"]


def test_provisioners_get_the_section_read_only(stack_tree, provisioner_run, register_plugin):
    def run(component):
        with pytest.raises(TypeError, match="read-only"):
            component.plugin_sections["source"]["version"] = "x"
        return None

    spec = ProvisionerSpec(name="fetch", type="fetch", events=(MANUAL_PROVISION,), description="reads source:")
    register_plugin(provisioner(spec, run, sections=(ComponentSection("source", "code", enables="fetch"),)), name="fetch")
    stack_tree.stack("dev", stack({"app": {"source": {"uri": "./src", "version": "1"}}}))
    [outcome] = provisioner_run(MANUAL_PROVISION, "dev", "app")
    assert outcome.result.status is Status.UNCHANGED


def test_unregistered_sections_are_not_carried(stack_tree, provisioner_run, register_plugin):
    seen = []

    def run(component):
        seen.append(dict(component.plugin_sections))

    register_plugin(provisioner(ProvisionerSpec(name="look", type="look", events=(MANUAL_PROVISION,), description="looks"), run), name="look")
    stack_tree.stack("dev", stack({"app": {"source": "./src", "provision": {"look": {"enabled": True}}}}))
    provisioner_run(MANUAL_PROVISION, "dev", "app")
    assert seen == [{}]


def test_the_stack_schema_names_registered_sections(provision_cli, register_plugin):
    register_plugin(source_plugin([]), name="fetch")
    schema = json.loads(provision_cli.run(["schema"]).stdout)
    assert schema["$defs"]["component"]["properties"]["source"] == {"description": "where the code comes from"}


def test_a_registered_name_is_checked_and_the_first_registration_wins():
    for bad in ("vars", "provision", "metadata", "Source", "my-section"):
        with pytest.raises(ValueError):
            ComponentSection(bad, "x")

    def owner(description):
        class Owner:
            @hookimpl
            def register_component_sections(self):
                return (ComponentSection("source", description),)

        return Owner()

    registry = PluginRegistry(load_entrypoints=False, environ={})
    registry.register(owner("first"), name="a", check=False)
    registry.register(owner("second"), name="b", check=False)
    registry.load()
    assert registry.component_sections()["source"].description == "first"
    infos = {i.name: i for i in registry.plugins()}
    assert "component section 'source' is already registered by 'a'; not used" in infos["b"].reason
    assert infos["a"].to_dict()["component_sections"] == ["source"]


def test_a_registration_of_the_wrong_type_fails_the_plugin():
    class Wrong:
        @hookimpl
        def register_component_sections(self):
            return ("source",)

    registry = PluginRegistry(load_entrypoints=False, environ={})
    registry.register(Wrong(), name="wrong", check=False)
    registry.load()
    assert "expected ComponentSection" in {i.name: i.reason for i in registry.plugins()}["wrong"] and not registry.component_sections()


@pytest.mark.parametrize(
    ("layers", "merged"),
    [
        ([None, {"a": 1}, None], {"a": 1}),
        ([{"a": {"b": 1}}, {"a": {"c": 2}}], {"a": {"b": 1, "c": 2}}),
        ([{"uri": "x"}, "git::y"], "git::y"),  # a string replaces a mapping (Atmos's simple form)
        (["git::y", {"version": "2"}], {"version": "2"}),
        ([["a"], ["b"]], ["b"]),
    ],
)
def test_merge_section(layers, merged):
    assert merge_section(layers) == merged
