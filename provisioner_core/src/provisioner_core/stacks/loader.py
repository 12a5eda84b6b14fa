"""Read YAML files once per run with the C-accelerated safe loader; errors name file and line.

Every file is bounded before anything walks it (docs/reliability.md, "Hostile stack files"):
its size is checked before it is read, and its nesting depth and, when it uses aliases, the
size it expands to are checked on the parser's event stream before the document is built.
"""

from __future__ import annotations

import itertools
import operator
import os
import re
import threading
from pathlib import Path
from typing import Any

from provisioner_core.errors import ConfigError

# A stack file larger than this is almost certainly a mistake (a generated dump, a binary).
MAX_FILE_BYTES = 8 * 1024 * 1024
# Mappings and sequences nested in one file. Real stacks use ~15; every walk over config
# (merge, redaction, rendering, JSON) stays far from Python's recursion limit below this.
MAX_DEPTH = 100
# Values (scalars, mappings, sequences) a file that uses aliases may expand to, every alias
# counted as a full copy of what it refers to ("billion laughs"). A file without aliases is
# bounded by MAX_FILE_BYTES instead (at most ~4M values in 8 MiB).
MAX_EXPANDED_NODES = 1_000_000
# The same, summed over every file with aliases that one run reads.
MAX_RUN_EXPANDED_NODES = 5_000_000

# An anchor (``&name``) where YAML allows one: only then can a file use aliases.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]")
# A "[" or "{" where a flow collection may start (after an indicator, at a line's start, or
# after a tag): every real one matches, and brackets inside text may too (a harmless over-count).
_FLOW_OPEN = re.compile(r"(?:^|(?<=[\[{,:?\-\ufeff]))[ \t]*(?:!(?:<[^>]*>|[^\s\[\]{},]*)[ \t]+)*[\[{]", re.MULTILINE)
# A line's indentation, and its run of block indicators ("- ", "? ", ": ") after it.
_INDENT = re.compile(r"^ *", re.MULTILINE)
_COMPACT = re.compile(r"^ *(?:[-?:][ \t]+)+", re.MULTILINE)
_INDICATOR = re.compile(r"[-?:][ \t]+")


_CONSTRUCTOR: Any = None


def _stack_constructor() -> Any:
    """SafeConstructor plus Atmos's YAML function tags (a subclass: ruamel's own class is left alone)."""
    global _CONSTRUCTOR
    if _CONSTRUCTOR is None:
        from ruamel.yaml.constructor import SafeConstructor

        from provisioner_core.stacks.tags import construct_tag

        class StackConstructor(SafeConstructor):
            pass

        StackConstructor.add_multi_constructor("!", construct_tag)
        _CONSTRUCTOR = StackConstructor
    return _CONSTRUCTOR


_RESOLVER: Any = None


def _stack_resolver() -> Any:
    """ruamel's resolver, with the YAML version looked up once per load under the C parser.

    ruamel finds the version for every scalar through two caught AttributeErrors (a third of
    the parse time of a stack file). Under the C parser the resolver is made anew for each
    load and its version cannot change during it (ruamel's C path ignores ``%YAML``), so one
    lookup gives the same answers. The pure parser keeps one resolver across loads and honours
    ``%YAML``: it is left to ruamel.
    """
    global _RESOLVER
    if _RESOLVER is None:
        from ruamel.yaml.resolver import VersionedResolver

        class StackResolver(VersionedResolver):
            _per_load: Any = None

            @property
            def versioned_resolver(self) -> Any:
                if self.loadumper is not self:  # the pure parser's resolver outlives one load
                    return super().versioned_resolver
                if self._per_load is None:
                    self._per_load = super().versioned_resolver
                return self._per_load

        _RESOLVER = StackResolver
    return _RESOLVER


def _yaml() -> Any:
    from ruamel.yaml import YAML

    # typ="safe" uses the C extension (CSafeLoader) when it is installed: the fast path.
    yaml = YAML(typ="safe")
    yaml.Constructor = _stack_constructor()
    yaml.Resolver = _stack_resolver()
    return yaml


def depth_bound(text: str) -> int:
    """An upper bound of the nesting depth of ``text``, without parsing it (cheap: a few regex scans).

    A flow collection on a path is opened by its own bracket, so there are at most as many as
    candidate brackets. Block collections on a path start at strictly increasing columns (a
    mapping and its indentless sequence share one), and a block collection starts either at a
    line's indentation or right after a run of ``- ``/``? ``/``: `` indicators at a line's start:
    at most two per such column.
    """
    flow = len(_FLOW_OPEN.findall(text))
    columns = {len(indent) for indent in set(_INDENT.findall(text))}
    for prefix in set(_COMPACT.findall(text)):
        columns.update(match.end() for match in _INDICATOR.finditer(prefix))
    return flow + 2 * len(columns)


