"""Deep merge as Atmos does it: mappings merge recursively, later wins.

Lists follow ``settings.list_merge_strategy``: ``replace`` (the default: the later list wins),
``append`` (the later list is appended) or ``merge`` (item by item: mappings at one index merge,
the earlier item is kept otherwise, extra items are appended — Atmos's rules). A list written
``!append [...]`` is appended whatever the strategy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.tags import AppendList

LIST_STRATEGIES = ("replace", "append", "merge")
# Types that are never mappings: checked first because an ABC isinstance check is slow
# and this runs for every value of every section of every component.
_LEAF_TYPES = frozenset({str, int, float, bool, type(None), list, AppendList})


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    kind = type(value)
    if kind is dict:
        return True
    if kind in _LEAF_TYPES:
        return False
    return isinstance(value, Mapping)


def check_strategy(value: Any, where: str) -> str:
    if value not in LIST_STRATEGIES:
        raise ConfigError(
            f"{where}: list_merge_strategy {value!r} is not one of {', '.join(LIST_STRATEGIES)}",
            hint="Write `list_merge_strategy: replace` (the default), `append` or `merge`.",
        )
    return str(value)


def deep_merge(*layers: Any, lists: str = "replace") -> dict[str, Any]:
    """Merge mappings left to right; a non-mapping layer (None included) contributes nothing."""
    if lists != "replace":
        return merge_with_lists(layers, lists)
    result: dict[str, Any] | None = None
    for layer in layers:
        if layer and is_mapping(layer):
            if result is None:
                result = _copy(layer)  # merging into nothing is a copy: no lookups in an empty target
            else:
                _merge_into(result, layer)
    return {} if result is None else result


def _copy(source: Mapping[str, Any]) -> dict[str, Any]:
    """What ``_merge_into({}, source)`` gives, faster: mappings copied deeply, lists shallowly."""
    result: dict[str, Any] = {}
    for key, value in source.items():
        kind = type(value)
        if kind is dict or (kind not in _LEAF_TYPES and isinstance(value, Mapping)):
            result[key] = _copy(value)
        elif kind is list or kind is AppendList:
            result[key] = list(value)
        else:
            result[key] = value
    return result


def merge_with_lists(layers: Any, lists: str) -> dict[str, Any]:
    """``deep_merge`` with the ``append`` or ``merge`` list strategy."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer and is_mapping(layer):
            _merge_lists_into(result, layer, lists)
    return result


def _merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    # Recursive on purpose (the hot path of resolution): every value comes from a file the loader
    # has bounded to MAX_DEPTH (100) levels, so this never nears Python's recursion limit.
    for key, value in source.items():
        kind = type(value)
        # is_mapping inlined: scalars, the common case, cost one set lookup and no call.
        if kind is dict or (kind not in _LEAF_TYPES and isinstance(value, Mapping)):
            current = target.get(key)
            if current is not None and is_mapping(current):
                merged = dict(current)
                _merge_into(merged, value)
                target[key] = merged
            else:
                target[key] = _copy(value)  # so later merges never mutate a cached file
        elif kind is list:
            target[key] = list(value)
        elif kind is AppendList:
            current = target.get(key)
            target[key] = [*current, *value] if isinstance(current, list) else list(value)
        else:
            target[key] = value


def _merge_lists_into(target: dict[str, Any], source: Mapping[str, Any], lists: str) -> None:
    for key, value in source.items():
        current = target.get(key)
        if is_mapping(value):
            if current is not None and is_mapping(current):
                merged = dict(current)
                _merge_lists_into(merged, value, lists)
                target[key] = merged
            else:
                target[key] = deep_merge(value, lists=lists)
        elif isinstance(value, list):
            if not isinstance(current, list):
                target[key] = list(value)
            elif lists == "append" or type(value) is AppendList:
                target[key] = [*current, *value]
            else:
                target[key] = _merge_items(current, value, lists)
        else:
            target[key] = value


def _merge_items(current: list[Any], value: list[Any], lists: str) -> list[Any]:
    """``merge``: mappings at one index merge; otherwise the earlier item stays; extra items are added."""
    result = list(current)
    for index, item in enumerate(value):
        if index >= len(result):
            result.append(item)
        elif is_mapping(item) and is_mapping(result[index]):
            result[index] = deep_merge(result[index], item, lists=lists)
    return result
