"""Sprig's deterministic functions (strings, lists, dicts, defaults, math, conversion, env, flow control).

Argument order is Sprig's: the value usually piped in comes last (``join "," list``, ``replace "a" "b" s``).
Encoding and regex functions live in ``encoding.py`` and ``regex.py``.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Mapping
from typing import Any

from .errors import FunctionError
from .formatting import format_value, quote
from .registry import register, strval, to_float64, to_int64, want_bool, want_int, want_list, want_map, want_str
from .values import NO_VALUE, is_empty, is_true, kind_of, type_name

# -- strings -----------------------------------------------------------------------------------


def go_title(text: str) -> str:
    """Go's ``strings.Title``: upper-case the first letter of each word (letters, digits, _ and ' join words)."""
    out = []
    previous = " "
    for char in text:
        separator = not (previous.isalnum() or previous in "_'")
        out.append(char.upper() if separator else char)
        previous = char
    return "".join(out)


@register("upper")
def s_upper(text: Any) -> str:
    """strings.ToUpper."""
    return want_str(text).upper()


@register("lower")
def s_lower(text: Any) -> str:
    """strings.ToLower."""
    return want_str(text).lower()


@register("title")
def s_title(text: Any) -> str:
    """strings.Title."""
    return go_title(want_str(text))


@register("untitle")
def s_untitle(text: Any) -> str:
    """Lower-case the first letter of each whitespace-separated word."""
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).lower(), want_str(text))


@register("trim")
def s_trim(text: Any) -> str:
    """strings.TrimSpace."""
    return want_str(text).strip()


@register("trimAll", "trimall")
def s_trim_all(cutset: Any, text: Any) -> str:
    """strings.Trim(text, cutset)."""
    return want_str(text).strip(want_str(cutset))


@register("trimPrefix")
def s_trim_prefix(prefix: Any, text: Any) -> str:
    """strings.TrimPrefix(text, prefix)."""
    return want_str(text).removeprefix(want_str(prefix))


@register("trimSuffix")
def s_trim_suffix(suffix: Any, text: Any) -> str:
    """strings.TrimSuffix(text, suffix)."""
    return want_str(text).removesuffix(want_str(suffix))


@register("replace")
def s_replace(old: Any, new: Any, text: Any) -> str:
    """strings.Replace(text, old, new, -1)."""
    return want_str(text).replace(want_str(old), want_str(new))


@register("repeat")
def s_repeat(count: Any, text: Any) -> str:
    """strings.Repeat(text, count)."""
    times = want_int(count)
    if times < 0:
        raise FunctionError("strings: negative Repeat count")
    return want_str(text) * times


def _byte_slice(text: str, start: int | None, end: int | None) -> str:
    return text.encode()[start:end].decode("utf-8", errors="replace")


@register("substr")
def s_substr(start: Any, end: Any, text: Any) -> str:
    """Sprig's substr: bytes [start:end]; start < 0 means from 0, end < 0 or past the end means to the end."""
    first, last, value = want_int(start), want_int(end), want_str(text)
    size = len(value.encode())
    if first < 0:
        if last < 0 or last > size:
            raise FunctionError(f"slice bounds out of range [:{last}] with length {size}")
        return _byte_slice(value, None, last)
    if last < 0 or last > size:
        if first > size:
            raise FunctionError(f"slice bounds out of range [{first}:{size}]")
        return _byte_slice(value, first, None)
    if first > last:
        raise FunctionError(f"slice bounds out of range [{first}:{last}]")
    return _byte_slice(value, first, last)


@register("trunc")
def s_trunc(count: Any, text: Any) -> str:
    """First ``count`` bytes, or the last ``-count`` bytes when negative."""
    limit, value = want_int(count), want_str(text)
    size = len(value.encode())
    if limit < 0 and size + limit > 0:
        return _byte_slice(value, size + limit, None)
    if limit >= 0 and size > limit:
        return _byte_slice(value, None, limit)
    return value


