"""The stack resolver against a realistic Atmos tree, and every error path (all exit 2)."""

from __future__ import annotations

import pytest

from provisioner_core import ConfigError
from provisioner_core.stacks.config import load_project_config
from provisioner_core.stacks.merge import deep_merge
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.testing import StackTree


@pytest.fixture
def org(tmp_path):
    """orgs/acme/{dev,prod}/us-east-1.yaml with catalog imports, a mixin, inherits and an abstract base."""
    tree = StackTree(tmp_path, name_pattern="{tenant}-{environment}-{stage}")
    tree.config["stacks"]["included_paths"] = ["orgs/**/*"]
    tree.config["stacks"]["excluded_paths"] = ["**/_defaults.yaml"]
    tree.write_config()
    tree.stack("catalog/vpc/defaults", {
        "components": {"terraform": {
            "vpc/defaults": {
                "metadata": {"type": "abstract", "component": "vpc"},
                "vars": {"cidr": "10.0.0.0/16", "tags": {"team": "net", "tier": "base"}, "azs": ["a", "b"]},
                "provision": {"backend": {"enabled": True}},
            },
            "vpc/large": {"metadata": {"type": "abstract"}, "vars": {"size": "large", "azs": ["a", "b", "c"]}},
        }},
    })
    tree.stack("mixins/region/us-east-1", {"vars": {"environment": "ue1", "region": "us-east-1"}})
    tree.stack("orgs/acme/_defaults", {
        "vars": {"tenant": "acme"},
        "backend_type": "s3",
        "backend": {"s3": {"bucket": "acme-tfstate", "region": "us-east-1", "encrypt": True}},
        "terraform": {"vars": {"managed_by": "terraform"}, "settings": {"spacelift": {"workspace_enabled": False}}},
    })
    tree.stack("orgs/acme/dev/us-east-1", {
        "import": ["orgs/acme/_defaults", "mixins/region/us-east-1", "catalog/vpc/*"],
        "vars": {"stage": "dev"},
        "components": {"terraform": {
            "vpc": {
                "metadata": {"component": "vpc", "inherits": ["vpc/defaults", "vpc/large"]},
                "vars": {"tags": {"tier": "dev"}},
                "backend": {"s3": {"key": "vpc/terraform.tfstate"}},
            },
        }},
    })
    tree.stack("orgs/acme/prod/us-east-1", {
        "import": ["orgs/acme/_defaults.yaml", "mixins/region/us-east-1"],
        "vars": {"stage": "prod"},
        "components": {"terraform": {"eks": {"vars": {"nodes": 3}}}},
    })
    return tree


def repo(tree):
    return StackRepository(load_project_config(None, tree.root))


def test_stack_names_come_from_name_pattern_and_excluded_files_are_not_stacks(org):
    assert repo(org).stack_names() == ["acme-ue1-dev", "acme-ue1-prod"]


def test_component_is_merged_from_imports_globals_terraform_and_inherits(org):
    vpc = repo(org).component("acme-ue1-dev", "vpc")
    assert vpc.terraform_component == "vpc"
    assert vpc.vars["cidr"] == "10.0.0.0/16"  # from the first base
    assert vpc.vars["size"] == "large"  # from the second base
    assert vpc.vars["azs"] == ["a", "b", "c"]  # lists replace; later base wins
    assert vpc.vars["tags"] == {"team": "net", "tier": "dev"}  # maps merge; the component wins
    assert vpc.vars["managed_by"] == "terraform"  # terraform: section
    assert vpc.vars["region"] == "us-east-1" and vpc.vars["tenant"] == "acme"  # mixin + defaults
    assert vpc.settings == {"spacelift": {"workspace_enabled": False}}
    assert vpc.backend_type == "s3"
    # No backend type registered here (core alone): the settings as written, no defaults filled.
    assert vpc.backend == {"bucket": "acme-tfstate", "region": "us-east-1", "encrypt": True, "key": "vpc/terraform.tfstate"}
    assert vpc.workspace == "acme-ue1-dev"
    assert vpc.is_enabled("backend") is True
    assert vpc.abstract is False
    assert vpc.inherits == ("vpc/defaults", "vpc/large")


