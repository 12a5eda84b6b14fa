"""metadata.inherits: memoised, de-duplicated in Atmos's order, depth-bounded (issue 16, item 3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner_core import ConfigError
from provisioner_core.stacks import resolver
from provisioner_core.stacks.component import MERGED_SECTIONS
from provisioner_core.stacks.config import load_project_config
from provisioner_core.stacks.merge import deep_merge
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.testing import StackTree


def diamond(levels: int) -> dict[str, Any]:
    """``app`` inherits ``b0``; each abstract ``b<i>`` inherits the next two: 2**levels paths to the last base."""
    components: dict[str, Any] = {"app": {"metadata": {"inherits": ["b0"]}, "vars": {"name": "app"}}}
    for i in range(levels):
        bases = [f"b{j}" for j in (i + 1, i + 2) if j < levels]
        components[f"b{i}"] = {"metadata": {"type": "abstract", "inherits": bases}, "vars": {f"v{i}": i, "shared": i}}
    return {"vars": {"stage": "dev"}, "components": {"terraform": components}}


def repo_for(tree: StackTree) -> StackRepository:
    return StackRepository(load_project_config(None, tree.root))


def test_a_diamond_40_levels_deep_resolves_each_base_once(stack_tree):
    # Issue 16: 30 levels took 8 s, 40 were killed at 120 s with 1 GB (the chain held every path).
    stack_tree.stack("dev", diamond(40))
    repo = repo_for(stack_tree)
    stack = repo.stack("dev")

    chain = repo._chain(stack, stack.raw_components(), "app")
    app = repo.component("dev", "app")

    assert len(chain) == 41  # app and its 40 bases, each once
    assert app.vars["shared"] == 0 and app.vars["v39"] == 39 and app.vars["name"] == "app"
    assert [repo.placement("dev", name).stack for name in ("app", "b0", "b39")] == ["dev"] * 3


def test_inheritance_deeper_than_the_limit_names_the_chain(stack_tree):
    limit = resolver.MAX_INHERITS_DEPTH
    components = {f"c{i}": {"metadata": {"inherits": [f"c{i + 1}"]}} for i in range(limit + 1)}
    components[f"c{limit + 1}"] = {"vars": {"x": 1}}
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": components}})
    repo = repo_for(stack_tree)

    with pytest.raises(ConfigError) as caught:
        repo.component("dev", "c0")
    assert caught.value.exit_code == 2
    assert f"metadata.inherits goes deeper than {limit} levels: c0 -> c1 -> " in caught.value.message
    assert caught.value.message.endswith(f"c{limit} -> c{limit + 1}")
    # Exactly at the limit it resolves, and a base reached first through the cache counts the same.
    assert repo.component("dev", "c1").vars["x"] == 1
    with pytest.raises(ConfigError, match="deeper than"):
        repo.placement("dev", "c0")


def test_cycles_are_still_named(stack_tree):
    stack_tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": {
        "a": {"metadata": {"inherits": ["b", "c"]}}, "b": {"metadata": {"inherits": ["c"]}}, "c": {"metadata": {"inherits": ["a"]}}}}})
    with pytest.raises(ConfigError, match=r"inherits cycle: a -> b -> c -> a"):
        repo_for(stack_tree).component("dev", "a")


# --- the de-duplicated chain merges to what Atmos's repeated merges give ----------------------


def atmos_layers(components: dict[str, Any], name: str) -> list[str]:
    """Atmos's order: depth first, bases before the component, a base merged again on every path to it."""
    own = components[name]
    layers: list[str] = []
    for base in own.get("metadata", {}).get("inherits", []):
        layers += atmos_layers(components, base)
    return [*layers, name]


values = st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from("pq"), st.integers(0, 3), max_size=2))
sections = st.dictionaries(st.sampled_from(["a", "b", "c"]), values, max_size=3)


@st.composite
def dags(draw: Any) -> dict[str, Any]:
    """Up to 7 components, each inheriting some of the later ones (no cycles), with random vars and backend_type."""
    count = draw(st.integers(2, 7))
    components: dict[str, Any] = {}
    for i in range(count):
        later = [f"k{j}" for j in range(i + 1, count)]
        inherits = draw(st.lists(st.sampled_from(later), unique=True, max_size=3)) if later else []
        component: dict[str, Any] = {"metadata": {"inherits": inherits, "custom": draw(sections)}, "vars": draw(sections), "settings": draw(sections)}
        if draw(st.booleans()):
            component["backend_type"] = draw(st.sampled_from(["s3", "gcs"]))
        components[f"k{i}"] = component
    return components


@settings(max_examples=60, deadline=None, derandomize=True)
@given(dags())
def test_deduplicated_inheritance_equals_atmos_repeated_merges(tmp_path_factory, components):
    tree = StackTree(tmp_path_factory.mktemp("dag"))
    tree.stack("dev", {"vars": {"stage": "dev"}, "components": {"terraform": components}})
    repo = repo_for(tree)

    for name in components:
        resolved = repo.component("dev", name)
        layers = [components[n] for n in atmos_layers(components, name)]
        globals_ = {"vars": {"stage": "dev"}, "settings": {}}
        for section in ("vars", "settings"):
            assert getattr(resolved, section) == deep_merge(globals_[section], *(layer.get(section) for layer in layers)), (name, section)
        expected_type = next((layer["backend_type"] for layer in reversed(layers) if "backend_type" in layer), None)
        assert resolved.backend_type == expected_type
        custom = deep_merge(*(layer["metadata"]["custom"] for layer in layers))
        assert resolved.metadata["custom"] == custom
    assert set(MERGED_SECTIONS) >= {"vars", "settings"}


def test_an_import_chain_deeper_than_the_limit_is_an_error_not_a_recursion_error(stack_tree):
    # 600 files each importing the next raised RecursionError (exit 1): now exit 2 naming the chain.
    for i in range(600):
        stack_tree.stack(f"catalog/c{i}", {"import": [f"catalog/c{i + 1}"]} if i < 599 else {"vars": {"x": 1}})
    stack_tree.stack("dev", {"import": ["catalog/c0"], "vars": {"stage": "dev"}})

    with pytest.raises(ConfigError) as caught:
        repo_for(stack_tree).stacks()
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith(f"imports nest deeper than {resolver.MAX_IMPORT_DEPTH} files: dev.yaml -> catalog/c0.yaml -> ")


def test_an_import_chain_at_the_limit_resolves(stack_tree):
    depth = resolver.MAX_IMPORT_DEPTH - 1  # dev.yaml is the first file of the chain
    for i in range(depth):
        stack_tree.stack(f"catalog/c{i}", {"import": [f"catalog/c{i + 1}"]} if i < depth - 1 else {"vars": {"x": 1}})
    stack_tree.stack("dev", {"import": ["catalog/c0"], "vars": {"stage": "dev"}})

    assert repo_for(stack_tree).stack("dev").document["vars"] == {"x": 1, "stage": "dev"}
