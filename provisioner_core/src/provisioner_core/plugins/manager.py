"""The plugin registry: loads plugins once, then collects what they register, order-independently.

Loading has two phases. First every plugin is registered with pluggy (core's built-ins and
the ``provisioner`` entry points; a broken one is isolated and reported). Then, with all of
them present, their registrations are collected and checked: hookspecs, events (and where
they fire), provisioners, backend types, credential providers, component sections. A plugin whose registration is
invalid fails on its own, named, with the reason; the others keep working.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy
from attrs import field, frozen

from provisioner_core import hookspecs
from provisioner_core.auth.credentials import CredentialProvider, Credentials
from provisioner_core.events import BUILTIN_EVENT_SPECS, BUILTIN_EVENTS, EventSpec, event_name, hook_name
from provisioner_core.sections import ComponentSection
from provisioner_core.spec import ProvisionerSpec
from provisioner_core.state.backend_types import BackendType
from provisioner_core.version import api_compatible, api_mismatch

if TYPE_CHECKING:
    import click

ENTRY_POINT_GROUP = "provisioner"
CORE_DISTRIBUTION = "provisioner-core"
# Built-in plugins load through the same registry as third-party ones (llm's DEFAULT_PLUGINS).
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("backends", "provisioner_core.plugins.builtin.backends"),
    ("commands", "provisioner_core.plugins.builtin.commands"),
    ("example", "provisioner_core.plugins.builtin.example"),
)
REGISTRATION_HOOKS = frozenset(
    {
        "register_provisioner",
        "register_events",
        "register_backend_types",
        "register_credential_providers",
        "register_component_sections",
        "register_commands",
        "register_hookspecs",
    }
)


@frozen
class PluginInfo:
    """One plugin as ``provision plugins`` lists it."""

    name: str
    distribution: str
    version: str
    status: str  # loaded | failed | blocked | duplicate
    reason: str = ""
    provisioners: tuple[ProvisionerSpec, ...] = ()
    hooks: tuple[str, ...] = ()
    backend_types: tuple[str, ...] = ()
    credential_providers: tuple[str, ...] = ()  # "name/type"
    events: tuple[str, ...] = ()  # events it declares
    component_sections: tuple[str, ...] = ()
    traceback: str = field(default="", repr=False)  # of a failed import, for --debug

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "provisioners": [
                {"name": p.name, "type": p.type, "events": list(p.events), "backend_types": list(p.backend_types), "description": p.description}
                for p in self.provisioners
            ],
            "hooks": list(self.hooks),
            "backend_types": list(self.backend_types),
            "credential_providers": list(self.credential_providers),
            "events": list(self.events),
            "component_sections": list(self.component_sections),
        }


@frozen
class RegisteredProvisioner:
    """A loaded provisioner: its declaration and the plugin that implements it."""

    spec: ProvisionerSpec
    plugin: Any = field(eq=False, repr=False)
    plugin_name: str
    distribution: str


class _Failed(Exception):
    """A plugin's registration is invalid: it is unloaded, with this reason."""


