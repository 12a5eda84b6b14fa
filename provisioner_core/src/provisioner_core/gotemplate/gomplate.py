"""Gomplate (v3) functions under their namespaced names, plus the un-namespaced aliases Atmos users write.

Gomplate converts most arguments with ``conv.ToString`` instead of requiring strings, and takes the
input last. Only deterministic functions are here; the rest are refused in ``functions.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import shlex
from collections.abc import Mapping
from typing import Any

from . import encoding, sprig
from .errors import FunctionError
from .formatting import format_float, format_value, quote, sort_keys
from .registry import register, to_float64, to_int64, want_int, want_list, want_map
from .values import NO_VALUE, is_number, is_true, kind_of


def to_string(value: Any) -> str:
    """Gomplate's ``conv.ToString``: nil is "nil", floats print without exponent, the rest as %v."""
    if isinstance(value, str):
        return value
    if value is None or value is NO_VALUE:
        return "nil"
    if isinstance(value, float) and not isinstance(value, bool):
        return format_float(value, "f", -1)
    return format_value(value)


def to_bool(value: Any) -> bool:
    """Gomplate's ``conv.ToBool``: "1", "t", "true", "yes", "on" (any case) and the number 1 are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes", "on")
    if is_number(value):
        return bool(value == 1)
    return False


# -- strings -----------------------------------------------------------------------------------


@register("strings.ToLower")
def g_lower(text: Any) -> str:
    """Lower-case."""
    return to_string(text).lower()


@register("strings.ToUpper")
def g_upper(text: Any) -> str:
    """Upper-case."""
    return to_string(text).upper()


@register("strings.Title")
def g_title(text: Any) -> str:
    """Title-case each word."""
    return sprig.go_title(to_string(text))


@register("strings.Trim")
def g_trim(cutset: Any, text: Any) -> str:
    """Trim the characters of cutset from both ends."""
    return to_string(text).strip(to_string(cutset))


@register("strings.TrimLeft")
def g_trim_left(cutset: Any, text: Any) -> str:
    """Trim the characters of cutset from the start."""
    return to_string(text).lstrip(to_string(cutset))


@register("strings.TrimRight")
def g_trim_right(cutset: Any, text: Any) -> str:
    """Trim the characters of cutset from the end."""
    return to_string(text).rstrip(to_string(cutset))


@register("strings.TrimSpace")
def g_trim_space(text: Any) -> str:
    """Trim whitespace."""
    return to_string(text).strip()


@register("strings.TrimPrefix")
def g_trim_prefix(prefix: Any, text: Any) -> str:
    """Remove a prefix."""
    return to_string(text).removeprefix(to_string(prefix))


@register("strings.TrimSuffix")
def g_trim_suffix(suffix: Any, text: Any) -> str:
    """Remove a suffix."""
    return to_string(text).removesuffix(to_string(suffix))


@register("strings.ReplaceAll")
def g_replace_all(old: Any, new: Any, text: Any) -> str:
    """Replace every occurrence."""
    return to_string(text).replace(to_string(old), to_string(new))


@register("strings.Split")
def g_split(separator: Any, text: Any) -> list[str]:
    """Split into a list."""
    return sprig.s_split_list(to_string(separator), to_string(text))


@register("strings.SplitN")
def g_split_n(separator: Any, count: Any, text: Any) -> list[str]:
    """Split into at most n pieces."""
    return list(sprig.s_splitn(to_string(separator), want_int(count), to_string(text)).values())


@register("strings.Contains")
def g_contains(needle: Any, text: Any) -> bool:
    """Whether text contains needle."""
    return to_string(needle) in to_string(text)


@register("strings.HasPrefix")
def g_has_prefix(prefix: Any, text: Any) -> bool:
    """Whether text starts with prefix."""
    return to_string(text).startswith(to_string(prefix))


@register("strings.HasSuffix")
def g_has_suffix(suffix: Any, text: Any) -> bool:
    """Whether text ends with suffix."""
    return to_string(text).endswith(to_string(suffix))


@register("strings.Quote")
def g_quote(text: Any) -> str:
    """Go double-quoted string."""
    return quote(to_string(text))


@register("strings.Squote")
def g_squote(text: Any) -> str:
    """Single-quoted, with ' doubled (YAML style)."""
    return "'" + to_string(text).replace("'", "''") + "'"


