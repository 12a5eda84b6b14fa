"""Atmos's YAML function tags, as the stack loader reads them.

``!include`` and ``!include.raw`` are replaced by the file they name while the stack file is read
(Atmos does the same, so included values merge like written ones). ``!literal`` keeps a string out
of template rendering. ``!append`` marks a list that is appended to, not replacing, the list it
merges over. Every other tag (``!env``, ``!exec``, ``!template``, ``!terraform.output``, ...) is
kept as a :class:`YamlFunction`: a string ``"!tag args"`` (what Atmos keeps too, so it merges and
renders like a string) that remembers its file and line, evaluated or refused by name when a
component is resolved (``stacks/functions.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner_core.errors import ConfigError

INCLUDE_TAGS = frozenset({"!include", "!include.raw"})
# Suffixes !include parses; any other file is included as text (as Atmos does).
_YAML_SUFFIXES = (".yaml", ".yml")
_HCL_SUFFIXES = (".tf", ".tfvars", ".hcl")


class YamlFunction(str):
    """``!tag args`` as written; ``tag``, ``args``, and where it was written (``file:line``)."""

    tag: str
    args: str
    where: str

    def __new__(cls, tag: str, args: str, where: str) -> YamlFunction:
        text = f"{tag} {args}".strip()
        self = super().__new__(cls, text)
        self.tag = tag
        self.args = args
        self.where = where
        return self

    def with_args(self, args: str) -> YamlFunction:
        """The same function with rendered arguments (templates run before functions, as in Atmos)."""
        return YamlFunction(self.tag, args, self.where)

    def __reduce__(self) -> Any:
        return (YamlFunction, (self.tag, self.args, self.where))


class Literal(str):
    """``!literal`` text: never rendered as a template."""

    def __reduce__(self) -> Any:
        return (Literal, (str(self),))


class AppendList(list):  # type: ignore[type-arg]
    """``!append [...]``: appended to the list it merges over (Atmos)."""


class _Reading(threading.local):
    """The file being read on this thread, and how to read the files it includes."""

    file: Path | None = None
    include: Callable[[Path, str, bool], Any] | None = None
    tags: bool = False
    active: tuple[Path, ...] = ()  # files being read (an include cycle check)


READING = _Reading()


def construct_tag(constructor: Any, suffix: str, node: Any) -> Any:
    """The multi-constructor of every ``!`` tag of a stack file."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    tag = "!" + suffix
    READING.tags = True
    line = node.start_mark.line + 1
    where = f"{READING.file}:{line}" if READING.file is not None else f"line {line}"
    if tag == "!append":
        if not isinstance(node, SequenceNode):
            raise ConfigError(f"{where}: !append needs a list", hint="Write `key: !append [a, b]`.")
        return AppendList(constructor.construct_sequence(node, deep=True))
    if isinstance(node, ScalarNode):
        value = str(constructor.construct_scalar(node)).strip()
    elif isinstance(node, SequenceNode):
        value = " ".join(str(v) for v in constructor.construct_sequence(node, deep=True))
    elif isinstance(node, MappingNode):
        raise ConfigError(f"{where}: YAML function {tag} takes a string, not a mapping", hint=f"Write `key: {tag} ARGUMENTS`.")
    else:  # pragma: no cover - every node is one of the three
        value = ""
    if tag == "!literal":
        return Literal(value)
    if tag in INCLUDE_TAGS:
        return include(value, tag == "!include.raw", where)
    return YamlFunction(tag, value, where)


def include(args: str, raw: bool, where: str) -> Any:
    """The value of ``!include PATH [QUERY]`` in the file being read."""
    path_text, _, query = args.partition(" ")
    query = query.strip()
    tag = "!include.raw" if raw else "!include"
    if not path_text:
        raise ConfigError(f"{where}: {tag} needs a path", hint=f"Write `key: {tag} config/vars.yaml`.")
    from provisioner_core.stacks.imports import REMOTE

    if REMOTE.match(path_text):
        raise ConfigError(
            f"{where}: {tag} of a remote file ({path_text}) is not supported",
            hint="Download the file into the repository and include it by its local path.",
        )
    current = READING.file
    if current is None or READING.include is None:
        raise ConfigError(f"{where}: {tag} is only allowed in stack files", hint="Use it in a file under stacks.base_path.")
    return READING.include(current, path_text, raw) if not query else _query(READING.include(current, path_text, raw), query, where, tag)


def parse_included(path: Path, text: str, raw: bool, where: str, load_yaml: Callable[[str, str], Any]) -> Any:
    """An included file's value: YAML and JSON parsed, HCL attributes read, anything else (or raw) as text."""
    if raw:
        return text
    name = path.name.lower()
    if name.endswith(_YAML_SUFFIXES):
        return load_yaml(text, str(path))
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}", hint=f"Fix the file included at {where}.") from None
    if name.endswith(_HCL_SUFFIXES):
        from provisioner_core.stacks.hcl import parse_attributes

        return parse_attributes(text, str(path))
    return text


def _query(value: Any, query: str, where: str, tag: str) -> Any:
    """The part of an included value a yq path names: ``.a.b``, ``.list[0]``, ``.a["b c"]``."""
    import re

    if not query.startswith("."):
        raise ConfigError(f"{where}: {tag} query {query!r} is not supported", hint="Use a path such as .vars.name or .list[0].")
    position = 1 if len(query) > 1 and query[1] != "[" else 0
    token = re.compile(r'\.?([A-Za-z_][\w-]*)|\[(\d+)\]|\["([^"]*)"\]|\.')
    current = value
    while position < len(query):
        match = token.match(query, position)
        if match is None or match.end() == position:
            raise ConfigError(
                f"{where}: {tag} query {query!r} is not supported (only paths of keys and list indexes)",
                hint="Use a path such as .vars.name or .list[0]; yq functions and filters are not supported.",
            )
        key, index, quoted = match.groups()
        position = match.end()
        if key is None and index is None and quoted is None:
            continue
        if index is not None:
            current = current[int(index)] if isinstance(current, list) and int(index) < len(current) else None
        else:
            current = current.get(key if key is not None else quoted) if isinstance(current, dict) else None
    return current


def resolve_include_path(current: Path, path_text: str, base: Path) -> Path | None:
    """An include path relative to the including file, else to the project's base path (Atmos's order)."""
    candidate = Path(path_text)
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    for folder in (current.parent, base):
        found = Path(os.path.normpath(folder / candidate))
        if found.is_file():
            return found
    return None
