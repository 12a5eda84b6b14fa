"""Where state lives: workspaces and backend defaults as Atmos chooses them, state addresses, the guard, path escapes."""

from __future__ import annotations

import os

import pytest

from provisioner_core import DEFAULT_WORKSPACE, BackendType, ConfigError, ResourceConflict
from provisioner_core.plugins.builtin.backends import LOCAL
from provisioner_core.stacks.config import load_project_config
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.state import locate
from provisioner_core.state.guard import StateIndex
from provisioner_core.testing import StackTree


def _blob_object(backend, workspace):
    key = str(backend.get("key") or "")
    return key if workspace == DEFAULT_WORKSPACE else f"{backend.get('prefix') or 'env:'}/{workspace}/{key}"


def _blob_defaults(backend, ctx):
    if not backend.get("prefix"):
        backend["prefix"] = ctx.prefix


# A backend type of the test's own, registered as a plugin registers one (core knows no cloud).
BLOB = BackendType("blob", scheme="blob://", address_keys=("bucket",), identity_keys=("bucket", "endpoint"), location_keys=("key", "prefix"),
                   state_object=_blob_object, apply_defaults=_blob_defaults)  # fmt: skip
NOWS = BackendType("nows", workspaces=False)  # a backend without workspaces, as terraform's http is
TYPES = {"blob": BLOB, "local": LOCAL, "nows": NOWS}
ORG_BACKEND = {"blob": {"bucket": "acme-tfstate", "key": "terraform.tfstate"}}


def repo(tree: StackTree) -> StackRepository:
    return StackRepository(load_project_config(None, tree.root), backend_types=TYPES)


@pytest.fixture
def tree(tmp_path) -> StackTree:
    """The usual Atmos org-level backend: one bucket, key terraform.tfstate, in _defaults."""
    tree = StackTree(tmp_path / "p")
    tree.stack("catalog/defaults", {"backend_type": "blob", "backend": ORG_BACKEND})
    for stage in ("dev", "prod"):
        tree.stack(stage, {"import": ["catalog/defaults"], "vars": {"stage": stage, "tenant": "acme", "environment": "ue1"},
                           "components": {"terraform": {"vpc": {"vars": {"who": f"vpc-{stage}"}}, "eks": {"vars": {"who": f"eks-{stage}"}}}}})
    return tree


# --- workspaces -------------------------------------------------------------------------


def test_the_workspace_is_the_stack_and_the_prefix_the_component(tree):
    vpc, eks = repo(tree).component("dev", "vpc"), repo(tree).component("dev", "eks")
    assert (vpc.workspace, vpc.backend["prefix"]) == ("dev", "vpc")
    assert (eks.workspace, eks.backend["prefix"]) == ("dev", "eks")
    assert vpc.backend["key"] == "terraform.tfstate"  # the stack's own setting is kept
    assert vpc.sections()["workspace"] == "dev"


def test_a_derived_component_gets_stack_dash_component_and_its_base_as_prefix(tree):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev"},
                       "components": {"terraform": {"vpc-2": {"metadata": {"component": "vpc"}}}}})
    component = repo(tree).component("dev", "vpc-2")
    assert (component.workspace, component.backend["prefix"], component.terraform_component) == ("dev-vpc-2", "vpc", "vpc")


def test_slashes_become_dashes_in_workspace_and_prefix(tmp_path):
    tree = StackTree(tmp_path / "p", name_pattern=None)  # stack names are file paths
    tree.stack("orgs/acme/dev", {"backend_type": "blob", "backend": ORG_BACKEND, "components": {"terraform": {"net/vpc": {}}}})
    component = repo(tree).component("orgs/acme/dev", "net/vpc")
    assert (component.workspace, component.backend["prefix"]) == ("orgs-acme-dev", "net-vpc")


def test_prefix_separator_slash_keeps_the_folder(tmp_path):
    tree = StackTree(tmp_path / "p", config={"components": {"terraform": {"base_path": "components/terraform", "workspace": {"prefix_separator": "/"}}}})
    tree.stack("dev", {"vars": {"stage": "dev"}, "backend_type": "blob", "backend": ORG_BACKEND, "components": {"terraform": {"net/vpc": {}}}})
    assert repo(tree).component("dev", "net/vpc").backend["prefix"] == "net/vpc"