def test_abstract_components_are_marked(org):
    base = repo(org).component("acme-ue1-dev", "vpc/defaults")
    assert base.abstract is True


def test_resolution_does_not_mutate_cached_documents(org):
    r = repo(org)
    r.component("acme-ue1-dev", "vpc")
    again = StackRepository(r.config, r.cache).component("acme-ue1-dev", "vpc")
    assert again.vars["tags"] == {"team": "net", "tier": "dev"}


def test_files_are_parsed_once_per_run(org):
    r = repo(org)
    list(r.components())
    reads = r.cache.reads
    list(r.components())
    assert reads == r.cache.reads
    assert reads == 5  # catalog, mixin, _defaults and the two stacks: each file once


def test_name_template_and_path_names(tmp_path):
    tree = StackTree(tmp_path / "t", name_pattern=None, config=None)
    tree.config["stacks"]["name_template"] = "{{ .vars.tenant }}-{{ .vars.stage }}"
    tree.write_config()
    tree.stack("dev", {"vars": {"tenant": "acme", "stage": "dev"}})
    assert repo(tree).stack_names() == ["acme-dev"]
    plain = StackTree(tmp_path / "p", name_pattern=None)
    plain.stack("orgs/dev", {"vars": {}})
    assert repo(plain).stack_names() == ["orgs/dev"]


def test_deep_merge_semantics():
    assert deep_merge({"a": {"x": 1, "l": [1]}}, None, {"a": {"y": 2, "l": [2]}}, {"a": {"x": 3}}) == {"a": {"x": 3, "y": 2, "l": [2]}}


# --- errors ---------------------------------------------------------------------------------


def error_of(tree, action):
    with pytest.raises(ConfigError) as info:
        action(repo(tree))
    assert info.value.exit_code == 2
    return info.value


def test_yaml_syntax_error_names_file_and_line(stack_tree):
    stack_tree.stack("dev", "vars:\n  stage: dev\ncomponents:\n  terraform:\n    vpc: {vars: [unclosed\n")
    error = error_of(stack_tree, lambda r: r.stacks())
    assert "dev.yaml:5" in error.message or "dev.yaml:6" in error.message
    assert "YAML syntax error" in error.message


def test_import_cycle_names_the_cycle(stack_tree):
    stack_tree.stack("dev", {"import": ["catalog/a"], "vars": {"stage": "dev"}})
    stack_tree.stack("catalog/a", {"import": ["catalog/b"]})
    stack_tree.stack("catalog/b", {"import": ["catalog/a"]})
    error = error_of(stack_tree, lambda r: r.stacks())
    assert "import cycle: catalog/a.yaml -> catalog/b.yaml -> catalog/a.yaml" in error.message


def test_missing_import_lists_close_matches(stack_tree):
    stack_tree.stack("catalog/vpc", {"vars": {}})
    stack_tree.stack("dev", {"import": ["catalog/vcp"], "vars": {"stage": "dev"}})
    error = error_of(stack_tree, lambda r: r.stacks())
    assert "import 'catalog/vcp' not found" in error.message
    assert "catalog/vpc" in error.hints[0]


def test_unknown_stack_and_component_list_close_matches(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {}}}})
    assert "Did you mean: dev" in error_of(stack_tree, lambda r: r.stack("dve")).hints[0]
    assert "Did you mean: vpc" in error_of(stack_tree, lambda r: r.component("dev", "vcp")).hints[0]


def test_inherits_cycle_and_unknown_base(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {
        "a": {"metadata": {"inherits": ["b"]}}, "b": {"metadata": {"inherits": ["a"]}}, "c": {"metadata": {"inherits": ["nope"]}}}}})
    assert "inherits cycle: a -> b -> a" in error_of(stack_tree, lambda r: r.component("dev", "a")).message
    assert "inherits unknown component 'nope'" in error_of(stack_tree, lambda r: r.component("dev", "c")).message


