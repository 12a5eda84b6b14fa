"""Property-based tests of the stack merge (hypothesis): associative over import chains, later wins."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from provisioner_core.stacks.config import load_project_config
from provisioner_core.stacks.merge import deep_merge
from provisioner_core.stacks.resolver import StackRepository
from provisioner_core.testing import StackTree

keys = st.sampled_from(["a", "b", "c", "vars", "tags", "x"])
scalars = st.one_of(st.integers(-3, 3), st.booleans(), st.text("xyz", max_size=3), st.none())
values = st.recursive(scalars | st.lists(scalars, max_size=3), lambda inner: st.dictionaries(keys, inner, max_size=4), max_leaves=12)
documents = st.dictionaries(keys, values, max_size=5)


def same_kinds(*layers: dict) -> bool:
    """No key is a mapping in one layer and a non-mapping in another (at any depth)."""
    for key in {k for layer in layers for k in layer}:
        present = [layer[key] for layer in layers if key in layer]
        kinds = {isinstance(v, dict) for v in present}
        if len(kinds) > 1:
            return False
        if kinds == {True} and not same_kinds(*present):
            return False
    return True


@given(documents, documents, documents)
def test_merge_is_associative_when_no_key_changes_kind(a, b, c):
    # A scalar (or null) replacing a mapping discards it, so grouping matters only across such a
    # change of kind; imports are always applied left to right (see the chain test below).
    assume(same_kinds(a, b, c))
    assert deep_merge(deep_merge(a, b), c) == deep_merge(a, deep_merge(b, c)) == deep_merge(a, b, c)


@given(documents, documents, documents)
def test_left_to_right_merge_is_the_documented_order(a, b, c):
    assert deep_merge(deep_merge(a, b), c) == deep_merge(a, b, c)


@given(documents, documents)
def test_later_layer_wins_for_every_non_mapping_leaf(a, b):
    merged = deep_merge(a, b)
    for key, value in b.items():
        if not isinstance(value, dict):
            assert merged[key] == value


@given(documents)
def test_merge_copies_and_never_mutates_its_inputs(a):
    import copy

    before = copy.deepcopy(a)
    merged = deep_merge(a, {})
    assert merged == a and a == before
    for value in merged.values():
        if isinstance(value, (dict, list)):
            assert all(value is not original for original in a.values())


@settings(max_examples=25, deadline=None)
@given(documents, documents, documents)
def test_import_chain_equals_flat_merge(tmp_path_factory, a, b, c):
    """dev imports mid, mid imports base: the same as merging base, mid, dev in order."""
    tree = StackTree(tmp_path_factory.mktemp("chain"), name_pattern=None)
    tree.stack("catalog/base", {"vars": a})
    tree.stack("catalog/mid", {"import": ["catalog/base"], "vars": b})
    tree.stack("dev", {"import": ["catalog/mid"], "vars": c})
    tree.config["stacks"]["excluded_paths"] = ["catalog/**"]
    tree.write_config()
    repo = StackRepository(load_project_config(None, tree.root))
    assert repo.stack("dev").document["vars"] == deep_merge(a, b, c)
