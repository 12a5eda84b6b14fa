"""What ``provision env create`` will do, as frozen values: the seed's seven steps as data.

An EnvironmentPlan is built before anything is written (and is all a dry run does); the
report renders it as text, ``to_dict()`` as JSON, and the env hooks receive it.
"""

from __future__ import annotations

import difflib
from typing import Any

from attrs import field, frozen, validators

from provisioner_env.commands import Commands
from provisioner_env.values import PLACEHOLDER, ValueChange

CLONE_RENAME = "clone+rename"
SHARED = "shared"
NEW_CREDENTIAL = "NEW credential"
NEW_VALUE = "NEW value"
NEW_PAID = "NEW paid resource"
SEPARATE_STATE = "separate state"
ACTIONS = (CLONE_RENAME, SHARED, NEW_CREDENTIAL, NEW_VALUE, NEW_PAID, SEPARATE_STATE)


@frozen
class MappingRow:
    """One line of the mapping table: source -> target -> action."""

    kind: str  # a resource type (aws_s3_bucket), "key", "state" or "value"
    source: str
    target: str
    action: str = field(validator=validators.in_(ACTIONS))
    where: str = ""  # the stack/component, file or setting it comes from
    monthly_cost: float = field(default=0.0, validator=validators.ge(0))
    label: str = ""  # the policy entry, when the row comes from one

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "target": self.target, "action": self.action, "where": self.where,
                "monthly_cost": self.monthly_cost, "label": self.label}


@frozen
class CostLine:
    """One resource kind of the policy: what one environment of it costs, and what the target adds."""

    label: str
    type: str
    isolation: str
    monthly_cost: float
    delta: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "type": self.type, "isolation": self.isolation, "monthly_cost": self.monthly_cost, "delta": self.delta}


@frozen
class CostReport:
    lines: tuple[CostLine, ...] = ()

    @property
    def delta(self) -> float:
        return round(sum(line.delta for line in self.lines), 2)

    def warnings(self, target: str) -> list[str]:
        return [
            f"{line.label} ({line.type}) is isolated: {target} gets its own, about +${line.delta:,.2f}/month"
            for line in self.lines
            if line.delta > 0
        ]

    def to_dict(self, target: str) -> dict[str, Any]:
        return {"delta_per_month": self.delta, "currency": "USD", "lines": [line.to_dict() for line in self.lines], "warnings": self.warnings(target)}


@frozen
class FileChange:
    """A file the target gets: cloned from ``source`` (empty for a generated file)."""

    layout: str
    role: str
    source: str  # relative to the project root; "" when generated
    target: str
    content: str = field(repr=False)
    source_text: str = field(default="", repr=False)
    existing: str | None = field(default=None, repr=False)  # the target's current content (only with --force)

    @property
    def diff(self) -> str:
        """What the file would be, as a unified diff against its source (or the file it replaces)."""
        before = self.existing if self.existing is not None else self.source_text
        before_name = f"a/{self.target}" if self.existing is not None else (f"a/{self.source}" if self.source else "/dev/null")
        lines = difflib.unified_diff(before.splitlines(keepends=True), self.content.splitlines(keepends=True), before_name, f"b/{self.target}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)

    def to_dict(self, *, diff: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"layout": self.layout, "role": self.role, "source": self.source or None, "target": self.target, "overwrites": self.existing is not None}
        if diff:
            data["diff"] = self.diff
        return data


@frozen
class Inventory:
    """Step 1-2: what the source environment has."""

    files: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"files": list(self.files), "stacks": list(self.stacks), "components": list(self.components), "resources": list(self.resources), "keys": list(self.keys)}


@frozen
class PlainFolder:
    """One plain terraform folder of an environment: its backend type and files (relative to the project root)."""

    folder: str
    backend_type: str | None
    varfiles: tuple[str, ...]
    backend_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "backend_type": self.backend_type, "var_files": list(self.varfiles), "backend_files": list(self.backend_files)}


@frozen
class EnvironmentPlan:
    """Everything ``create`` will write and report, computed before any write."""

    source: str
    target: str
    requested: str  # the name as given (a branch name, before normalising)
    layouts: tuple[str, ...]
    inventory: Inventory
    rows: tuple[MappingRow, ...]
    portable: tuple[str, ...]
    context_bound: tuple[str, ...]
    cost: CostReport
    checklist: tuple[str, ...]
    files: tuple[FileChange, ...]
    components: tuple[tuple[str, str], ...]  # (stack, component) of the target whose backends --provision creates, in order
    folders: tuple[PlainFolder, ...] = ()  # the target's plain terraform folders
    commands: tuple[Commands, ...] = ()  # init/plan/apply per component of the target, then of the source
    changes: tuple[ValueChange, ...] = ()
    warnings: tuple[str, ...] = ()
    secrets: frozenset[str] = field(default=frozenset(), eq=False, repr=False)  # values to mask in every output

    @property
    def placeholders(self) -> tuple[ValueChange, ...]:
        return tuple(c for c in self.changes if c.kind == PLACEHOLDER)

    def to_dict(self, *, diff: bool = False) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "requested": self.requested,
            "layouts": list(self.layouts),
            "inventory": self.inventory.to_dict(),
            "mapping": [row.to_dict() for row in self.rows],
            "portable": list(self.portable),
            "context_bound": list(self.context_bound),
            "cost": self.cost.to_dict(self.target),
            "checklist": list(self.checklist),
            "placeholders": [{"file": c.file, "path": c.path, "key": c.key, "value": c.new} for c in self.placeholders],
            "files": [f.to_dict(diff=diff) for f in self.files],
            "components": [{"stack": s, "component": c} for s, c in self.components],
            "folders": [f.to_dict() for f in self.folders],
            "commands": {env: [c.to_dict() for c in self.commands if c.environment == env] for env in (self.target, self.source)},
            "warnings": list(self.warnings),
        }