@register("abbrev")
def s_abbrev(width: Any, text: Any) -> str:
    """Truncate with an ellipsis to ``width`` characters (width < 4 leaves the text alone)."""
    limit, value = want_int(width), want_str(text)
    if limit < 4 or len(value) <= limit:
        return value
    return value[: limit - 3] + "..."


@register("nospace")
def s_nospace(text: Any) -> str:
    """Remove all whitespace."""
    return "".join(want_str(text).split())


@register("initials")
def s_initials(text: Any) -> str:
    """First letter of each whitespace-separated word."""
    return "".join(word[0] for word in want_str(text).split())


@register("swapcase")
def s_swapcase(text: Any) -> str:
    """Swap upper and lower case."""
    return want_str(text).swapcase()


@register("contains")
def s_contains(needle: Any, text: Any) -> bool:
    """strings.Contains(text, needle)."""
    return want_str(needle) in want_str(text)


@register("hasPrefix")
def s_has_prefix(prefix: Any, text: Any) -> bool:
    """strings.HasPrefix(text, prefix)."""
    return want_str(text).startswith(want_str(prefix))


@register("hasSuffix")
def s_has_suffix(suffix: Any, text: Any) -> bool:
    """strings.HasSuffix(text, suffix)."""
    return want_str(text).endswith(want_str(suffix))


@register("quote")
def s_quote(*values: Any) -> str:
    """Each non-nil argument as a Go double-quoted string, joined by spaces."""
    return " ".join(quote(strval(v)) for v in values if v is not None)


@register("squote")
def s_squote(*values: Any) -> str:
    """Each non-nil argument in single quotes, joined by spaces."""
    return " ".join(f"'{format_value(v)}'" for v in values if v is not None)


@register("cat")
def s_cat(*values: Any) -> str:
    """Non-nil arguments printed with %v, joined by spaces."""
    return " ".join(format_value(v) for v in values if v is not None)


@register("indent")
def s_indent(spaces: Any, text: Any) -> str:
    """Indent every line by ``spaces`` spaces."""
    pad = " " * want_int(spaces)
    return pad + want_str(text).replace("\n", "\n" + pad)


@register("nindent")
def s_nindent(spaces: Any, text: Any) -> str:
    """A newline, then ``indent``."""
    return "\n" + s_indent(spaces, text)


@register("plural")
def s_plural(one: Any, many: Any, count: Any) -> str:
    """``one`` when count is 1, else ``many``."""
    return want_str(one) if want_int(count) == 1 else want_str(many)


@register("wrap")
def s_wrap(width: Any, text: Any) -> str:
    """Wrap words at ``width`` columns (long words are not split)."""
    return _wrap(want_str(text), want_int(width), "\n")


@register("wrapWith")
def s_wrap_with(width: Any, separator: Any, text: Any) -> str:
    """Wrap at ``width`` columns with a custom line separator."""
    return _wrap(want_str(text), want_int(width), want_str(separator))


def _wrap(text: str, width: int, separator: str) -> str:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > max(width, 1):
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return separator.join(lines)


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|[^A-Za-z]|$)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+[a-z]*")


def _words(text: str) -> list[str]:
    # Split at separators and case changes: "HTTPServer" -> HTTP, Server; "firstName" -> first, Name.
    return _WORD.findall(text)


@register("snakecase")
def s_snakecase(text: Any) -> str:
    """FirstName -> first_name."""
    return "_".join(w.lower() for w in _words(want_str(text)))


@register("kebabcase")
def s_kebabcase(text: Any) -> str:
    """FirstName -> first-name."""
    return "-".join(w.lower() for w in _words(want_str(text)))


@register("camelcase")
def s_camelcase(text: Any) -> str:
    """http_server -> HttpServer (words split at _, - and spaces; the rest of each word is kept)."""
    parts = re.split(r"[_\-\s]+", want_str(text))
    return "".join(p[:1].upper() + p[1:] for p in parts)