@register("strings.ShellQuote")
def g_shell_quote(text: Any) -> str:
    """POSIX-shell single-quoted."""
    return shlex.quote(to_string(text)) if to_string(text) else "''"


@register("strings.Repeat")
def g_repeat(count: Any, text: Any) -> str:
    """Repeat count times."""
    return sprig.s_repeat(to_int64(count), to_string(text))


@register("strings.Trunc")
def g_trunc(length: Any, text: Any) -> str:
    """First ``length`` characters."""
    limit, value = to_int64(length), to_string(text)
    return value if limit < 0 else value[:limit]


@register("strings.Abbrev")
def g_abbrev(*args: Any) -> str:
    """strings.Abbrev [offset] width input."""
    if len(args) < 2:
        raise FunctionError("strings.Abbrev needs at least a width and an input")
    return sprig.s_abbrev(to_int64(args[-2]), to_string(args[-1]))


@register("strings.Indent")
def g_indent(*args: Any) -> str:
    """strings.Indent [width] [indent] input."""
    if not args:
        raise FunctionError("strings.Indent needs an input")
    width, pad = 1, " "
    if len(args) == 2:
        if is_number(args[0]):
            width = to_int64(args[0])
        else:
            pad = to_string(args[0])
    elif len(args) >= 3:
        width, pad = to_int64(args[0]), to_string(args[1])
    if width <= 0:
        raise FunctionError("width must be > 0")
    prefix = pad * width
    lines = to_string(args[-1]).split("\n")
    return "\n".join(prefix + line if line else line for line in lines)


@register("strings.Sort")
def g_sort(values: Any) -> list[str]:
    """Sort strings."""
    return sorted(to_string(v) for v in want_list(values, "sort"))


@register("strings.Fields")
def g_fields(text: Any) -> list[str]:
    """Split around whitespace."""
    return to_string(text).split()


@register("strings.RuneCount")
def g_rune_count(*args: Any) -> int:
    """Number of characters of the joined arguments."""
    return len("".join(to_string(a) for a in args))


@register("strings.KebabCase")
def g_kebab(text: Any) -> str:
    """kebab-case."""
    return sprig.s_kebabcase(to_string(text))


@register("strings.SnakeCase")
def g_snake(text: Any) -> str:
    """snake_case."""
    return sprig.s_snakecase(to_string(text))


@register("strings.CamelCase")
def g_camel(text: Any) -> str:
    """camelCase: words joined, each after the first capitalised (the first word is kept)."""
    parts = [p for p in re.split(r"[_\-\s]+", to_string(text)) if p]
    return "".join(p if i == 0 else p[:1].upper() + p[1:] for i, p in enumerate(parts))


# -- conv --------------------------------------------------------------------------------------


@register("conv.ToString")
def g_to_string(value: Any) -> str:
    """Any value as a string."""
    return to_string(value)


@register("conv.ToStrings")
def g_to_strings(*values: Any) -> list[str]:
    """Each argument as a string."""
    return [to_string(v) for v in values]


@register("conv.ToBool", "conv.Bool", "bool")
def g_to_bool(value: Any) -> bool:
    """Truthy strings ("true", "yes", "1", "on", "t") and the number 1."""
    return to_bool(value)


@register("conv.ToInt", "conv.ToInt64")
def g_to_int(value: Any) -> int:
    """Integer conversion (strings parsed, floats truncated, junk is 0)."""
    return to_int64(value)


@register("conv.ToFloat64")
def g_to_float(value: Any) -> float:
    """Float conversion."""
    return to_float64(value)


@register("conv.Atoi")
def g_atoi(value: Any) -> int:
    """strconv.Atoi with errors as 0."""
    return sprig.s_atoi(to_string(value))


@register("conv.ParseInt")
def g_parse_int(text: Any, base: Any, bits: Any) -> int:
    """strconv.ParseInt."""
    try:
        return int(to_string(text), want_int(base))
    except ValueError as exc:
        raise FunctionError(f'strconv.ParseInt: parsing "{to_string(text)}": invalid syntax') from exc


@register("conv.ParseFloat")
def g_parse_float(text: Any, bits: Any) -> float:
    """strconv.ParseFloat."""
    try:
        return float(to_string(text))
    except ValueError as exc:
        raise FunctionError(f'strconv.ParseFloat: parsing "{to_string(text)}": invalid syntax') from exc


