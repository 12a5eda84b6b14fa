"""What ``provision env create`` will do, as frozen values: the seed's seven steps as data.

An EnvironmentPlan is built before anything is written (and is all a dry run does); the
report renders it as text, ``to_dict()`` as JSON, and the env hooks receive it.
"""

from __future__ import annotations

import difflib
from typing import Any

from attrs import field, frozen, validators

from provisioner_env.commands import Commands
from provisioner_env.secrets import SecretReference
from provisioner_env.units import Unit
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
    """One kind of resource in one component of the source: how many the target gets and what they add per month."""

    label: str  # the policy entry, or the resource type when no policy entry names it
    type: str
    isolation: str
    monthly_cost: float | None  # one instance, USD per month; None: no price declared
    delta: float | None  # what the target adds; None: unknown
    instances: int = 1
    component: str = ""  # the source's component (stack/component or var file)
    how: str = ""  # how the instances were counted

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "type": self.type, "isolation": self.isolation, "monthly_cost": self.monthly_cost, "delta": self.delta,
                "instances": self.instances, "component": self.component, "counted": self.how}

    def text(self) -> str:
        if self.isolation != "isolated":
            price = f", ${self.monthly_cost:,.2f}/month" if self.monthly_cost else ""
            return f"{self.label} ({self.type}): shared{price}, one for all environments -> +$0.00"
        where = f" in {self.component}" if self.component else ""
        each = "price unknown" if self.monthly_cost is None else f"${self.monthly_cost:,.2f}/month"
        total = "unknown" if self.delta is None else f"+${self.delta:,.2f}"
        return f"{self.label} ({self.type}){where}: {self.instances} x {each} -> {total}" + (f" ({self.how})" if self.how else "")


@frozen
class CostReport:
    """What the target adds per month; ``delta`` is None (unknown) when a paid kind has no declared price or nothing is priced."""

    lines: tuple[CostLine, ...] = ()
    absent: tuple[str, ...] = ()  # isolated policy kinds the source does not have: not charged
    priced: bool = False  # the policy declares at least one price
    source: str = ""

    @property
    def known_delta(self) -> float:
        return round(sum(line.delta for line in self.lines if line.delta is not None), 2)

    @property
    def unpriced(self) -> tuple[str, ...]:
        """The paid kinds found whose price is not declared."""
        return tuple(dict.fromkeys(f"{line.label} in {line.component}" for line in self.lines if line.delta is None))

    @property
    def delta(self) -> float | None:
        return self.known_delta if self.priced and not self.unpriced else None

    def headline(self, target: str) -> str:
        if self.delta is not None:
            return f"+${self.delta:,.2f}/month for {target}"
        at_least = f" (at least +${self.known_delta:,.2f}/month)" if self.known_delta else ""
        if not self.priced:
            found = f"; paid kinds found: {', '.join(self.unpriced)}" if self.unpriced else ""
            return f"unknown for {target}: no prices declared (environments.resources.<kind>.monthly_cost){found}"
        return f"unknown for {target}{at_least}: no price declared for {', '.join(self.unpriced)}"

    def warnings(self, target: str) -> list[str]:
        return [f"{line.label} ({line.type}) is isolated: {target} gets its own, about +${line.delta:,.2f}/month"
                + (f" ({line.instances} instances)" if line.instances > 1 else "") for line in self.lines if line.delta]

    def to_dict(self, target: str) -> dict[str, Any]:
        return {"delta_per_month": self.delta, "known_delta_per_month": self.known_delta, "currency": "USD", "summary": self.headline(target),
                "lines": [line.to_dict() for line in self.lines], "absent": list(self.absent), "unpriced": list(self.unpriced),
                "warnings": self.warnings(target)}


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
    references: tuple[SecretReference, ...] = ()  # the target's isolated values, written as references to variables
    changes: tuple[ValueChange, ...] = ()
    warnings: tuple[str, ...] = ()
    secrets: frozenset[str] = field(default=frozenset(), eq=False, repr=False)  # values to mask in every output
    units: tuple[Unit, ...] = field(default=(), eq=False, repr=False)  # both environments' components (verify --live after destroy)

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
            "secrets": [r.to_dict() for r in self.references],
            "files": [f.to_dict(diff=diff) for f in self.files],
            "components": [{"stack": s, "component": c} for s, c in self.components],
            "folders": [f.to_dict() for f in self.folders],
            "commands": {env: [c.to_dict() for c in self.commands if c.environment == env] for env in (self.target, self.source)},
            "warnings": list(self.warnings),
        }
