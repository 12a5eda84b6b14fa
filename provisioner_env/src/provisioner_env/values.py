"""Small frozen values shared by the layouts and the plan: one changed value, one placeholder."""

from __future__ import annotations

from attrs import field, frozen, validators

from provisioner_env.placeholders import PLACEHOLDER_PREFIX
from provisioner_env.policy import KeyPolicy

RENAMED = "renamed"
PLACEHOLDER = "placeholder"
REFERENCE = "reference"  # an isolated value written as a reference to an environment variable (new: its name)
STATE = "state"
CHANGE_KINDS = (RENAMED, PLACEHOLDER, REFERENCE, STATE)


@frozen
class ValueChange:
    """One value a clone changed: where (file and path inside it), what kind, old and new."""

    file: str  # the target file, relative to the project root
    path: str  # dotted path inside the file (YAML) or the assignment key chain (HCL)
    key: str  # the last key of the path
    section: str  # vars, env, backend, settings, ... ("vars" for a tfvars file)
    kind: str = field(validator=validators.in_(CHANGE_KINDS))
    old: str = field(repr=False)  # may be a secret: never rendered for placeholders
    new: str


def placeholder_text(key: KeyPolicy, source: str, target: str, name: str | None = None) -> str:
    """``REQUIRED: a new LINE_TOKEN for feature-x (issue ...)``: never a copy of the source's value.

    ``name``: the key as written in the file (the policy matches keys case-insensitively).
    """
    what = f"a new {name or key.name} for {target}, never copied from {source}"
    return f"{PLACEHOLDER_PREFIX} {what}" + (f" ({key.hint})" if key.hint else "")


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX)