@register("conv.Default")
def g_default(fallback: Any, value: Any) -> Any:
    """The fallback when the value is not truthy."""
    return value if is_true(value) else fallback


@register("conv.Join")
def g_join(values: Any, separator: Any) -> str:
    """conv.Join list sep (the list comes first)."""
    return to_string(separator).join(to_string(v) for v in want_list(values, "join"))


@register("conv.Has", "coll.Has")
def g_has(container: Any, key: Any) -> bool:
    """Whether a map has the key or a list contains the value."""
    if isinstance(container, Mapping):
        return key in container
    if isinstance(container, (list, tuple)):
        return key in container
    return False


@register("conv.Slice", "coll.Slice")
def g_slice(*values: Any) -> list[Any]:
    """A list of the arguments."""
    return list(values)


@register("conv.Dict", "coll.Dict")
def g_dict(*pairs: Any) -> dict[str, Any]:
    """A dict from key/value pairs (keys printed as strings)."""
    return {to_string(pairs[i]): (pairs[i + 1] if i + 1 < len(pairs) else "") for i in range(0, len(pairs), 2)}


# -- coll --------------------------------------------------------------------------------------


@register("coll.Keys")
def g_keys(*mappings: Any) -> list[str]:
    """Sorted keys of each map, concatenated."""
    return [key for m in mappings for key in sort_keys(want_map(m))]


@register("coll.Values")
def g_values(*mappings: Any) -> list[Any]:
    """Values of each map in key order, concatenated."""
    return [want_map(m)[key] for m in mappings for key in sort_keys(want_map(m))]


@register("coll.Append")
def g_append(value: Any, values: Any) -> list[Any]:
    """coll.Append v list."""
    return [*want_list(values, "append"), value]


@register("coll.Prepend")
def g_prepend(value: Any, values: Any) -> list[Any]:
    """coll.Prepend v list."""
    return [value, *want_list(values, "prepend")]


@register("coll.Uniq")
def g_uniq(values: Any) -> list[Any]:
    """Duplicates removed."""
    return sprig.s_uniq(values)


@register("coll.Reverse")
def g_reverse(values: Any) -> list[Any]:
    """Reversed list."""
    return sprig.s_reverse(values)


@register("coll.Flatten")
def g_flatten(*args: Any) -> list[Any]:
    """coll.Flatten [depth] list."""
    depth = to_int64(args[0]) if len(args) == 2 else -1
    return _flatten(want_list(args[-1], "flatten"), depth)


def _flatten(values: list[Any], depth: int) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, (list, tuple)) and depth != 0:
            out.extend(_flatten(list(value), depth - 1))
        else:
            out.append(value)
    return out


@register("coll.Sort", "sort")
def g_coll_sort(*args: Any) -> list[Any]:
    """coll.Sort [key] list: numbers or strings, or maps by a key."""
    values = want_list(args[-1], "sort")
    if len(args) == 2:
        key = to_string(args[0])
        return sorted(values, key=lambda m: _sort_key(m.get(key) if isinstance(m, Mapping) else None))
    return sorted(values, key=_sort_key)


def _sort_key(value: Any) -> tuple[int, Any]:
    if is_number(value):
        return (0, value)
    return (1, to_string(value))


@register("coll.Merge")
def g_merge(target: Any, *sources: Any) -> dict[str, Any]:
    """Deep merge where the first map wins (coll.Merge dst src1 src2...)."""
    result = sprig.s_deep_copy(want_map(target))
    for source in sources:
        sprig.merge_into(result, want_map(source), overwrite=False)
    return dict(result)


@register("coll.Pick")
def g_pick(*args: Any) -> dict[str, Any]:
    """coll.Pick key... map."""
    if not args:
        raise FunctionError("coll.Pick needs a map")
    return sprig.s_pick(args[-1], *args[:-1])


@register("coll.Omit")
def g_omit(*args: Any) -> dict[str, Any]:
    """coll.Omit key... map."""
    if not args:
        raise FunctionError("coll.Omit needs a map")
    return sprig.s_omit(args[-1], *args[:-1])


# -- data --------------------------------------------------------------------------------------


@register("data.ToJSON", "toJSON")
def g_to_json(value: Any) -> str:
    """JSON."""
    return encoding.to_json(value)


