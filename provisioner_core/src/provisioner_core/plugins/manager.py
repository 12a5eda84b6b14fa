"""The plugin registry: loads entry points once, isolates broken plugins, reports collisions."""

from __future__ import annotations

import difflib
import importlib
import os
import sys
import types
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

import pluggy
from attrs import field, frozen

from provisioner_core import hookspecs
from provisioner_core.events import BUILTIN_EVENTS, event_name, hook_name
from provisioner_core.spec import EventSpec, ProvisionerSpec

ENTRY_POINT_GROUP = "provisioner"
CORE_DISTRIBUTION = "provisioner-core"
# Built-in plugins load through the same registry as third-party ones (llm's DEFAULT_PLUGINS).
DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("auth", "provisioner_core.auth.builtin"),
    ("example", "provisioner_core.plugins.builtin.example"),
)
NON_LIFECYCLE_HOOKS = frozenset({"register_provisioner", "register_events", "resolve_credentials"})


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
        }


@frozen
class RegisteredProvisioner:
    """A loaded provisioner: its declaration and the plugin that implements it."""

    spec: ProvisionerSpec
    plugin: Any = field(eq=False, repr=False)
    plugin_name: str
    distribution: str


class PluginRegistry:
    """Wraps a pluggy PluginManager with discovery, status and provisioner lookup.

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
        self._events: dict[str, EventSpec] = {}
        if self._environ.get("PROVISIONER_TRACE_PLUGINS") == "1":
            self._trace()

    # --- loading ------------------------------------------------------------------------

    def load(self) -> PluginRegistry:
        """Load built-ins and entry points once; later calls do nothing."""
        if self._loaded:
            return self
        self._loaded = True
        for name, module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            self.register(module, name=name, distribution=CORE_DISTRIBUTION, version=_version(CORE_DISTRIBUTION), check=False)
        if self._load_entrypoints:
            self._load_entry_points()
        self._check_unknown_hooks()
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
                self._infos[ep.name] = PluginInfo(ep.name, dist, version, "failed", f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.register(plugin, name=ep.name, distribution=dist, version=version, check=False)

    def register(self, plugin: Any, *, name: str | None = None, distribution: str = "(local)", version: str = "", check: bool = True) -> PluginInfo:
        """Register one plugin (a module or object with ``@hookimpl`` functions)."""
        info = self._register(plugin, name=name, distribution=distribution, version=version)
        if check and self._loaded:
            self._check_unknown_hooks()
        return self._infos.get(info.name, info)

    def _register(self, plugin: Any, *, name: str | None, distribution: str, version: str) -> PluginInfo:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001
            info = PluginInfo(name, distribution, version, "failed", f"registration failed: {exc}")
            self._infos[name] = info
            return info
        try:
            events = self._collect_events(plugin, name)
            spec = self._collect_spec(plugin)
            hooks = tuple(sorted(self._implemented_hooks(plugin)))
            if spec is not None:
                self._check_spec(spec, hooks, events)
        except Exception as exc:  # noqa: BLE001
            self.pm.unregister(plugin)
            info = PluginInfo(name, distribution, version, "failed", str(exc))
            self._infos[name] = info
            return info
        status, reason = "loaded", ""
        provisioners: tuple[ProvisionerSpec, ...] = ()
        if spec is not None:
            clash = self._clash(spec)
            if clash:
                self.pm.unregister(plugin)
                status, reason = "duplicate", clash
            else:
                self._provisioners[spec.name] = RegisteredProvisioner(spec, plugin, name, distribution)
            provisioners = (spec,)
        info = PluginInfo(name, distribution, version, status, reason, provisioners, hooks)
        self._infos[name] = info
        return info

    def _collect_events(self, plugin: Any, name: str) -> list[EventSpec]:
        impl = getattr(plugin, "register_events", None)
        if impl is None or self.pm.parse_hookimpl_opts(plugin, "register_events") is None:
            return []
        declared = list(impl() or ())
        for event in declared:
            if not isinstance(event, EventSpec):
                raise TypeError(f"register_events returned {type(event).__name__}, expected EventSpec")
            if event.name in BUILTIN_EVENTS or event.name in self._events:
                continue
            self._events[event.name] = event
            module = types.ModuleType(f"{name}_events")
            setattr(module, hook_name(event.name), hookspecs.lifecycle_spec(hook_name(event.name)))
            self.pm.add_hookspecs(module)
        return declared

    def _collect_spec(self, plugin: Any) -> ProvisionerSpec | None:
        impl = getattr(plugin, "register_provisioner", None)
        if impl is None or self.pm.parse_hookimpl_opts(plugin, "register_provisioner") is None:
            return None
        spec = impl()
        if spec is not None and not isinstance(spec, ProvisionerSpec):
            raise TypeError(f"register_provisioner returned {type(spec).__name__}, expected ProvisionerSpec")
        return spec

    def _implemented_hooks(self, plugin: Any) -> set[str]:
        return {hc.name for hc in self.pm.get_hookcallers(plugin) or ()}

    def _check_spec(self, spec: ProvisionerSpec, hooks: Iterable[str], own_events: Iterable[EventSpec]) -> None:
        known = set(BUILTIN_EVENTS) | set(self._events) | {e.name for e in own_events}
        for event in spec.events:
            if event not in known:
                close = difflib.get_close_matches(event, sorted(known), n=1)
                raise ValueError(f"provisioner '{spec.name}' declares unknown event '{event}'" + (f"; did you mean '{close[0]}'?" if close else ""))
            if hook_name(event) not in hooks:
                raise ValueError(f"provisioner '{spec.name}' declares event '{event}' but implements no {hook_name(event)} hook")

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

    def provisioners(self) -> list[RegisteredProvisioner]:
        self.load()
        return sorted(self._provisioners.values(), key=lambda rp: (rp.spec.type, rp.spec.name))

    def provisioner_types(self) -> list[str]:
        return sorted({rp.spec.type for rp in self.provisioners()})

    def events(self) -> list[str]:
        self.load()
        return list(BUILTIN_EVENTS) + sorted(self._events)

    def hook_options(self, rp: RegisteredProvisioner, event: str) -> Mapping[str, Any]:
        """The ``@hookimpl`` options (tryfirst, trylast…) of ``rp`` for ``event``."""
        hook_caller = getattr(self.pm.hook, hook_name(event), None)
        for impl in hook_caller.get_hookimpls() if hook_caller else ():
            if impl.plugin is rp.plugin:
                return {"tryfirst": impl.tryfirst, "trylast": impl.trylast}
        return {}

    def call_lifecycle(self, rp: RegisteredProvisioner, event: str, kwargs: Mapping[str, Any]) -> Any:
        """Call one provisioner's hook for ``event`` (wrappers and tracing still apply)."""
        others = [p.plugin for p in self._provisioners.values() if p.plugin is not rp.plugin]
        caller = self.pm.subset_hook_caller(hook_name(event), remove_plugins=others)
        results = caller(**kwargs)
        return results[0] if results else None

    def resolve_credentials(self, cloud: str, provider_type: str, settings: Mapping[str, Any]) -> Any:
        self.load()
        return self.pm.hook.resolve_credentials(cloud=cloud, provider_type=provider_type, settings=settings)


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
