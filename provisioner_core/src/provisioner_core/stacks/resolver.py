"""Resolve stacks and components from an Atmos-style tree.

Data flows one way: stack files -> (imports with their context, overrides, deep merge) -> stack
manifests -> stacks (one or several manifests per name) -> (globals, ``terraform:``, inherits,
component, overrides) -> templates -> YAML functions -> ResolvedComponent. Nothing here talks to
a cloud; reading another component's outputs goes through an ``OutputsHost``.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from provisioner_core.errors import ConfigError
from provisioner_core.sections import ComponentSection, enabled_by_sections, merge_section
from provisioner_core.stacks.component import MERGED_SECTIONS, Placement, ResolvedComponent
from provisioner_core.stacks.config import NameUnresolved, ProjectConfig
from provisioner_core.stacks.config import stack_name as derive_stack_name
from provisioner_core.stacks.functions import OutputsHost
from provisioner_core.stacks.globs import has_magic, matches
from provisioner_core.stacks.imports import ImportEntry, candidates, is_template_file, parse_entries
from provisioner_core.stacks.loader import YamlCache, normal_path
from provisioner_core.stacks.merge import check_strategy, deep_merge, is_mapping, merge_with_lists
from provisioner_core.state.backend_types import BackendType, DefaultsContext
from provisioner_core.state.workspace import workspace_for

YAML_SUFFIXES = (".yaml", ".yml")
# Stack-level `metadata:` keys Atmos accepts (the rest belong to one component).
GLOBAL_METADATA_KEYS = frozenset({"labels", "tags", "custom", "enabled", "locked", "terraform_workspace_pattern"})
# Metadata a component never inherits from its bases (Atmos).
NOT_INHERITED_METADATA = frozenset({"inherits", "type"})
# Sections `overrides:` may change (Atmos: vars, settings, env, auth, hooks; ours: provision too).
OVERRIDABLE_SECTIONS = frozenset({"vars", "settings", "env", "auth", "hooks", "provision"})
SECTIONS_BUT_BACKEND = tuple(s for s in MERGED_SECTIONS if s != "backend")  # the backend is flattened by _placement
# Sections YAML functions are evaluated in when only a component's state address is wanted.
PLACEMENT_SECTIONS = ("backend", "backends", "metadata")
# ... and when a component is only listed or selected for a provisioner type (is it enabled?).
OUTLINE_SECTIONS = (*PLACEMENT_SECTIONS, "provision")
# The longest metadata.inherits path (levels of bases) a component may have.
MAX_INHERITS_DEPTH = 64
# The longest import chain (a file importing a file importing ...).
MAX_IMPORT_DEPTH = 64


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


def _key(value: Mapping[str, Any] | None) -> str | None:
    return json.dumps(value, sort_keys=True, default=str) if value else None


def _terraform_components(document: Mapping[str, Any], relative: str) -> Mapping[str, Any]:
    components = document.get("components") or {}
    terraform = components.get("terraform") if is_mapping(components) else None
    if terraform is None:
        return {}
    if not is_mapping(terraform):
        raise ConfigError(f"{relative}: components.terraform must be a mapping of component names", hint="Write components: {terraform: {vpc: {...}}}.")
    return terraform


@frozen
class Manifest:
    """One top-level stack file merged over its imports: a stack, or one part of a stack."""

    name: str  # the stack it belongs to
    file: Path
    relative: str  # under stacks.base_path, with its extension
    document: Mapping[str, Any]
    dynamic: bool = False  # it or an import holds a template or a YAML function
    functions: bool = False  # it or an import holds a YAML function

    @property
    def stack_file(self) -> str:
        """Atmos's ``atmos_stack_file``: the path without its extension."""
        return self.relative.rsplit(".", 1)[0]

    def raw_components(self) -> Mapping[str, Any]:
        return _terraform_components(self.document, self.relative)


@frozen
class Stack:
    """One stack: its name and the manifests that make it (Atmos allows several files per name).

    ``file``, ``relative`` and ``document`` are those of its first manifest (in path order).
    """

    name: str
    file: Path
    relative: str
    document: Mapping[str, Any]
    manifests: tuple[Manifest, ...] = field(default=())

    def raw_components(self) -> Mapping[str, Any]:
        """Every terraform component of the stack (a component in several manifests: the first's)."""
        if len(self.manifests) <= 1:
            return _terraform_components(self.document, self.relative)
        found: dict[str, Any] = {}
        for manifest in self.manifests:
            for name, raw in manifest.raw_components().items():
                found.setdefault(name, raw)
        return found


@frozen
class _Doc:
    """A file merged over its imports, and the ``overrides`` it hands on (Atmos's two accumulators)."""

    document: dict[str, Any]
    inline: dict[str, Any]
    imports: dict[str, Any]
    dynamic: bool
    functions: bool


