"""Regular expressions: Go's RE2 syntax translated to Python's ``re``, and the Sprig/Gomplate regex functions.

RE2 has no lookaround and no backreferences; Go rejects them, so do we. What differs in meaning is
translated: ``$`` and ``\\Z`` (end of text only), ``\\z``, ``(?<name>...)``, ``[[:alpha:]]`` classes,
``\\Q...\\E``. Unicode classes (``\\pL``) and the ``U`` flag are refused.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .errors import FunctionError, UnsupportedFunctionError
from .registry import register, want_int, want_str

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7F",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class RegexError(FunctionError):
    """A pattern Go would reject."""


def translate(pattern: str) -> str:
    """Rewrite an RE2 pattern for Python's ``re``; raises RegexError or UnsupportedFunctionError."""
    out: list[str] = []
    index = 0
    length = len(pattern)
    multiline = False
    while index < length:
        char = pattern[index]
        if char == "\\":
            if index + 1 >= length:
                raise RegexError("error parsing regexp: trailing backslash at end of expression: ``")
            code = pattern[index + 1]
            if code == "Q":
                end = pattern.find("\\E", index + 2)
                literal = pattern[index + 2 :] if end < 0 else pattern[index + 2 : end]
                out.append(re.escape(literal))
                index = length if end < 0 else end + 2
                continue
            if code in "pP":
                raise UnsupportedFunctionError(f"Unicode class \\{code} in a regular expression is not supported")
            if code.isdigit() and code != "0":
                raise RegexError(f"error parsing regexp: invalid escape sequence: `\\{code}`")
            if code == "z":
                out.append("\\Z")
            elif code == "Z":
                raise RegexError("error parsing regexp: invalid escape sequence: `\\Z`")
            else:
                out.append(char + code)
            index += 2
            continue
        if char == "[":
            end, text = _char_class(pattern, index)
            out.append(text)
            index = end
            continue
        if char == "(" and pattern.startswith("(?", index):
            rest = pattern[index + 2 :]
            if rest.startswith(("=", "!", "<=", "<!")):
                raise RegexError(f"error parsing regexp: invalid or unsupported Perl syntax: `(?{rest[:2].rstrip()}`")
            if rest.startswith("<"):
                out.append("(?P<")
                index += 3
                continue
            flags = re.match(r"[imsU-]*", rest)
            if flags and "U" in flags.group(0):
                raise UnsupportedFunctionError("the U (ungreedy) regular expression flag is not supported")
            if flags and "m" in flags.group(0).split("-")[0]:
                multiline = True
        if char == "$" and not multiline:
            # Go's $ (without m) matches only at the very end; Python's also matches before a final newline.
            out.append("\\Z")
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[int, str]:
    out = ["["]
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        out.append("^")
        index += 1
    first = True
    while index < len(pattern):
        char = pattern[index]
        if char == "]" and not first:
            out.append("]")
            return index + 1, "".join(out)
        if pattern.startswith("[:", index):
            end = pattern.find(":]", index + 2)
            if end > 0:
                name = pattern[index + 2 : end]
                negate = name.startswith("^")
                name = name.lstrip("^")
                if name not in _POSIX or negate:
                    raise RegexError(f"error parsing regexp: invalid character class range: `[:{pattern[index + 2 : end]}:]`")
                out.append(_POSIX[name])
                index = end + 2
                first = False
                continue
        if char == "[":
            out.append("\\[")
        elif char == "\\" and index + 1 < len(pattern):
            if pattern[index + 1] in "pP":
                raise UnsupportedFunctionError(f"Unicode class \\{pattern[index + 1]} in a regular expression is not supported")
            out.append(pattern[index : index + 2])
            index += 2
            first = False
            continue
        else:
            out.append(char)
        index += 1
        first = False
    raise RegexError(f"error parsing regexp: missing closing ]: `{pattern[start:]}`")