class PluginRegistry:
    """Wraps a pluggy PluginManager with discovery, status and what plugins registered.

    ``load_entrypoints=False`` gives an isolated registry (tests, embedding). The
    ``PROVISIONER_LOAD_PLUGINS`` (comma list of entry-point or distribution names; empty
    loads none) and ``PROVISIONER_BLOCK_PLUGINS`` variables choose what loads.
    """

    def __init__(self, *, load_entrypoints: bool = True, environ: Mapping[str, str] | None = None) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._load_entrypoints = load_entrypoints
        self._environ = os.environ if environ is None else environ
        self._loaded = False
        self._infos: dict[str, PluginInfo] = {}
        self._provisioners: dict[str, RegisteredProvisioner] = {}
        self._events: dict[str, tuple[EventSpec, str]] = {}  # plugin events -> (spec, plugin name)
        self._backend_types: dict[str, tuple[BackendType, str]] = {}
        self._providers: dict[tuple[str, str], tuple[CredentialProvider, str]] = {}
        self._sections: dict[str, tuple[ComponentSection, str]] = {}
        self._hookspec_hooks: set[str] = set()
        if self._environ.get("PROVISIONER_TRACE_PLUGINS") == "1":
            self._trace()

    # --- loading ------------------------------------------------------------------------

    def load(self) -> PluginRegistry:
        """Load built-ins and entry points once, then collect registrations; later calls do nothing."""
        if self._loaded:
            return self
        self._loaded = True
        for name, module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            self._register(module, name=name, distribution=CORE_DISTRIBUTION, version=_version(CORE_DISTRIBUTION))
        if self._load_entrypoints:
            self._load_entry_points()
        self._collect()
        return self

    def _load_entry_points(self) -> None:
        wanted = self._environ.get("PROVISIONER_LOAD_PLUGINS")
        allow = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
        blocked = {b.strip() for b in self._environ.get("PROVISIONER_BLOCK_PLUGINS", "").split(",") if b.strip()}
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (_dist_name(ep), ep.name))
        for ep in eps:
            dist, version = _dist_name(ep), _dist_version(ep)
            if allow is not None and ep.name not in allow and dist not in allow:
                continue
            if ep.name in blocked or dist in blocked:
                self._infos.setdefault(ep.name, PluginInfo(ep.name, dist, version, "blocked", "blocked by PROVISIONER_BLOCK_PLUGINS"))
                continue
            if ep.name in self._infos:
                first = self._infos[ep.name]
                self._infos[f"{ep.name} ({dist})"] = PluginInfo(
                    ep.name, dist, version, "duplicate", f"entry point name '{ep.name}' is already used by {first.distribution}; not loaded"
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the others
                import traceback

                self._infos[ep.name] = PluginInfo(
                    ep.name, dist, version, "failed", f"import failed: {type(exc).__name__}: {exc}", traceback=traceback.format_exc()
                )
                continue
            self._register(plugin, name=ep.name, distribution=dist, version=version)

    def register(self, plugin: Any, *, name: str | None = None, distribution: str = "(local)", version: str = "", check: bool = True) -> PluginInfo:
        """Register one plugin (a module or object with ``@hookimpl`` functions), then re-collect."""
        info = self._register(plugin, name=name, distribution=distribution, version=version)
        if self._loaded and check:
            self._collect()
        return self._infos.get(info.name, info)

    def _register(self, plugin: Any, *, name: str | None, distribution: str, version: str) -> PluginInfo:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        required = getattr(plugin, "requires_api", None)
        if required is not None and not api_compatible(str(required)):
            info = PluginInfo(name, distribution, version, "failed", api_mismatch(str(required), distribution))
            self._infos[name] = info
            return info
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001
            info = PluginInfo(name, distribution, version, "failed", f"registration failed: {exc}")
            self._infos[name] = info
            return info
        info = PluginInfo(name, distribution, version, "loaded", hooks=tuple(sorted(self._implemented_hooks(plugin))))
        self._infos[name] = info
        return info

    # --- collecting registrations (all plugins present, so their order never matters) ----

    def _collect(self) -> None:
        self._collect_hookspecs()
        self._collect_events()
        self._provisioners.clear()
        self._backend_types.clear()
        self._providers.clear()
        self._sections.clear()
        for name in self._loaded_names():
            try:
                self._collect_plugin(name)
            except _Failed as failure:
                self._fail(name, str(failure))
        self._check_unknown_hooks()

    def _loaded_names(self) -> list[str]:
        return [name for name, info in self._infos.items() if info.status == "loaded" and self.pm.get_plugin(name) is not None]

    def _results(self, hook: str, name: str) -> list[Any]:
        """What plugin ``name``'s implementation of a registration hook returns (as a list)."""
        plugin = self.pm.get_plugin(name)
        impl = getattr(plugin, hook, None)
        if impl is None or self.pm.parse_hookimpl_opts(plugin, hook) is None:
            return []
        try:
            result = impl()
        except Exception as exc:  # noqa: BLE001 - a plugin's bug fails that plugin only
            raise _Failed(f"{hook} raised {type(exc).__name__}: {exc}") from exc
        if result is None:
            return []
        return list(result) if isinstance(result, (list, tuple)) else [result]

    def _collect_hookspecs(self) -> None:
        for name in self._loaded_names():
            try:
                for holder in self._results("register_hookspecs", name):
                    hooks = [h for h in dir(holder) if not h.startswith("_") and self.pm.parse_hookspec_opts(holder, h) is not None]
                    new = [h for h in hooks if h not in self._hookspec_hooks]
                    if new:
                        self.pm.add_hookspecs(holder)
                        self._hookspec_hooks.update(hooks)
            except (_Failed, ValueError) as failure:
                self._fail(name, f"register_hookspecs: {failure}")

    def _collect_events(self) -> None:
        """Plugin events, checked together: unique names, known anchors, no anchor cycles."""
        declared: dict[str, tuple[EventSpec, str]] = {}
        for name in self._loaded_names():
            try:
                for event in self._results("register_events", name):
                    if not isinstance(event, EventSpec):
                        raise _Failed(f"register_events returned {type(event).__name__}, expected EventSpec")
                    if event.name in BUILTIN_EVENTS:
                        raise _Failed(f"declares event '{event.name}', which is core's own")
                    other = declared.get(event.name)
                    if other is not None and other[0] != event:
                        raise _Failed(f"declares event '{event.name}' differently from plugin '{other[1]}'")
                    declared.setdefault(event.name, (event, name))
            except _Failed as failure:
                self._fail(name, str(failure))
                declared = {k: v for k, v in declared.items() if v[1] != name}
        # Anchors: each `after` must name a known event, without a cycle; a bad one fails its plugin.
        changed = True
        while changed:
            changed = False
            for event, owner in list(declared.values()):
                problem = self._anchor_problem(event, declared)
                if problem:
                    self._fail(owner, problem)
                    declared = {k: v for k, v in declared.items() if v[1] != owner}
                    changed = True
                    break
        self._events = declared
        new = [spec for spec, _ in declared.values() if spec.hook not in self._hookspec_hooks and not _has_spec(self.pm, spec.hook)]
        if new:
            self.pm.add_hookspecs(hookspecs.lifecycle_specs(new))
            self._hookspec_hooks.update(spec.hook for spec in new)

    def _anchor_problem(self, event: EventSpec, declared: Mapping[str, tuple[EventSpec, str]]) -> str:
        seen = {event.name}
        anchor = event.after
        while anchor is not None:
            if anchor in BUILTIN_EVENTS:
                return ""
            if anchor not in declared:
                close = difflib.get_close_matches(anchor, [*BUILTIN_EVENTS, *declared], n=1)
                return f"event '{event.name}' fires after unknown event '{anchor}'" + (f"; did you mean '{close[0]}'?" if close else "")
            if anchor in seen:
                return f"event '{event.name}' fires after itself (a cycle through '{anchor}')"
            seen.add(anchor)
            anchor = declared[anchor][0].after
        return ""

    def _collect_plugin(self, name: str) -> None:
        info = self._infos[name]
        plugin = self.pm.get_plugin(name)
        hooks = tuple(sorted(self._implemented_hooks(plugin)))
        specs = self._results("register_provisioner", name)
        for spec in specs:
            if not isinstance(spec, ProvisionerSpec):
                raise _Failed(f"register_provisioner returned {type(spec).__name__}, expected ProvisionerSpec")
            self._check_spec(spec, hooks)
        types_ = self._results("register_backend_types", name)
        for backend_type in types_:
            if not isinstance(backend_type, BackendType):
                raise _Failed(f"register_backend_types returned {type(backend_type).__name__}, expected BackendType")
        providers = self._results("register_credential_providers", name)
        for provider in providers:
            if not isinstance(provider, CredentialProvider):
                raise _Failed(f"register_credential_providers returned {type(provider).__name__}, expected CredentialProvider")
        sections = self._results("register_component_sections", name)
        for section in sections:
            if not isinstance(section, ComponentSection):
                raise _Failed(f"register_component_sections returned {type(section).__name__}, expected ComponentSection")
        notes: list[str] = []
        status = "loaded"
        for spec in specs:
            clash = self._clash(spec)
            if clash:
                status, notes = "duplicate", [*notes, clash]
                continue
            self._provisioners[spec.name] = RegisteredProvisioner(spec, plugin, name, info.distribution)
        for backend_type in types_:
            if backend_type.name in self._backend_types:
                notes.append(f"backend type '{backend_type.name}' is already registered by '{self._backend_types[backend_type.name][1]}'; not used")
                continue
            self._backend_types[backend_type.name] = (backend_type, name)
        for provider in providers:
            key = (provider.name, provider.type)
            if key in self._providers:
                notes.append(f"credential provider {provider.name}/{provider.type} is already registered by '{self._providers[key][1]}'; not used")
                continue
            self._providers[key] = (provider, name)
        for section in sections:
            if section.name in self._sections:
                notes.append(f"component section '{section.name}' is already registered by '{self._sections[section.name][1]}'; not used")
                continue
            self._sections[section.name] = (section, name)
        if status == "duplicate" and not any(rp.plugin_name == name for rp in self._provisioners.values()) and not types_ and not providers and not sections:
            self.pm.unregister(plugin)
        self._infos[name] = PluginInfo(
            name, info.distribution, info.version, status, "; ".join(notes), tuple(specs), hooks,
            tuple(t.name for t in types_), tuple(f"{p.name}/{p.type}" for p in providers),
            tuple(e for e, (_, owner) in self._events.items() if owner == name), tuple(s.name for s in sections),
        )  # fmt: skip

    def _implemented_hooks(self, plugin: Any) -> set[str]:
        return {hc.name for hc in self.pm.get_hookcallers(plugin) or ()}

    def _check_spec(self, spec: ProvisionerSpec, hooks: Iterable[str]) -> None:
        known = [*BUILTIN_EVENTS, *self._events]
        for event in spec.events:
            if event not in known:
                close = difflib.get_close_matches(event, sorted(known), n=1)
                raise _Failed(f"provisioner '{spec.name}' declares unknown event '{event}'" + (f"; did you mean '{close[0]}'?" if close else ""))
            if hook_name(event) not in hooks:
                raise _Failed(f"provisioner '{spec.name}' declares event '{event}' but implements no {hook_name(event)} hook")

    def _clash(self, spec: ProvisionerSpec) -> str:
        if spec.name in self._provisioners:
            return f"provisioner name '{spec.name}' is already provided by {self._provisioners[spec.name].distribution}; not loaded"
        for other in self._provisioners.values():
            shared = set(spec.backend_types) & set(other.spec.backend_types)
            if other.spec.type == spec.type and shared:
                return f"backend type '{sorted(shared)[0]}' is already served by '{other.spec.name}' from {other.distribution}; not loaded"
        return ""

    def _check_unknown_hooks(self) -> None:
        """Fail (per plugin, with a close match) a hookimpl whose name is no hook: a typo."""
        known = sorted(n for n in dir(self.pm.hook) if not n.startswith("_"))
        for hook_caller in list(self.pm.hook.__dict__.values()):
            if not isinstance(hook_caller, pluggy.HookCaller) or hook_caller.has_spec():
                continue
            for impl in hook_caller.get_hookimpls():
                close = difflib.get_close_matches(hook_caller.name, [k for k in known if getattr(self.pm.hook, k).has_spec()], n=1)
                reason = f"implements unknown hook '{hook_caller.name}'" + (f"; did you mean '{close[0]}'?" if close else "")
                self._fail(impl.plugin_name, reason)
        self.pm.check_pending()

    def _fail(self, plugin_name: str, reason: str) -> None:
        plugin = self.pm.get_plugin(plugin_name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for key, rp in list(self._provisioners.items()):
            if rp.plugin_name == plugin_name:
                del self._provisioners[key]
        self._backend_types = {k: v for k, v in self._backend_types.items() if v[1] != plugin_name}
        self._providers = {k: v for k, v in self._providers.items() if v[1] != plugin_name}
        self._sections = {k: v for k, v in self._sections.items() if v[1] != plugin_name}
        self._events = {k: v for k, v in self._events.items() if v[1] != plugin_name}
        old = self._infos.get(plugin_name)
        if old is not None:
            self._infos[plugin_name] = PluginInfo(old.name, old.distribution, old.version, "failed", reason, old.provisioners, old.hooks)

    def _trace(self) -> None:
        def before(hook_name: str, impls: Any, kwargs: Any) -> None:
            print(f"[trace] {hook_name} -> {[i.plugin_name for i in impls]}", file=sys.stderr)

        def after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
            state = "raised" if outcome.exception is not None else "returned"
            print(f"[trace] {hook_name} {state}", file=sys.stderr)

        self.pm.add_hookcall_monitoring(before, after)

    # --- queries ------------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        self.load()
        return sorted(self._infos.values(), key=lambda i: (i.distribution != CORE_DISTRIBUTION, i.distribution, i.name))

    def failed(self) -> list[PluginInfo]:
        """Plugins that could not load (import, API version, invalid registration)."""
        return [info for info in self.plugins() if info.status == "failed"]

    def provisioners(self) -> list[RegisteredProvisioner]:
        self.load()
        return sorted(self._provisioners.values(), key=lambda rp: (rp.spec.type, rp.spec.name))

    def provisioner_types(self) -> list[str]:
        return sorted({rp.spec.type for rp in self.provisioners()})

    def events(self) -> list[str]:
        """Every event: core's in flow order, then the plugins' by name."""
        self.load()
        return list(BUILTIN_EVENTS) + sorted(self._events)

    def event_specs(self) -> list[EventSpec]:
        self.load()
        return [*BUILTIN_EVENT_SPECS, *(spec for _, (spec, _owner) in sorted(self._events.items()))]

    def events_after(self, event: str) -> list[str]:
        """Plugin events that fire right after ``event``, each followed by its own followers (by name)."""
        self.load()
        order: list[str] = []
        for name in sorted(n for n, (spec, _) in self._events.items() if spec.after == event):
            order.append(name)
            order.extend(self.events_after(name))
        return order

    def backend_types(self) -> dict[str, BackendType]:
        self.load()
        return {name: backend_type for name, (backend_type, _) in self._backend_types.items()}

    def credential_providers(self) -> list[CredentialProvider]:
        self.load()
        return [provider for provider, _ in self._providers.values()]

    def credential_provider(self, name: str, provider_type: str) -> CredentialProvider | None:
        self.load()
        found = self._providers.get((name, provider_type))
        return found[0] if found is not None else None

    def component_sections(self) -> dict[str, ComponentSection]:
        """The component sections plugins registered, by name (the resolver merges them)."""
        self.load()
        return {name: section for name, (section, _) in self._sections.items()}

    def build_credentials(self, name: str, provider_type: str, settings: Mapping[str, Any]) -> Credentials | None:
        """Credentials from the registered provider; else from the deprecated ``resolve_credentials`` hook."""
        provider = self.credential_provider(name, provider_type)
        if provider is not None:
            return provider.create(settings)
        legacy = self.pm.hook.resolve_credentials(cloud=name, provider_type=provider_type, settings=settings)
        if legacy is not None and not isinstance(legacy, Credentials):
            raise TypeError(f"resolve_credentials returned {type(legacy).__name__}, which lacks fingerprint(), secrets() or terraform_env()")
        return legacy

    def register_commands(self, group: click.Group) -> None:
        """Let every plugin add its commands to ``group`` once; a name already taken is reported."""
        self.load()
        for impl in self.pm.hook.register_commands.get_hookimpls()[::-1]:  # pluggy's order is last-registered first
            before = dict(group.commands)
            try:
                impl.function(group)
            except Exception as exc:  # noqa: BLE001 - a plugin's bug fails that plugin only
                group.commands.clear()
                group.commands.update(before)
                self._fail(impl.plugin_name, f"register_commands raised {type(exc).__name__}: {exc}")
                continue
            taken = [name for name, command in before.items() if group.commands.get(name) is not command]
            for name in taken:
                group.commands[name] = before[name]
            if taken:
                info = self._infos[impl.plugin_name]
                note = f"command '{taken[0]}' is already provided by another plugin; not added"
                self._infos[impl.plugin_name] = PluginInfo(
                    info.name, info.distribution, info.version, info.status, "; ".join(filter(None, [info.reason, note])),
                    info.provisioners, info.hooks, info.backend_types, info.credential_providers, info.events, info.component_sections,
                )  # fmt: skip

    def validate_component(self, **kwargs: Any) -> None:
        self.load()
        self.pm.hook.validate_component(**kwargs)

    def hook_options(self, rp: RegisteredProvisioner, event: str) -> Mapping[str, Any]:
        """The ``@hookimpl`` options (tryfirst, trylast…) of ``rp`` for ``event``."""
        hook_caller = getattr(self.pm.hook, hook_name(event), None)
        for impl in hook_caller.get_hookimpls() if hook_caller else ():
            if impl.plugin is rp.plugin:
                return {"tryfirst": impl.tryfirst, "trylast": impl.trylast}
        return {}

    def call_lifecycle(self, rp: RegisteredProvisioner, event: str, kwargs: Mapping[str, Any]) -> Any:
        """Call one provisioner's hook for ``event`` (other plugins' wrappers and tracing still apply)."""
        hook = getattr(self.pm.hook, hook_name(event))
        others = [impl.plugin for impl in hook.get_hookimpls() if impl.plugin is not rp.plugin and not (impl.wrapper or impl.hookwrapper)]
        caller = self.pm.subset_hook_caller(hook_name(event), remove_plugins=others)
        results = caller(**kwargs)
        return results[0] if results else None


def _has_spec(pm: pluggy.PluginManager, hook: str) -> bool:
    caller = getattr(pm.hook, hook, None)
    return caller is not None and caller.has_spec()


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "(unknown)"


def _dist_version(ep: metadata.EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else ""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "0+unknown"


__all__ = ["ENTRY_POINT_GROUP", "PluginInfo", "PluginRegistry", "RegisteredProvisioner", "event_name"]