@pytest.mark.parametrize(
    ("metadata", "workspace"),
    [
        ({"terraform_workspace": "shared-net"}, "shared-net"),
        ({"terraform_workspace_pattern": "{tenant}-{environment}-{stage}"}, "acme-ue1-dev"),
        ({"terraform_workspace_pattern": "{stage}-{component}"}, "dev-vpc"),
        ({"terraform_workspace_pattern": "{tenant}/{stage}"}, "acme-dev"),
        ({"terraform_workspace": "lit", "terraform_workspace_pattern": "{stage}"}, "dev"),  # the pattern wins, as in Atmos
    ],
)
def test_literal_and_pattern_workspaces(tree, metadata, workspace):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev", "tenant": "acme", "environment": "ue1"},
                       "components": {"terraform": {"vpc": {"metadata": metadata}}}})
    assert repo(tree).component("dev", "vpc").workspace == workspace


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"terraform_workspace_pattern": "{tenant}-{nope}"}, "unknown token {nope}"),
        ({"terraform_workspace_pattern": "{namespace}-{stage}"}, "needs vars.namespace"),
        ({"terraform_workspace": ""}, "must be a non-empty string"),
        ({"terraform_workspace": "a b"}, "not a valid workspace name"),
        ({"terraform_workspace_template": 5}, "terraform_workspace_template must be a non-empty Go template"),
        ({"terraform_workspace_template": "{{ .vars.nope }}"}, 'map has no entry for key "nope"'),
    ],
)
def test_bad_workspace_settings_are_exit_2(tree, metadata, error):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev", "tenant": "acme"}, "components": {"terraform": {"vpc": {"metadata": metadata}}}})
    with pytest.raises(ConfigError, match=error.replace("{", r"\{").replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        repo(tree).component("dev", "vpc")


def test_workspace_template_is_rendered_with_the_component(tree):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev", "tenant": "acme"},
                       "components": {"terraform": {"vpc": {"metadata": {"terraform_workspace_template": "{{ .vars.tenant }}-{{ .atmos_component }}"}}}}})
    assert repo(tree).component("dev", "vpc").workspace == "acme-vpc"


def test_workspaces_off_or_a_backend_without_workspaces_mean_the_default_workspace(tree):
    tree.config["components"]["terraform"]["workspaces_enabled"] = False
    tree.write_config()
    assert repo(tree).component("dev", "vpc").workspace == "default"
    tree.config["components"]["terraform"]["workspaces_enabled"] = True
    tree.write_config()
    tree.stack("dev", {"vars": {"stage": "dev"}, "backend_type": "nows", "backend": {"nows": {"address": "https://x/state"}}, "components": {"terraform": {"vpc": {}}}})
    assert repo(tree).component("dev", "vpc").workspace == "default"


# --- backend defaults -------------------------------------------------------------------


def test_defaults_follow_metadata_name_then_component_then_name(tree):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev"}, "components": {"terraform": {
        "a": {"metadata": {"name": "named", "component": "vpc"}},
        "b": {"metadata": {"component": "vpc"}},
        "c": {"backend": {"blob": {"prefix": "mine"}}},
    }}})
    r = repo(tree)
    assert [r.component("dev", n).backend["prefix"] for n in "abc"] == ["named", "vpc", "mine"]


# --- state addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend_type", "backend", "workspace", "address"),
    [
        ("blob", {"bucket": "b", "key": "terraform.tfstate", "prefix": "vpc"}, "dev", "blob://b/vpc/dev/terraform.tfstate"),
        ("blob", {"bucket": "b", "key": "terraform.tfstate", "prefix": "vpc"}, "default", "blob://b/terraform.tfstate"),
        ("local", {"path": "../state/x.tfstate"}, "default", "local:/work/state/x.tfstate"),
        ("local", {"workspace_dir": "ws"}, "dev", "local:/work/app/ws/dev/terraform.tfstate"),
        (None, {}, "dev", "local:/work/app/terraform.tfstate.d/dev/terraform.tfstate"),
        (None, {}, "default", "local:/work/app/terraform.tfstate"),
    ],
)
def test_state_addresses(backend_type, backend, workspace, address):
    assert locate(backend_type, backend, workspace, "/work/app", TYPES).address == address


