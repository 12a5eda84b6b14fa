"""Read the HCL files environments use: attribute files (``*.tfvars``, ``backend.<env>.hcl``) and
the block structure of ``*.tf`` files.

* :func:`parse_attributes` reads an attribute file of literal values (strings, heredocs,
  numbers, booleans, null, lists, objects) and keeps, for in-place editing, the span of each
  top-level value and of every string literal with the keys around it. Anything else
  (references, function calls, templates) is refused with ``file:line``: a variables or
  backend file holds only constants, and guessing at one would clone or provision the wrong thing.
* :func:`parse_blocks` reads the blocks of a ``*.tf`` file (``resource "t" "n" {}``,
  ``terraform { backend "s3" {} }``) and the expression text of their attributes, without
  evaluating anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from provisioner_core import ConfigError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORDS = {"true": True, "false": False, "null": None}


@frozen
class StringSpan:
    """A string literal's content (between the quotes, or a heredoc's body) and the keys around it."""

    start: int
    end: int
    keys: tuple[str, ...]
    heredoc: bool = False


@frozen
class Attribute:
    """A top-level ``key = value``: the value's span (without a trailing comment), line and value."""

    key: str
    start: int
    end: int
    line: int
    value: Any = field(eq=False)
    line_start: int = 0  # where the assignment's line starts
    line_end: int = 0  # the end of its last line (before the newline)


@frozen
class AttributeFile:
    attributes: tuple[Attribute, ...]
    strings: tuple[StringSpan, ...]

    def values(self) -> dict[str, Any]:
        return {a.key: a.value for a in self.attributes}


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class _Refused(Exception):
    def __init__(self, index: int, what: str) -> None:
        self.index = index
        self.what = what


