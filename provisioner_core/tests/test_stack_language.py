"""The Atmos stack language, construct by construct: YAML functions, templates, imports, overrides,
list merge strategies, project discovery (tests/test_atmos_language.py runs them all together)."""

from __future__ import annotations

import json

import pytest

from provisioner_core import ConfigError
from provisioner_core.stacks.config import load_project_config
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.testing import StackTree

TEMPLATES_ON = {"templates": {"settings": {"enabled": True}}}


def repo(tree, environ=None):
    return StackRepository(load_project_config(None, tree.root, environ=environ or {}))


@pytest.fixture
def tree(tmp_path):
    return StackTree(tmp_path, config=TEMPLATES_ON)


def vars_of(tree, name="vpc", stack="dev"):
    return dict(repo(tree).component(stack, name).vars)


# --- YAML functions -------------------------------------------------------------------------


def test_exec_runs_only_when_the_component_is_resolved(tree):
    marker = tree.root / "ran"
    tree.stack("dev", f"vars: {{stage: dev}}\ncomponents:\n  terraform:\n    vpc:\n      vars:\n        out: !exec touch {marker} && echo '[1, 2]'\n")
    r = repo(tree)
    assert r.stack_names() == ["dev"] and r.component_names("dev") == ["vpc"]
    assert not marker.exists()
    assert r.component("dev", "vpc").vars["out"] == [1, 2]  # JSON output is decoded, as Atmos does
    assert marker.exists()


def test_env_reads_the_env_section_then_the_process_then_the_default(tree, monkeypatch):
    monkeypatch.setenv("FROM_PROCESS", "process")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    vpc:\n      env: {FROM_SECTION: section}\n      vars:\n"
                      "        a: !env FROM_SECTION\n        b: !env FROM_PROCESS\n        c: !env NOT_SET_ANYWHERE 'a default'\n        d: !env NOT_SET_ANYWHERE\n")  # fmt: skip
    assert {k: v for k, v in vars_of(tree).items() if k in "abcd"} == {"a": "section", "b": "process", "c": "a default", "d": ""}


def test_template_function_decodes_json_and_literal_is_never_rendered(tree):
    tree.stack("dev", "vars: {stage: dev, list: [x, y]}\ncomponents:\n  terraform:\n    vpc:\n      vars:\n"
                      "        j: !template '{{ .vars.list | toJson }}'\n        s: !template 'plain {{ .vars.stage }}'\n        l: !literal '{{ .vars.stage }}'\n")  # fmt: skip
    found = vars_of(tree)
    assert (found["j"], found["s"], found["l"]) == (["x", "y"], "plain dev", "{{ .vars.stage }}")


def test_include_reads_yaml_json_hcl_and_text_relative_to_the_file_then_the_base_path(tree):
    tree.file("stacks/catalog/shared.yaml", "name: shared\nlist: [a, b]\n")
    tree.file("config/data.json", '{"list": [{"id": 7}], "map": {"k": "v"}}')
    tree.file("config/vars.tfvars", 'region = "eu"\ncount = 2\n')
    tree.file("config/notes.md", "# notes\n")
    tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    vpc:\n      vars:\n"
                      "        y: !include catalog/shared.yaml .list[1]\n        j: !include ../config/data.json .list[0].id\n"
                      "        h: !include config/vars.tfvars\n        t: !include config/notes.md\n        r: !include.raw config/data.json\n")  # fmt: skip
    found = vars_of(tree)
    assert found["y"] == "b" and found["j"] == 7 and found["h"] == {"region": "eu", "count": 2} and found["t"] == "# notes\n"
    assert json.loads(found["r"])["map"] == {"k": "v"}


def test_append_appends_to_the_list_it_merges_over(tree):
    tree.stack("catalog/base", {"vars": {"azs": ["a"]}})
    tree.stack("dev", "import: [catalog/base]\nvars: {stage: dev, azs: !append [b]}\ncomponents:\n  terraform:\n    vpc: {}\n")
    assert vars_of(tree)["azs"] == ["a", "b"]


def test_unsupported_function_names_itself_file_and_line(tree):
    tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    vpc:\n      vars:\n        x: !store ssm/dev key\n")
    with pytest.raises(ConfigError, match=r"dev\.yaml:6: unsupported YAML function !store"):
        repo(tree).component("dev", "vpc")


def test_values_from_functions_are_masked_like_every_secret(tree, monkeypatch):
    from provisioner_core.testing import CliRunner

    monkeypatch.setenv("DB_PASSWORD", "hunter2-from-env")
    tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    vpc:\n      vars:\n        db_password: !env DB_PASSWORD\n")
    out = CliRunner(tree.root).run(["describe", "vpc", "-s", "dev"]).stdout
    assert "hunter2-from-env" not in out and "db_password: '***'" in out