@functools.lru_cache(maxsize=512)
def compile_go(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern (cached)."""
    try:
        # ASCII: Go's \d, \w, \s and \b match ASCII only.
        return re.compile(translate(pattern), re.ASCII)
    except re.error as exc:
        raise RegexError(f"error parsing regexp: {exc}: `{pattern}`") from None


def expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.Expand``: $1, ${1}, $name, ${name}; $$ is a dollar; unknown groups are empty."""
    out: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char != "$" or index + 1 >= len(template):
            out.append(char)
            index += 1
            continue
        following = template[index + 1]
        if following == "$":
            out.append("$")
            index += 2
            continue
        if following == "{":
            close = template.find("}", index + 2)
            name = template[index + 2 : close] if close > 0 else ""
            if close < 0 or not re.fullmatch(r"\w+", name):
                out.append(char)
                index += 1
                continue
            index = close + 1
        else:
            found = re.match(r"\w+", template[index + 1 :])
            if not found:
                out.append(char)
                index += 1
                continue
            name = found.group(0)
            index += 1 + len(name)
        out.append(_group(match, name))
    return "".join(out)


def _group(match: re.Match[str], name: str) -> str:
    try:
        value = match.group(int(name)) if name.isdigit() else match.group(name)
    except IndexError:
        return ""
    return value or ""


def _find_all(pattern: str, text: str, count: int) -> list[str]:
    found = [m.group(0) for m in compile_go(pattern).finditer(text)]
    return found if count < 0 else found[:count]


def _split(pattern: str, text: str, count: int) -> list[str]:
    """Go's ``Regexp.Split``: count < 0 all pieces, 0 none, n at most n pieces."""
    if count == 0:
        return []
    if pattern == "" or text == "":
        return [text] if text == "" else list(text)[: count if count > 0 else None]
    pieces: list[str] = []
    start = 0
    for match in compile_go(pattern).finditer(text):
        if count > 0 and len(pieces) == count - 1:
            break
        if match.end() == 0:
            continue
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


@register("regexMatch")
def r_match(pattern: Any, text: Any) -> bool:
    """Whether the pattern matches anywhere (an invalid pattern is false, as Sprig ignores the error)."""
    try:
        return compile_go(want_str(pattern)).search(want_str(text)) is not None
    except RegexError:
        return False


@register("mustRegexMatch")
def r_must_match(pattern: Any, text: Any) -> bool:
    """Whether the pattern matches; an invalid pattern is an error."""
    return compile_go(want_str(pattern)).search(want_str(text)) is not None


@register("regexFind", "mustRegexFind")
def r_find(pattern: Any, text: Any) -> str:
    """The first match, or ""."""
    found = compile_go(want_str(pattern)).search(want_str(text))
    return found.group(0) if found else ""


@register("regexFindAll", "mustRegexFindAll")
def r_find_all(pattern: Any, text: Any, count: Any) -> list[str]:
    """All matches (at most ``count``; -1 for all)."""
    return _find_all(want_str(pattern), want_str(text), want_int(count))


@register("regexReplaceAll", "mustRegexReplaceAll")
def r_replace_all(pattern: Any, text: Any, replacement: Any) -> str:
    """Replace every match; $1 / ${name} in the replacement refer to groups."""
    template = want_str(replacement)
    return compile_go(want_str(pattern)).sub(lambda m: expand(template, m), want_str(text))


@register("regexReplaceAllLiteral", "mustRegexReplaceAllLiteral")
def r_replace_all_literal(pattern: Any, text: Any, replacement: Any) -> str:
    """Replace every match with the replacement taken literally."""
    literal = want_str(replacement)
    return compile_go(want_str(pattern)).sub(lambda m: literal, want_str(text))


@register("regexSplit", "mustRegexSplit")
def r_split(pattern: Any, text: Any, count: Any) -> list[str]:
    """Split around matches (at most ``count`` pieces; -1 for all)."""
    return _split(want_str(pattern), want_str(text), want_int(count))


@register("regexQuoteMeta")
def r_quote_meta(text: Any) -> str:
    """Escape the regex metacharacters."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", want_str(text))


# Gomplate's regexp namespace takes the input last, like Sprig, but names and some orders differ.


@register("regexp.Match")
def g_match(pattern: Any, text: Any) -> bool:
    """regexp.Match re input."""
    return r_must_match(pattern, text)


@register("regexp.Find")
def g_find(pattern: Any, text: Any) -> str:
    """regexp.Find re input."""
    return r_find(pattern, text)


@register("regexp.FindAll")
def g_find_all(pattern: Any, *args: Any) -> list[str]:
    """regexp.FindAll re [n] input."""
    count = want_int(args[0]) if len(args) == 2 else -1
    return _find_all(want_str(pattern), want_str(args[-1]), count)


@register("regexp.Replace")
def g_replace(pattern: Any, replacement: Any, text: Any) -> str:
    """regexp.Replace re replacement input (expands $1)."""
    return r_replace_all(pattern, text, replacement)


@register("regexp.ReplaceLiteral")
def g_replace_literal(pattern: Any, replacement: Any, text: Any) -> str:
    """regexp.ReplaceLiteral re replacement input."""
    return r_replace_all_literal(pattern, text, replacement)


@register("regexp.Split")
def g_split(pattern: Any, *args: Any) -> list[str]:
    """regexp.Split re [n] input."""
    count = want_int(args[0]) if len(args) == 2 else -1
    return _split(want_str(pattern), want_str(args[-1]), count)


@register("regexp.QuoteMeta")
def g_quote_meta(text: Any) -> str:
    """regexp.QuoteMeta input."""
    return r_quote_meta(text)
