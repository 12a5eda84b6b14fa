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
from provisioner_core.sections import ComponentSection, enabled_by_sections, merge_section
from provisioner_core.stacks.component import MERGED_SECTIONS, Placement, ResolvedComponent
from provisioner_core.stacks.config import ProjectConfig, stack_name_from_vars
from provisioner_core.stacks.globs import has_magic, matches
from provisioner_core.stacks.loader import YamlCache
from provisioner_core.stacks.merge import deep_merge, is_mapping
from provisioner_core.state.backend_types import BackendType, DefaultsContext
from provisioner_core.state.workspace import workspace_for

YAML_SUFFIXES = (".yaml", ".yml")
# Stack-level `metadata:` keys Atmos accepts (the rest belong to one component).
GLOBAL_METADATA_KEYS = frozenset({"labels", "tags", "custom", "enabled", "locked", "terraform_workspace_pattern"})
# Metadata a component never inherits from its bases (Atmos).
NOT_INHERITED_METADATA = frozenset({"inherits", "type"})
# The longest metadata.inherits path (levels of bases) a component may have.
MAX_INHERITS_DEPTH = 64
# The longest import chain (a file importing a file importing ...).
MAX_IMPORT_DEPTH = 64


def _normal(path: Path) -> Path:
    """An absolute, normalised path (no symlink resolution: a stat per file is the costly part)."""
    return Path(os.path.normpath(os.path.abspath(path)))