# --- templates ------------------------------------------------------------------------------


def test_templates_see_the_component_as_atmos_builds_it(tree):
    tree.stack("catalog/base", {"components": {"terraform": {"base": {"metadata": {"type": "abstract", "component": "net"}, "settings": {"tier": "gold"}}}}})
    tree.stack("orgs/dev", {
        "import": ["catalog/base"], "vars": {"stage": "dev"}, "backend_type": "local",
        "components": {"terraform": {"vpc": {"metadata": {"inherits": ["base"]}, "vars": {
            "s": "{{ .atmos_component }}/{{ .atmos_stack }}/{{ .atmos_stack_file }}/{{ .component }}/{{ .workspace }}",
            "t": "{{ .settings.tier }}-{{ .metadata.component }}-{{ .backend_type }}-{{ .vars.stage }}",
            "missing": "{{ .vars.nope }}",
        }}}},
    })  # fmt: skip
    found = vars_of(tree)
    assert found["s"] == "vpc/dev/orgs/dev/net/dev-vpc"
    assert found["t"] == "gold-net-local-dev"
    assert found["missing"] == "<no value>"  # Atmos renders stack values with missingkey=default


def test_atmos_yaml_without_templates_settings_keeps_them_as_written(tmp_path):
    tree = StackTree(tmp_path)  # an atmos.yaml that does not enable templates, as Atmos's default
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {"x": "{{ .vars.stage }}"}}}}})
    assert vars_of(tree)["x"] == "{{ .vars.stage }}"


def test_custom_delimiters_evaluations_and_environment(tree, monkeypatch):
    monkeypatch.setenv("FROM_PROCESS", "p")
    tree.config["templates"] = {"settings": {"enabled": True, "delimiters": ["${", "}"], "evaluations": 2, "env": {"ONLY_IN_TEMPLATES": "t"}}}
    tree.write_config()
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {
        "a": "${ .vars.stage }-{{ .vars.stage }}", "b": '${ env "ONLY_IN_TEMPLATES" }${ env "FROM_PROCESS" }', "c": '${ "${ .atmos_component }" }'}}}}})  # fmt: skip
    found = vars_of(tree)
    assert (found["a"], found["b"], found["c"]) == ("dev-{{ .vars.stage }}", "tp", "vpc")


def test_each_distinct_template_is_parsed_once(tree):
    from provisioner_core.gotemplate import _program

    for i in range(20):
        tree.stack(f"s{i}", {"vars": {"stage": f"s{i}"}, "components": {"terraform": {"vpc": {"vars": {"n": "{{ .vars.stage }}-parsed-once-marker"}}}}})
    _program.cache_clear()
    names = [c.vars["n"] for c in repo(tree).components()]
    assert len(set(names)) == 20
    assert _program.cache_info().misses == 1 and _program.cache_info().hits == 19


def test_a_template_error_names_the_file_component_and_value(tree):
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"vars": {"x": "{{ .vars.stage | nope }}"}}}}})
    with pytest.raises(ConfigError, match=r"""dev\.yaml: component 'vpc' vars\.x:1: function "nope" not defined"""):
        repo(tree).component("dev", "vpc")


# --- imports --------------------------------------------------------------------------------


def test_import_context_renders_the_imported_file_and_the_parent_context_wins(tree):
    tree.file("stacks/catalog/app.yaml.tmpl", 'import:\n  - path: catalog/leaf\n    context: {who: leaf, color: red}\ncomponents:\n  terraform:\n    "app-{{ .who }}": {vars: {c: "{{ .color }}"}}\n')
    tree.file("stacks/catalog/leaf.yaml", 'components:\n  terraform:\n    "leaf-{{ .who }}": {vars: {c: "{{ .color }}"}}\n')
    tree.stack("dev", {"import": [{"path": "catalog/app", "context": {"who": "top", "color": "blue"}}], "vars": {"stage": "dev"}})
    r = repo(tree)
    assert r.component_names("dev") == ["app-top", "leaf-top"]  # the importing file's context wins down the chain
    assert r.component("dev", "leaf-top").vars["c"] == "blue"


def test_import_flags(tree):
    tree.file("stacks/catalog/strict.yaml", "components:\n  terraform:\n    vpc: {vars: {a: '{{ .missing_key }}'}}\n")
    tree.file("stacks/catalog/later.yaml", "components:\n  terraform:\n    vpc: {vars: {b: '{{ .atmos_component }}'}}\n")
    tree.stack("dev", {"vars": {"stage": "dev"}, "import": [
        {"path": "catalog/strict", "context": {"x": 1}, "ignore_missing_template_values": True},
        {"path": "catalog/later", "context": {"x": 1}, "skip_templates_processing": True},
        {"path": "catalog/absent", "skip_if_missing": True},
    ]})  # fmt: skip
    found = vars_of(tree)
    assert (found["a"], found["b"]) == ("<no value>", "vpc")