@register("split")
def s_split(separator: Any, text: Any) -> dict[str, str]:
    """strings.Split into a dict keyed _0, _1, ..."""
    return {f"_{i}": part for i, part in enumerate(_go_split(want_str(text), want_str(separator), -1))}


@register("splitn")
def s_splitn(separator: Any, count: Any, text: Any) -> dict[str, str]:
    """strings.SplitN into a dict keyed _0, _1, ..."""
    return {f"_{i}": part for i, part in enumerate(_go_split(want_str(text), want_str(separator), want_int(count)))}


@register("splitList")
def s_split_list(separator: Any, text: Any) -> list[str]:
    """strings.Split into a list."""
    return _go_split(want_str(text), want_str(separator), -1)


def _go_split(text: str, separator: str, count: int) -> list[str]:
    """strings.SplitN: an empty separator splits into characters; count 0 gives nothing, < 0 everything."""
    if count == 0:
        return []
    if separator == "":
        chars = list(text)
        if 0 < count < len(chars):
            return chars[: count - 1] + ["".join(chars[count - 1 :])]
        return chars
    return text.split(separator, count - 1 if count > 0 else -1)


@register("join")
def s_join(separator: Any, values: Any) -> str:
    """Join the (non-nil) elements printed as strings."""
    return want_str(separator).join(to_strings(values))


def to_strings(values: Any) -> list[str]:
    """Sprig's ``strslice``: a list's non-nil elements as strings; a scalar becomes a one-element list."""
    if isinstance(values, (list, tuple)):
        return [strval(v) for v in values if v is not None]
    if values is None:
        return []
    return [strval(values)]


@register("toStrings")
def s_to_strings(values: Any) -> list[str]:
    """Convert each element to a string."""
    return to_strings(values)


@register("sortAlpha")
def s_sort_alpha(values: Any) -> list[str]:
    """Sort as strings."""
    if isinstance(values, (list, tuple)):
        return sorted(strval(v) for v in values)
    return [strval(values)]


@register("toString")
def s_to_string(value: Any) -> str:
    """Print any value as a string."""
    return strval(value)


# -- conversions and math ----------------------------------------------------------------------


@register("int", "int64")
def s_int(value: Any) -> int:
    """cast.ToInt: numbers truncate, numeric strings parse (0x, 0o, 0b), anything else is 0."""
    return to_int64(value)


@register("float64")
def s_float64(value: Any) -> float:
    """cast.ToFloat64."""
    return to_float64(value)


@register("atoi")
def s_atoi(text: Any) -> int:
    """strconv.Atoi with the error dropped (0)."""
    value = want_str(text)
    return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0


@register("toDecimal")
def s_to_decimal(value: Any) -> int:
    """Parse an octal string ("0777" -> 511)."""
    try:
        return int(strval(value), 8)
    except ValueError:
        return 0


@register("add")
def s_add(*values: Any) -> int:
    """Integer sum."""
    return sum(to_int64(v) for v in values)


@register("add1")
def s_add1(value: Any) -> int:
    """value + 1."""
    return to_int64(value) + 1


@register("sub")
def s_sub(left: Any, right: Any) -> int:
    """Integer difference."""
    return to_int64(left) - to_int64(right)


@register("mul")
def s_mul(first: Any, *values: Any) -> int:
    """Integer product."""
    product = to_int64(first)
    for value in values:
        product *= to_int64(value)
    return product


def go_div(left: int, right: int) -> int:
    """Go's integer division truncates toward zero."""
    if right == 0:
        raise FunctionError("runtime error: integer divide by zero")
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient


@register("div")
def s_div(left: Any, right: Any) -> int:
    """Integer quotient, truncated toward zero."""
    return go_div(to_int64(left), to_int64(right))


@register("mod")
def s_mod(left: Any, right: Any) -> int:
    """Go's %: the result has the sign of the dividend."""
    a, b = to_int64(left), to_int64(right)
    return a - go_div(a, b) * b


