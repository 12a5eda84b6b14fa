"""Go's ``fmt`` printing of plain Python values: ``%v`` and friends, ``Sprint``, ``Sprintf``, ``strconv.Quote``.

Values are what a YAML or JSON decoder produces (str, int, float, bool, None, list, dict), printed as
Go prints the ``interface{}`` values its decoder would have produced for the same document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .values import NO_VALUE, type_name


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-tripping decimal digits of ``abs(value)`` and the decimal point's position."""
    sign, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    # The point sits after len(all digits) + exponent of them; stripping trailing zeros does not move it.
    point = len(digit_tuple) + exponent
    if digits == "0":
        point = 1
    return digits, point


def _exp_form(digits: str, point: int, upper: bool = False) -> str:
    exp = point - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if exp < 0 else "+"
    return f"{mantissa}{'E' if upper else 'e'}{sign}{abs(exp):02d}"


def _fixed_form(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * (-point) + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def format_float(value: float, verb: str = "g", precision: int = -1) -> str:
    """``strconv.FormatFloat(value, verb, precision, 64)`` for the verbs e, E, f, F, g, G."""
    special = _special(value)
    if special is not None:
        return special
    negative = math.copysign(1.0, value) < 0
    if precision < 0 and verb in "gG":
        digits, point = _digits(value)
        exp = point - 1
        # strconv decides between %e and %f with precision 6 when asked for the shortest form.
        text = _exp_form(digits, point, verb == "G") if exp < -4 or exp >= 6 else _fixed_form(digits, point)
    elif precision < 0 and verb in "fF":
        digits, point = _digits(value)
        text = _fixed_form(digits, point)
    elif precision < 0 and verb in "eE":
        digits, point = _digits(value)
        text = _exp_form(digits, point, verb == "E")
    else:
        text = f"{abs(value):.{precision}{verb}}"
    return ("-" if negative else "") + text


def format_json_float(value: float) -> str:
    """How Go's ``encoding/json`` writes a float64 (shortest digits; exponent only below 1e-6 or from 1e21)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        digits, point = _digits(value)
        exp = point - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    else:
        digits, point = _digits(value)
        text = _fixed_form(digits, point)
    return ("-" if math.copysign(1.0, value) < 0 and value != 0 else "") + text


def quote(text: str, ascii_only: bool = False) -> str:
    """``strconv.Quote``: a double-quoted Go string literal; printable Unicode is kept as is."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif (ascii_only and code > 0x7E) or not char.isprintable():
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_SHORT_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def quote_rune(code: int) -> str:
    """``strconv.QuoteRune``: a single-quoted Go character literal."""
    if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    char = chr(code)
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return "'" + quote(char)[1:-1] + "'"


def format_value(value: Any) -> str:
    """Go's ``%v`` of a value (maps print with sorted keys, as Go's fmt sorts them)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return format_float(value)
    if value is None:
        return "<nil>"
    if value is NO_VALUE:
        return "<no value>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{format_value(k)}:{format_value(value[k])}" for k in sort_keys(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_float(float(value))
    return str(value)


def sort_keys(mapping: dict[Any, Any]) -> list[Any]:
    """Map keys in Go's order (``fmtsort``): numbers and strings ascending, mixed kinds grouped by kind."""
    try:
        return sorted(mapping)
    except TypeError:
        return sorted(mapping, key=lambda k: (type(k).__name__, format_value(k)))


def go_syntax(value: Any) -> str:
    """Go's ``%#v`` for the types a YAML decoder produces."""
    if isinstance(value, str):
        return quote(value)
    if value is None or value is NO_VALUE:
        return "interface {}(nil)"
    if isinstance(value, dict):
        inner = ", ".join(f"{go_syntax(k)}:{go_syntax(value[k])}" for k in sort_keys(value))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}{" + ", ".join(go_syntax(item) for item in value) + "}"
    return format_value(value)


def sprint(args: Sequence[Any]) -> str:
    """``fmt.Sprint``: a space goes between two operands only when neither is a string."""
    out: list[str] = []
    previous_is_string = True
    for index, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if index > 0 and not is_string and not previous_is_string:
            out.append(" ")
        out.append(format_value(arg))
        previous_is_string = is_string
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    """``fmt.Sprintln``: spaces between all operands and a newline at the end."""
    return " ".join(format_value(arg) for arg in args) + "\n"


