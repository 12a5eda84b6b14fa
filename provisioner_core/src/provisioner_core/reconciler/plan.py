"""What a pure plan function returns: the drift it found and the writes that fix it.

No I/O here: a backend's plan compares the state it read with what it wants and describes the
writes as data; the flow (:mod:`provisioner_core.reconciler.flow`) records and makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from attrs import field, frozen


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _one_line(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ValueError(f"{attribute.name} must be a non-empty single line, got {value!r}")


@frozen
class Change:
    """One setting whose actual value differs from the desired one.

    ``stronger``: writing ``expected`` would make the resource stronger (never weaker); a change
    that is not stronger is reported as ``kept`` with its ``reason`` and never written.
    """

    setting: str = field(validator=_one_line)
    expected: Any
    actual: Any
    stronger: bool = True
    reason: str = ""


@frozen
class Write:
    """One write call: ``verb`` (``put-bucket-versioning``) with a ``detail`` for the action line.

    ``payload``: whatever the backend's ``apply`` needs to make the call (plain data).
    ``settings``: the settings this write brings (named when a run stops half-way).
    ``target``: the action's target, when it is not the resource's own.
    """

    verb: str = field(validator=_one_line)
    detail: str = ""
    payload: Any = None
    settings: tuple[str, ...] = field(default=(), converter=_tuple)
    target: str = ""


@frozen
class Plan:
    """The drift of a resource and the writes that fix it, in order.

    ``details`` (optional): what the result's details say once the writes are made; ``found``:
    what they say when nothing is written (report_only). Empty mappings leave details alone.
    """

    changes: tuple[Change, ...] = field(default=(), converter=_tuple)
    writes: tuple[Write, ...] = field(default=(), converter=_tuple)
    details: Mapping[str, Any] = field(factory=dict)
    found: Mapping[str, Any] = field(factory=dict)

    @property
    def settings(self) -> tuple[str, ...]:
        """Every setting the writes bring, in order, once each."""
        return tuple(dict.fromkeys(s for w in self.writes for s in w.settings))


class PlanBuilder:
    """Builds a :class:`Plan` setting by setting (what a pure plan function uses)::

        p = PlanBuilder()
        if actual.versioning != "Enabled":
            p.drift("versioning", "Enabled", actual.versioning or "never enabled")
            p.write("put-bucket-versioning", "Status=Enabled", payload={...}, settings=("versioning",))
        p.show("versioning", actual.versioning, after="Enabled")
        return p.build()
    """

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.writes: list[Write] = []
        self.details: dict[str, Any] = {}
        self.found: dict[str, Any] = {}

    def drift(self, setting: str, expected: Any, actual: Any, *, stronger: bool = True, reason: str = "") -> None:
        """One :class:`Change`: ``stronger=False`` keeps the actual value (reported with ``reason``)."""
        self.changes.append(Change(setting, expected, actual, stronger, reason))

    def write(self, verb: str, detail: str = "", payload: Any = None, *, settings: tuple[str, ...] | list[str] = (), target: str = "") -> None:
        """One :class:`Write`, made after the ones before it."""
        self.writes.append(Write(verb, detail, payload, tuple(settings), target))

    def show(self, key: str, found: Any, after: Any = None) -> None:
        """What details say about ``key``: ``found`` as read, ``after`` once the writes are made (default: unchanged)."""
        self.found[key] = found
        self.details[key] = found if after is None else after

    def build(self) -> Plan:
        return Plan(self.changes, self.writes, self.details, self.found)
