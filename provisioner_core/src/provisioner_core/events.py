"""Lifecycle events: one declaration form (:class:`EventSpec`) for core's events and plugins'.

An event name is dotted lowercase words (``before.terraform.init``); its pluggy hook is the
same words joined by ``_`` (``before_terraform_init``). Words cannot contain ``_``, so the
two names map one to one.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs
from attrs import field, frozen

_EVENT_NAME = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$")


def is_valid_event_name(name: str) -> bool:
    """True for a dotted event name such as ``before.terraform.init`` (lowercase words, no ``_`` or ``-``)."""
    return isinstance(name, str) and bool(_EVENT_NAME.match(name))


def hook_name(event: str) -> str:
    """``before.terraform.init`` -> ``before_terraform_init`` (the pluggy hook name)."""
    return event.replace(".", "_")


def event_name(hook: str) -> str:
    """``before_terraform_init`` -> ``before.terraform.init`` (the inverse of :func:`hook_name`)."""
    return hook.replace("_", ".")


def _check_name(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_valid_event_name(value):
        raise ValueError(f"event name {value!r} must be dotted lowercase words, like 'before.workflow.execute' (no '_' or '-')")


def _check_after(instance: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not is_valid_event_name(value):
        raise ValueError(f"after={value!r} must name an event, like 'after.component.load'")


def _one_line(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ValueError("description must be one non-empty line")


@frozen
class EventSpec:
    """A lifecycle event and where it fires.

    ``after``: in the ``provision terraform`` flow, the event fires right after that event
    (a built-in event or another plugin's); ``None``: it fires only when a command fires it
    (``Provisioning.run_event``). Core's own events are declared with this class too.
    """

    name: str = field(validator=_check_name)
    description: str = field(validator=_one_line)
    after: str | None = field(default=None, validator=_check_after)

    @property
    def hook(self) -> str:
        return hook_name(self.name)


BEFORE_COMPONENT_LOAD: Final = "before.component.load"
AFTER_COMPONENT_LOAD: Final = "after.component.load"
BEFORE_TERRAFORM_INIT: Final = "before.terraform.init"
AFTER_TERRAFORM_INIT: Final = "after.terraform.init"
BEFORE_TERRAFORM_PLAN: Final = "before.terraform.plan"
AFTER_TERRAFORM_PLAN: Final = "after.terraform.plan"
BEFORE_TERRAFORM_APPLY: Final = "before.terraform.apply"
AFTER_TERRAFORM_APPLY: Final = "after.terraform.apply"
# The explicit `provision <type> <component>` command is an event of its own (the PRD's ManualProvision).
MANUAL_PROVISION: Final = "manual.provision"

# Core's events, in the order the terraform flow fires them (plan and apply are alternatives).
BUILTIN_EVENT_SPECS: Final[tuple[EventSpec, ...]] = (
    EventSpec(BEFORE_COMPONENT_LOAD, "Runs after the stacks are resolved, before the component's terraform folder is used"),
    EventSpec(AFTER_COMPONENT_LOAD, "Runs once the component's terraform folder is located and its files are generated"),
    EventSpec(BEFORE_TERRAFORM_INIT, "Runs before terraform init: the place to create a state backend"),
    EventSpec(AFTER_TERRAFORM_INIT, "Runs after a successful terraform init and workspace selection"),
    EventSpec(BEFORE_TERRAFORM_PLAN, "Runs before terraform plan"),
    EventSpec(AFTER_TERRAFORM_PLAN, "Runs after a successful terraform plan"),
    EventSpec(BEFORE_TERRAFORM_APPLY, "Runs before terraform apply (and destroy)"),
    EventSpec(AFTER_TERRAFORM_APPLY, "Runs after a successful terraform apply (and destroy)"),
    EventSpec(MANUAL_PROVISION, "Runs for the explicit provision <type> <component> -s <stack> command"),
)
BUILTIN_EVENTS: Final[tuple[str, ...]] = tuple(spec.name for spec in BUILTIN_EVENT_SPECS)