class _Spec:
    """One parsed ``%`` directive: flags, width and precision."""

    __slots__ = ("minus", "plus", "sharp", "space", "zero", "width", "precision")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width: int | None = None
        self.precision: int | None = None

    def pad(self, text: str, numeric: bool = False) -> str:
        if self.width is None or len(text) >= self.width:
            return text
        fill = self.width - len(text)
        if self.minus:
            return text + " " * fill
        if self.zero:
            if numeric and text[:1] in "+- ":
                return text[0] + "0" * fill + text[1:]
            return "0" * fill + text
        return " " * fill + text


def _bad_verb(verb: str, arg: Any) -> str:
    if arg is None or arg is NO_VALUE:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={format_value(arg)})"


def _format_int(value: int, verb: str, spec: _Spec) -> str:
    if verb == "c":
        return spec.pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd")
    if verb == "q":
        return spec.pad(quote_rune(value))
    if verb == "U":
        text = f"U+{value:04X}"
        if spec.sharp and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            text += f" '{chr(value)}'"
        return spec.pad(text)
    base = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}[verb]
    magnitude = abs(value)
    if base == 10:
        digits = str(magnitude)
    elif base == 2:
        digits = format(magnitude, "b")
    elif base == 8:
        digits = format(magnitude, "o")
    else:
        digits = format(magnitude, "x" if verb == "x" else "X")
    if spec.precision is not None:
        digits = digits.rjust(spec.precision, "0") if not (spec.precision == 0 and value == 0) else ""
    prefix = ""
    if verb == "O" or (spec.sharp and verb == "o" and not digits.startswith("0")):
        prefix = "0o" if verb == "O" else "0"
    elif spec.sharp and verb in "xX":
        prefix = "0x" if verb == "x" else "0X"
    elif spec.sharp and verb == "b":
        prefix = "0b"
    sign = "-" if value < 0 else ("+" if spec.plus else (" " if spec.space else ""))
    body = prefix + digits
    if spec.zero and not spec.minus and spec.precision is None and spec.width is not None:
        body = body.rjust(spec.width - len(sign), "0")
    return spec.pad(sign + body)


def _format_float_verb(value: float, verb: str, spec: _Spec) -> str:
    if verb == "v":
        verb = "g"
    precision = -1 if spec.precision is None else spec.precision
    if verb in "eEfF" and spec.precision is None:
        precision = 6
    text = format_float(value, verb.lower() if verb == "F" else verb, precision)
    if text[0] not in "+-" and text not in ("NaN",):
        if spec.plus:
            text = "+" + text
        elif spec.space:
            text = " " + text
    elif text == "NaN" and spec.plus:
        text = "+NaN"
    if text.lstrip("+- ") in ("Inf", "NaN"):
        return _pad_unzeroed(spec, text)
    return spec.pad(text, numeric=True)


def _pad_unzeroed(spec: _Spec, text: str) -> str:
    """Infinities and NaN do not look like numbers, so Go pads them with spaces even under the 0 flag."""
    zero = spec.zero
    spec.zero = False
    try:
        return spec.pad(text)
    finally:
        spec.zero = zero


def _format_string(value: str, verb: str, spec: _Spec) -> str:
    if verb in "vs":
        text = value if spec.precision is None else value[: spec.precision]
        return spec.pad(text)
    if verb == "q":
        text = value if spec.precision is None else value[: spec.precision]
        if spec.sharp and "`" not in text and all(c == "\t" or (c.isprintable() and c != "\ufeff") for c in text):
            return spec.pad("`" + text + "`")
        return spec.pad(quote(text, ascii_only=spec.plus))
    if verb in "xX":
        data = value.encode()
        if spec.precision is not None:
            data = data[: spec.precision]
        pattern = "{:02x}" if verb == "x" else "{:02X}"
        parts = [pattern.format(b) for b in data]
        lead = ("0x" if verb == "x" else "0X") if spec.sharp else ""
        if spec.space:
            return spec.pad(" ".join(lead + p for p in parts))
        return spec.pad(lead + "".join(parts))
    return _bad_verb(verb, value)


