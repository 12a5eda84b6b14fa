"""Edit ``terraform.<env>.tfvars`` (and ``backend.<env>.hcl``) files in place, span by span.

Every line and comment is kept byte for byte; only the inside of string literals (and
heredocs) changes: the environment name where it is a name part, and isolated secrets, which
become ``REQUIRED:`` placeholders. Map keys and variable names never change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.substitute import substitute
from provisioner_env.values import PLACEHOLDER, RENAMED, ValueChange, is_placeholder, placeholder_text

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")
_BARE_LITERALS = frozenset({"true", "false", "null"})


@frozen
class Literal:
    """A string literal's content span (or a heredoc's body) and the assignment keys around it."""

    start: int
    end: int
    keys: tuple[str, ...]
    heredoc: bool = False


@frozen
class Assignment:
    """A top-level ``key = value``: the value's span (without a trailing comment)."""

    key: str
    start: int
    end: int


def _assign_ahead(text: str, index: int) -> bool:
    """True when, after spaces, ``text[index:]`` starts an assignment (``=`` but not ``==``, or ``:``)."""
    while index < len(text) and text[index] in " \t":
        index += 1
    if index >= len(text):
        return False
    if text[index] == ":":
        return True
    return text[index] == "=" and not text.startswith("==", index)


def lex(text: str) -> tuple[list[Literal], list[Assignment]]:
    """The value literals and top-level assignments of an HCL attribute file."""
    literals: list[Literal] = []
    assignments: list[Assignment] = []
    keys: list[str | None] = [None]  # the current key at each nesting depth
    open_key: str | None = None  # the top-level assignment whose value is being read
    value_start = value_end = 0
    i, n = 0, len(text)

    def chain() -> tuple[str, ...]:
        return tuple(k for k in keys if k is not None)

    def start_key(name: str, after: int) -> int:
        """Record ``name`` as the key at this depth; return the index after ``=``/``:`` and spaces."""
        nonlocal open_key, value_start
        keys[-1] = name
        k = after
        while text[k] in " \t":
            k += 1
        k += 1
        while k < n and text[k] in " \t":
            k += 1
        if len(keys) == 1:
            open_key, value_start = name, k
        return k

    while i < n:
        c = text[i]
        if c == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif c == "\n":
            if len(keys) == 1 and open_key is not None:
                assignments.append(Assignment(open_key, value_start, value_end))
                open_key = None
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            if _assign_ahead(text, j + 1):
                i = start_key(text[i + 1 : j], j + 1)
            else:
                literals.append(Literal(i + 1, j, chain()))
                i = value_end = min(j + 1, n)
        elif (heredoc := _HEREDOC.match(text, i)) is not None:
            body_start, k, body_end = heredoc.end(), heredoc.end(), n
            while k < n:
                line_end = text.find("\n", k)
                line_end = n if line_end < 0 else line_end
                if text[k:line_end].strip() == heredoc.group(1):
                    body_end = k
                    k = line_end
                    break
                k = line_end + 1
            literals.append(Literal(body_start, body_end, chain(), heredoc=True))
            i = value_end = min(k, n)
        elif (identifier := _IDENT.match(text, i)) is not None:
            if _assign_ahead(text, identifier.end()):
                i = start_key(identifier.group(0), identifier.end())
            else:
                i = value_end = identifier.end()
        else:
            if c in "{[(":
                keys.append(None)
            elif c in "}])" and len(keys) > 1:
                keys.pop()
            i = value_end = i + 1
    if open_key is not None:
        assignments.append(Assignment(open_key, value_start, value_end))
    return literals, assignments


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value).replace("$${", "${")


def rewrite(text: str, *, source: str, target: str, policy: EnvironmentPolicy, section: str, file: str) -> tuple[str, list[ValueChange]]:
    """The cloned text and the values that changed (renamed, or isolated and replaced)."""
    literals, assignments = lex(text)
    edits: list[tuple[int, int, str]] = []
    changes: list[ValueChange] = []
    for literal in literals:
        content = text[literal.start : literal.end]
        isolated = next((p for p in (policy.isolated_key(k, section) for k in literal.keys) if p is not None), None)
        path = ".".join(literal.keys) or "(value)"
        key = literal.keys[-1] if literal.keys else ""
        if isolated is not None:
            if content == "" or is_placeholder(content.strip()):
                continue
            new = placeholder_text(isolated, source, target, key)
            edits.append((literal.start, literal.end, new + "\n" if literal.heredoc else _escape(new)))
            changes.append(ValueChange(file, path, key, section, PLACEHOLDER, content, new))
            continue
        if any(policy.is_shared_key(k) for k in literal.keys):
            continue
        new = substitute(content, source, target)
        if new != content:
            edits.append((literal.start, literal.end, new))
            changes.append(ValueChange(file, path, key, section, RENAMED, _unescape(content), _unescape(new)))
    # An isolated top-level key holding a bare number or identifier: replace the value itself.
    for assignment in assignments:
        isolated = policy.isolated_key(assignment.key, section)
        raw = text[assignment.start : assignment.end]
        if isolated is None or not raw or raw[0] in '"{[<' or raw in _BARE_LITERALS:
            continue
        new = placeholder_text(isolated, source, target, assignment.key)
        edits.append((assignment.start, assignment.end, f'"{_escape(new)}"'))
        changes.append(ValueChange(file, assignment.key, assignment.key, section, PLACEHOLDER, raw, new))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, changes


def parse(text: str) -> dict[str, Any]:
    """Top-level assignments: strings, numbers and booleans as values, anything else as its text."""
    values: dict[str, Any] = {}
    for assignment in lex(text)[1]:
        values[assignment.key] = _value(text[assignment.start : assignment.end].strip())
    return values


def _value(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"' and '"' not in raw[1:-1].replace('\\"', ""):
        return _unescape(raw[1:-1])
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def set_value(text: str, key: str, value: str) -> str:
    """Set a top-level string assignment (replacing its value, or appending a line)."""
    for assignment in lex(text)[1]:
        if assignment.key == key:
            return text[: assignment.start] + f'"{_escape(value)}"' + text[assignment.end :]
    if text and not text.endswith("\n"):
        text += "\n"
    return text + f'{key} = "{_escape(value)}"\n'


def backend_block(text: str) -> tuple[str, dict[str, Any]] | None:
    """The ``backend "<type>" { ... }`` block of a terraform file: its type and literal settings."""
    for match in re.finditer(r'\bbackend\s+"([A-Za-z0-9_]+)"\s*\{', text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if text[line_start : match.start()].lstrip().startswith(("#", "//")):
            continue
        depth, k = 1, match.end()
        while k < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        return match.group(1), parse(text[match.end() : k - 1])
    return None


def string_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in settings.items() if isinstance(v, str)}