def _quick_depth_bound(text: str) -> int:
    """A coarser bound, in C-speed string operations: every bracket, two levels per column up to the longest leading run."""
    lines = text.split("\n")
    lead = max(map(operator.sub, map(len, lines), map(len, map(str.lstrip, lines, itertools.repeat(" \t-?:")))), default=0)
    return text.count("[") + text.count("{") + 2 * (lead + 1)


def needs_event_scan(text: str) -> bool:
    """True when the text may use aliases or nest deeper than MAX_DEPTH: then the exact scan runs."""
    if "&" in text and _ANCHOR.search(text) is not None:
        return True
    # Most files pass the quick bound (~15 µs for a typical stack file); the regex bound is ~6x that.
    return _quick_depth_bound(text) > MAX_DEPTH and depth_bound(text) > MAX_DEPTH


def scan_events(events: Any, where: str) -> int:
    """Check depth and alias expansion on a parser event stream, in one linear pass; the expanded size.

    Iterative, and it stops at the first event past a limit, so neither a deep nor an exploding
    file costs more than reading up to that point. Returns the number of values the document
    expands to (0 when it uses no alias).
    """
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

    sizes: dict[str, int] = {}  # anchor -> expanded size of the (complete) node it names
    open_anchors: set[str] = set()
    stack: list[list[Any]] = []  # per open collection: [expanded size so far, its anchor]
    expanded = 0
    aliases = 0
    for event in events:
        if isinstance(event, ScalarEvent):
            size = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, AliasEvent):
            if event.anchor in open_anchors:
                raise ConfigError(
                    f"{where}:{event.start_mark.line + 1}: alias *{event.anchor} refers to a collection that contains it",
                    hint="A recursive alias has no finite value: replace the alias with the values it should hold.",
                )
            size = sizes.get(event.anchor, 1)  # an undefined alias is reported by the parser afterwards
            aliases += 1
        elif isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise ConfigError(
                    f"{where}:{event.start_mark.line + 1}: mappings and sequences nested deeper than {MAX_DEPTH} levels",
                    hint=f"Flatten that value; a stack file may nest at most {MAX_DEPTH} levels (docs/reliability.md).",
                )
            if event.anchor:
                open_anchors.add(event.anchor)
            stack.append([1, event.anchor])
            expanded += 1
            continue
        elif isinstance(event, CollectionEndEvent):
            size, anchor = stack.pop()
            if anchor:
                sizes[anchor] = size
                open_anchors.discard(anchor)
            if stack:
                stack[-1][0] += size
            continue  # already counted, value by value
        else:
            continue  # stream and document events
        expanded += size
        if stack:
            stack[-1][0] += size
        if aliases and expanded > MAX_EXPANDED_NODES:
            raise ConfigError(
                f"{where}:{event.start_mark.line + 1}: aliases expand this file to more than {MAX_EXPANDED_NODES:,} values",
                hint="An anchor is used over and over (a 'billion laughs' file?); write the values out, or split the file "
                f"(limit: {MAX_EXPANDED_NODES:,} values per file, docs/reliability.md).",
            )
    return expanded if aliases else 0


def _too_big(path: Path, size: int | None) -> ConfigError:
    limit = MAX_FILE_BYTES // 1024 // 1024
    what = f"file is {size // 1024 // 1024} MiB, over" if size is not None else "file is over"
    return ConfigError(
        f"{path}: {what} the {limit} MiB limit for a stack file",
        hint="Split it into smaller files joined with import:, or exclude it with stacks.excluded_paths.",
    )


def read_bounded(path: Path) -> bytes:
    """The file's bytes; its size is checked before reading, and at most MAX_FILE_BYTES + 1 are ever read."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise _too_big(path, size)
            data = handle.read(size + 1)  # one byte more than stat said: did it grow since (or is it a pipe)?
            if len(data) > size:
                data += handle.read(MAX_FILE_BYTES + 1 - len(data))  # never more than the limit + 1 in all
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found", hint="Check the path and the stacks.base_path setting.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a YAML file", hint="Check the path and the stacks.base_path setting.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", hint="Check the file's permissions.") from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(path, None)
    return data


def check_bounds(text: str, where: str, yaml: Any = None) -> int:
    """Refuse ``text`` when it nests too deeply or its aliases expand too far; its expanded size (0: no alias).

    For every parser of stack text (the resolver's, and ``env create``'s round-trip one). YAML
    syntax errors propagate as ruamel's YAMLError, for the caller to report as it does.
    """
    if not needs_event_scan(text):
        return 0
    events = (yaml or _yaml()).parse(text)
    try:
        return scan_events(events, where)
    finally:
        events.close()


def load_bounded(yaml: Any, text: str, where: str) -> tuple[Any, int]:
    """Parse ``text`` once it is known to be within the limits; (document, expanded size with aliases or 0)."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        expanded = check_bounds(text, where, yaml)
        return yaml.load(text), expanded
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"{where}:{mark.line + 1}" if mark is not None else where
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ConfigError(f"{at}: YAML syntax error: {problem}", hint="Fix the YAML at that line (indentation, quotes, a missing colon).") from None
    except YAMLError as exc:
        raise ConfigError(f"{where}: YAML error: {' '.join(str(exc).split())}", hint="Fix the YAML in that file.") from None
    except RecursionError:  # never expected past the depth check; kept so no file can end in a traceback
        raise ConfigError(
            f"{where}: mappings and sequences nested too deeply to read",
            hint=f"Flatten the file; a stack file may nest at most {MAX_DEPTH} levels (docs/reliability.md).",
        ) from None


