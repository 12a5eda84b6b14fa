"""Call the environment lifecycle hooks: every implementation runs; a failure names its plugin."""

from __future__ import annotations

import types
from typing import Any

from provisioner_core import EXIT_GENERAL, PluginRegistry, ProvisionerError


class EnvHookFailed(ProvisionerError):
    """A plugin's env hook raised: the run stops, and the message names the plugin."""

    def __init__(self, hook: str, plugin: str, distribution: str, cause: BaseException) -> None:
        if isinstance(cause, ProvisionerError):
            detail, hints, code = cause.message, cause.hints, cause.exit_code
        else:
            detail, hints, code = f"{type(cause).__name__}: {cause}", (f"This is a bug in {distribution}; please report it to the plugin's authors.",), EXIT_GENERAL
        super().__init__(f"plugin '{plugin}' (from {distribution}) failed in {hook}: {detail}", hint=hints, context={"hook": hook, "plugin": plugin}, exit_code=code)
        self.hook = hook
        self.plugin = plugin
        self.cause = cause


def call_env_hook(registry: PluginRegistry, hook: str, **kwargs: Any) -> Any:
    """``registry.pm.hook.<hook>(**kwargs)`` (every result, or the first for a firstresult hook); an exception
    is re-raised as EnvHookFailed naming the plugin."""
    registry.load()
    if not hasattr(registry.pm.hook, hook):
        # A registry built without this plugin (a Python tool calling env directly): its hooks still exist.
        from provisioner_env import hookspecs

        registry.pm.add_hookspecs(hookspecs)
    caller = getattr(registry.pm.hook, hook)
    try:
        return caller(**kwargs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - attribute every failure to its plugin
        plugin = _raising_plugin(exc, caller.get_hookimpls())
        distribution = next((info.distribution for info in registry.plugins() if info.name == plugin), "an unknown distribution")
        raise EnvHookFailed(hook, plugin, distribution, exc) from exc


def _raising_plugin(exc: BaseException, impls: list[Any]) -> str:
    """The plugin whose implementation is on the exception's traceback (outermost frame wins)."""
    codes = {getattr(impl.function, "__code__", None): impl.plugin_name for impl in impls}
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        name = codes.get(tb.tb_frame.f_code)
        if name is not None:
            return name
        tb = tb.tb_next
    return impls[0].plugin_name if len(impls) == 1 else "(unknown)"