@register("max", "biggest")
def s_max(first: Any, *values: Any) -> int:
    """Largest, as integers."""
    return max([to_int64(first), *(to_int64(v) for v in values)])


@register("min")
def s_min(first: Any, *values: Any) -> int:
    """Smallest, as integers."""
    return min([to_int64(first), *(to_int64(v) for v in values)])


@register("addf")
def s_addf(*values: Any) -> float:
    """Float sum."""
    return math.fsum(to_float64(v) for v in values)


@register("add1f")
def s_add1f(value: Any) -> float:
    """Float + 1."""
    return to_float64(value) + 1


@register("subf")
def s_subf(first: Any, *values: Any) -> float:
    """Float difference."""
    result = to_float64(first)
    for value in values:
        result -= to_float64(value)
    return result


@register("mulf")
def s_mulf(first: Any, *values: Any) -> float:
    """Float product."""
    result = to_float64(first)
    for value in values:
        result *= to_float64(value)
    return result


@register("divf")
def s_divf(first: Any, *values: Any) -> float:
    """Float quotient."""
    result = to_float64(first)
    for value in values:
        divisor = to_float64(value)
        if divisor == 0:
            raise FunctionError("division by zero")
        result /= divisor
    return result


@register("maxf")
def s_maxf(first: Any, *values: Any) -> float:
    """Largest, as floats."""
    return max([to_float64(first), *(to_float64(v) for v in values)])


@register("minf")
def s_minf(first: Any, *values: Any) -> float:
    """Smallest, as floats."""
    return min([to_float64(first), *(to_float64(v) for v in values)])


@register("floor")
def s_floor(value: Any) -> float:
    """math.Floor."""
    return float(math.floor(to_float64(value)))


@register("ceil")
def s_ceil(value: Any) -> float:
    """math.Ceil."""
    return float(math.ceil(to_float64(value)))


@register("round")
def s_round(value: Any, places: Any, *round_on: Any) -> float:
    """Round to ``places`` decimals; halves (or the given threshold) round up, as Sprig does."""
    threshold = to_float64(round_on[0]) if round_on else 0.5
    power = math.pow(10, to_float64(places))
    digit = power * to_float64(value)
    fraction = math.modf(digit)[0]
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


@register("until")
def s_until(count: Any) -> list[int]:
    """0..count-1 (counting down to count+1 when negative)."""
    return s_until_step(0, count, 1 if want_int(count) >= 0 else -1)


@register("untilStep")
def s_until_step(start: Any, stop: Any, step: Any) -> list[int]:
    """start, start+step, ... up to (not including) stop; an empty list when the step points away."""
    first, last, stride = want_int(start), want_int(stop), want_int(step)
    if stride == 0 or (stride > 0 and first > last) or (stride < 0 and first < last):
        return []
    return list(range(first, last, stride))


@register("seq")
def s_seq(*params: Any) -> str:
    """Like Bash's seq: ``seq 5``, ``seq 2 5``, ``seq 0 2 10``; returns a space-separated string."""
    numbers = [to_int64(p) for p in params]
    if len(numbers) == 1:
        start, step, end = 1, 1, numbers[0]
    elif len(numbers) == 2:
        start, end = numbers
        step = 1 if end >= start else -1
    elif len(numbers) == 3:
        start, step, end = numbers
    else:
        return ""
    if end < start:
        if len(numbers) < 3 and step > 0:
            step = -1
        if step >= 0:
            return ""
        return " ".join(str(n) for n in range(start, end - 1, step))
    if step <= 0:
        return ""
    return " ".join(str(n) for n in range(start, end + 1, step))


# -- defaults and flow control -----------------------------------------------------------------


@register("default")
def s_default(fallback: Any, *given: Any) -> Any:
    """``default "x" .v``: the fallback when .v is missing or empty."""
    if not given or is_empty(given[0]):
        return fallback
    return given[0]


