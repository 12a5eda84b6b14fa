"""Clone an Atmos stack file with ruamel.yaml round-trip: comments, key order, quoting and
indentation survive; only values that name the environment (or isolated secrets) change.

What changes: every string value where the source environment is a name part, except
``metadata`` (component references) and ``settings.depends_on``; ``import`` entries only when
they point to another file that is cloned too. Keys never change. Isolated keys get an
``!env VARIABLE`` reference (or, where the stack loader cannot read it, a ``REQUIRED:``
placeholder); shared keys keep their value.
"""

from __future__ import annotations

import collections
import io
import posixpath
from collections.abc import Callable, Iterable
from typing import Any

from provisioner_core import ConfigError, check_bounds
from provisioner_env.policy import EnvironmentPolicy
from provisioner_env.secrets import ENV_TAG
from provisioner_env.substitute import substitute
from provisioner_env.values import PLACEHOLDER, REFERENCE, RENAMED, ValueChange, is_placeholder, placeholder_text

# Sections whose values are references to keys and folders that cloning never renames.
_REFERENCE_SECTIONS = frozenset({"metadata"})


def section_of(path: tuple[str, ...]) -> str:
    """The Atmos section a path is in: ``vars`` for vars.x, terraform.vars.x and components.terraform.C.vars.x."""
    if len(path) >= 4 and path[0] == "components" and path[1] == "terraform":
        return path[3]
    if len(path) >= 2 and path[0] == "terraform":
        return path[1]
    return path[0] if path else ""


def _is_depends_on(path: tuple[str, ...]) -> bool:
    for index, part in enumerate(path[:-1]):
        if part == "settings" and path[index + 1] == "depends_on":
            return True
    return False