def test_an_unknown_backend_type_is_compared_by_all_its_settings():
    one = locate("consul", {"address": "x", "path": "a"}, "dev", "/w", TYPES)
    assert one.key == locate("consul", {"address": "x", "path": "a", "access_token": "secret-1"}, "dev", "/w", TYPES).key  # secrets aside
    assert one.key != locate("consul", {"address": "x", "path": "b"}, "dev", "/w", TYPES).key
    assert one.key != locate("consul", {"address": "x", "path": "a"}, "prod", "/w", TYPES).key


def test_endpoints_are_part_of_the_identity():
    a = locate("blob", {"bucket": "b", "key": "k", "endpoint": "http://one"}, "default", "/w", TYPES)
    b = locate("blob", {"bucket": "b", "key": "k", "endpoint": "http://two"}, "default", "/w", TYPES)
    assert a.key != b.key and a.address == b.address


# --- the guard --------------------------------------------------------------------------


def test_the_org_level_backend_is_safe_with_workspaces(tree):
    index = StateIndex(repo(tree))
    r = index.repository
    index.check(r.components())  # four components, four states
    assert len({index.location(c).key for c in r.components()}) == 4


def test_with_workspaces_off_two_components_of_a_stack_collide(tree):
    tree.config["components"]["terraform"]["workspaces_enabled"] = False
    tree.write_config()
    index = StateIndex(repo(tree))
    with pytest.raises(ResourceConflict) as caught:
        index.check([index.repository.component("dev", "vpc")])
    error = caught.value
    assert error.exit_code == 4
    assert "component 'vpc' in stack 'dev' and component 'eks' in stack 'dev' (and 2 more)" in error.message
    assert "blob://acme-tfstate/terraform.tfstate (workspace default)" in error.message
    assert "backend.blob.key or backend.blob.prefix" in error.hints[0]


def test_a_hand_copied_stack_with_a_literal_workspace_collides(tree):
    copied = {"import": ["catalog/defaults"], "vars": {"stage": "feature-y"},
              "components": {"terraform": {"vpc": {"metadata": {"terraform_workspace": "dev"}}}}}
    tree.stack("feature-y", copied)
    index = StateIndex(repo(tree))
    with pytest.raises(ResourceConflict, match="component 'vpc' in stack 'feature-y' and component 'vpc' in stack 'dev'"):
        index.check([index.repository.component("feature-y", "vpc")])


def test_abstract_and_disabled_components_never_collide(tree):
    tree.config["components"]["terraform"]["workspaces_enabled"] = False
    tree.write_config()
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev"}, "components": {"terraform": {
        "vpc": {}, "base": {"metadata": {"type": "abstract"}}, "old": {"metadata": {"enabled": False}},
    }}})
    tree.stack("prod", {"vars": {"stage": "prod"}})
    index = StateIndex(repo(tree))
    index.check(index.repository.components())


def test_a_broken_component_elsewhere_does_not_block_the_guard(tree):
    tree.stack("prod", {"import": ["catalog/defaults"], "vars": {"stage": "prod"}, "components": {"terraform": {"vpc": {"metadata": {"inherits": ["nope"]}}}}})
    index = StateIndex(repo(tree))
    index.check([index.repository.component("dev", "vpc")])


# --- metadata: inheritance and enabled ----------------------------------------------------


def test_metadata_enabled_false_from_the_stack_a_catalog_or_a_base(tree):
    tree.stack("catalog/eks", {"components": {"terraform": {"eks": {"metadata": {"enabled": False}}, "eks-base": {"metadata": {"type": "abstract", "enabled": False}}}}})
    tree.stack("dev", {"import": ["catalog/defaults", "catalog/eks"], "vars": {"stage": "dev"}, "components": {"terraform": {
        "vpc": {}, "eks-2": {"metadata": {"inherits": ["eks-base"]}}, "back": {"metadata": {"inherits": ["eks-base"], "enabled": True}},
    }}})
    tree.stack("prod", {"import": ["catalog/defaults"], "vars": {"stage": "prod"}, "metadata": {"enabled": False}, "components": {"terraform": {"vpc": {}}}})
    r = repo(tree)
    assert [r.component("dev", n).disabled for n in ("vpc", "eks", "eks-2", "back")] == [False, True, True, False]
    assert r.component("prod", "vpc").disabled is True
    assert r.component("dev", "eks-2").abstract is False  # type is never inherited