class StackRepository:
    """Stacks of one project, parsed lazily and cached for the whole run."""

    def __init__(
        self,
        config: ProjectConfig,
        cache: YamlCache | None = None,
        backend_types: Mapping[str, BackendType] | None = None,
        sections: Mapping[str, ComponentSection] | None = None,
        outputs: OutputsHost | None = None,
    ) -> None:
        self.config = config
        self.cache = cache or YamlCache(config.base_path)
        if self.cache.base is None:
            self.cache.base = config.base_path
        self.cache.delimiter = config.templates.delimiters[0]
        # The registered backend types (their Atmos defaults); none: settings are used as written.
        self.backend_types: Mapping[str, BackendType] = backend_types or {}
        self.outputs = outputs
        self._docs: dict[tuple[Any, ...], _Doc] = {}
        # Component sections plugins registered (e.g. Atmos's `source:`): merged and handed over as written.
        self.sections: Mapping[str, ComponentSection] = sections or {}
        self._stacks: dict[str, Stack] | None = None
        self.skipped: dict[str, str] = {}  # manifests whose name could not be derived: relative -> why
        self._components: dict[tuple[str, str], ResolvedComponent] = {}
        self._placements: dict[tuple[str, str], Placement] = {}
        self._global_backends: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._import_paths: dict[tuple[Path, str], list[Path]] = {}
        self._chains: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._relatives: dict[Path, str] = {}  # a file's path under stacks.base_path, as shown in messages
        self._resolving = threading.local()  # the components this thread is resolving (a cycle check)
        # Whether any file read so far names a list_merge_strategy (else atmos.yaml's holds everywhere).
        self._strategies = False
        self._lock = threading.RLock()

    # --- files --------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        found = self._relatives.get(path)
        if found is None:
            try:
                found = path.relative_to(self.config.stacks_base_path).as_posix()
            except ValueError:
                found = str(path)
            self._relatives[path] = found
        return found

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
        return self._doc(path, chain, {}, {}, {}).document

    def _doc(
        self,
        path: Path,
        chain: tuple[Path, ...],
        context: Mapping[str, Any],
        parent_inline: Mapping[str, Any],
        parent_imports: Mapping[str, Any],
        skip_templates: bool = False,
        ignore_missing: bool = False,
    ) -> _Doc:
        """Atmos's ProcessYAMLConfigFile: render (with context), read the imports in order, attach ``overrides``, merge."""
        path = normal_path(path)
        if path in chain:
            cycle = " -> ".join(self._relative(p) for p in (*chain[chain.index(path) :], path))
            raise ConfigError(f"import cycle: {cycle}", hint="Remove one of these imports; a file cannot import itself, directly or indirectly.")
        key = (path, _key(context), _key(parent_inline), _key(parent_imports), skip_templates, ignore_missing)
        with self._lock:
            if key in self._docs:
                return self._docs[key]
        if len(chain) >= MAX_IMPORT_DEPTH:  # each level is a recursive call: stop long before Python's limit
            shown = " -> ".join(self._relative(p) for p in (*chain, path))
            raise ConfigError(
                f"imports nest deeper than {MAX_IMPORT_DEPTH} files: {shown}",
                hint=f"Import the shared files directly instead of through a chain; at most {MAX_IMPORT_DEPTH} levels (docs/reliability.md).",
            )
        raw = self._raw(path, context, skip_templates, ignore_missing)
        relative = self._relative(path)
        if path in self.cache.strategies:
            self._strategies = True
        if "locals" in raw:
            raise ConfigError(
                f"{relative}: locals: (file-scoped template values) is not supported",
                hint="Move the values into vars or settings (templates can read .vars and .settings), or into an import's context.",
            )
        terraform = raw.get("terraform") or {}
        overrides = self._mapping_or_empty(raw, "overrides", relative)
        terraform_overrides = self._mapping_or_empty(terraform, "overrides", relative + ": terraform.") if is_mapping(terraform) else {}
        lists = self.config.list_merge_strategy
        # Most files have no overrides and no import context: skip the empty merges (the hot path).
        inline = deep_merge(overrides, terraform_overrides, parent_inline, lists=lists) if overrides or terraform_overrides or parent_inline else {}
        from_imports: dict[str, Any] = dict(parent_imports)
        layers: list[Mapping[str, Any]] = []
        functions = path in self.cache.functions
        dynamic = functions or path in self.cache.templated
        for entry in parse_entries(raw, relative):
            merged_context = deep_merge(entry.context, context, lists=lists) if entry.context or context else {}
            for imported in self._resolve_import(path, entry, merged_context):
                child = self._doc(imported, (*chain, path), merged_context, inline, from_imports, entry.skip_templates_processing, entry.ignore_missing_template_values)
                if child.imports or child.inline:
                    from_imports = deep_merge(from_imports, child.imports, child.inline, lists=lists)
                layers.append(child.document)
                dynamic = dynamic or child.dynamic
                functions = functions or child.functions
        own = {k: v for k, v in raw.items() if k != "import"}
        final = deep_merge(from_imports, inline, lists=lists) if from_imports or inline else {}
        if final:
            own = self._attach_overrides(own, final)
        doc = _Doc(deep_merge(*layers, own, lists=lists), inline, from_imports, dynamic, functions)
        with self._lock:
            self._docs[key] = doc
        return doc

    @staticmethod
    def _mapping_or_empty(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = raw.get(key)
        if value is None:
            return {}
        if not is_mapping(value):
            raise ConfigError(f"{where}{'' if where.endswith('.') else ': '}{key} must be a mapping", hint=f"Write {key}: {{vars: {{...}}}}.")
        return value

    @staticmethod
    def _attach_overrides(own: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Atmos sets ``overrides`` on every terraform component of the file (its own, not its imports')."""
        components = own.get("components")
        if not is_mapping(components):
            return own
        terraform = components.get("terraform")
        if not is_mapping(terraform):
            return own
        attached = {name: ({**body, "overrides": overrides} if is_mapping(body) else body) for name, body in terraform.items()}
        return {**own, "components": {**components, "terraform": attached}}

    def _raw(self, path: Path, context: Mapping[str, Any], skip_templates: bool, ignore_missing: bool) -> Mapping[str, Any]:
        """The file's document; rendered as a template first when it is a ``.tmpl`` or imported with ``context``."""
        from provisioner_core.gotemplate import TemplateError, parse

        raw: Any = None
        if not skip_templates and (context or is_template_file(path)):
            text = self.cache.text(path)
            if "{{" in text:
                try:
                    rendered = parse(text, name=self._relative(path)).render(context, missing="default" if ignore_missing else "error")
                except TemplateError:
                    if context:
                        raise
                    rendered = None  # a .tmpl without context: its templates wait for the component (Atmos)
                if rendered is not None:
                    raw = self.cache.parse_text(rendered, path)
        if raw is None:
            raw = self.cache.load(path)
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{self._relative(path)}: a stack file must be a mapping, got {type(raw).__name__}", hint="Start the file with keys such as vars: and components:.")
        return raw

    def _resolve_import(self, importer: Path, entry: ImportEntry, context: Mapping[str, Any]) -> list[Path]:
        name = entry.path
        if "{{" in name:
            from provisioner_core.gotemplate import parse

            name = parse(name, name=f"{self._relative(importer)}: import").render(context, missing="default" if entry.ignore_missing_template_values else "error")
        # ./ and ../ are relative to the importing file; anything else to stacks.base_path (Atmos).
        base = importer.parent if name.startswith(("./", "../")) else self.config.stacks_base_path
        key = (base, name)
        if key not in self._import_paths:
            # Many stacks import the same catalog files: look each one up once per run.
            found = [normal_path(p) for p in candidates(base, name)]
            for path in found:
                self._check_import_root(importer, name, path)
            self._import_paths[key] = found
        found = self._import_paths[key]
        if not found:
            if entry.skip_if_missing:
                return []
            raise self._missing_import(importer, name)
        if not has_magic(name) and importer in found:
            raise ConfigError(
                f"import cycle: {self._relative(importer)} imports itself ('{name}')",
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

    def _missing_import(self, importer: Path, entry: str) -> ConfigError:
        known = [p.relative_to(self.config.stacks_base_path).as_posix().rsplit(".", 1)[0] for p in self.config.stacks_base_path.rglob("*") if p.suffix in YAML_SUFFIXES]
        close = difflib.get_close_matches(entry.removesuffix(".yaml"), known, n=3, cutoff=0.5)
        return ConfigError(
            f"{self._relative(importer)}: import '{entry}' not found under {self.config.stacks_base_path}",
            hint=(f"Did you mean: {', '.join(close)}?" if close else "Check the path; imports are relative to stacks.base_path (or to the file with ./), or mark the import `skip_if_missing: true`."),
        )

    # --- stacks -------------------------------------------------------------------------

    def _manifest_name(self, document: Mapping[str, Any], relative: str) -> str:
        """Atmos's precedence: the manifest's ``name:``, else name_template / name_pattern, else the path."""
        explicit = document.get("name")
        if isinstance(explicit, str) and explicit:
            return explicit
        found = document.get("terraform")
        terraform: Mapping[str, Any] = found if is_mapping(found) else {}
        context = {}
        for section in ("vars", "settings", "env"):
            value = document.get(section)
            if value is not None and not is_mapping(value):
                raise ConfigError(f"{relative}: {section} must be a mapping", hint=f"Write {section}: {{key: value}}.")
            context[section] = deep_merge(value, terraform.get(section))
        return derive_stack_name(self.config, context, relative)

    def stacks(self) -> dict[str, Stack]:
        with self._lock:
            if self._stacks is not None:
                return self._stacks
            grouped: dict[str, list[Manifest]] = {}
            for path in self.stack_files():
                relative = self._relative(path)
                doc = self._doc(path, (), {}, {}, {})
                try:
                    name = self._manifest_name(doc.document, relative)
                except NameUnresolved as why:
                    # Atmos skips a manifest whose name cannot be derived (a catalog file left in included_paths).
                    self.skipped[relative] = why.reason
                    continue
                grouped.setdefault(name, []).append(Manifest(name, path, relative, doc.document, doc.dynamic, doc.functions))
            stacks = {}
            for name, manifests in grouped.items():
                first = manifests[0]
                stacks[name] = Stack(name, first.file, first.relative, first.document, tuple(manifests))
            self._stacks = stacks
            return stacks

    def stack_names(self) -> list[str]:
        return sorted(self.stacks())

    def stack(self, name: str) -> Stack:
        stacks = self.stacks()
        if name not in stacks:
            close = difflib.get_close_matches(name, list(stacks), n=3, cutoff=0.5)
            hint = f"Did you mean: {', '.join(close)}?" if close else f"Known stacks: {', '.join(sorted(stacks)[:10]) or '(none)'}."
            skipped = [f"{relative} ({why})" for relative, why in sorted(self.skipped.items())]
            if skipped:
                hint += f" Skipped, their names could not be derived: {'; '.join(skipped[:3])}{' ...' if len(skipped) > 3 else ''}."
            named = [m.name for s in stacks.values() for m in s.manifests if m.stack_file == name]
            if named:
                hint = f"Did you mean `{named[0]}`? (the manifest {name} is named {named[0]})"
            raise ConfigError(f"unknown stack '{name}'", hint=hint + " List them with `provision list stacks`.", context={"stack": name})
        return stacks[name]

    def component_names(self, stack: str) -> list[str]:
        return sorted(self.stack(stack).raw_components())

    def component_for_path(self, stack: str, folder: Path) -> str:
        """The component of ``stack`` a folder under components.terraform.base_path names (``describe .``)."""
        base = self.config.terraform_base_path
        try:
            relative = normal_path(folder).relative_to(base).as_posix()
        except ValueError:
            raise ConfigError(
                f"{folder} is not a component folder under components.terraform.base_path ({base})",
                hint="Run from a component's folder, or give the component's name.",
            ) from None
        names = self.component_names(stack)
        if relative in names:
            return relative
        using = [n for n in names if not self.is_abstract(stack, n) and self.placement(stack, n).terraform_component == relative]
        if len(using) == 1:
            return using[0]
        raise ConfigError(
            f"folder {relative} is {'used by several components' if using else 'not the folder of a component'} in stack '{stack}'",
            hint=f"Give the component's name: {', '.join(using)}." if using else f"Components in {stack}: {', '.join(names) or '(none)'}.",
            context={"stack": stack},
        )

    # --- components ---------------------------------------------------------------------

    def _manifests_of(self, stack: Stack, name: str) -> list[Manifest]:
        if len(stack.manifests) == 1 and name in stack.manifests[0].raw_components():
            return [stack.manifests[0]]
        found = [m for m in stack.manifests if name in m.raw_components()]
        if not found:
            raw = stack.raw_components()
            close = difflib.get_close_matches(name, list(raw), n=3, cutoff=0.5)
            hint = f"Did you mean: {', '.join(close)}?" if close else f"Components in {stack.name}: {', '.join(sorted(raw)) or '(none)'}."
            raise ConfigError(f"unknown component '{name}' in stack '{stack.name}'", hint=hint, context={"stack": stack.name, "component": name})
        return found

    def component(self, stack_name: str, name: str) -> ResolvedComponent:
        key = (stack_name, name)
        with self._lock:
            if key in self._components:
                return self._components[key]
        resolving: set[tuple[str, str]] | None = getattr(self._resolving, "keys", None)
        if resolving is None:
            resolving = self._resolving.keys = set()
        if key in resolving:
            raise ConfigError(
                f"component '{name}' in stack '{stack_name}' needs its own value to resolve (a YAML function or template cycle)",
                hint="A !terraform.output / !terraform.state chain leads back to this component; break the cycle.",
                context={"stack": stack_name, "component": name},
            )
        resolving.add(key)
        try:
            stack = self.stack(stack_name)
            manifests = self._manifests_of(stack, name)
            resolved = [self._resolve(m, name) for m in manifests]
            if len(resolved) > 1:
                self._check_same(stack, name, manifests, resolved)
        finally:
            resolving.discard(key)
        with self._lock:
            self._components[key] = resolved[0]
        return resolved[0]

    @staticmethod
    def _check_same(stack: Stack, name: str, manifests: list[Manifest], resolved: list[ResolvedComponent]) -> None:
        """Atmos accepts one component in several manifests of a stack only when it resolves the same in each."""
        first = resolved[0].sections()
        for manifest, other in zip(manifests[1:], resolved[1:], strict=True):
            if other.sections() != first:
                raise ConfigError(
                    f"component '{name}' of stack '{stack.name}' is defined differently in {manifests[0].relative} and {manifest.relative}",
                    hint="Define it in one of the stack's manifests only, or make both definitions the same (Atmos refuses this too).",
                    context={"stack": stack.name, "component": name},
                )

    def components(self, stacks: list[str] | None = None, *, outline: bool = False) -> Iterator[ResolvedComponent]:
        for stack_name in stacks if stacks is not None else self.stack_names():
            for name in self.component_names(stack_name):
                yield self.outline(stack_name, name) if outline else self.component(stack_name, name)

    def outline(self, stack_name: str, name: str) -> ResolvedComponent:
        """A component for listing and selecting: YAML functions run only in its backend, metadata and
        provision sections, so a function elsewhere (an unsupported one, a remote output) neither runs
        nor fails here; it does when the component is resolved in full (``component``)."""
        key = (stack_name, name)
        with self._lock:
            if key in self._components:
                return self._components[key]
        manifest = self._manifests_of(self.stack(stack_name), name)[0]
        if not manifest.functions:
            return self.component(stack_name, name)
        return self._resolve(manifest, name, functions=OUTLINE_SECTIONS)

    def _chain(self, manifest: Manifest, raw: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        """The component and the components it inherits from, in merge order (bases first), each once."""
        names, _ = self._chain_names(manifest, raw, name, ())
        return [raw.get(n) or {} for n in names]

    def _chain_names(self, manifest: Manifest, raw: Mapping[str, Any], name: str, seen: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the merge order of ``name``'s chain, its longest inherits path), memoised per manifest and component.

        Atmos merges a base again on every path that reaches it (2**n merges for a diamond n
        levels deep). Merging a layer again later makes its values win again, so only the *last*
        occurrence of each base matters: keeping that one gives the same result in linear time.
        """
        key = (manifest.relative, name)  # a str key: hashing a Path costs more on this hot path
        cached = self._chains.get(key)
        if cached is not None:
            return cached
        if name in seen:
            raise ConfigError(
                f"{manifest.relative}: metadata.inherits cycle: {' -> '.join((*seen, name))}",
                hint="Remove one of these inherits entries.",
                context={"stack": manifest.name},
            )
        own = raw.get(name) or {}
        if not isinstance(own, Mapping):
            raise ConfigError(f"{manifest.relative}: component '{name}' must be a mapping", hint="Write components: {terraform: {NAME: {vars: ...}}}.")
        metadata = own.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ConfigError(f"{manifest.relative}: {name}.metadata must be a mapping", hint="Write metadata: {component: vpc}.")
        inherits = metadata.get("inherits") or []
        if isinstance(inherits, str):
            inherits = [inherits]
        combined: list[str] = []
        longest: tuple[str, ...] = (name,)
        for base in inherits:
            if base not in raw:
                close = difflib.get_close_matches(str(base), list(raw), n=3, cutoff=0.5)
                raise ConfigError(
                    f"{manifest.relative}: component '{name}' inherits unknown component '{base}'",
                    hint=f"Did you mean: {', '.join(close)}?" if close else "Define the base component in this stack or an import.",
                    context={"stack": manifest.name, "component": name},
                )
            if len(seen) >= MAX_INHERITS_DEPTH:  # never recurse further than the limit, whatever the file
                longest = (*seen, name, base)
                break
            base_names, base_longest = self._chain_names(manifest, raw, base, (*seen, name))
            combined.extend(base_names)
            if len(base_longest) + 1 > len(longest):
                longest = (name, *base_longest)
        if len(longest) - 1 > MAX_INHERITS_DEPTH:
            raise ConfigError(
                f"{manifest.relative}: metadata.inherits goes deeper than {MAX_INHERITS_DEPTH} levels: {' -> '.join(longest)}",
                hint=f"Flatten the inheritance: a component may inherit through at most {MAX_INHERITS_DEPTH} levels (docs/reliability.md).",
                context={"stack": manifest.name, "component": name},
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
        manifest = self._manifests_of(stack, name)[0]
        if manifest.dynamic:
            # Templates may name the backend: render, but run YAML functions only where the address lives.
            found = self._resolve(manifest, name, functions=PLACEMENT_SECTIONS).placement()
        else:
            found = self._placement(manifest, manifest.raw_components(), name, None)
        with self._lock:
            self._placements[key] = found
        return found

    def _list_strategy(self, manifest: Manifest, chain: list[Mapping[str, Any]], overrides: Mapping[str, Any]) -> str:
        """settings.list_merge_strategy: atmos.yaml, then the stack's, the bases', the component's, its overrides' (Atmos)."""
        strategy = self.config.list_merge_strategy
        doc = manifest.document
        terraform = doc.get("terraform") or {}
        layers = [doc.get("settings"), terraform.get("settings"), *(c.get("settings") for c in chain), overrides.get("settings")]
        for layer in layers:
            if is_mapping(layer) and layer.get("list_merge_strategy"):
                strategy = check_strategy(layer["list_merge_strategy"], f"{manifest.relative}: settings")
        return strategy

    def _section(
        self,
        manifest: Manifest,
        chain: list[Mapping[str, Any]],
        section: str,
        name: str,
        lists: str = "replace",
        override: Any = None,
    ) -> dict[str, Any]:
        """One section merged from the stack's globals, ``terraform:``, the bases, the component and its overrides."""
        doc = manifest.document
        terraform = doc.get("terraform") or {}
        layers = [layer for layer in (doc.get(section), terraform.get(section), *[c.get(section) for c in chain], override) if layer is not None]
        for layer in layers:
            if type(layer) is not dict and not is_mapping(layer):
                raise ConfigError(
                    f"{manifest.relative}: section '{section}' of component '{name}' must be a mapping, got {type(layer).__name__}",
                    hint=f"Write {section}: as key: value pairs.",
                    context={"stack": manifest.name, "component": name},
                )
        return deep_merge(*layers) if lists == "replace" else merge_with_lists(layers, lists)

    def _placement(
        self,
        manifest: Manifest,
        raw: Mapping[str, Any],
        name: str,
        vars_: Mapping[str, Any] | None,
        chain: list[Mapping[str, Any]] | None = None,
        template: Any = None,
    ) -> Placement:
        doc = manifest.document
        terraform = doc.get("terraform") or {}
        if not isinstance(terraform, Mapping):
            raise ConfigError(f"{manifest.relative}: terraform must be a mapping", hint="Write terraform: {vars: ...}.")
        if name not in raw:
            raise ConfigError(f"unknown component '{name}' in stack '{manifest.name}'", hint=f"Components in {manifest.name}: {', '.join(sorted(raw)) or '(none)'}.")
        chain = chain if chain is not None else self._chain(manifest, raw, name)
        backend_type = None
        for layer in (doc, terraform, *chain):
            if layer.get("backend_type") is not None:
                backend_type = layer["backend_type"]
        if backend_type is not None and not isinstance(backend_type, str):
            raise ConfigError(
                f"{manifest.relative}: backend_type of '{name}' must be a string naming a terraform backend",
                hint="Write e.g. `backend_type: local` (the name terraform gives the backend).",
                context={"stack": manifest.name, "component": name},
            )
        backend_type = backend_type or None
        metadata = self._metadata(manifest, doc, chain, name)
        own_metadata = chain[-1].get("metadata") or {}
        inherits = own_metadata.get("inherits") or []
        terraform_component = self._terraform_component(manifest, metadata, name)
        base_component = terraform_component if terraform_component != name else ""
        backends = self._section(manifest, chain, "backend", name, self.config.list_merge_strategy)
        backend = backends.get(backend_type) if backend_type else None
        if backend is not None and not isinstance(backend, Mapping):
            raise ConfigError(
                f"{manifest.relative}: backend.{backend_type} of '{name}' must be a mapping",
                hint=f"Write backend: {{{backend_type}: {{bucket: ..., key: ...}}}}.",
                context={"stack": manifest.name, "component": name},
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
                global_backend=self._global_backend(manifest, backend_type),
                own_backend=(own_backends.get(backend_type) if is_mapping(own_backends) else None) or {},
            )
            definition.apply_defaults(backend, context)
        if vars_ is None and ("terraform_workspace_pattern" in metadata or "terraform_workspace_template" in metadata):
            vars_ = self._section(manifest, chain, "vars", name)  # pattern tokens come from the vars
        workspace = workspace_for(
            enabled=self.config.workspaces_enabled and (definition is None or definition.workspaces),
            stack=manifest.name,
            component=name,
            base_component=base_component,
            metadata=metadata,
            vars_=vars_ or {},
            where=f"{manifest.relative}: component '{name}'",
            template=template,
        )
        enabled = metadata.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(
                f"{manifest.relative}: metadata.enabled of '{name}' must be true or false, got {enabled!r}",
                hint="Write `enabled: false` (a YAML boolean, without quotes) under metadata.",
                context={"stack": manifest.name, "component": name},
            )
        return Placement(
            stack=manifest.name,
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

    def _global_backend(self, manifest: Manifest, backend_type: str) -> Mapping[str, Any]:
        """The stack-level ``backend.<type>`` (Atmos's global section), merged once per manifest."""
        key = (manifest.relative, backend_type)
        if key not in self._global_backends:
            doc = manifest.document
            terraform = doc.get("terraform") or {}
            self._global_backends[key] = deep_merge(doc.get("backend"), terraform.get("backend")).get(backend_type) or {}
        return self._global_backends[key]

    def is_abstract(self, stack_name: str, name: str) -> bool:
        """``metadata.type: abstract`` as written on the component (never inherited): no merge needed."""
        own = self.stack(stack_name).raw_components().get(name)
        metadata = own.get("metadata") if is_mapping(own) else None
        return is_mapping(metadata) and metadata.get("type") == "abstract"

    def _resolve(self, manifest: Manifest, name: str, functions: tuple[str, ...] | None = None) -> ResolvedComponent:
        """``functions``: the sections whose YAML functions are evaluated (None: every section)."""
        raw = manifest.raw_components()
        chain = self._chain(manifest, raw, name)
        if any("locals" in layer for layer in chain):
            raise ConfigError(
                f"{manifest.relative}: locals: of component '{name}' is not supported",
                hint="Move the values into the component's vars or settings (templates can read .vars and .settings).",
                context={"stack": manifest.name, "component": name},
            )
        overrides = chain[-1].get("overrides") or {}
        if not is_mapping(overrides):
            raise ConfigError(f"{manifest.relative}: overrides of '{name}' must be a mapping", hint="Write overrides: {vars: {...}}.")
        lists = self._list_strategy(manifest, chain, overrides) if self._strategies else self.config.list_merge_strategy
        sections = {
            section: self._section(manifest, chain, section, name, lists, overrides.get(section) if overrides and section in OVERRIDABLE_SECTIONS else None)
            for section in SECTIONS_BUT_BACKEND
        }
        if self.config.integrations_github:
            # Atmos merges atmos.yaml's integrations.github under settings.integrations.github.
            integrations = dict(sections["settings"].get("integrations") or {})
            integrations["github"] = deep_merge(self.config.integrations_github, integrations.get("github"))
            sections["settings"]["integrations"] = integrations
        # Atmos renders metadata.terraform_workspace_template whether or not templates are enabled.
        template = self._workspace_template(manifest, name, sections)
        where = self._placement(manifest, raw, name, sections["vars"], chain, template)
        terraform = manifest.document.get("terraform") or {}
        extra = {s: merge_section([manifest.document.get(s), terraform.get(s), *(c.get(s) for c in chain)]) for s in self.sections}
        extra = {s: value for s, value in extra.items() if value is not None}
        if extra:
            sections["provision"] = enabled_by_sections(sections["provision"], extra, self.sections)
        component = ResolvedComponent(
            stack=manifest.name,
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
            source_file=manifest.relative,
            plugin_sections=extra,
            **sections,
        )
        if manifest.dynamic:
            component = self._dynamic(manifest, component, chain, functions)
        return component

    def _workspace_template(self, manifest: Manifest, name: str, sections: Mapping[str, Any]) -> Any:
        def render(text: str) -> str:
            from provisioner_core.stacks.render import Renderer

            data = {**sections, "atmos_component": name, "atmos_stack": manifest.name, "stack": manifest.name, "atmos_stack_file": manifest.stack_file}
            where = f"{manifest.relative}: component '{name}' metadata.terraform_workspace_template"
            return Renderer(data, self.config.templates, where, missing="error").text(text)

        return render

    def template_data(self, manifest: Manifest, component: ResolvedComponent, chain: list[Mapping[str, Any]]) -> dict[str, Any]:
        """What ``.`` holds in a component's templates: its section before rendering, as Atmos builds it."""
        settings = component.settings
        data: dict[str, Any] = {
            "vars": component.vars,
            "settings": settings,
            "env": component.env,
            "backend": component.backend,
            "backend_type": component.backend_type or "",
            "metadata": component.metadata,
            "auth": component.auth,
            "hooks": component.hooks,
            "provision": component.provision,
            "overrides": chain[-1].get("overrides") or {},
            "inheritance": list(component.inherits),
            "command": self.config.terraform_command,
            "component": component.terraform_component,
            "atmos_component": component.name,
            "atmos_stack": component.stack,
            "stack": component.stack,
            "atmos_stack_file": manifest.stack_file,
            "atmos_manifest": manifest.stack_file,
            "workspace": component.workspace,
        }
        found = settings.get("spacelift")
        spacelift: Mapping[str, Any] = found if is_mapping(found) else {}
        if spacelift.get("workspace_enabled") is True:
            stack_name_value = spacelift.get("stack_name")
            data["spacelift_stack"] = str(stack_name_value) if stack_name_value else f"{component.stack}-{component.name}".replace("/", "-")
        atlantis = self._atlantis_project(component)
        if atlantis:
            data["atlantis_project"] = atlantis
        return data

    def _atlantis_project(self, component: ResolvedComponent) -> str:
        """settings.atlantis's project name (its template's ``name`` with ``{tokens}`` from the vars), as Atmos builds it."""
        atlantis = component.settings.get("atlantis")
        if not is_mapping(atlantis):
            return ""
        template = atlantis.get("project_template")
        if not is_mapping(template):
            templates = ((self.config.section("integrations").get("atlantis") or {}).get("project_templates") or {}) if is_mapping(self.config.section("integrations").get("atlantis")) else {}
            template = templates.get(str(atlantis.get("project_template_name") or ""))
        if not is_mapping(template) or not isinstance(template.get("name"), str):
            return ""
        name: str = template["name"]
        tokens = {"namespace", "tenant", "environment", "stage", "region"}
        for token in tokens:
            name = name.replace("{" + token + "}", str(component.vars.get(token, "")))
        return name.replace("{component}", component.name).replace("/", "-")

    def _dynamic(self, manifest: Manifest, component: ResolvedComponent, chain: list[Mapping[str, Any]], functions: tuple[str, ...] | None) -> ResolvedComponent:
        """Render the component's templates, then evaluate its YAML functions (Atmos's order)."""
        # Imported here: a project without templates never loads the template engine.
        from provisioner_core.stacks.functions import FunctionContext
        from provisioner_core.stacks.render import Renderer, evaluate_functions
        names = ("vars", "settings", "env", "provision", "auth", "hooks", "metadata", "backend", "backends")
        values: dict[str, Any] = {n: getattr(component, n) for n in names}
        backend_type = component.backend_type
        settings = self.config.templates
        where = f"{manifest.relative}: component '{component.name}'"
        stack_env = ((component.settings.get("templates") or {}).get("settings") or {}).get("env") if is_mapping(component.settings.get("templates")) else None
        renderer = Renderer(self.template_data(manifest, component, chain), settings, where, stack_env if is_mapping(stack_env) else None)
        if settings.enabled:
            values = {n: renderer.value(v, n) for n, v in values.items()}
            if backend_type and settings.delimiters[0] in backend_type:
                backend_type = renderer.text(backend_type, "backend_type") or None
        if manifest.functions:
            ctx = FunctionContext(component.stack, values["env"], self.outputs, renderer.text, str(self.config.root))
            for section in names if functions is None else functions:
                values[section] = evaluate_functions(values[section], ctx)
        changes: dict[str, Any] = dict(values)
        changes["backend_type"] = backend_type
        folder = values["metadata"].get("component") if is_mapping(values["metadata"]) else None
        if isinstance(folder, str) and folder != component.terraform_component and folder:
            changes["terraform_component"] = self._terraform_component(manifest, values["metadata"], component.name)
        return attrs.evolve(component, **changes)

    def _metadata(self, manifest: Manifest, doc: Mapping[str, Any], chain: list[Mapping[str, Any]], name: str) -> dict[str, Any]:
        """Stack-level metadata, then the bases' (but inherits and type), then the component's own (Atmos)."""
        global_metadata = doc.get("metadata") or {}
        if not is_mapping(global_metadata):
            raise ConfigError(f"{manifest.relative}: metadata must be a mapping", hint="Write metadata: {enabled: false}.", context={"stack": manifest.name})
        wrong = sorted(set(global_metadata) - GLOBAL_METADATA_KEYS)
        if wrong:
            raise ConfigError(
                f"{manifest.relative}: stack-level metadata cannot set {', '.join(wrong)}",
                hint=f"Stack-level metadata takes {', '.join(sorted(GLOBAL_METADATA_KEYS))}; move the others under components.terraform.<name>.metadata.",
                context={"stack": manifest.name},
            )
        layers: list[Any] = [global_metadata]
        if self.config.metadata_inheritance:
            for base in chain[:-1]:
                base_metadata = base.get("metadata") or {}
                layers.append({k: v for k, v in base_metadata.items() if k not in NOT_INHERITED_METADATA})
        layers.append(chain[-1].get("metadata") or {})
        return deep_merge(*layers)

    def _terraform_component(self, manifest: Manifest, metadata: Mapping[str, Any], name: str) -> str:
        """The folder under components.terraform.base_path; never a path outside it."""
        folder = metadata.get("component") or name
        if not isinstance(folder, str):
            raise ConfigError(
                f"{manifest.relative}: metadata.component of '{name}' must be a folder name, got {type(folder).__name__}",
                hint="Write `component: vpc` (the folder under components.terraform.base_path).",
                context={"stack": manifest.name, "component": name},
            )
        normal = os.path.normpath(folder)
        if os.path.isabs(folder) or normal == ".." or normal.startswith(".." + os.sep):
            raise ConfigError(
                f"{manifest.relative}: metadata.component {folder!r} of '{name}' points outside components.terraform.base_path",
                hint="Name a folder under components.terraform.base_path (no absolute path, no '..').",
                context={"stack": manifest.name, "component": name},
            )
        return folder
