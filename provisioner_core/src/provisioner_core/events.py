"""Lifecycle events: the dotted names users write and the hook names plugins implement."""

from __future__ import annotations

import re
from typing import Final

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

BUILTIN_EVENTS: Final[tuple[str, ...]] = (
    BEFORE_COMPONENT_LOAD,
    AFTER_COMPONENT_LOAD,
    BEFORE_TERRAFORM_INIT,
    AFTER_TERRAFORM_INIT,
    BEFORE_TERRAFORM_PLAN,
    AFTER_TERRAFORM_PLAN,
    BEFORE_TERRAFORM_APPLY,
    AFTER_TERRAFORM_APPLY,
    MANUAL_PROVISION,
)

_DOTTED = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$")


def is_valid_event_name(name: str) -> bool:
    """True for a dotted event name such as ``before.terraform.init``."""
    return bool(_DOTTED.match(name))


def hook_name(event: str) -> str:
    """``before.terraform.init`` -> ``before_terraform_init`` (the pluggy hook name)."""
    return event.replace(".", "_")


def event_name(hook: str) -> str:
    """``before_terraform_init`` -> ``before.terraform.init``."""
    return hook.replace("_", ".")