def _walk_yaml(base: Path) -> list[Path]:
    """Every YAML file under ``base``, sorted; a folder that cannot be read is an error, not a skip."""

    def fail(error: OSError) -> None:
        raise ConfigError(
            f"cannot read stacks folder {error.filename}: {error.strerror}",
            hint="Fix its permissions, or exclude it with stacks.excluded_paths; its stacks would otherwise silently disappear.",
        )

    found = []
    for folder, _dirs, names in os.walk(base, onerror=fail):
        for name in names:
            if name.endswith(YAML_SUFFIXES):
                path = Path(folder) / name
                if path.is_file():
                    found.append(path)
    return sorted(found)


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

    def __init__(
        self,
        config: ProjectConfig,
        cache: YamlCache | None = None,
        backend_types: Mapping[str, BackendType] | None = None,
        sections: Mapping[str, ComponentSection] | None = None,
    ) -> None:
        self.config = config
        self.cache = cache or YamlCache()
        # The registered backend types (their Atmos defaults); none: settings are used as written.
        self.backend_types: Mapping[str, BackendType] = backend_types or {}
        # Component sections plugins registered (e.g. Atmos's `source:`): merged and handed over as written.
        self.sections: Mapping[str, ComponentSection] = sections or {}
        self._documents: dict[Path, Mapping[str, Any]] = {}
        self._stacks: dict[str, Stack] | None = None
        self._components: dict[tuple[str, str], ResolvedComponent] = {}
        self._placements: dict[tuple[str, str], Placement] = {}
        self._global_backends: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._import_paths: dict[tuple[Path, str], list[Path]] = {}
        self._chains: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
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
        for path in _walk_yaml(base):
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
        if len(chain) >= MAX_IMPORT_DEPTH:  # each level is a recursive call: stop long before Python's limit
            shown = " -> ".join(self._relative(p) for p in (*chain, path))
            raise ConfigError(
                f"imports nest deeper than {MAX_IMPORT_DEPTH} files: {shown}",
                hint=f"Import the shared files directly instead of through a chain; at most {MAX_IMPORT_DEPTH} levels (docs/reliability.md).",
            )
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
            if os.path.isabs(entry):
                # pathlib globs only relative patterns: glob from the root (the path is refused below unless allowed).
                anchor = Path(entry).anchor
                found = [_normal(p) for p in self._find_import(importer, Path(anchor), entry[len(anchor):])]
            else:
                found = [_normal(p) for p in self._find_import(importer, base, entry)]
            for path in found:
                self._check_import_root(importer, entry, path)
            self._import_paths[key] = found
        found = self._import_paths[key]
        if not has_magic(entry) and importer in found:
            raise ConfigError(
                f"import cycle: {self._relative(importer)} imports itself ('{entry}')",
                hint="Remove the import; a file cannot import itself, directly or indirectly.",
            )
        # A glob may match the importing file itself: that match is skipped.
        return [p for p in found if p != importer]

    def _check_import_root(self, importer: Path, entry: str, path: Path) -> None:
        """Imports stay under stacks.base_path (or a folder stacks.import_roots allows)."""
        roots = (self.config.stacks_base_path, *self.config.import_roots)
        if any(path == root or root in path.parents for root in roots):
            return
        raise ConfigError(
            f"{self._relative(importer)}: import '{entry}' resolves to {path}, outside stacks.base_path ({self.config.stacks_base_path})",
            hint="Keep imports under stacks.base_path, or list the extra folder in stacks.import_roots in atmos.yaml/provisioner.yaml.",
        )

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

    def _chain(self, stack: Stack, raw: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        """The component and the components it inherits from, in merge order (bases first), each once."""
        names, _ = self._chain_names(stack, raw, name, ())
        return [raw.get(n) or {} for n in names]

    def _chain_names(self, stack: Stack, raw: Mapping[str, Any], name: str, seen: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the merge order of ``name``'s chain, its longest inherits path), memoised per stack and component.

        Atmos merges a base again on every path that reaches it (2**n merges for a diamond n
        levels deep). Merging a layer again later makes its values win again, so only the *last*
        occurrence of each base matters: keeping that one gives the same result in linear time.
        """
        key = (stack.name, name)
        cached = self._chains.get(key)
        if cached is not None:
            return cached
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
        combined: list[str] = []
        longest: tuple[str, ...] = (name,)
        for base in inherits:
            if base not in raw:
                close = difflib.get_close_matches(str(base), list(raw), n=3, cutoff=0.5)
                raise ConfigError(
                    f"{stack.relative}: component '{name}' inherits unknown component '{base}'",
                    hint=f"Did you mean: {', '.join(close)}?" if close else "Define the base component in this stack or an import.",
                    context={"stack": stack.name, "component": name},
                )
            if len(seen) >= MAX_INHERITS_DEPTH:  # never recurse further than the limit, whatever the file
                longest = (*seen, name, base)
                break
            base_names, base_longest = self._chain_names(stack, raw, base, (*seen, name))
            combined.extend(base_names)
            if len(base_longest) + 1 > len(longest):
                longest = (name, *base_longest)
        if len(longest) - 1 > MAX_INHERITS_DEPTH:
            raise ConfigError(
                f"{stack.relative}: metadata.inherits goes deeper than {MAX_INHERITS_DEPTH} levels: {' -> '.join(longest)}",
                hint=f"Flatten the inheritance: a component may inherit through at most {MAX_INHERITS_DEPTH} levels (docs/reliability.md).",
                context={"stack": stack.name, "component": name},
            )
        combined.append(name)
        kept: list[str] = []
        present: set[str] = set()
        for entry in reversed(combined):  # the last occurrence of each base is the one that counts
            if entry not in present:
                present.add(entry)
                kept.append(entry)
        result = (tuple(reversed(kept)), longest)
        self._chains[key] = result
        return result

    def placement(self, stack_name: str, name: str) -> Placement:
        """Where a component runs and keeps its state, without merging its other sections (the state guard's view)."""
        key = (stack_name, name)
        with self._lock:
            if key in self._components:
                return self._components[key].placement()
            if key in self._placements:
                return self._placements[key]
        stack = self.stack(stack_name)
        found = self._placement(stack, stack.raw_components(), name, None)
        with self._lock:
            self._placements[key] = found
        return found

    def _section(self, stack: Stack, chain: list[Mapping[str, Any]], section: str, name: str) -> dict[str, Any]:
        """One section merged from the stack's globals, ``terraform:``, the bases and the component."""
        doc = stack.document
        terraform = doc.get("terraform") or {}
        layers = [doc.get(section), terraform.get(section), *(c.get(section) for c in chain)]
        for layer in layers:
            if layer is not None and not is_mapping(layer):
                raise ConfigError(
                    f"{stack.relative}: section '{section}' of component '{name}' must be a mapping, got {type(layer).__name__}",
                    hint=f"Write {section}: as key: value pairs.",
                    context={"stack": stack.name, "component": name},
                )
        return deep_merge(*layers)

    def _placement(self, stack: Stack, raw: Mapping[str, Any], name: str, vars_: Mapping[str, Any] | None, chain: list[Mapping[str, Any]] | None = None) -> Placement:
        doc = stack.document
        terraform = doc.get("terraform") or {}
        if not isinstance(terraform, Mapping):
            raise ConfigError(f"{stack.relative}: terraform must be a mapping", hint="Write terraform: {vars: ...}.")
        if name not in raw:
            raise ConfigError(f"unknown component '{name}' in stack '{stack.name}'", hint=f"Components in {stack.name}: {', '.join(sorted(raw)) or '(none)'}.")
        chain = chain if chain is not None else self._chain(stack, raw, name)
        backend_type = None
        for layer in (doc, terraform, *chain):
            if layer.get("backend_type") is not None:
                backend_type = layer["backend_type"]
        if backend_type is not None and not isinstance(backend_type, str):
            raise ConfigError(
                f"{stack.relative}: backend_type of '{name}' must be a string naming a terraform backend",
                hint="Write e.g. `backend_type: local` (the name terraform gives the backend).",
                context={"stack": stack.name, "component": name},
            )
        metadata = self._metadata(stack, doc, chain, name)
        own_metadata = chain[-1].get("metadata") or {}
        inherits = own_metadata.get("inherits") or []
        terraform_component = self._terraform_component(stack, metadata, name)
        base_component = terraform_component if terraform_component != name else ""
        backends = self._section(stack, chain, "backend", name)
        backend = backends.get(backend_type) if backend_type else None
        if backend is not None and not isinstance(backend, Mapping):
            raise ConfigError(
                f"{stack.relative}: backend.{backend_type} of '{name}' must be a mapping",
                hint=f"Write backend: {{{backend_type}: {{bucket: ..., key: ...}}}}.",
                context={"stack": stack.name, "component": name},
            )
        backend = dict(backend or {})
        definition = self.backend_types.get(backend_type or "")
        if definition is not None and definition.apply_defaults is not None:
            # Atmos fills the state's place in a shared backend from the component's name.
            assert backend_type is not None
            own_backends = chain[-1].get("backend")
            context = DefaultsContext(
                component=name,
                base_component=base_component,
                metadata_name=str(metadata.get("name") or ""),
                separator=self.config.workspace_prefix_separator,
                global_backend=self._global_backend(stack, backend_type),
                own_backend=(own_backends.get(backend_type) if is_mapping(own_backends) else None) or {},
            )
            definition.apply_defaults(backend, context)
        if vars_ is None and "terraform_workspace_pattern" in metadata:
            vars_ = self._section(stack, chain, "vars", name)  # pattern tokens come from the vars
        workspace = workspace_for(
            enabled=self.config.workspaces_enabled and (definition is None or definition.workspaces),
            stack=stack.name,
            component=name,
            base_component=base_component,
            metadata=metadata,
            vars_=vars_ or {},
            where=f"{stack.relative}: component '{name}'",
        )
        enabled = metadata.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(
                f"{stack.relative}: metadata.enabled of '{name}' must be true or false, got {enabled!r}",
                hint="Write `enabled: false` (a YAML boolean, without quotes) under metadata.",
                context={"stack": stack.name, "component": name},
            )
        return Placement(
            stack=stack.name,
            name=name,
            terraform_component=terraform_component,
            backend_type=backend_type,
            backend=backend,
            backends=backends,
            metadata=metadata,
            abstract=own_metadata.get("type") == "abstract",
            disabled=not enabled,
            inherits=tuple([inherits] if isinstance(inherits, str) else inherits),
            workspace=workspace,
        )

    def _global_backend(self, stack: Stack, backend_type: str) -> Mapping[str, Any]:
        """The stack-level ``backend.<type>`` (Atmos's global section), merged once per stack."""
        key = (stack.name, backend_type)
        if key not in self._global_backends:
            doc = stack.document
            terraform = doc.get("terraform") or {}
            self._global_backends[key] = deep_merge(doc.get("backend"), terraform.get("backend")).get(backend_type) or {}
        return self._global_backends[key]

    def is_abstract(self, stack_name: str, name: str) -> bool:
        """``metadata.type: abstract`` as written on the component (never inherited): no merge needed."""
        own = self.stack(stack_name).raw_components().get(name)
        metadata = own.get("metadata") if is_mapping(own) else None
        return is_mapping(metadata) and metadata.get("type") == "abstract"

    def _resolve(self, stack: Stack, raw: Mapping[str, Any], name: str) -> ResolvedComponent:
        chain = self._chain(stack, raw, name)
        sections = {section: self._section(stack, chain, section, name) for section in MERGED_SECTIONS if section != "backend"}
        where = self._placement(stack, raw, name, sections["vars"], chain)
        terraform = stack.document.get("terraform") or {}
        extra = {s: merge_section([stack.document.get(s), terraform.get(s), *(c.get(s) for c in chain)]) for s in self.sections}
        extra = {s: value for s, value in extra.items() if value is not None}
        if extra:
            sections["provision"] = enabled_by_sections(sections["provision"], extra, self.sections)
        return ResolvedComponent(
            stack=stack.name,
            name=name,
            terraform_component=where.terraform_component,
            backend_type=where.backend_type,
            backend=where.backend,
            backends=where.backends,
            metadata=where.metadata,
            abstract=where.abstract,
            inherits=where.inherits,
            workspace=where.workspace,
            disabled=where.disabled,
            source_file=stack.relative,
            plugin_sections=extra,
            **sections,
        )

    def _metadata(self, stack: Stack, doc: Mapping[str, Any], chain: list[Mapping[str, Any]], name: str) -> dict[str, Any]:
        """Stack-level metadata, then the bases' (but inherits and type), then the component's own (Atmos)."""
        global_metadata = doc.get("metadata") or {}
        if not is_mapping(global_metadata):
            raise ConfigError(f"{stack.relative}: metadata must be a mapping", hint="Write metadata: {enabled: false}.", context={"stack": stack.name})
        wrong = sorted(set(global_metadata) - GLOBAL_METADATA_KEYS)
        if wrong:
            raise ConfigError(
                f"{stack.relative}: stack-level metadata cannot set {', '.join(wrong)}",
                hint=f"Stack-level metadata takes {', '.join(sorted(GLOBAL_METADATA_KEYS))}; move the others under components.terraform.<name>.metadata.",
                context={"stack": stack.name},
            )
        layers: list[Any] = [global_metadata]
        if self.config.metadata_inheritance:
            for base in chain[:-1]:
                base_metadata = base.get("metadata") or {}
                layers.append({k: v for k, v in base_metadata.items() if k not in NOT_INHERITED_METADATA})
        layers.append(chain[-1].get("metadata") or {})
        return deep_merge(*layers)

    def _terraform_component(self, stack: Stack, metadata: Mapping[str, Any], name: str) -> str:
        """The folder under components.terraform.base_path; never a path outside it."""
        folder = metadata.get("component") or name
        if not isinstance(folder, str):
            raise ConfigError(
                f"{stack.relative}: metadata.component of '{name}' must be a folder name, got {type(folder).__name__}",
                hint="Write `component: vpc` (the folder under components.terraform.base_path).",
                context={"stack": stack.name, "component": name},
            )
        normal = os.path.normpath(folder)
        if os.path.isabs(folder) or normal == ".." or normal.startswith(".." + os.sep):
            raise ConfigError(
                f"{stack.relative}: metadata.component {folder!r} of '{name}' points outside components.terraform.base_path",
                hint="Name a folder under components.terraform.base_path (no absolute path, no '..').",
                context={"stack": stack.name, "component": name},
            )
        return folder
