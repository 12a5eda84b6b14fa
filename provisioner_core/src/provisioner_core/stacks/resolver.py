"""Resolve stacks and components from an Atmos-style tree.

Data flows one way: stack files -> (imports, deep merge) -> stack documents -> (globals,
``terraform:``, inherits, component) -> ResolvedComponent. Nothing here talks to a cloud.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core.errors import ConfigError
from provisioner_core.stacks.component import MERGED_SECTIONS, ResolvedComponent
from provisioner_core.stacks.config import ProjectConfig, stack_name_from_vars
from provisioner_core.stacks.globs import has_magic, matches
from provisioner_core.stacks.loader import YamlCache
from provisioner_core.stacks.merge import deep_merge, is_mapping

YAML_SUFFIXES = (".yaml", ".yml")


def _normal(path: Path) -> Path:
    """An absolute, normalised path (no symlink resolution: a stat per file is the costly part)."""
    return Path(os.path.normpath(os.path.abspath(path)))


@frozen
class Stack:
    """One stack: its file, its name and its merged document (imports applied)."""

    name: str
    file: Path
    relative: str
    document: Mapping[str, Any]

    def raw_components(self) -> Mapping[str, Any]:
        components = self.document.get("components") or {}
        terraform = components.get("terraform") if isinstance(components, Mapping) else None
        if terraform is None:
            return {}
        if not isinstance(terraform, Mapping):
            raise ConfigError(f"{self.relative}: components.terraform must be a mapping of component names", hint="Write components: {terraform: {vpc: {...}}}.")
        return terraform


class StackRepository:
    """Stacks of one project, parsed lazily and cached for the whole run."""

    def __init__(self, config: ProjectConfig, cache: YamlCache | None = None) -> None:
        self.config = config
        self.cache = cache or YamlCache()
        self._documents: dict[Path, Mapping[str, Any]] = {}
        self._stacks: dict[str, Stack] | None = None
        self._components: dict[tuple[str, str], ResolvedComponent] = {}
        self._import_paths: dict[tuple[Path, str], list[Path]] = {}
        self._lock = threading.RLock()

    # --- files --------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.stacks_base_path).as_posix()
        except ValueError:
            return str(path)

    def stack_files(self) -> list[Path]:
        """Files under stacks.base_path that match included_paths and no excluded_paths."""
        base = self.config.stacks_base_path
        if not base.is_dir():
            raise ConfigError(
                f"stacks folder {base} does not exist",
                hint="Set stacks.base_path in atmos.yaml/provisioner.yaml, or run from the project root (or pass --config).",
            )
        files = []
        for path in sorted(base.rglob("*")):
            if path.suffix not in YAML_SUFFIXES or not path.is_file():
                continue
            relative = path.relative_to(base).as_posix()
            if not any(matches(relative, p) or matches(relative.rsplit(".", 1)[0], p) for p in self.config.included_paths):
                continue
            if any(matches(relative, p) or matches(relative.rsplit(".", 1)[0], p) for p in self.config.excluded_paths):
                continue
            files.append(path)
        return files

    def document(self, path: Path, chain: tuple[Path, ...] = ()) -> Mapping[str, Any]:
        """The file merged over its imports (imports in order, then the file itself)."""
        path = _normal(path)
        if path in chain:
            cycle = " -> ".join(self._relative(p) for p in (*chain[chain.index(path) :], path))
            raise ConfigError(f"import cycle: {cycle}", hint="Remove one of these imports; a file cannot import itself, directly or indirectly.")
        with self._lock:
            if path in self._documents:
                return self._documents[path]
        raw = self.cache.load(path)
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{self._relative(path)}: a stack file must be a mapping, got {type(raw).__name__}", hint="Start the file with keys such as vars: and components:.")
        layers = [self.document(imported, (*chain, path)) for imported in self._imports(path, raw)]
        own = {k: v for k, v in raw.items() if k != "import"}
        document = deep_merge(*layers, own)
        with self._lock:
            self._documents[path] = document
        return document

    def _imports(self, path: Path, raw: Mapping[str, Any]) -> list[Path]:
        entries = raw.get("import") or []
        if isinstance(entries, str):
            entries = [entries]
        if not isinstance(entries, list):
            raise ConfigError(f"{self._relative(path)}: import must be a list of paths", hint="Write import: [catalog/vpc, mixins/region].")
        found: list[Path] = []
        for entry in entries:
            if isinstance(entry, Mapping):
                entry = entry.get("path")
            if not isinstance(entry, str) or not entry:
                raise ConfigError(f"{self._relative(path)}: each import must be a path string, got {entry!r}", hint="Write import: [catalog/vpc].")
            found.extend(self._resolve_import(path, entry))
        return found

    def _resolve_import(self, importer: Path, entry: str) -> list[Path]:
        # ./ and ../ are relative to the importing file; anything else to stacks.base_path (Atmos).
        base = importer.parent if entry.startswith(("./", "../")) else self.config.stacks_base_path
        key = (base, entry)
        if key not in self._import_paths:
            # Many stacks import the same catalog files: look each one up once per run.
            self._import_paths[key] = [_normal(p) for p in self._find_import(importer, base, entry)]
        return [p for p in self._import_paths[key] if p != importer]

    def _find_import(self, importer: Path, base: Path, entry: str) -> list[Path]:
        if has_magic(entry):
            hits = sorted(p for p in base.glob(entry) if p.suffix in YAML_SUFFIXES and p.is_file())
            if not hits:
                hits = sorted(p for s in YAML_SUFFIXES for p in base.glob(entry + s) if p.is_file())
            if not hits:
                raise self._missing_import(importer, entry)
            return hits
        for candidate in (base / entry, *(base / (entry + s) for s in YAML_SUFFIXES)):
            if candidate.is_file() and candidate.suffix in YAML_SUFFIXES:
                return [candidate]
        raise self._missing_import(importer, entry)

    def _missing_import(self, importer: Path, entry: str) -> ConfigError:
        known = [p.relative_to(self.config.stacks_base_path).as_posix().rsplit(".", 1)[0] for p in self.config.stacks_base_path.rglob("*") if p.suffix in YAML_SUFFIXES]
        close = difflib.get_close_matches(entry.removesuffix(".yaml"), known, n=3, cutoff=0.5)
        return ConfigError(
            f"{self._relative(importer)}: import '{entry}' not found under {self.config.stacks_base_path}",
            hint=(f"Did you mean: {', '.join(close)}?" if close else "Check the path; imports are relative to stacks.base_path (or to the file with ./)."),
        )

    # --- stacks -------------------------------------------------------------------------

    def stacks(self) -> dict[str, Stack]:
        with self._lock:
            if self._stacks is not None:
                return self._stacks
            stacks: dict[str, Stack] = {}
            for path in self.stack_files():
                relative = self._relative(path)
                document = self.document(path)
                vars_ = document.get("vars") or {}
                if not isinstance(vars_, Mapping):
                    raise ConfigError(f"{relative}: vars must be a mapping", hint="Write vars: {stage: dev}.")
                name = stack_name_from_vars(self.config, vars_, relative)
                if name in stacks:
                    raise ConfigError(
                        f"stack name '{name}' is produced by both {stacks[name].relative} and {relative}",
                        hint="Give the files different vars, or exclude one of them (catalog files belong in stacks.excluded_paths).",
                    )
                stacks[name] = Stack(name, path, relative, document)
            self._stacks = stacks
            return stacks

    def stack_names(self) -> list[str]:
        return sorted(self.stacks())

    def stack(self, name: str) -> Stack:
        stacks = self.stacks()
        if name not in stacks:
            close = difflib.get_close_matches(name, list(stacks), n=3, cutoff=0.5)
            hint = f"Did you mean: {', '.join(close)}?" if close else f"Known stacks: {', '.join(sorted(stacks)[:10]) or '(none)'}."
            raise ConfigError(f"unknown stack '{name}'", hint=hint + " List them with `provision list stacks`.", context={"stack": name})
        return stacks[name]

    def component_names(self, stack: str) -> list[str]:
        return sorted(self.stack(stack).raw_components())

    # --- components ---------------------------------------------------------------------

    def component(self, stack_name: str, name: str) -> ResolvedComponent:
        key = (stack_name, name)
        with self._lock:
            if key in self._components:
                return self._components[key]
        stack = self.stack(stack_name)
        raw = stack.raw_components()
        if name not in raw:
            close = difflib.get_close_matches(name, list(raw), n=3, cutoff=0.5)
            hint = f"Did you mean: {', '.join(close)}?" if close else f"Components in {stack_name}: {', '.join(sorted(raw)) or '(none)'}."
            raise ConfigError(f"unknown component '{name}' in stack '{stack_name}'", hint=hint, context={"stack": stack_name, "component": name})
        resolved = self._resolve(stack, raw, name)
        with self._lock:
            self._components[key] = resolved
        return resolved

    def components(self, stacks: list[str] | None = None) -> Iterator[ResolvedComponent]:
        for stack_name in stacks if stacks is not None else self.stack_names():
            for name in self.component_names(stack_name):
                yield self.component(stack_name, name)

    def _chain(self, stack: Stack, raw: Mapping[str, Any], name: str, seen: tuple[str, ...] = ()) -> list[Mapping[str, Any]]:
        """The component and the components it inherits from, in merge order (bases first)."""
        if name in seen:
            raise ConfigError(
                f"{stack.relative}: metadata.inherits cycle: {' -> '.join((*seen, name))}",
                hint="Remove one of these inherits entries.",
                context={"stack": stack.name},
            )
        own = raw.get(name) or {}
        if not isinstance(own, Mapping):
            raise ConfigError(f"{stack.relative}: component '{name}' must be a mapping", hint="Write components: {terraform: {NAME: {vars: ...}}}.")
        metadata = own.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ConfigError(f"{stack.relative}: {name}.metadata must be a mapping", hint="Write metadata: {component: vpc}.")
        inherits = metadata.get("inherits") or []
        if isinstance(inherits, str):
            inherits = [inherits]
        chain: list[Mapping[str, Any]] = []
        for base in inherits:
            if base not in raw:
                close = difflib.get_close_matches(str(base), list(raw), n=3, cutoff=0.5)
                raise ConfigError(
                    f"{stack.relative}: component '{name}' inherits unknown component '{base}'",
                    hint=f"Did you mean: {', '.join(close)}?" if close else "Define the base component in this stack or an import.",
                    context={"stack": stack.name, "component": name},
                )
            chain.extend(self._chain(stack, raw, base, (*seen, name)))
        chain.append(own)
        return chain

    def _resolve(self, stack: Stack, raw: Mapping[str, Any], name: str) -> ResolvedComponent:
        doc = stack.document
        terraform = doc.get("terraform") or {}
        if not isinstance(terraform, Mapping):
            raise ConfigError(f"{stack.relative}: terraform must be a mapping", hint="Write terraform: {vars: ...}.")
        chain = self._chain(stack, raw, name)
        sections: dict[str, Any] = {}
        for section in MERGED_SECTIONS:
            layers = [doc.get(section), terraform.get(section), *(c.get(section) for c in chain)]
            for layer in layers:
                if layer is not None and not is_mapping(layer):
                    raise ConfigError(
                        f"{stack.relative}: section '{section}' of component '{name}' must be a mapping, got {type(layer).__name__}",
                        hint=f"Write {section}: as key: value pairs.",
                        context={"stack": stack.name, "component": name},
                    )
            sections[section] = deep_merge(*layers)
        backend_type = None
        for layer in (doc, terraform, *chain):
            if layer.get("backend_type") is not None:
                backend_type = layer["backend_type"]
        if backend_type is not None and not isinstance(backend_type, str):
            raise ConfigError(
                f"{stack.relative}: backend_type of '{name}' must be a string such as s3",
                hint="Write `backend_type: s3` (or gcs, azurerm, local).",
                context={"stack": stack.name, "component": name},
            )
        metadata = dict(chain[-1].get("metadata") or {})
        inherits = metadata.get("inherits") or []
        backends = sections.pop("backend")
        backend = backends.get(backend_type) if backend_type else None
        if backend is not None and not isinstance(backend, Mapping):
            raise ConfigError(
                f"{stack.relative}: backend.{backend_type} of '{name}' must be a mapping",
                hint=f"Write backend: {{{backend_type}: {{bucket: ..., key: ...}}}}.",
                context={"stack": stack.name, "component": name},
            )
        return ResolvedComponent(
            stack=stack.name,
            name=name,
            terraform_component=str(metadata.get("component") or name),
            backend_type=backend_type,
            backend=dict(backend or {}),
            backends=backends,
            metadata=metadata,
            abstract=metadata.get("type") == "abstract",
            inherits=tuple([inherits] if isinstance(inherits, str) else inherits),
            source_file=stack.relative,
            **sections,
        )