@register("data.ToJSONPretty", "toJSONPretty")
def g_to_json_pretty(indent: Any, value: Any) -> str:
    """Indented JSON with the given indent string."""
    return encoding.to_json(value, indent=to_string(indent))


@register("data.ToYAML", "toYAML")
def g_to_yaml(value: Any) -> str:
    """YAML, with a trailing newline as gomplate writes it."""
    return encoding.to_yaml(value) + "\n"


@register("data.JSON", "json")
def g_json(text: Any) -> Any:
    """Parse a JSON object."""
    value = encoding.from_json(to_string(text))
    if not isinstance(value, dict):
        raise FunctionError("expected a JSON object")
    return value


@register("data.JSONArray", "jsonArray")
def g_json_array(text: Any) -> Any:
    """Parse a JSON array."""
    value = encoding.from_json(to_string(text))
    if not isinstance(value, list):
        raise FunctionError("expected a JSON array")
    return value


@register("data.YAML", "yaml")
def g_yaml(text: Any) -> Any:
    """Parse a YAML map."""
    value = encoding.from_yaml(to_string(text))
    if not isinstance(value, dict):
        raise FunctionError("expected a YAML map")
    return value


@register("data.YAMLArray", "yamlArray")
def g_yaml_array(text: Any) -> Any:
    """Parse a YAML list."""
    value = encoding.from_yaml(to_string(text))
    if not isinstance(value, list):
        raise FunctionError("expected a YAML array")
    return value


# -- math --------------------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    if is_number(value):
        return value  # type: ignore[no-any-return]
    text = to_string(value)
    parsed = to_int64(text)
    if parsed or re.fullmatch(r"\s*[+-]?0+\s*", text):
        return parsed
    return to_float64(text)


def _any_float(values: tuple[Any, ...]) -> bool:
    return any(isinstance(_number(v), float) for v in values)


@register("math.Add")
def g_add(*values: Any) -> int | float:
    """Sum (a float if any argument is one)."""
    if _any_float(values):
        return math.fsum(to_float64(_number(v)) for v in values)
    return sum(int(_number(v)) for v in values)


@register("math.Sub")
def g_sub(left: Any, right: Any) -> int | float:
    """Difference."""
    if _any_float((left, right)):
        return to_float64(_number(left)) - to_float64(_number(right))
    return int(_number(left)) - int(_number(right))


@register("math.Mul")
def g_mul(*values: Any) -> int | float:
    """Product."""
    product: int | float = 1
    for value in values:
        product *= _number(value)
    return float(product) if _any_float(values) else product


@register("math.Div")
def g_div(left: Any, right: Any) -> float:
    """Quotient, always a float."""
    divisor = to_float64(_number(right))
    if divisor == 0:
        raise FunctionError("divide by zero")
    return to_float64(_number(left)) / divisor


@register("math.Rem")
def g_rem(left: Any, right: Any) -> int:
    """Remainder with the dividend's sign."""
    return sprig.s_mod(int(_number(left)), int(_number(right)))


@register("math.Pow")
def g_pow(left: Any, right: Any) -> int | float:
    """left ** right."""
    result = math.pow(to_float64(_number(left)), to_float64(_number(right)))
    return int(result) if not _any_float((left, right)) and result.is_integer() else result


@register("math.Seq")
def g_seq(*args: Any) -> list[int]:
    """math.Seq [start] end [step]: inclusive, counting down when end < start."""
    numbers = [int(_number(a)) for a in args]
    if len(numbers) == 1:
        start, end, step = 1, numbers[0], 1
    elif len(numbers) == 2:
        start, end, step = numbers[0], numbers[1], 1
    elif len(numbers) == 3:
        start, end, step = numbers
    else:
        raise FunctionError("math.Seq takes 1 to 3 arguments")
    if step == 0:
        return []
    step = abs(step) if end >= start else -abs(step)
    return list(range(start, end + (1 if step > 0 else -1), step))


@register("math.Max")
def g_max(*values: Any) -> int | float:
    """Largest."""
    numbers = [_number(v) for v in values]
    return float(max(numbers)) if _any_float(values) else max(numbers)


@register("math.Min")
def g_min(*values: Any) -> int | float:
    """Smallest."""
    numbers = [_number(v) for v in values]
    return float(min(numbers)) if _any_float(values) else min(numbers)