class _Parser:
    """Recursive descent over literal HCL values, recording string spans."""

    def __init__(self, text: str, *, blocks: bool) -> None:
        self.text = text
        self.n = len(text)
        self.blocks = blocks  # accept `name { ... }` as an object (backend blocks' nested blocks)
        self.strings: list[StringSpan] = []

    # --- whitespace and comments ------------------------------------------------------

    def skip(self, i: int, *, newlines: bool) -> int:
        text, n = self.text, self.n
        while i < n:
            c = text[i]
            if c in " \t\r" or (newlines and c == "\n"):
                i += 1
            elif c == "#" or text.startswith("//", i):
                newline = text.find("\n", i)
                i = n if newline < 0 else newline
            elif text.startswith("/*", i):
                close = text.find("*/", i + 2)
                if close < 0:
                    raise _Refused(i, "a /* comment that is never closed")
                i = close + 2
            else:
                break
        return i

    # --- values -------------------------------------------------------------------------

    def value(self, i: int, keys: tuple[str, ...]) -> tuple[Any, int]:
        text = self.text
        if i >= self.n:
            raise _Refused(i, "a missing value")
        c = text[i]
        if c == '"':
            return self.string(i, keys)
        if c == "[":
            return self.sequence(i, keys)
        if c == "{":
            return self.mapping(i, keys)
        heredoc = _HEREDOC.match(text, i)
        if heredoc is not None:
            return self.heredoc(i, heredoc, keys)
        number = _NUMBER.match(text, i)
        if number is not None and not _IDENT.match(text, number.end()):
            raw = number.group(0)
            return (float(raw) if any(ch in raw for ch in ".eE") else int(raw)), number.end()
        ident = _IDENT.match(text, i)
        if ident is not None and ident.group(0) in _KEYWORDS:
            end = ident.end()
            if end < self.n and text[end] in ".(":
                raise _Refused(i, f"an expression ({ident.group(0)}{text[end]}...)")
            return _KEYWORDS[ident.group(0)], end
        if ident is not None:
            raise _Refused(i, f"a reference or function call ({ident.group(0)}...); only literal values are allowed")
        raise _Refused(i, f"an unexpected {text[i]!r}")

    def string(self, i: int, keys: tuple[str, ...]) -> tuple[str, int]:
        text, n = self.text, self.n
        j = i + 1
        out: list[str] = []
        while j < n:
            c = text[j]
            if c == '"':
                self.strings.append(StringSpan(i + 1, j, keys))
                return "".join(out), j + 1
            if c == "\n":
                break
            if c == "\\":
                if j + 1 >= n:
                    break
                nxt = text[j + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    j += 2
                elif nxt in "uU":
                    width = 4 if nxt == "u" else 8
                    digits = text[j + 2 : j + 2 + width]
                    if len(digits) != width or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
                        raise _Refused(j, "an invalid \\u escape")
                    out.append(chr(int(digits, 16)))
                    j += 2 + width
                else:
                    raise _Refused(j, f"an unknown escape \\{nxt}")
            elif text.startswith(("$${", "%%{"), j):
                out.append(text[j + 1 : j + 3])
                j += 3
            elif text.startswith(("${", "%{"), j):
                raise _Refused(j, f"a template ({text[j:j + 2]}...}}); only literal values are allowed")
            else:
                out.append(c)
                j += 1
        raise _Refused(i, "a string that is never closed on its line")

    def heredoc(self, i: int, match: re.Match[str], keys: tuple[str, ...]) -> tuple[str, int]:
        text, n = self.text, self.n
        marker, strip = match.group(2), match.group(1) == "-"
        body_start = k = match.end()
        while k < n:
            line_end = text.find("\n", k)
            line_end = n if line_end < 0 else line_end
            if text[k:line_end].strip() == marker:
                self.strings.append(StringSpan(body_start, k, keys, heredoc=True))
                body = text[body_start:k]
                if "${" in body.replace("$${", "") or "%{" in body.replace("%%{", ""):
                    raise _Refused(body_start, "a template inside a heredoc; only literal values are allowed")
                if strip:
                    lines = body.split("\n")
                    indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
                    cut = min(indents, default=0)
                    body = "\n".join(line[cut:] for line in lines)
                return body.replace("$${", "${").replace("%%{", "%{"), line_end
            k = line_end + 1
        raise _Refused(i, f"a heredoc whose end marker {marker} is missing")

    def sequence(self, i: int, keys: tuple[str, ...]) -> tuple[list[Any], int]:
        items: list[Any] = []
        j = self.skip(i + 1, newlines=True)
        while j < self.n and self.text[j] != "]":
            item, j = self.value(j, keys)
            items.append(item)
            j = self.skip(j, newlines=True)
            if j < self.n and self.text[j] == ",":
                j = self.skip(j + 1, newlines=True)
            elif j < self.n and self.text[j] != "]":
                raise _Refused(j, "a list item not followed by , or ]")
        if j >= self.n:
            raise _Refused(i, "a list that is never closed")
        return items, j + 1

    def key(self, j: int) -> tuple[str, int]:
        text = self.text
        if text[j] == '"':
            start = len(self.strings)
            key, end = self.string(j, ())
            del self.strings[start:]  # a key is never a value to edit
            return key, end
        ident = _IDENT.match(text, j)
        if ident is None:
            raise _Refused(j, f"an unexpected {text[j]!r} where a key should be")
        return ident.group(0), ident.end()

    def mapping(self, i: int, keys: tuple[str, ...], close: str = "}") -> tuple[dict[str, Any], int]:
        items: dict[str, Any] = {}
        j = self.skip(i + 1, newlines=True)
        while j < self.n and self.text[j] != close:
            key, j = self.key(j)
            j = self.skip(j, newlines=False)
            if j < self.n and self.text[j] in "=:" and not self.text.startswith("==", j):
                j = self.skip(j + 1, newlines=False)
                items[key], j = self.value(j, (*keys, key))
            elif self.blocks and j < self.n and self.text[j] == "{":
                items[key], j = self.mapping(j, (*keys, key))
            else:
                raise _Refused(j, f"'{key}' not followed by = or :")
            j = self.skip(j, newlines=False)
            if j < self.n and self.text[j] == ",":
                j += 1
            elif j < self.n and self.text[j] not in "\n" + close:
                raise _Refused(j, f"an unexpected {self.text[j]!r} after the value of '{key}'")
            j = self.skip(j, newlines=True)
        if j >= self.n:
            raise _Refused(i, "an object that is never closed")
        return items, j + 1

    # --- a whole file -------------------------------------------------------------------

    def attributes(self, start: int = 0, end: int | None = None) -> list[Attribute]:
        text = self.text
        stop = self.n if end is None else end
        found: list[Attribute] = []
        seen: set[str] = set()
        j = self.skip(start, newlines=True)
        while j < stop:
            key, after = self.key(j)
            k = self.skip(after, newlines=False)
            if self.blocks and k < stop and text[k] == "{":
                value, value_end = self.mapping(k, (key,))
                value_start = k
            elif k < stop and text[k] in "=:" and not text.startswith("==", k):
                value_start = self.skip(k + 1, newlines=False)
                value, value_end = self.value(value_start, (key,))
            else:
                raise _Refused(k, f"'{key}' not followed by =")
            if key in seen:
                raise _Refused(j, f"'{key}' assigned twice")
            seen.add(key)
            rest = self.skip(value_end, newlines=False)
            if rest < stop and text[rest] != "\n":
                raise _Refused(rest, f"an unexpected {text[rest]!r} after the value of '{key}'")
            line_start = text.rfind("\n", 0, j) + 1
            found.append(Attribute(key, value_start, value_end, line_of(text, j), value, line_start, rest))
            j = self.skip(rest, newlines=True)
        return found


def _refusal(error: _Refused, text: str, where: str, kind: str) -> ConfigError:
    line = line_of(text, error.index)
    return ConfigError(
        f"{where}:{line}: cannot read this {kind}: {error.what}",
        hint=f"Write `name = value` with literal values only (strings, numbers, true/false, null, [lists], {{objects}}), one per line, as terraform's {kind}s allow.",
        context={"file": where, "line": line},
    )


def parse_attributes(text: str, where: str, *, kind: str = "variables file", blocks: bool = False) -> AttributeFile:
    """The top-level attributes of an attribute file and the spans of its string literals (exit 2 naming file:line)."""
    parser = _Parser(text, blocks=blocks)
    try:
        attributes = parser.attributes()
    except _Refused as error:
        raise _refusal(error, text, where, kind) from None
    return AttributeFile(tuple(attributes), tuple(parser.strings))


def parse_values(text: str, where: str, *, kind: str = "variables file") -> dict[str, Any]:
    return parse_attributes(text, where, kind=kind).values()


# --- the blocks of a *.tf file --------------------------------------------------------------


@frozen
class Block:
    """``type "label" ... { body }`` with its attributes' expression text and nested blocks."""

    type: str
    labels: tuple[str, ...]
    line: int
    body_start: int
    body_end: int
    attributes: Mapping[str, str] = field(factory=dict)
    blocks: tuple[Block, ...] = ()

    def nested(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


class _Scanner:
    """Finds the structure of a configuration file; expressions are skipped as text, never evaluated."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.literal = _Parser(text, blocks=False)

    def skip_string(self, i: int) -> int:
        """The index after the string starting at ``i`` (templates with nested strings and braces included)."""
        text, n = self.text, self.n
        j = i + 1
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
            elif c == '"':
                return j + 1
            elif text.startswith(("$${", "%%{"), j):
                j += 3
            elif text.startswith(("${", "%{"), j):
                j = self.skip_expression(j + 2, closers="}") + 1
            elif c == "\n":
                raise _Refused(i, "a string that is never closed on its line")
            else:
                j += 1
        raise _Refused(i, "a string that is never closed")

    def skip_heredoc(self, i: int, match: re.Match[str]) -> int:
        """The index after a heredoc's end marker line (its body may hold templates: in code they are expressions)."""
        text, n = self.text, self.n
        k = match.end()
        while k < n:
            line_end = text.find("\n", k)
            line_end = n if line_end < 0 else line_end
            if text[k:line_end].strip() == match.group(2):
                return line_end
            k = line_end + 1
        raise _Refused(i, f"a heredoc whose end marker {match.group(2)} is missing")

    def skip_expression(self, i: int, *, closers: str = "") -> int:
        """The end of an expression starting at ``i``: a newline (or one of ``closers``) outside brackets."""
        text, n = self.text, self.n
        depth = 0
        j = i
        while j < n:
            j = self.literal.skip(j, newlines=depth > 0)
            if j >= n:
                break
            c = text[j]
            if c == '"':
                j = self.skip_string(j)
            elif (heredoc := _HEREDOC.match(text, j)) is not None:
                j = self.skip_heredoc(j, heredoc)
            elif c in "([{":
                depth += 1
                j += 1
            elif c in ")]}":
                if depth == 0:
                    if c in closers:
                        return j
                    raise _Refused(j, f"an unmatched {c!r}")
                depth -= 1
                j += 1
            elif c == "\n" and depth == 0:
                return j
            else:
                j += 1
        if depth:
            raise _Refused(i, "an expression whose brackets are never closed")
        return j

    def body(self, i: int, *, top: bool) -> tuple[dict[str, str], list[Block], int]:
        """Attributes and blocks from ``i`` to the closing ``}`` (or the end of the file at the top)."""
        text = self.text
        attributes: dict[str, str] = {}
        blocks: list[Block] = []
        j = self.literal.skip(i, newlines=True)
        while j < self.n and not (text[j] == "}" and not top):
            ident = _IDENT.match(text, j)
            if ident is None:
                raise _Refused(j, f"an unexpected {text[j]!r} where a block or attribute should start")
            k = self.literal.skip(ident.end(), newlines=False)
            if k < self.n and text[k] == "=" and not text.startswith("==", k):
                start = self.literal.skip(k + 1, newlines=False)
                end = self.skip_expression(start, closers="" if top else "}")
                attributes[ident.group(0)] = text[start:end].strip()
                j = end
            else:
                labels: list[str] = []
                while k < self.n and text[k] != "{":
                    if text[k] == '"':
                        label, k = self.literal.string(k, ())
                        labels.append(label)
                    elif (label_ident := _IDENT.match(text, k)) is not None:
                        labels.append(label_ident.group(0))
                        k = label_ident.end()
                    else:
                        raise _Refused(k, f"an unexpected {text[k]!r} in the header of block {ident.group(0)}")
                    k = self.literal.skip(k, newlines=False)
                if k >= self.n:
                    raise _Refused(j, f"block {ident.group(0)} without a body")
                inner_attributes, inner_blocks, close = self.body(k + 1, top=False)
                blocks.append(Block(ident.group(0), tuple(labels), line_of(text, j), k + 1, close, inner_attributes, tuple(inner_blocks)))
                j = close + 1
            j = self.literal.skip(j, newlines=True)
        if not top and j >= self.n:
            raise _Refused(i - 1, "a block that is never closed")
        return attributes, blocks, j


def parse_blocks(text: str, where: str) -> list[Block]:
    """The top-level blocks of a ``*.tf`` file (exit 2 naming file:line when its structure cannot be read)."""
    scanner = _Scanner(text)
    try:
        return scanner.body(0, top=True)[1]
    except _Refused as error:
        raise _refusal(error, text, where, "terraform file") from None


def backend_of(text: str, where: str) -> tuple[str, dict[str, Any]] | None:
    """The ``terraform { backend "<type>" { ... } }`` of a ``*.tf`` file: its type and literal settings."""
    for block in parse_blocks(text, where):
        if block.type != "terraform":
            continue
        for backend in block.nested("backend"):
            if len(backend.labels) != 1:
                raise ConfigError(f"{where}:{backend.line}: a backend block needs exactly one label, its type", hint='Write backend "s3" { ... }.')
            parser = _Parser(text, blocks=True)
            try:
                settings = parser.attributes(backend.body_start, backend.body_end)
            except _Refused as error:
                raise _refusal(error, text, where, "backend block") from None
            return backend.labels[0], {a.key: a.value for a in settings}
    return None