@register("empty")
def s_empty(value: Any) -> bool:
    """Whether the value is its type's zero (nil, "", 0, false, empty list or map)."""
    return is_empty(value)


@register("coalesce")
def s_coalesce(*values: Any) -> Any:
    """The first non-empty argument, else nil."""
    for value in values:
        if not is_empty(value):
            return value
    return None


@register("all")
def s_all(*values: Any) -> bool:
    """Whether every argument is non-empty."""
    return all(is_true(v) for v in values)


@register("any")
def s_any(*values: Any) -> bool:
    """Whether some argument is non-empty."""
    return any(is_true(v) for v in values)


@register("ternary")
def s_ternary(when_true: Any, when_false: Any, condition: Any) -> Any:
    """``ternary "a" "b" cond``: a when cond is true (cond must be a bool)."""
    return when_true if want_bool(condition) else when_false


@register("required")
def s_required(message: Any, value: Any) -> Any:
    """The value, or an error with ``message`` when it is nil or the empty string."""
    if value is None or value == "" and isinstance(value, str):
        raise FunctionError(want_str(message))
    return value


@register("fail")
def s_fail(message: Any) -> str:
    """Always an error with ``message``."""
    raise FunctionError(want_str(message))


# -- environment -------------------------------------------------------------------------------


def _environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    # The only place the process environment is read, and only when the caller gave none.
    return os.environ if env is None else env


@register("env", "getenv", env=True)
def s_env(env: Mapping[str, str] | None, name: Any) -> str:
    """os.Getenv (from the render's ``env`` mapping)."""
    return _environment(env).get(want_str(name), "")


def expand_env(text: str, lookup: Mapping[str, str]) -> str:
    """Go's os.Expand: $VAR and ${VAR}; one-character special names ($1, $*...); bad syntax is dropped."""
    out: list[str] = []
    index = 0
    start = 0
    while index < len(text):
        if text[index] == "$" and index + 1 < len(text):
            out.append(text[start:index])
            name, width = _shell_name(text[index + 1 :])
            if name == "" and width > 0:
                pass
            elif name == "":
                out.append("$")
            else:
                out.append(lookup.get(name, ""))
            index += width
            start = index + 1
        index += 1
    out.append(text[start:])
    return "".join(out)


def _shell_name(text: str) -> tuple[str, int]:
    special = "*#$@!?-0123456789"
    if text[0] == "{":
        if len(text) > 2 and text[1] in special and text[2] == "}":
            return text[1], 3
        close = text.find("}", 1)
        if close == 1:
            return "", 2
        if close < 0:
            return "", 1
        return text[1:close], close + 1
    if text[0] in special:
        return text[0], 1
    width = 0
    while width < len(text) and (text[width] == "_" or (text[width].isascii() and text[width].isalnum())):
        width += 1
    return text[:width], width


@register("expandenv", env=True)
def s_expandenv(env: Mapping[str, str] | None, text: Any) -> str:
    """os.ExpandEnv."""
    return expand_env(want_str(text), _environment(env))


# -- lists -------------------------------------------------------------------------------------


@register("list", "tuple")
def s_list(*values: Any) -> list[Any]:
    """A list of the arguments."""
    return list(values)


@register("first", "mustFirst")
def s_first(values: Any) -> Any:
    """First element, or nil when empty."""
    items = want_list(values, "find first")
    return items[0] if items else None


@register("last", "mustLast")
def s_last(values: Any) -> Any:
    """Last element, or nil when empty."""
    items = want_list(values, "find last")
    return items[-1] if items else None


@register("rest", "mustRest")
def s_rest(values: Any) -> Any:
    """All but the first element (nil when empty)."""
    items = want_list(values, "find rest")
    return items[1:] if items else None


@register("initial", "mustInitial")
def s_initial(values: Any) -> Any:
    """All but the last element (nil when empty)."""
    items = want_list(values, "find initial")
    return items[:-1] if items else None


