"""Go's own template functions: not, len, index, slice, print*, comparisons, html, js, urlquery.

``and``/``or`` short-circuit, so the evaluator implements them; ``call`` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

from .errors import FunctionError
from .formatting import format_value, sprint, sprintf, sprintln
from .registry import refuse, register, want_str
from .values import is_number, is_true, type_name

refuse("is not supported: templates here hold no function values to call", "call")


@register("not")
def go_not(value: Any) -> bool:
    """Boolean negation of the argument's truth."""
    return not is_true(value)


@register("len")
def go_len(value: Any) -> int:
    """Length of a string (in bytes, as Go counts), list or map."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (list, tuple, Mapping)):
        return len(value)
    if value is None:
        raise FunctionError("len of nil pointer")
    raise FunctionError(f"len of type {type_name(value)}")


def _index_int(key: Any, length: int) -> int:
    if not isinstance(key, int) or isinstance(key, bool):
        raise FunctionError(f"cannot index slice/array with type {type_name(key)}")
    if key < 0 or key >= length:
        raise FunctionError(f"index out of range: {key}")
    return key


@register("index")
def go_index(item: Any, *keys: Any) -> Any:
    """``index x 1 2 3`` is x[1][2][3]; a missing map key yields nil, an index out of range is an error."""
    for key in keys:
        if isinstance(item, Mapping):
            if not isinstance(key, str) and key is not None:
                raise FunctionError(f"value has type {type_name(key)}; should be string")
            item = item.get(key) if key is not None else None
        elif isinstance(item, (list, tuple)):
            item = item[_index_int(key, len(item))]
        elif isinstance(item, str):
            data = item.encode()
            item = data[_index_int(key, len(data))]
        elif item is None:
            raise FunctionError("index of untyped nil")
        else:
            raise FunctionError(f"can't index item of type {type_name(item)}")
    return item


@register("slice")
def go_slice(item: Any, *indexes: Any) -> Any:
    """``slice x 1 2`` is x[1:2]; strings are sliced by bytes as in Go."""
    if len(indexes) > 3:
        raise FunctionError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        data: Any = item.encode()
        if len(indexes) == 3:
            raise FunctionError("cannot 3-index slice a string")
    elif isinstance(item, (list, tuple)):
        data = list(item)
    elif item is None:
        raise FunctionError("slice of untyped nil")
    else:
        raise FunctionError(f"can't slice item of type {type_name(item)}")
    size = len(data)
    # Slice bounds may equal the length (Go checks them against the capacity).
    start = _index_int(indexes[0], size + 1) if indexes else 0
    end = _index_int(indexes[1], size + 1) if len(indexes) > 1 else size
    if start > end:
        raise FunctionError(f"invalid slice index: {start} > {end}")
    if len(indexes) == 3:
        cap = _index_int(indexes[2], size + 1)
        if end > cap:
            raise FunctionError(f"invalid slice index: {end} > {cap}")
    result = data[start:end]
    return result.decode("utf-8", errors="replace") if isinstance(result, bytes) else result


@register("print")
def go_print(*args: Any) -> str:
    """``fmt.Sprint``."""
    return sprint(args)


@register("printf")
def go_printf(template: Any, *args: Any) -> str:
    """``fmt.Sprintf``."""
    return sprintf(want_str(template), args)


@register("println")
def go_println(*args: Any) -> str:
    """``fmt.Sprintln``."""
    return sprintln(args)


def _basic_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        # Deviation from Go: ints and floats compare with each other (Go reports incompatible types).
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "nil"
    return "other"


def _equal(left: Any, right: Any) -> bool:
    left_kind, right_kind = _basic_kind(left), _basic_kind(right)
    if left_kind != right_kind:
        if left_kind == "nil" or right_kind == "nil":
            return False
        raise FunctionError("incompatible types for comparison")
    if left_kind == "other":
        raise FunctionError(f"non-comparable type {format_value(left)}: {type_name(left)}")
    return bool(left == right)


@register("eq")
def go_eq(left: Any, *others: Any) -> bool:
    """``eq a b c`` is a==b || a==c."""
    if not others:
        raise FunctionError("missing argument for comparison")
    return any(_equal(left, other) for other in others)


@register("ne")
def go_ne(left: Any, right: Any) -> bool:
    """a != b."""
    return not _equal(left, right)


def _less(left: Any, right: Any) -> bool:
    left_kind, right_kind = _basic_kind(left), _basic_kind(right)
    if left_kind not in ("number", "string") or right_kind not in ("number", "string"):
        raise FunctionError("invalid type for comparison")
    if left_kind != right_kind:
        raise FunctionError("incompatible types for comparison")
    return bool(left < right)


@register("lt")
def go_lt(left: Any, right: Any) -> bool:
    """a < b for numbers or strings."""
    return _less(left, right)


@register("le")
def go_le(left: Any, right: Any) -> bool:
    """a <= b."""
    return _less(left, right) or _equal(left, right)


@register("gt")
def go_gt(left: Any, right: Any) -> bool:
    """a > b."""
    return not (_less(left, right) or _equal(left, right))


@register("ge")
def go_ge(left: Any, right: Any) -> bool:
    """a >= b."""
    return not _less(left, right)


def _joined(args: tuple[Any, ...]) -> str:
    # Go's evalArgs: a single string argument is used as is, anything else goes through fmt.Sprint.
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args)


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


@register("html")
def go_html(*args: Any) -> str:
    """``template.HTMLEscapeString`` of the printed arguments."""
    return "".join(_HTML.get(c, c) for c in _joined(args))


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


@register("js")
def go_js(*args: Any) -> str:
    """``template.JSEscapeString`` of the printed arguments."""
    out = []
    for char in _joined(args):
        if char in _JS:
            out.append(_JS[char])
        elif ord(char) < 0x20 or not char.isprintable():
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


@register("urlquery")
def go_urlquery(*args: Any) -> str:
    """``url.QueryEscape`` of the printed arguments."""
    return quote_plus(_joined(args), safe="")
