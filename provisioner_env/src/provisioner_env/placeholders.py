"""Refuse to run a component whose configuration still holds a "required" placeholder.

``provision env create`` writes ``REQUIRED: <what>`` in place of isolated secrets it must
never copy; nothing may run until a person (or a secrets plugin) has filled them in.
"""

from __future__ import annotations

from typing import Any

from provisioner_core import ConfigError, ResolvedComponent

PLACEHOLDER_PREFIX = "REQUIRED:"


def find_placeholders(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every string value that is still a placeholder, in document order (iterative)."""
    found: list[str] = []
    work: list[tuple[Any, str]] = [(value, path)]
    while work:
        item, where = work.pop()
        if isinstance(item, dict):
            work.extend((child, f"{where}.{key}" if where else str(key)) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            work.extend((child, f"{where}[{index}]") for index, child in reversed(list(enumerate(item))))
        elif isinstance(item, str) and item.startswith(PLACEHOLDER_PREFIX):
            found.append(where)
    return found


def refuse_placeholders(component: ResolvedComponent) -> None:
    sections = {"vars": dict(component.vars), "env": dict(component.env), "backend": dict(component.backend), "auth": dict(component.auth)}
    found = find_placeholders(sections)
    if found:
        raise ConfigError(
            f"component '{component.name}' in stack '{component.stack}' still has required placeholders: {', '.join(found)}",
            hint="Set a new value for each (isolated secrets are never copied between environments), then run again.",
            context={"stack": component.stack, "component": component.name},
        )