def test_stack_level_metadata_takes_only_atmos_keys(tree):
    tree.stack("dev", {"import": ["catalog/defaults"], "vars": {"stage": "dev"}, "metadata": {"component": "x"}, "components": {"terraform": {"vpc": {}}}})
    with pytest.raises(ConfigError, match="stack-level metadata cannot set component"):
        repo(tree).component("dev", "vpc")


def test_metadata_enabled_must_be_a_boolean(tree):
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"metadata": {"enabled": "no"}}}}})
    with pytest.raises(ConfigError, match="metadata.enabled of 'vpc' must be true or false"):
        repo(tree).component("dev", "vpc")


def test_metadata_inheritance_can_be_turned_off(tree):
    tree.config["stacks"]["inherit"] = {"metadata": False}
    tree.write_config()
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {
        "base": {"metadata": {"type": "abstract", "component": "vpc"}}, "vpc-1": {"metadata": {"inherits": ["base"]}},
    }}})
    assert repo(tree).component("dev", "vpc-1").terraform_component == "vpc-1"


# --- path escapes -----------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["../outside", "/etc", "a/../../outside", ".."])
def test_metadata_component_outside_the_base_path_is_exit_2(tree, folder):
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"metadata": {"component": folder}}}}})
    with pytest.raises(ConfigError, match="points outside components.terraform.base_path"):
        repo(tree).component("dev", "vpc")


def test_a_nested_folder_inside_the_base_path_is_fine(tree):
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"metadata": {"component": "net/../net/vpc"}}}}})
    assert repo(tree).component("dev", "vpc").terraform_component == "net/../net/vpc"


@pytest.mark.parametrize("entry", ["../outside", "./../outside", "OUTSIDE_ABS"])
def test_imports_outside_the_stacks_folder_are_exit_2(tree, entry):
    outside = tree.root / "outside.yaml"
    outside.write_text("vars: {x: 1}\n")
    entry = str(tree.root / "outside") if entry == "OUTSIDE_ABS" else entry
    tree.stack("dev", {"import": [entry], "vars": {"stage": "dev"}})
    with pytest.raises(ConfigError, match="outside stacks.base_path") as caught:
        repo(tree).stacks()
    assert "stacks.import_roots" in caught.value.hints[0]


def test_import_roots_allow_an_extra_folder(tree):
    shared = tree.root / "shared"
    shared.mkdir()
    (shared / "net.yaml").write_text("vars: {net: shared}\n")
    tree.config["stacks"]["import_roots"] = ["shared"]
    tree.write_config()
    tree.stack("dev", {"import": ["../shared/net"], "vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {}}}})
    assert repo(tree).component("dev", "vpc").vars["net"] == "shared"


def test_a_file_importing_itself_is_a_cycle(tree):
    tree.stack("dev", {"import": ["dev"], "vars": {"stage": "dev"}})
    with pytest.raises(ConfigError, match="dev.yaml imports itself"):
        repo(tree).stacks()


def test_a_glob_matching_the_importing_file_skips_it(tree):
    tree.stack("mixins/a", {"import": ["mixins/*"], "vars": {"a": 1}})
    tree.stack("mixins/b", {"vars": {"b": 2}})
    tree.stack("dev", {"import": ["mixins/a"], "vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {}}}})
    assert repo(tree).component("dev", "vpc").vars["b"] == 2


def test_an_unreadable_stacks_folder_is_an_error_not_a_skip(tree, monkeypatch):
    tree.stack("orgs/acme/qa", {"vars": {"stage": "qa"}})
    real_scandir = os.scandir
    locked = str(tree.root / "stacks" / "orgs" / "acme")

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    # Root can read any folder, so the denial is simulated where os.walk lists the folder.
    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ConfigError, match="cannot read stacks folder .*orgs/acme: Permission denied"):
        repo(tree).stacks()