def test_a_manifest_without_its_name_vars_is_skipped_and_explained(stack_tree):
    # Atmos skips a manifest whose name cannot be derived; asking for it names the reason.
    stack_tree.stack("dev", {"vars": {"tenant": "x"}, "components": {"terraform": {"vpc": {}}}})
    stack_tree.stack("prod", {"vars": {"stage": "prod"}, "components": {"terraform": {"vpc": {}}}})
    r = repo(stack_tree)
    assert r.stack_names() == ["prod"]
    assert "vars.stage" in r.skipped["dev.yaml"]
    error = error_of(stack_tree, lambda r: r.stack("dev"))
    assert "dev.yaml" in error.hints[0] and "vars.stage" in error.hints[0]


def test_several_manifests_make_one_stack(stack_tree):
    stack_tree.stack("a", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {"x": 1}}, "shared": {"vars": {"y": 1}}}}})
    stack_tree.stack("b", {"vars": {"stage": "dev"}, "components": {"terraform": {"eks": {}, "shared": {"vars": {"y": 1}}}}})
    r = repo(stack_tree)
    assert r.stack_names() == ["dev"]
    assert r.component_names("dev") == ["eks", "shared", "vpc"]
    assert r.component("dev", "vpc").vars == {"stage": "dev", "x": 1}
    assert r.component("dev", "shared").source_file == "a.yaml"  # the same in both: the first is used


def test_one_component_defined_differently_in_two_manifests_is_refused(stack_tree):
    stack_tree.stack("a", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {"x": 1}}}}})
    stack_tree.stack("b", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {"x": 2}}}}})
    error = error_of(stack_tree, lambda r: r.component("dev", "vpc"))
    assert "component 'vpc' of stack 'dev' is defined differently in a.yaml and b.yaml" in error.message


def test_non_utf8_file(stack_tree):
    (stack_tree.root / "stacks").mkdir(exist_ok=True)
    (stack_tree.root / "stacks" / "dev.yaml").write_bytes(b"vars:\n  stage: d\xe9v\n")
    assert "not valid UTF-8" in error_of(stack_tree, lambda r: r.stacks()).message


def test_wrong_section_types(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": ["not", "a", "map"]}}}})
    assert "section 'vars' of component 'vpc' must be a mapping" in error_of(stack_tree, lambda r: r.component("dev", "vpc")).message


@pytest.mark.parametrize("pattern", ["{tenant", "tenant}", "", "{}", "{a-b}"])
def test_bad_name_pattern(tmp_path, pattern):
    tree = StackTree(tmp_path, name_pattern=pattern or None)
    if not pattern:
        tree.config["stacks"]["name_pattern"] = ""
        tree.write_config()
    with pytest.raises(ConfigError, match="name_pattern"):
        load_project_config(None, tree.root)


def test_name_template_is_a_go_template(tmp_path):
    tree = StackTree(tmp_path, name_pattern=None)
    tree.config["stacks"]["name_template"] = '{{ if eq .vars.stage "local" }}{{ .vars.stage }}{{ else }}{{ .vars.tenant | upper }}-{{ .vars.stage }}{{ end }}'
    tree.write_config()
    tree.stack("local", {"vars": {"stage": "local"}})
    tree.stack("dev", {"vars": {"stage": "dev", "tenant": "acme"}})
    assert repo(tree).stack_names() == ["ACME-dev", "local"]


@pytest.mark.parametrize(("template", "error"), [("{{ .vars.x | nope }}", 'function "nope" not defined'), ("{{ if }}", "missing value for if")])
def test_bad_name_template_is_exit_2_naming_it(tmp_path, template, error):
    tree = StackTree(tmp_path, name_pattern=None)
    tree.config["stacks"]["name_template"] = template
    tree.write_config()
    tree.stack("dev", {"vars": {"x": "dev"}})
    with pytest.raises(ConfigError, match=error):
        repo(tree).stacks()


def test_missing_stacks_folder_and_config_file(tmp_path):
    with pytest.raises(ConfigError, match="stacks folder"):
        StackRepository(load_project_config(None, tmp_path)).stacks()
    with pytest.raises(ConfigError, match="config file nope.yaml not found"):
        load_project_config("nope.yaml", tmp_path)


def test_huge_file_is_refused(stack_tree, monkeypatch):
    from provisioner_core.stacks import loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    stack_tree.stack("dev", {"vars": {"stage": "dev", "pad": "x" * 200}})
    assert "over the" in error_of(stack_tree, lambda r: r.stacks()).message
