"""The function table: registration, arity, refusals, and the argument conversions Go and Sprig apply."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import FunctionError
from .formatting import format_value
from .values import NO_VALUE, type_name

F = TypeVar("F", bound=Callable[..., Any])

BUILTINS: dict[str, Callable[..., Any]] = {}
ARITY: dict[str, tuple[int, int | None]] = {}
ENV_FUNCTIONS: set[str] = set()
REFUSED: dict[str, str] = {}


def register(*names: str, env: bool = False) -> Callable[[F], F]:
    """Register a function under one or more template names; ``env=True`` passes the render's environment first."""

    def decorate(function: F) -> F:
        low, high = _arity(function, skip=1 if env else 0)
        for name in names:
            BUILTINS[name] = function
            ARITY[name] = (low, high)
            if env:
                ENV_FUNCTIONS.add(name)
        return function

    return decorate


def refuse(reason: str, *names: str) -> None:
    """Name functions that exist in Go/Sprig/Gomplate/Atmos but are refused, with the reason to print."""
    for name in names:
        REFUSED[name] = reason


def _arity(function: Callable[..., Any], skip: int) -> tuple[int, int | None]:
    params = list(inspect.signature(function).parameters.values())[skip:]
    low = sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return low, None
    return low, sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD)


# -- conversions -------------------------------------------------------------------------------


def want_str(value: Any) -> str:
    """A Go ``string`` parameter: only strings are accepted, as Go's reflection-based call does."""
    if isinstance(value, str):
        return value
    raise FunctionError(f"wrong type for value; expected string; got {type_name(value)}")


def want_int(value: Any) -> int:
    """A Go ``int`` parameter: ints only (floats and bools are other Go types)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FunctionError(f"wrong type for value; expected int; got {type_name(value)}")


def want_bool(value: Any) -> bool:
    """A Go ``bool`` parameter."""
    if isinstance(value, bool):
        return value
    raise FunctionError(f"wrong type for value; expected bool; got {type_name(value)}")


def want_map(value: Any) -> dict[str, Any]:
    """A ``map[string]interface{}`` parameter (a Mapping is copied only when it must be mutated)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise FunctionError(f"wrong type for value; expected map[string]interface {{}}; got {type_name(value)}")


def want_list(value: Any, function: str) -> list[Any]:
    """A slice, for Sprig's list functions (which reject anything else)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FunctionError(f"Cannot {function} on type {type_name(value)}")


def strval(value: Any) -> str:
    """Sprig's ``strval``: strings as is, everything else through ``%v``."""
    if isinstance(value, str):
        return value
    if value is NO_VALUE:
        return "<nil>"
    return format_value(value)


_INT_TEXT = re.compile(r"\s*[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[0-9_]+)\s*")


def parse_go_int(text: str) -> int | None:
    """``strconv.ParseInt(s, 0, 64)``: prefixes 0x, 0o, 0b and a leading 0 for octal; None when invalid."""
    candidate = text.strip()
    if candidate.endswith(".0"):
        # cast trims a zero decimal part before parsing ("12.0" -> 12).
        candidate = candidate[:-2]
    if not _INT_TEXT.fullmatch(candidate) or candidate.strip("+-") == "":
        return None
    sign = -1 if candidate.startswith("-") else 1
    body = candidate.lstrip("+-")
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            return sign * int(body.replace("_", ""), 8)
        return sign * int(body, 0)
    except ValueError:
        return None


def to_int64(value: Any) -> int:
    """``cast.ToInt64`` as Sprig uses it: numbers truncate, bools are 0/1, bad strings and nil are 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return 0
        return int(value)
    if isinstance(value, str):
        parsed = parse_go_int(value)
        return parsed if parsed is not None else 0
    return 0


def to_float64(value: Any) -> float:
    """``cast.ToFloat64``: numbers, numeric strings; anything else is 0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("_", "")) if value.strip() else 0.0
        except ValueError:
            return 0.0
    return 0.0
