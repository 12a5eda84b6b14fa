"""Edit ``terraform.<env>.tfvars`` (and ``backend.<env>.hcl``) files in place, span by span.

Every line and comment is kept byte for byte; only the inside of string literals (and
heredocs) changes: the environment name where it is a name part, and isolated secrets, which
become ``REQUIRED:`` placeholders. Map keys and variable names never change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from provisioner_env import hcl
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.substitute import substitute
from provisioner_env.values import PLACEHOLDER, RENAMED, ValueChange, is_placeholder, placeholder_text


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value).replace("$${", "${")


def rewrite(text: str, *, source: str, target: str, policy: EnvironmentPolicy, section: str, file: str, where: str = "") -> tuple[str, list[ValueChange]]:
    """The cloned text and the values that changed (renamed, or isolated and replaced); ``where`` names the source file in errors."""
    parsed = hcl.parse_attributes(text, where or file, kind="backend file" if section == "backend" else "variables file")
    edits: list[tuple[int, int, str]] = []
    changes: list[ValueChange] = []
    for literal in parsed.strings:
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
    # An isolated top-level key holding a number or a boolean: replace the value itself.
    for assignment in parsed.attributes:
        isolated = policy.isolated_key(assignment.key, section)
        raw = text[assignment.start : assignment.end]
        if isolated is None or not isinstance(assignment.value, (int, float)) or isinstance(assignment.value, bool):
            continue
        new = placeholder_text(isolated, source, target, assignment.key)
        edits.append((assignment.start, assignment.end, f'"{_escape(new)}"'))
        changes.append(ValueChange(file, assignment.key, assignment.key, section, PLACEHOLDER, raw, new))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, changes


def parse(text: str, where: str, *, kind: str = "variables file") -> dict[str, Any]:
    """Top-level assignments as Python values (exit 2 naming ``where``:line for what is not a literal)."""
    return hcl.parse_values(text, where, kind=kind)


def set_value(text: str, key: str, value: str, where: str = "") -> str:
    """Set a top-level string assignment (replacing its value, or appending a line)."""
    for assignment in hcl.parse_attributes(text, where or "(generated)", kind="backend file").attributes:
        if assignment.key == key:
            return text[: assignment.start] + f'"{_escape(value)}"' + text[assignment.end :]
    if text and not text.endswith("\n"):
        text += "\n"
    return text + f'{key} = "{_escape(value)}"\n'


def string_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in settings.items() if isinstance(v, str)}