@register("append", "push", "mustAppend", "mustPush")
def s_append(values: Any, value: Any) -> list[Any]:
    """A new list with ``value`` at the end."""
    return [*want_list(values, "append"), value]


@register("prepend", "mustPrepend")
def s_prepend(values: Any, value: Any) -> list[Any]:
    """A new list with ``value`` first."""
    return [value, *want_list(values, "prepend")]


@register("concat")
def s_concat(*lists: Any) -> list[Any]:
    """The lists joined into one."""
    out: list[Any] = []
    for values in lists:
        out.extend(want_list(values, "concat"))
    return out


@register("reverse", "mustReverse")
def s_reverse(values: Any) -> list[Any]:
    """The list reversed."""
    return want_list(values, "find reverse")[::-1]


@register("uniq", "mustUniq")
def s_uniq(values: Any) -> list[Any]:
    """Duplicates removed, first occurrences kept."""
    out: list[Any] = []
    for value in want_list(values, "find uniq"):
        if not any(_deep_equal(value, seen) for seen in out):
            out.append(value)
    return out


@register("without", "mustWithout")
def s_without(values: Any, *omit: Any) -> list[Any]:
    """The list without the given values."""
    return [v for v in want_list(values, "find without") if not any(_deep_equal(v, o) for o in omit)]


@register("has", "mustHas")
def s_has(needle: Any, haystack: Any) -> bool:
    """Whether the list contains the value (nil lists contain nothing)."""
    if haystack is None:
        return False
    return any(_deep_equal(needle, v) for v in want_list(haystack, "find has"))


@register("compact", "mustCompact")
def s_compact(values: Any) -> list[Any]:
    """Empty elements removed."""
    return [v for v in want_list(values, "compact") if not is_empty(v)]


@register("chunk", "mustChunk")
def s_chunk(size: Any, values: Any) -> list[list[Any]]:
    """The list split into lists of ``size``."""
    width, items = want_int(size), want_list(values, "chunk")
    if width <= 0:
        raise FunctionError("chunk size must be positive")
    return [items[i : i + width] for i in range(0, len(items), width)]


@register("mustSlice")
def s_must_slice(values: Any, *indexes: Any) -> Any:
    """Go's slice, under Sprig's name."""
    from .builtins_go import go_slice

    return go_slice(values, *indexes)


def _deep_equal(left: Any, right: Any) -> bool:
    # reflect.DeepEqual: same type and equal contents (1 and 1.0 differ, so do 1 and true).
    if type(left) is not type(right) and not (isinstance(left, Mapping) and isinstance(right, Mapping)):
        return False
    return bool(left == right)


@register("deepEqual")
def s_deep_equal(left: Any, right: Any) -> bool:
    """reflect.DeepEqual."""
    return _deep_equal(left, right)


# -- dicts -------------------------------------------------------------------------------------


