"""Deep merge as Atmos does it: mappings merge recursively, lists and scalars replace, later wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def deep_merge(*layers: Any) -> dict[str, Any]:
    """Merge mappings left to right; a non-mapping layer (None included) contributes nothing."""
    result: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, Mapping):
            _merge_into(result, layer)
    return result


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged = dict(current)
            _merge_into(merged, value)
            target[key] = merged
        elif isinstance(value, Mapping):
            target[key] = deep_merge(value)  # copy, so later merges never mutate a cached file
        elif isinstance(value, list):
            target[key] = list(value)
        else:
            target[key] = value
