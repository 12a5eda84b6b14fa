"""The mapping table (source -> target -> action) and the name rules both create and verify apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from provisioner_core import BackendType, ConfigError, NameRule
from provisioner_env.inventory import PAID_KINDS, CodeResource, Count, code_of, count_of
from provisioner_env.layouts import TFVARS
from provisioner_env.names import name_problems
from provisioner_env.plan import CLONE_RENAME, NEW_PAID, SEPARATE_STATE, SHARED, CostLine, CostReport, MappingRow
from provisioner_env.policy import ISOLATED, EnvironmentPolicy, ResourcePolicy, render_name
from provisioner_env.policy import SHARED as SHARED_KIND
from provisioner_env.units import Side, Unit

NAME_LIMIT = "name-limit"
SAME_NAME = "same-name"
SAME_STATE = "same-state"


@frozen
class Finding:
    """One broken rule: which check, and a one-line message naming the offending value."""

    check: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "message": self.message}


def _names(resource: ResourcePolicy, side: Side) -> list[str | None]:
    """One entry per template, then per var (None where the side cannot name it)."""
    names = [render_name(t, side.vars) for t in resource.names]
    for var in resource.vars:
        value = side.vars.get(var)
        names.append(str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "" else None)
    return names


def policy_names(resource: ResourcePolicy, side: Side) -> list[str]:
    """The names one side gives a policy resource: rendered templates, then the values of its vars."""
    return [n for n in _names(resource, side) if n]


def name_pairs(resource: ResourcePolicy, source: Side, target: Side) -> list[tuple[str, str]]:
    """(source name, target name) for each template and var both sides can render."""
    return [(s, t) for s, t in zip(_names(resource, source), _names(resource, target), strict=True) if s and t]


def mapping_rows(units: Iterable[Unit], policy: EnvironmentPolicy, backend_types: Mapping[str, BackendType]) -> tuple[list[MappingRow], list[Finding], list[str]]:
    """Rows for the policy's resources, the backends' named resources and the state; broken rules; warnings."""
    rows: list[MappingRow] = []
    findings: list[Finding] = []
    warnings: list[str] = []
    seen: set[tuple[str, str, str]] = set()

    def add(row: MappingRow, max_length: int | None = None, rule: NameRule | None = None) -> None:
        key = (row.label or row.kind, row.source, row.target)
        if key in seen:
            return
        seen.add(key)
        rows.append(row)
        for problem in name_problems(row.kind, row.target, max_length, rule):
            findings.append(Finding(NAME_LIMIT, f"{row.kind} name '{row.target}' ({row.where}) {problem}"))

    for unit in units:
        target = unit.target
        if target is None:
            continue
        where = f"{unit.source.label} -> {target.label}"
        for resource in policy.resources:
            if resource.component is not None and resource.component != unit.name:
                continue
            for source_name, target_name in name_pairs(resource, unit.source, target):
                if resource.isolation == ISOLATED:
                    action = NEW_PAID if (resource.monthly_cost or 0) > 0 else CLONE_RENAME
                    same = source_name.lower() == target_name.lower() if resource.ignores_case else source_name == target_name
                    if same and (resource.label, source_name, target_name) not in seen:
                        differs = f" ('{target_name}' is the same name to {resource.type}, which ignores case)" if source_name != target_name else ""
                        findings.append(Finding(SAME_NAME, f"isolated resource {resource.label} ({resource.type}) keeps the name '{source_name}' in both environments{differs} ({where})"))
                else:
                    action = SHARED
                    if source_name != target_name and (resource.label, source_name, target_name) not in seen:
                        warnings.append(f"shared resource {resource.label} gets another name in the target ('{source_name}' -> '{target_name}'): it would not be shared")
                add(MappingRow(resource.type, source_name, target_name, action, where, (resource.monthly_cost or 0.0) if resource.isolation == ISOLATED else 0.0, resource.label), resource.max_length)
        definition = backend_types.get(target.backend_type or "")
        for setting, rule in (definition.name_rules if definition is not None else {}).items():
            source_value, target_value = unit.source.backend.get(setting), target.backend.get(setting)
            if isinstance(target_value, str) and target_value:
                action = SHARED if source_value == target_value else CLONE_RENAME
                add(MappingRow(rule.kind or setting, str(source_value or ""), target_value, action, f"backend.{setting} of {target.label}"), rule=rule)
        if unit.source.state == target.state:
            findings.append(Finding(SAME_STATE, f"{target.label} keeps its state at {target.state}, the same place as {unit.source.label}"))
        add(MappingRow("state", unit.source.state, target.state, SEPARATE_STATE, target.label))
    return rows, findings, warnings


def cost_report(units: Iterable[Unit], policy: EnvironmentPolicy, root: Path, source: str) -> tuple[CostReport, list[str]]:
    """What the target adds per month, counted from what the source has; and warnings (code that could not be read).

    Per component: each isolated policy kind's instances (the ``resource`` blocks of its type
    in the component's code, ``count``/``for_each`` evaluated from the environment's vars; else
    the names its templates and vars render), times its declared price. A kind found nowhere
    is not charged. A kind that bills while idle without a declared price makes the total
    unknown, and is listed; shared kinds add nothing.
    """
    code: dict[Path, tuple[list[CodeResource], dict[str, Any]]] = {}
    lines: list[CostLine] = []
    warnings: list[str] = []
    found: set[str] = set()
    named: dict[str, set[str]] = {}  # label -> names already counted (one name is one resource, whichever component renders it)
    for unit in units:
        side = unit.target or unit.source
        folder = root / unit.source.folder
        if folder not in code:
            try:
                code[folder] = code_of(folder, root) if folder.is_dir() else ([], {})
            except ConfigError as error:
                warnings.append(f"cost: {error.message}; its resources are not counted")
                code[folder] = ([], {})
        resources, defaults = code[folder]
        origin = side.file if unit.layout == TFVARS else f"stack {side.stack}"
        component = unit.source.folder if unit.layout == TFVARS else unit.source.label
        counts: dict[str, list[tuple[CodeResource, Count]]] = {}
        for resource in resources:
            counts.setdefault(resource.type, []).append((resource, count_of(resource, side.vars, defaults, origin)))
        covered: set[str] = set()
        for kind in policy.resources:
            if kind.component is not None and kind.component != unit.name:
                continue
            covered.add(kind.type)
            if kind.type in counts:
                instances, how = _counted(counts[kind.type])
            else:
                names = sorted(set(policy_names(kind, unit.source)) - named.setdefault(kind.label, set()))
                named[kind.label].update(names)
                instances, how = len(names), ("named " + ", ".join(names)) if names else ""
            if kind.isolation == SHARED_KIND:
                continue
            if not instances:
                continue
            found.add(kind.label)
            price = kind.monthly_cost if kind.monthly_cost is not None else (None if kind.type in PAID_KINDS else 0.0)
            lines.append(CostLine(kind.label, kind.type, ISOLATED, price, None if price is None else round(price * instances, 2), instances, component, how))
        for kind_type, counted in counts.items():
            if kind_type in covered or kind_type not in PAID_KINDS:
                continue
            instances, how = _counted(counted)
            if instances:
                lines.append(CostLine(kind_type, kind_type, ISOLATED, None, None, instances, component, f"{how} ({counted[0][0].where})"))
    for kind in policy.resources:
        if kind.isolation == SHARED_KIND:
            lines.append(CostLine(kind.label, kind.type, SHARED_KIND, kind.monthly_cost, 0.0, 0, "", "one for all environments"))
    absent = tuple(f"{k.label} ({k.type})" for k in policy.resources if k.isolation == ISOLATED and k.label not in found)
    priced = any(k.monthly_cost is not None for k in policy.resources)
    return CostReport(tuple(lines), absent, priced, source), warnings


def _counted(counted: list[tuple[CodeResource, Count]]) -> tuple[int, str]:
    """Instances of one kind in a component (a count that cannot be evaluated counts as one)."""
    total = sum(1 if c.instances is None else c.instances for _, c in counted)
    how = "; ".join(f"{r.name}: {c.how}" + (", counted as 1" if c.instances is None else "") for r, c in counted)
    return total, how