def normal_path(path: str | Path) -> Path:
    """An absolute, normalised path (no symlink resolution: a stat per file is the costly part)."""
    found = _NORMAL.get(path)
    if found is not None:
        return found
    normal = Path(os.path.normpath(os.path.abspath(path)))
    if os.path.isabs(path) and len(_NORMAL) < _NORMAL_LIMIT:
        _NORMAL[path] = normal  # a relative path is not kept: the working directory may change
    return normal


# Each catalog file is reached once per stack that imports it: its normal form is remembered.
_NORMAL: dict[str | Path, Path] = {}
_NORMAL_LIMIT = 100_000


class YamlCache:
    """Parsed YAML documents by path, shared by every stack and component of one run.

    Also what template rendering needs: the text of files that hold a template (``{{``), and
    which files use YAML function tags. ``base`` is the project's base path, where ``!include``
    looks after the including file's folder.
    """

    def __init__(self, base: Path | None = None) -> None:
        self._docs: dict[Path, Any] = {}
        self._texts: dict[Path, str] = {}
        self._lock = threading.Lock()
        self._yaml: Any = None
        self.base = base
        self.delimiter = "{{"  # templates.settings.delimiters[0]
        self.templated: set[Path] = set()  # files whose text holds the left delimiter
        self.functions: set[Path] = set()  # files with YAML function tags
        self.strategies: set[Path] = set()  # files that may set settings.list_merge_strategy
        self.reads = 0
        self.expanded = 0  # values that files with aliases expanded to, this run

    def load(self, path: Path) -> Any:
        path = normal_path(path)
        with self._lock:
            if path in self._docs:
                return self._docs[path]
        doc = self._parse(path)
        with self._lock:
            self._docs[path] = doc
        return doc

    def text(self, path: Path) -> str:
        """The file's text (kept for files with templates; read again otherwise)."""
        path = normal_path(path)
        with self._lock:
            if path in self._texts:
                return self._texts[path]
        return self._read(path)

    def _read(self, path: Path) -> str:
        data = read_bounded(path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigError(f"{path}:{line}: not valid UTF-8 text", hint="Save the file as UTF-8.") from None
        if self.delimiter in text:
            with self._lock:
                self.templated.add(path)
                self._texts[path] = text
        if "list_merge_strategy" in text:
            self.strategies.add(path)
        return text

    def _parse(self, path: Path) -> Any:
        text = self._read(path)
        return self.parse_text(text, path)

    def parse_text(self, text: str, path: Path, where: str | None = None) -> Any:
        """Parse stack text read from ``path`` (or rendered from it); tags resolved as in ``path``."""
        from provisioner_core.stacks.tags import READING

        if self._yaml is None:
            self._yaml = _yaml()
        self.reads += 1
        saved = (READING.file, READING.include, READING.tags, READING.active)
        READING.file, READING.include, READING.tags, READING.active = path, self._include, False, (*READING.active, path)
        try:
            doc, expanded = load_bounded(self._yaml, text, where or str(path))
            if READING.tags:
                with self._lock:
                    self.functions.add(path)
        finally:
            READING.file, READING.include, READING.tags, READING.active = saved
        with self._lock:
            self.expanded += expanded
            total = self.expanded
        if total > MAX_RUN_EXPANDED_NODES:
            raise ConfigError(
                f"{path}: files with aliases expand to more than {MAX_RUN_EXPANDED_NODES:,} values in this run",
                hint="Anchors are used over and over across the stack files; write the values out "
                f"(limit: {MAX_RUN_EXPANDED_NODES:,} values per run, docs/reliability.md).",
            )
        return doc

    def _include(self, current: Path, path_text: str, raw: bool) -> Any:
        from provisioner_core.stacks.tags import parse_included, resolve_include_path

        tag = "!include.raw" if raw else "!include"
        found = resolve_include_path(current, path_text, self.base or Path.cwd())
        if found is None:
            raise ConfigError(
                f"{current}: {tag} {path_text}: file not found",
                hint=f"The path is relative to the including file's folder, then to the project's base path ({self.base or Path.cwd()}).",
            )
        from provisioner_core.stacks.tags import READING

        if found in READING.active:
            chain = " -> ".join(str(p) for p in (*READING.active[READING.active.index(found):], found))
            raise ConfigError(f"{current}: {tag} {path_text}: include cycle {chain}", hint="A file cannot include itself, directly or indirectly.")
        if not raw and found.name.lower().endswith((".yaml", ".yml")):
            return self.load(found)
        return parse_included(found, self.text(found), raw, f"{current}", lambda text, where: self.parse_text(text, found, where))
