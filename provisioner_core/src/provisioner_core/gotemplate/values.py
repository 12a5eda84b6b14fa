"""How Python data stands in for Go's ``interface{}`` values: type names, kinds, truth, emptiness."""

from __future__ import annotations

from typing import Any, Final


class _NoValue:
    """Go's invalid ``reflect.Value``: what a missing key yields under ``missingkey=default``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Final = _NoValue()

_TYPE_NAMES: Final[dict[type, str]] = {
    str: "string",
    bool: "bool",
    int: "int",
    float: "float64",
    list: "[]interface {}",
    tuple: "[]interface {}",
    dict: "map[string]interface {}",
}

_KINDS: Final[dict[type, str]] = {
    str: "string",
    bool: "bool",
    int: "int",
    float: "float64",
    list: "slice",
    tuple: "slice",
    dict: "map",
}


def type_name(value: Any) -> str:
    """The name Go's ``%T`` prints for the value a YAML decoder would have produced."""
    if value is None or value is NO_VALUE:
        return "<nil>"
    name = _TYPE_NAMES.get(type(value))
    if name is not None:
        return name
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return type(value).__name__


def kind_of(value: Any) -> str:
    """Go's ``reflect.Kind`` name, as Sprig's ``kindOf`` returns it (``invalid`` for nil)."""
    if value is None or value is NO_VALUE:
        return "invalid"
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "slice"
    if callable(value):
        return "func"
    return "struct"


def is_true(value: Any) -> bool:
    """Go template truth: false, 0, nil, and empty strings, lists and maps are false."""
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def is_empty(value: Any) -> bool:
    """Sprig's ``empty``: the same as not ``is_true`` for the types YAML produces."""
    return not is_true(value)


def is_number(value: Any) -> bool:
    """An int or float, but not a bool (Python's bool is an int; Go's is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
