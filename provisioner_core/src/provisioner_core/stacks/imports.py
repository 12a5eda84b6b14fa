"""``import:`` entries of a stack file, as Atmos reads them.

An entry is a path, or a mapping with ``path`` and optionally ``context`` (values the imported
file is rendered with as a Go template), ``skip_templates_processing``,
``ignore_missing_template_values`` and ``skip_if_missing``. Paths without an extension find
``.yaml``, ``.yml``, ``.yaml.tmpl`` or ``.yml.tmpl``; ``x.yaml`` finds ``x.yaml.tmpl`` when that
exists; globs use ``**``, ``*``, ``?``, ``[...]`` and ``{a,b}``. Remote imports are refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import field, frozen

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.globs import glob, has_magic

STACK_SUFFIXES = (".yaml", ".yml", ".yaml.tmpl", ".yml.tmpl")
TEMPLATE_SUFFIX = ".tmpl"
# go-getter's forms: a URL, a forced getter (`git::...`), an SSH address, a known forge's path.
REMOTE = re.compile(r"^(?:[a-z0-9+.-]+::|[a-z][a-z0-9+.-]*://|git@|github\.com/|bitbucket\.org/)", re.IGNORECASE)
_ENTRY_KEYS = frozenset({"path", "context", "skip_templates_processing", "ignore_missing_template_values", "skip_if_missing", "nested_imports", "ttl"})


@frozen
class ImportEntry:
    path: str
    context: Mapping[str, Any] = field(factory=dict)
    skip_templates_processing: bool = False
    ignore_missing_template_values: bool = False
    skip_if_missing: bool = False


def parse_entries(raw: Mapping[str, Any], where: str) -> list[ImportEntry]:
    entries = raw.get("import") or []
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: import must be a list of paths", hint="Write import: [catalog/vpc, mixins/region].")
    parsed = []
    for entry in entries:
        if isinstance(entry, Mapping):
            unknown = sorted(set(entry) - _ENTRY_KEYS)
            if unknown:
                raise ConfigError(f"{where}: import entry has unknown keys {', '.join(unknown)}", hint=f"An import entry takes {', '.join(sorted(_ENTRY_KEYS))}.")
            path = entry.get("path")
            context = entry.get("context") or {}
            if not isinstance(context, Mapping):
                raise ConfigError(f"{where}: import context of '{path}' must be a mapping", hint="Write context: {name: value}.")
            flags = {k: entry.get(k, False) for k in ("skip_templates_processing", "ignore_missing_template_values", "skip_if_missing")}
            for key, value in flags.items():
                if not isinstance(value, bool):
                    raise ConfigError(f"{where}: import {key} must be true or false, got {value!r}", hint=f"Write `{key}: true`.")
        else:
            path, context, flags = entry, {}, {}
        if not isinstance(path, str) or not path:
            raise ConfigError(f"{where}: each import must be a path string, got {path!r}", hint="Write import: [catalog/vpc].")
        if REMOTE.match(path):
            raise ConfigError(
                f"{where}: remote import '{path}' is not supported",
                hint="Vendor the file into the repository (e.g. with `atmos vendor pull`) and import it by its local path.",
            )
        parsed.append(ImportEntry(path, dict(context), **flags))
    return parsed


def candidates(base: Path, entry: str) -> list[Path]:
    """The files an import path names under ``base``: a glob, or one file found by Atmos's suffix rules."""
    extension = os.path.splitext(os.path.basename(entry))[1]
    if extension in (".yaml", ".yml"):
        patterns = [entry + TEMPLATE_SUFFIX] if (base / (entry + TEMPLATE_SUFFIX)).is_file() else [entry]
    elif extension:
        patterns = [entry]  # another extension (or a glob such as `name-?.*`): as written, as Atmos does
    elif has_magic(entry):
        patterns = [entry + suffix for suffix in STACK_SUFFIXES]
    else:
        for suffix in STACK_SUFFIXES:
            if (base / (entry + suffix)).is_file():
                return [base / (entry + suffix)]
        exact = base / entry
        return [exact] if exact.is_file() else []
    if not any(has_magic(p) for p in patterns):
        return [base / p for p in patterns if (base / p).is_file()]
    found: list[Path] = []
    for pattern in patterns:
        found += [base / p for p in glob(base, pattern)]
    return sorted(dict.fromkeys(found))


def is_template_file(path: Path) -> bool:
    return path.name.endswith(TEMPLATE_SUFFIX)
