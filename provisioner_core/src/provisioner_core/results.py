"""Typed results of a provisioner run, validated when constructed."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import field, frozen


class Status(str, enum.Enum):
    """What a provisioner did (or, for ``planned``, would do)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    PLANNED = "planned"


class Resolution(str, enum.Enum):
    """What was done about one drifted setting."""

    APPLIED = "applied"  # changed to the desired, stronger value
    KEPT = "kept"  # left alone because the change would weaken it
    REPORTED = "reported"  # report-only mode: nothing changed
    PLANNED = "planned"  # dry run: would be applied


def _one_line(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ValueError(f"{attribute.name} must be a non-empty single line, got {value!r}")


@frozen
class Action:
    """One call made (or planned): ``verb`` on ``target`` with an optional detail."""

    verb: str = field(validator=_one_line)  # e.g. "create", "put-bucket-versioning"
    target: str = field(validator=_one_line)  # e.g. "bucket acme-tfstate"
    detail: str = ""
    planned: bool = False  # True when only planned (dry run, report-only), not executed

    def to_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "target": self.target, "detail": self.detail, "planned": self.planned}

    def __str__(self) -> str:
        return f"{self.verb} {self.target}" + (f" ({self.detail})" if self.detail else "")


@frozen
class Drift:
    """A setting whose actual value differs from the desired one, and what was done about it."""

    setting: str = field(validator=_one_line)
    expected: str
    actual: str
    resolution: Resolution = field(converter=Resolution)
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "setting": self.setting,
            "expected": self.expected,
            "actual": self.actual,
            "resolution": self.resolution.value,
            "reason": self.reason,
        }


def _to_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _to_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _tuple_of(kind: type[Any]) -> Any:
    return attrs.validators.deep_iterable(attrs.validators.instance_of(kind), attrs.validators.instance_of(tuple))


@frozen
class ProvisionResult:
    """What a provisioner returns from a lifecycle hook."""

    status: Status = field(converter=Status)
    resource: str = ""  # what it manages, e.g. "bucket acme-tfstate"
    actions: tuple[Action, ...] = field(default=(), converter=_to_tuple, validator=_tuple_of(Action))
    drift: tuple[Drift, ...] = field(default=(), converter=_to_tuple, validator=_tuple_of(Drift))
    warnings: tuple[str, ...] = field(default=(), converter=_to_tuple, validator=_tuple_of(str))
    details: Mapping[str, Any] = field(factory=dict, converter=_to_dict)
    # At before.component.load only: the folder terraform runs in instead of
    # components.terraform.base_path/<component> (e.g. a vendored copy of the component's code).
    workdir: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "resource": self.resource,
            "actions": [a.to_dict() for a in self.actions],
            "drift": [d.to_dict() for d in self.drift],
            "warnings": list(self.warnings),
            "details": dict(self.details),
            **({"workdir": self.workdir} if self.workdir else {}),
        }


@frozen
class Message:
    """A line a provisioner printed or logged during its run (redacted): ``level`` is the log level, or stdout/stderr."""

    level: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "text": self.text}


def _messages(value: Any) -> tuple[Message, ...]:
    return tuple(value)


@frozen
class Outcome:
    """A result with the facts the system knows about the run that produced it."""

    provisioner: str  # the provisioner's unique name, e.g. "example"
    provisioner_type: str
    plugin: str
    distribution: str
    event: str
    stack: str
    component: str
    result: ProvisionResult
    duration_s: float
    messages: tuple[Message, ...] = field(default=(), converter=_messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provisioner": self.provisioner,
            "type": self.provisioner_type,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "event": self.event,
            "stack": self.stack,
            "component": self.component,
            "duration_s": round(self.duration_s, 4),
            **self.result.to_dict(),
            "messages": [m.to_dict() for m in self.messages],
        }