def _indentation(text: str) -> tuple[int, int]:
    """The mapping indent and the sequence dash offset the file uses (most common wins)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    maps: collections.Counter[int] = collections.Counter()
    offsets: collections.Counter[int] = collections.Counter()
    for line, following in zip(lines, lines[1:], strict=False):
        head = line.split(" #")[0].rstrip()
        if not head.endswith(":"):
            continue
        column = len(line) - len(line.lstrip())
        if line.lstrip().startswith("- "):
            column += 2
        next_column = len(following) - len(following.lstrip())
        if following.lstrip().startswith("- "):
            if next_column >= column:
                offsets[next_column - column] += 1
        elif next_column > column:
            maps[next_column - column] += 1
    indent = maps.most_common(1)[0][0] if maps else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return indent, offset


def _round_trip(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    indent, offset = _indentation(text)
    yaml.indent(mapping=indent, sequence=indent + offset if offset else indent, offset=offset)
    yaml.explicit_start = text.lstrip().startswith("---")
    return yaml


def _shift_comment(holder: Any, slot: Any, delta: int) -> None:
    """Move the end-of-line comment after a changed value by the change in length, so its gap is kept."""
    items = getattr(getattr(holder, "ca", None), "items", {})
    entry = items.get(slot)
    if not entry:
        return
    token = entry[0] if isinstance(slot, int) else entry[2] if len(entry) > 2 else None
    if token is not None and hasattr(token, "column") and delta:
        try:
            token.column = max(token.column + delta, 0)
        except AttributeError:  # pragma: no cover - an older ruamel.yaml without the setter
            pass


def _same_style(old: Any, new: str) -> Any:
    """``new`` in the scalar style of ``old`` (double/single quoted, literal, folded, plain)."""
    kind = type(old)
    if kind is str:
        return new
    try:
        return kind(new)
    except TypeError:
        return new


class YamlClone:
    """One stack file being cloned: parsed once, rewritten, extended with overrides, dumped."""

    def __init__(self, text: str, source_relative: str, target_relative: str) -> None:
        """``source_relative``: the file under stacks.base_path; ``target_relative``: the target file as reported."""
        from ruamel.yaml.error import YAMLError

        self.text = text
        self.source_relative = source_relative
        self.target_relative = target_relative
        self.yaml = _round_trip(text)
        try:
            check_bounds(text, source_relative)  # depth and aliases, before the walks below
            self.data = self.yaml.load(text)
        except YAMLError as exc:
            raise ConfigError(f"{source_relative}: cannot parse for cloning: {' '.join(str(exc).split())}", hint="Fix the YAML in that file.") from None
        self.changes: list[ValueChange] = []
        self.overridden = False
        self._variable: Callable[[str], str] | None = None
        self._references: list[tuple[Any, Any, str]] = []  # (holder, slot, variable): `!env variable` in the written file

    # --- rewriting ----------------------------------------------------------------------

    def rewrite(
        self, *, source: str, target: str, policy: EnvironmentPolicy, cloned_import: Callable[[str], bool], protect: Iterable[str] = (),
        variable: Callable[[str], str] | None = None,
    ) -> list[ValueChange]:
        """Substitute the environment name and replace isolated values; returns what changed.

        ``variable``: key -> the environment variable an isolated value is read from (the file
        gets ``!env VARIABLE``); None: a ``REQUIRED:`` placeholder instead.
        """
        self._variable = variable
        from ruamel.yaml.comments import CommentedMap

        if not isinstance(self.data, CommentedMap):
            return []
        self._source, self._target, self._policy = source, target, policy
        self._protect = tuple(protect)
        for key in list(self.data.keys()):
            if key == "import":
                self._rewrite_imports(cloned_import)
            else:
                self._walk_entry(self.data, key, (str(key),))
        return self.changes

    def _rewrite_imports(self, cloned_import: Callable[[str], bool]) -> None:
        entries = self.data["import"]
        items: Iterable[tuple[Any, Any]] = enumerate(entries) if isinstance(entries, list) else [(None, entries)]
        for index, entry in items:
            holder, slot = (entries, index) if index is not None else (self.data, "import")
            if isinstance(entry, dict):
                holder, slot, entry = entry, "path", entry.get("path")
            if not isinstance(entry, str) or not cloned_import(self._import_path(entry)):
                continue
            new = substitute(entry, self._source, self._target, self._protect)
            if new != entry:
                holder[slot] = _same_style(entry, new)
                _shift_comment(holder, slot, len(new) - len(entry))
                self._record(("import", str(index or 0)), "import", RENAMED, entry, new)

    def _import_path(self, entry: str) -> str:
        """The import's path relative to stacks.base_path (``./`` entries are relative to the file)."""
        if entry.startswith(("./", "../")):
            return posixpath.normpath(posixpath.join(posixpath.dirname(self.source_relative), entry))
        return entry

    def _walk_entry(self, holder: Any, slot: Any, path: tuple[str, ...]) -> None:
        value = holder[slot]
        section = section_of(path)
        if section in _REFERENCE_SECTIONS or _is_depends_on(path):
            return
        if value is None or isinstance(value, bool):
            return
        key = path[-1]
        isolated = self._policy.isolated_key(key, section) if not isinstance(slot, int) else None
        if isolated is not None:
            if is_placeholder(value) or value == "":
                return
            from ruamel.yaml.scalarstring import DoubleQuotedScalarString

            text = placeholder_text(isolated, self._source, self._target, key)
            holder[slot] = DoubleQuotedScalarString(text)  # what the plan resolves; the file gets the reference
            if self._variable is not None:
                variable = self._variable(key)
                self._references.append((holder, slot, variable))
                self._record(path, section, REFERENCE, str(value), variable)
            else:
                self._record(path, section, PLACEHOLDER, str(value), text)
            return
        if not isinstance(slot, int) and self._policy.is_shared_key(key):
            return  # shared: the same value in every environment
        if isinstance(value, str):
            new = substitute(value, self._source, self._target, self._protect, ignore_case=not isinstance(slot, int) and self._policy.ignores_case(key))
            if new != value:
                holder[slot] = _same_style(value, new)
                _shift_comment(holder, slot, len(new) - len(value))
                self._record(path, section, RENAMED, value, new)
        elif isinstance(value, dict):
            for child in list(value.keys()):
                self._walk_entry(value, child, (*path, str(child)))
        elif isinstance(value, list):
            for index in range(len(value)):
                self._walk_entry(value, index, (*path, str(index)))

    def _record(self, path: tuple[str, ...], section: str, kind: str, old: str, new: str) -> None:
        self.changes.append(ValueChange(self.target_relative, ".".join(path), path[-1], section, kind, old, new))

    # --- overrides ----------------------------------------------------------------------

    def get(self, path: tuple[str, ...]) -> Any:
        node = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def set(self, path: tuple[str, ...], value: Any) -> None:
        """Set a value, creating mappings on the way (added keys go last, in block style)."""
        from ruamel.yaml.comments import CommentedMap

        if self.data is None:
            self.data = CommentedMap()
        node = self.data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = CommentedMap()
            node = node[part]
        node[path[-1]] = value
        self.overridden = True

    def set_reference(self, path: tuple[str, ...], placeholder: str, variable: str) -> None:
        """Set an isolated value: resolved as ``placeholder`` while planning, written as ``!env variable``."""
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        self.set(path, DoubleQuotedScalarString(placeholder))
        node = self.get(path[:-1])
        self._references.append((node, path[-1], variable))

    def dump(self, *, final: bool = False) -> str:
        """The YAML text; ``final``: as written, with ``!env`` references instead of the placeholders the plan resolves."""
        if self.data is None:
            return self.text
        from ruamel.yaml.comments import TaggedScalar

        swapped = []
        if final:
            for holder, slot, variable in self._references:
                swapped.append((holder, slot, holder[slot]))
                holder[slot] = TaggedScalar(value=variable, style=None, tag=ENV_TAG)
        try:
            buffer = io.StringIO()
            self.yaml.dump(self.data, buffer)
            return buffer.getvalue()
        finally:
            for holder, slot, placeholder in swapped:
                holder[slot] = placeholder
