"""Deeply read-only copies of configuration, for what provisioners receive.

A frozen attrs class holding plain dicts is not read-only: a provisioner that set
``component.vars["size"]`` changed the run's cached component for every later event and the
generated var file. Provisioners get copies whose every mapping and list refuses changes,
while staying ``dict`` and ``list`` (``isinstance`` checks, ``json.dumps`` and ``dict(...)``
keep working; a copy made with ``dict(...)`` is an ordinary, changeable dict).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, SupportsIndex

_MESSAGE = "provisioners receive configuration read-only; copy it first (dict(...) or list(...)) to change a value"


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(_MESSAGE)


class FrozenDict(dict[str, Any]):
    """A dict that refuses every change."""

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def copy(self) -> dict[str, Any]:
        """An ordinary (changeable) shallow copy."""
        return dict(self)


class FrozenList(list[Any]):
    """A list that refuses every change."""

    __setitem__ = __delitem__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __iadd__(self, other: Iterable[Any]) -> NoReturn:  # type: ignore[misc]
        _refuse()

    def __imul__(self, other: SupportsIndex) -> NoReturn:
        _refuse()

    def copy(self) -> list[Any]:
        """An ordinary (changeable) shallow copy."""
        return list(self)


def _open(value: Any) -> bool:
    """A mapping or list that still needs freezing."""
    return isinstance(value, (Mapping, list, tuple)) and not isinstance(value, (FrozenDict, FrozenList))


def freeze(value: Any) -> Any:
    """A deeply read-only copy of ``value`` (mappings and lists at any depth; other values as they are).

    Iterative (post-order), so a deeply nested document cannot exhaust the stack; a sub-document
    shared by several places (a YAML alias) is frozen once.
    """
    if not _open(value):
        return value
    memo: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in memo:
            continue
        children = list(node.values()) if isinstance(node, Mapping) else list(node)
        if not children_done:
            stack.append((node, True))
            stack += [(child, False) for child in children if _open(child) and id(child) not in memo]
            continue

        def frozen(child: Any) -> Any:
            if not _open(child):
                return child
            if id(child) not in memo:
                raise ValueError("a recursive structure (a YAML alias inside itself) cannot be frozen")
            return memo[id(child)]

        memo[id(node)] = FrozenDict({k: frozen(v) for k, v in node.items()}) if isinstance(node, Mapping) else FrozenList(frozen(c) for c in node)
    return memo[id(value)]
