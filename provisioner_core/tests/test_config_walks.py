"""Walks over config values (redaction, placeholders, verify): linear and iterative (issue 16).

The loader bounds every file (test_loader_bounds.py); these walks must not depend on that: a
shared subtree (a YAML alias) is visited once where the result allows it, and depth never
reaches Python's recursion limit because nothing recurses.
"""

from __future__ import annotations

# --- walks over config: linear, never recursive --------------------------------------------


class CountingDict(dict):
    """A mapping that counts how often a walk lists its items."""

    listed = 0

    def items(self):  # type: ignore[override]
        CountingDict.listed += 1
        return super().items()


def shared_tree(levels: int) -> tuple[CountingDict, int]:
    """``levels`` mappings, each holding the previous one twice: 2**levels paths, ``levels`` objects."""
    node = CountingDict(token="s3cr3t-token-value", name="leaf")
    for _ in range(levels):
        node = CountingDict(a=node, b=[node, node])
    return node, levels + 1


def test_secret_values_walks_each_shared_subtree_once():
    from provisioner_core.redaction import secret_values

    tree, objects = shared_tree(13)  # 3**13 (1.6M) paths to the leaf; 14 objects
    CountingDict.listed = 0

    assert secret_values(tree) == {"s3cr3t-token-value"}
    assert CountingDict.listed == objects


def test_redaction_and_placeholder_walks_survive_any_depth_without_recursion():
    # Past the loader's limit nothing deep reaches them; they must not depend on that.
    from provisioner_core.redaction import redact_mapping, secret_values

    deep: dict = {"password": "s3cr3t-value", "note": "REQUIRED: a value"}
    for _ in range(5000):
        deep = {"k": [deep]}

    redacted = redact_mapping(deep)
    for _ in range(5000):
        redacted = redacted["k"][0]
    assert redacted == {"password": "***", "note": "REQUIRED: a value"}
    assert secret_values(deep) == {"s3cr3t-value"}


def _redact_reference(value):
    """The recursive definition the iterative walk must equal."""
    from collections.abc import Mapping

    from provisioner_core.redaction import MASK, is_secret_entry

    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_entry(k, v) else _redact_reference(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_reference(v) for v in value]
    return value


def test_redaction_output_is_unchanged():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from provisioner_core.redaction import redact_mapping

    keys = st.sampled_from(["password", "name", "token", "kms_key_id", "access_key", "tags", "x"])
    leaves = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.tuples(st.integers()))
    trees = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=30)

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(trees)
    def check(tree: object) -> None:
        out = redact_mapping(tree)
        assert out == _redact_reference(tree)
        assert repr(out) == repr(_redact_reference(tree))  # key order too

    check()
