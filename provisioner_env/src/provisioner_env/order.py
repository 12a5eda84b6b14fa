"""The order components are provisioned in (and, reversed, destroyed in): Atmos ``settings.depends_on``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from provisioner_env.units import Unit

T = TypeVar("T")


def dependencies(settings: Mapping[str, Any]) -> set[str]:
    """Component names from ``settings.depends_on`` (a list, or Atmos's numbered mapping, of names or {component: NAME})."""
    raw = settings.get("depends_on") if isinstance(settings, Mapping) else None
    entries = raw.values() if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    found: set[str] = set()
    for entry in entries:
        if isinstance(entry, str):
            found.add(entry)
        elif isinstance(entry, Mapping) and isinstance(entry.get("component"), str):
            found.add(entry["component"])
    return found


def dependency_order(items: Sequence[T], name: Callable[[T], str], settings: Callable[[T], Mapping[str, Any]]) -> list[T]:
    """Dependencies first, then by name; a cycle falls back to name order."""
    pending = sorted(items, key=name)
    names = {name(item) for item in pending}
    done: set[str] = set()
    result: list[T] = []
    while pending:
        ready = [item for item in pending if not (dependencies(settings(item)) & names) - done]
        chosen = ready[0] if ready else pending[0]
        result.append(chosen)
        done.add(name(chosen))
        pending.remove(chosen)
    return result


def ordered(units: Sequence[Unit]) -> list[Unit]:
    """Stacks in the given order; inside each stack, in dependency order."""
    stacks: dict[str, list[Unit]] = {}
    for unit in units:
        stacks.setdefault(unit.source.stack or unit.source.folder, []).append(unit)
    return [u for group in stacks.values() for u in dependency_order(group, lambda u: u.name, lambda u: u.source.settings)]