@register("math.Abs")
def g_abs(value: Any) -> int | float:
    """Absolute value."""
    return abs(_number(value))


@register("math.Ceil")
def g_ceil(value: Any) -> float:
    """Round up."""
    return float(math.ceil(to_float64(_number(value))))


@register("math.Floor")
def g_floor(value: Any) -> float:
    """Round down."""
    return float(math.floor(to_float64(_number(value))))


@register("math.Round")
def g_round(value: Any) -> float:
    """Round half away from zero."""
    number = to_float64(_number(value))
    return float(math.floor(abs(number) + 0.5)) * (1 if number >= 0 else -1)


@register("math.IsInt")
def g_is_int(value: Any) -> bool:
    """Whether the value is (or parses as) an integer."""
    return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None


@register("math.IsFloat")
def g_is_float(value: Any) -> bool:
    """Whether the value is (or parses as) a float."""
    if isinstance(value, float):
        return True
    return isinstance(value, str) and re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+", value) is not None


@register("math.IsNum")
def g_is_num(value: Any) -> bool:
    """Whether the value is a number."""
    return g_is_int(value) or g_is_float(value)


# -- test, env, base64, crypto -----------------------------------------------------------------


@register("test.Fail")
def g_fail(*message: Any) -> str:
    """Always an error."""
    raise FunctionError("template generation failed" + (": " + to_string(message[0]) if message else ""))


@register("test.Required")
def g_required(*args: Any) -> Any:
    """test.Required [message] value: error when the value is nil or ""."""
    if not args:
        raise FunctionError("test.Required needs a value")
    value = args[-1]
    if value is None or value == "":
        raise FunctionError(to_string(args[0]) if len(args) == 2 else "can not render template: a required value was not set")
    return value


@register("test.Assert", "assert")
def g_assert(*args: Any) -> str:
    """test.Assert [message] value: error when the value is false."""
    if not args:
        raise FunctionError("test.Assert needs a value")
    if not to_bool(args[-1]):
        raise FunctionError("assertion failed" + (": " + to_string(args[0]) if len(args) == 2 else ""))
    return ""


@register("test.Ternary")
def g_ternary(when_true: Any, when_false: Any, condition: Any) -> Any:
    """when_true if the condition is truthy."""
    return when_true if is_true(condition) else when_false


@register("test.Kind", "kind")
def g_kind(value: Any) -> str:
    """Go reflect kind."""
    return kind_of(value)


@register("test.IsKind", "isKind")
def g_is_kind(kind: Any, value: Any) -> bool:
    """Whether the kind matches ("number" matches ints and floats)."""
    wanted = to_string(kind)
    actual = kind_of(value)
    return wanted == actual or (wanted == "number" and actual in ("int", "float64"))


@register("env.Getenv", "getenv", env=True)
def g_getenv(env: Mapping[str, str] | None, name: Any, *default: Any) -> str:
    """env.Getenv name [default]: the default when unset or empty."""
    value = sprig.s_env(env, to_string(name))
    if value == "" and default:
        return to_string(default[0])
    return value


@register("env.ExpandEnv", env=True)
def g_expand_env(env: Mapping[str, str] | None, text: Any) -> str:
    """$VAR and ${VAR} expanded."""
    return sprig.s_expandenv(env, to_string(text))


@register("base64.Encode")
def g_b64_encode(value: Any) -> str:
    """Standard base64."""
    return base64.b64encode(to_string(value).encode()).decode()


@register("base64.Decode")
def g_b64_decode(value: Any) -> str:
    """Decode base64 (standard or URL alphabet, padding optional)."""
    text = to_string(value)
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as exc:
        raise FunctionError(f"illegal base64 data: {exc}") from None


def _hash(name: str) -> Any:
    def digest(value: Any) -> str:
        return hashlib.new(name, to_string(value).encode()).hexdigest()

    digest.__doc__ = f"Hex {name.upper()} of the string."
    return digest


for _algorithm, _names in (("sha1", ("crypto.SHA1",)), ("sha224", ("crypto.SHA224",)), ("sha256", ("crypto.SHA256",)), ("sha384", ("crypto.SHA384",)), ("sha512", ("crypto.SHA512",))):
    register(*_names)(_hash(_algorithm))
