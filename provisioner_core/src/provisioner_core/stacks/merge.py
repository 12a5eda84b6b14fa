"""Deep merge as Atmos does it: mappings merge recursively, lists and scalars replace, later wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

# Types that are never mappings: checked first because an ABC isinstance check is slow
# and this runs for every value of every section of every component.
_LEAF_TYPES = frozenset({str, int, float, bool, type(None), list})


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    kind = type(value)
    if kind is dict:
        return True
    if kind in _LEAF_TYPES:
        return False
    return isinstance(value, Mapping)


def deep_merge(*layers: Any) -> dict[str, Any]:
    """Merge mappings left to right; a non-mapping layer (None included) contributes nothing."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer and is_mapping(layer):
            _merge_into(result, layer)
    return result


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    # Recursive on purpose (the hot path of resolution): every value comes from a file the loader
    # has bounded to MAX_DEPTH (100) levels, so this never nears Python's recursion limit.
    for key, value in source.items():
        if is_mapping(value):
            current = target.get(key)
            if current is not None and is_mapping(current):
                merged = dict(current)
                _merge_into(merged, value)
                target[key] = merged
            else:
                target[key] = deep_merge(value)  # copy, so later merges never mutate a cached file
        elif type(value) is list:
            target[key] = list(value)
        else:
            target[key] = value
