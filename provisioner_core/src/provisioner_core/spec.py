"""The typed declaration a provisioner makes about itself."""

from __future__ import annotations

import builtins
import enum
import re
from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from provisioner_core.events import EventSpec, is_valid_event_name

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{attribute.name} must match [a-z][a-z0-9_-]*, got {value!r}")


def _events(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError("events must name at least one event, e.g. 'before.terraform.init'")
    for event in value:
        if not isinstance(event, str) or not is_valid_event_name(event):
            raise ValueError(f"events: {event!r} is not a dotted event name like 'before.terraform.init'")


def _description(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ValueError("description must be one non-empty line")


def _backend_types(instance: ProvisionerSpec, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for backend_type in value:
        _name(instance, attribute, backend_type)
    if instance.type == "backend" and not value:
        raise ValueError("a 'backend' provisioner must declare the backend_types it serves, e.g. ('local',)")


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


class Concurrency(str, enum.Enum):
    """How ``provision <type> --all`` may run a type's provisioner for many components."""

    SERIAL = "serial"  # one component at a time: the default for every type but backend
    PARALLEL = "parallel"  # components at once, up to --jobs: the provisioner is safe to run concurrently
    PER_BACKEND = "per-backend"  # once per distinct backend, distinct backends at once (the backends')


def _default_concurrency(spec: ProvisionerSpec) -> Concurrency:
    return Concurrency.PER_BACKEND if spec.type == "backend" else Concurrency.SERIAL


def _options_class(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not attrs.has(value):
        raise ValueError(f"options must be an attrs class describing provision.<type>, got {value!r}")


@frozen
class ProvisionerSpec:
    """What a provisioner is and when it runs.

    ``name`` is unique across installed plugins (``backend-local``); ``type`` is the key under
    ``provision:`` that enables it (``backend``); ``events`` are dotted event names; a
    ``backend`` provisioner also names the ``backend_type`` values it serves. ``options`` is
    an attrs class of its ``provision.<type>`` options (see :mod:`provisioner_core.schema`);
    ``concurrency`` says how ``--all`` may run it.
    """

    name: str = field(validator=_name)
    type: str = field(validator=_name)
    events: tuple[str, ...] = field(converter=_to_tuple, validator=_events)
    description: str = field(validator=_description)
    backend_types: tuple[str, ...] = field(default=(), converter=_to_tuple, validator=_backend_types)
    timeout_s: float | None = field(default=None)
    options: builtins.type[Any] | None = field(default=None, validator=_options_class)
    concurrency: Concurrency = field(default=attrs.Factory(_default_concurrency, takes_self=True), converter=Concurrency)

    def serves(self, backend_type: str | None) -> bool:
        """True when this provisioner handles a component with ``backend_type``."""
        return not self.backend_types or backend_type in self.backend_types


__all__ = ["Concurrency", "EventSpec", "ProvisionerSpec"]