def test_brace_and_class_globs_in_imports_and_included_paths(tree):
    for region in ("use1", "usw2", "euw1"):
        tree.stack(f"mixins/{region}", {"vars": {"regions": [region]}, "settings": {region: True}})
    tree.config["stacks"]["included_paths"] = ["{dev,prod}.yaml", "[q]a.yaml"]
    tree.write_config()
    for stage in ("dev", "prod", "qa", "test"):
        tree.stack(stage, {"import": ["mixins/{use1,euw1}", "mixins/us[w]2"], "vars": {"stage": stage}, "components": {"terraform": {"vpc": {}}}})
    r = repo(tree)
    assert r.stack_names() == ["dev", "prod", "qa"]
    assert set(r.component("dev", "vpc").settings) == {"use1", "euw1", "usw2"}


# --- overrides and list merge strategies -----------------------------------------------------


def test_overrides_scope(tree):
    tree.stack("catalog/team", {"terraform": {"overrides": {"vars": {"team": "t1"}}}, "components": {"terraform": {"in-team": {"vars": {"team": "own"}}}}})
    tree.stack("catalog/other", {"components": {"terraform": {"after-team": {"vars": {"team": "own"}}}}})
    tree.stack("catalog/first", {"components": {"terraform": {"before-team": {"vars": {"team": "own"}}}}})
    tree.stack("dev", {"import": ["catalog/first", "catalog/team", "catalog/other"], "vars": {"stage": "dev"},
                       "overrides": {"settings": {"x": 1}}, "components": {"terraform": {"top": {"vars": {"team": "own"}}}}})  # fmt: skip
    r = repo(tree)
    team = {name: r.component("dev", name).vars["team"] for name in r.component_names("dev")}
    # An imported file's overrides reach its own components, the importer's and the files imported after it.
    assert team == {"before-team": "own", "in-team": "t1", "after-team": "t1", "top": "t1"}
    assert all(r.component("dev", n).settings.get("x") == 1 for n in r.component_names("dev"))


@pytest.mark.parametrize(("strategy", "expected"), [("replace", [{"b": 2}]), ("append", [{"a": 1}, {"x": 0}, {"b": 2}]), ("merge", [{"a": 1, "b": 2}, {"x": 0}])])
def test_list_merge_strategy_from_atmos_yaml(tree, strategy, expected):
    tree.config["settings"] = {"list_merge_strategy": strategy}
    tree.write_config()
    tree.stack("catalog/base", {"components": {"terraform": {"base": {"metadata": {"type": "abstract"}, "vars": {"l": [{"a": 1}, {"x": 0}]}}}}})
    tree.stack("dev", {"import": ["catalog/base"], "vars": {"stage": "dev"}, "components": {"terraform": {"vpc": {"metadata": {"inherits": ["base"]}, "vars": {"l": [{"b": 2}]}}}}})
    assert vars_of(tree)["l"] == expected


# --- the project ----------------------------------------------------------------------------


def test_config_from_atmos_variables(tmp_path):
    tree = StackTree(tmp_path / "project")
    tree.stack("dev", {"vars": {"stage": "dev"}})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = load_project_config(None, elsewhere, environ={"ATMOS_CLI_CONFIG_PATH": str(tree.root)})
    assert config.file == tree.root / "atmos.yaml"
    moved = load_project_config(None, elsewhere, environ={"ATMOS_CLI_CONFIG_PATH": str(tree.root), "ATMOS_BASE_PATH": str(tmp_path / "other")})
    assert moved.stacks_base_path == tmp_path / "other" / "stacks"
    with pytest.raises(ConfigError, match="ATMOS_CLI_CONFIG_PATH"):
        load_project_config(None, elsewhere, environ={"ATMOS_CLI_CONFIG_PATH": str(elsewhere)})


def test_an_output_cycle_is_exit_2(tree):
    tree.stack("dev", "vars: {stage: dev}\ncomponents:\n  terraform:\n    a: {vars: {x: !terraform.output b y}}\n    b: {vars: {y: !terraform.output a x}}\n")
    r = repo(tree)

    class Host:
        def terraform_outputs(self, stack, component):
            return {"x": 1, "y": 2, **r.component(stack, component).vars}  # resolving the other component first, as terraform_outputs does

        state_outputs = terraform_outputs

    r.outputs = Host()
    with pytest.raises(ConfigError, match="component 'a' in stack 'dev' needs its own value to resolve"):
        r.component("dev", "a")