@register("dict")
def s_dict(*pairs: Any) -> dict[str, Any]:
    """``dict "k1" v1 "k2" v2``; keys are printed as strings, a lone last key gets ""."""
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        out[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


@register("get")
def s_get(mapping: Any, key: Any) -> Any:
    """The value at key, or "" when missing."""
    values = want_map(mapping)
    name = want_str(key)
    return values[name] if name in values else ""


@register("set")
def s_set(mapping: Any, key: Any, value: Any) -> dict[str, Any]:
    """Set a key (in place) and return the dict."""
    target = _mutable(mapping)
    target[want_str(key)] = value
    return target


@register("unset")
def s_unset(mapping: Any, key: Any) -> dict[str, Any]:
    """Delete a key (in place) and return the dict."""
    target = _mutable(mapping)
    target.pop(want_str(key), None)
    return target


def _mutable(mapping: Any) -> dict[str, Any]:
    if isinstance(mapping, dict):
        return mapping
    raise FunctionError(f"cannot modify a {type_name(mapping)} (stack data is read-only)")


@register("hasKey")
def s_has_key(mapping: Any, key: Any) -> bool:
    """Whether the dict has the key."""
    return want_str(key) in want_map(mapping)


@register("keys")
def s_keys(*mappings: Any) -> list[str]:
    """Keys of all the dicts (in each dict's order; Go's order is random, so sort with sortAlpha)."""
    return [key for mapping in mappings for key in want_map(mapping)]


@register("values")
def s_values(mapping: Any) -> list[Any]:
    """Values of the dict, in its order."""
    return list(want_map(mapping).values())


@register("pluck")
def s_pluck(key: Any, *mappings: Any) -> list[Any]:
    """The value at key from each dict that has it."""
    name = want_str(key)
    return [m[name] for m in (want_map(x) for x in mappings) if name in m]


@register("pick")
def s_pick(mapping: Any, *keys: Any) -> dict[str, Any]:
    """A new dict with only the given keys."""
    values = want_map(mapping)
    wanted = [want_str(k) for k in keys]
    return {k: values[k] for k in wanted if k in values}


@register("omit")
def s_omit(mapping: Any, *keys: Any) -> dict[str, Any]:
    """A new dict without the given keys."""
    dropped = {want_str(k) for k in keys}
    return {k: v for k, v in want_map(mapping).items() if k not in dropped}


@register("dig")
def s_dig(*args: Any) -> Any:
    """``dig "a" "b" default dict``: walk nested keys, the default when one is missing."""
    if len(args) < 3:
        raise FunctionError("dig needs at least three arguments")
    *keys, fallback, mapping = args
    current: Any = want_map(mapping)
    for key in keys:
        if not isinstance(current, Mapping) or want_str(key) not in current:
            return fallback
        current = current[key]
    return current


def merge_into(target: dict[str, Any], source: Mapping[str, Any], overwrite: bool) -> dict[str, Any]:
    """mergo's deep merge: nested dicts merge; otherwise the destination wins unless it is empty (or ``overwrite``)."""
    for key, value in source.items():
        current = target.get(key, NO_VALUE)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merge_into(current, value, overwrite)
        elif current is NO_VALUE or is_empty(current) or (overwrite and not is_empty(value)):
            target[key] = copy.deepcopy(value)
    return target


@register("merge", "mustMerge")
def s_merge(target: Any, *sources: Any) -> dict[str, Any]:
    """Deep-merge the sources into the first dict; keys already set in it win."""
    result = _mutable(target)
    for source in sources:
        merge_into(result, want_map(source), overwrite=False)
    return result


@register("mergeOverwrite", "mustMergeOverwrite")
def s_merge_overwrite(target: Any, *sources: Any) -> dict[str, Any]:
    """Deep-merge the sources into the first dict; later non-empty values win."""
    result = _mutable(target)
    for source in sources:
        merge_into(result, want_map(source), overwrite=True)
    return result


@register("deepCopy", "mustDeepCopy")
def s_deep_copy(value: Any) -> Any:
    """A deep copy (read-only mappings become dicts)."""
    if isinstance(value, Mapping):
        return {k: s_deep_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [s_deep_copy(v) for v in value]
    return value


# -- reflection --------------------------------------------------------------------------------


@register("kindOf")
def s_kind_of(value: Any) -> str:
    """Go's reflect kind: string, int, float64, bool, slice, map, invalid (nil)."""
    return kind_of(value)


@register("kindIs")
def s_kind_is(kind: Any, value: Any) -> bool:
    """Whether kindOf(value) is ``kind``."""
    return want_str(kind) == kind_of(value)


@register("typeOf")
def s_type_of(value: Any) -> str:
    """Go's %T."""
    return type_name(value)


@register("typeIs", "typeIsLike")
def s_type_is(name: Any, value: Any) -> bool:
    """Whether typeOf(value) is ``name``."""
    return want_str(name) == type_name(value)
