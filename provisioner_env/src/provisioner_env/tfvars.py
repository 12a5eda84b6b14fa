"""Edit ``terraform.<env>.tfvars`` (and ``backend.<env>.hcl``, ``.tfvars.json``) files in place, span by span.

Every line and comment is kept byte for byte; only the inside of string literals (and
heredocs) changes, where the environment name is a name part. An isolated variable's
assignment becomes a comment naming ``TF_VAR_<name>`` (secrets never go into files); an
isolated key nested in a value becomes a ``REQUIRED:`` placeholder. Map keys and variable
names never change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from provisioner_core import ConfigError
from provisioner_env import hcl
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.substitute import substitute
from provisioner_env.values import PLACEHOLDER, REFERENCE, RENAMED, ValueChange, is_placeholder, placeholder_text


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value).replace("$${", "${")


def reference_comment(key: str, variable: str, target: str, source: str, hint: str, indent: str = "") -> str:
    """What a var file says in place of an isolated assignment (parsed back by ``secrets.markers``)."""
    return f"{indent}# {key}: from {variable} (isolated: a new value for {target}, never copied from {source}" + (f"; {hint}" if hint else "") + ")"


def rewrite(
    text: str, *, source: str, target: str, policy: EnvironmentPolicy, section: str, file: str, where: str = "", protect: Iterable[str] = (),
    backend_env: Mapping[str, str] | None = None,
) -> tuple[str, list[ValueChange]]:
    """The cloned text and the values that changed; ``where`` names the source file in errors.

    An isolated top-level variable becomes a reference: its assignment is replaced by a comment
    naming ``TF_VAR_<name>`` (a backend file's setting: the variable its backend type reads it
    from, ``backend_env``). An isolated key inside a value gets a ``REQUIRED:`` placeholder.
    """
    if file.endswith(".json"):
        return _rewrite_json(text, source=source, target=target, policy=policy, file=file, where=where or file, protect=protect)
    parsed = hcl.parse_attributes(text, where or file, kind="backend file" if section == "backend" else "variables file")
    edits: list[tuple[int, int, str]] = []
    changes: list[ValueChange] = []
    referenced: set[str] = set()
    for assignment in parsed.attributes:
        isolated = policy.isolated_key(assignment.key, section)
        if isolated is None or assignment.value in ("", None) or is_placeholder(assignment.value):
            continue
        variable = f"TF_VAR_{assignment.key}" if section == "vars" else (backend_env or {}).get(assignment.key)
        if variable is None:
            continue
        referenced.add(assignment.key)
        line = text[assignment.line_start : assignment.line_end]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        comment = reference_comment(assignment.key, variable, target, source, isolated.hint, indent)
        edits.append((assignment.line_start, assignment.line_end, comment))
        changes.append(ValueChange(file, assignment.key, assignment.key, section, REFERENCE, text[assignment.start : assignment.end], variable))
    for literal in parsed.strings:
        if literal.keys and literal.keys[0] in referenced:
            continue
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
        new = substitute(content, source, target, protect, ignore_case=any(policy.ignores_case(k) for k in literal.keys))
        if new != content:
            edits.append((literal.start, literal.end, new))
            changes.append(ValueChange(file, path, key, section, RENAMED, _unescape(content), _unescape(new)))
    # An isolated top-level key holding a number or a boolean that no variable can carry: replace the value itself.
    for assignment in parsed.attributes:
        isolated = policy.isolated_key(assignment.key, section)
        raw = text[assignment.start : assignment.end]
        if assignment.key in referenced or isolated is None or not isinstance(assignment.value, (int, float)) or isinstance(assignment.value, bool):
            continue
        new = placeholder_text(isolated, source, target, assignment.key)
        edits.append((assignment.start, assignment.end, f'"{_escape(new)}"'))
        changes.append(ValueChange(file, assignment.key, assignment.key, section, PLACEHOLDER, raw, new))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, changes


def _rewrite_json(
    text: str, *, source: str, target: str, policy: EnvironmentPolicy, file: str, where: str, protect: Iterable[str]
) -> tuple[str, list[ValueChange]]:
    """A ``.tfvars.json`` clone: the same object, values substituted and isolated ones replaced, in the file's indentation."""
    data = read_vars(text, where)
    changes: list[ValueChange] = []

    def walk(value: Any, keys: tuple[str, ...]) -> Any:
        key = keys[-1] if keys else ""
        isolated = next((p for p in (policy.isolated_key(k, "vars") for k in keys) if p is not None), None)
        if isinstance(value, dict):
            return {k: walk(v, (*keys, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, keys) for v in value]
        if isolated is not None and value not in (None, "") and not isinstance(value, bool) and not is_placeholder(value):
            new = placeholder_text(isolated, source, target, key)
            changes.append(ValueChange(file, ".".join(keys), key, "vars", PLACEHOLDER, str(value), new))
            return new
        if isinstance(value, str) and isolated is None and not any(policy.is_shared_key(k) for k in keys):
            new = substitute(value, source, target, protect, ignore_case=any(policy.ignores_case(k) for k in keys))
            if new != value:
                changes.append(ValueChange(file, ".".join(keys), key, "vars", RENAMED, value, new))
            return new
        return value

    cloned: dict[str, Any] = {}
    for key, value in data.items():
        isolated = policy.isolated_key(key, "vars")
        if isolated is not None and value not in (None, "") and not is_placeholder(value):
            changes.append(ValueChange(file, key, key, "vars", REFERENCE, json.dumps(value), f"TF_VAR_{key}"))  # terraform reads TF_VAR_<name>
            continue
        cloned[key] = walk(value, (str(key),))
    indent = re.match(r"\{\s*\n([ \t]+)", text)
    out = json.dumps(cloned, indent=indent.group(1) if indent else 2, ensure_ascii=False)
    return out + ("\n" if text.endswith("\n") else ""), changes


def read_vars(text: str, where: str) -> dict[str, Any]:
    """The variables of a ``.tfvars`` or ``.tfvars.json`` file (exit 2 naming ``where``:line when it cannot be read)."""
    if not where.endswith(".json"):
        return parse(text, where)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}:{error.lineno}: cannot read this variables file: {error.msg}", hint="A .tfvars.json file holds one JSON object of variable names.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}:1: cannot read this variables file: not a JSON object", hint='Write {"name": value, ...}.')
    return data


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