def format_arg(arg: Any, verb: str, spec: _Spec) -> str:
    """Format one operand for one verb, as ``fmt`` does for interface{} values of YAML types."""
    if verb == "T":
        return spec.pad(type_name(arg))
    if verb == "v" and spec.sharp:
        return spec.pad(go_syntax(arg))
    if arg is None or arg is NO_VALUE:
        return spec.pad("<nil>") if verb == "v" else _bad_verb(verb, arg)
    if isinstance(arg, bool):
        return spec.pad("true" if arg else "false") if verb in "vt" else _bad_verb(verb, arg)
    if isinstance(arg, int):
        if verb in "vdbcoOqxXU":
            return _format_int(arg, verb, spec)
        return _bad_verb(verb, arg)
    if isinstance(arg, float):
        if verb in "veEfFgG":
            return _format_float_verb(arg, verb, spec)
        return _bad_verb(verb, arg)
    if isinstance(arg, str):
        return _format_string(arg, verb, spec)
    if isinstance(arg, dict):
        inner = " ".join(f"{format_arg(k, verb, _Spec())}:{format_arg(arg[k], verb, _copy(spec))}" for k in sort_keys(arg))
        return "map[" + inner + "]"
    if isinstance(arg, (list, tuple)):
        return "[" + " ".join(format_arg(item, verb, _copy(spec)) for item in arg) + "]"
    return spec.pad(format_value(arg)) if verb in "vs" else _bad_verb(verb, arg)


def _copy(spec: _Spec) -> _Spec:
    clone = _Spec()
    for name in _Spec.__slots__:
        setattr(clone, name, getattr(spec, name))
    return clone


def sprintf(template: str, args: Sequence[Any]) -> str:
    """``fmt.Sprintf`` for the verbs b c d e E f F g G o O q s t T U v x X and %%, with flags, width and precision."""
    out: list[str] = []
    index = 0
    arg_index = 0
    length = len(template)
    while index < length:
        percent = template.find("%", index)
        if percent < 0:
            out.append(template[index:])
            break
        out.append(template[index:percent])
        index = percent + 1
        if index >= length:
            out.append("%!(NOVERB)")
            break
        spec = _Spec()
        while index < length and template[index] in "+-# 0":
            flag = template[index]
            if flag == "+":
                spec.plus = True
            elif flag == "-":
                spec.minus = True
            elif flag == "#":
                spec.sharp = True
            elif flag == " ":
                spec.space = True
            else:
                spec.zero = True
            index += 1
        if index < length and template[index] == "*":
            index += 1
            if arg_index < len(args) and isinstance(args[arg_index], int) and not isinstance(args[arg_index], bool):
                spec.width = args[arg_index]
                if spec.width < 0:
                    spec.minus, spec.width = True, -spec.width
            else:
                out.append("%!(BADWIDTH)")
            arg_index += 1
        else:
            start = index
            while index < length and template[index].isdigit():
                index += 1
            if index > start:
                spec.width = int(template[start:index])
        if index < length and template[index] == ".":
            index += 1
            if index < length and template[index] == "*":
                index += 1
                if arg_index < len(args) and isinstance(args[arg_index], int) and not isinstance(args[arg_index], bool):
                    spec.precision = max(args[arg_index], 0)
                else:
                    out.append("%!(BADPREC)")
                arg_index += 1
            else:
                start = index
                while index < length and template[index].isdigit():
                    index += 1
                spec.precision = int(template[start:index]) if index > start else 0
        if index >= length:
            out.append("%!(NOVERB)")
            break
        verb = template[index]
        index += 1
        if verb == "%":
            out.append("%")
            continue
        if arg_index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[arg_index]
        arg_index += 1
        if verb not in "bcdeEfFgGoOqstTUvxX":
            out.append(_bad_verb(verb, arg))
            continue
        out.append(format_arg(arg, verb, spec))
    if arg_index < len(args):
        extra = ", ".join(f"{type_name(a)}={format_value(a)}" if a is not None else "<nil>" for a in args[arg_index:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
