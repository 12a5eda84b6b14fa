"""The mapping table (source -> target -> action) and the name rules both create and verify apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from attrs import frozen

from provisioner_core import BackendType, NameRule
from provisioner_env.names import name_problems
from provisioner_env.plan import CLONE_RENAME, NEW_PAID, SEPARATE_STATE, SHARED, CostLine, CostReport, MappingRow
from provisioner_env.policy import ISOLATED, EnvironmentPolicy, ResourcePolicy, render_name
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
                    action = NEW_PAID if resource.monthly_cost > 0 else CLONE_RENAME
                    if source_name == target_name and (resource.label, source_name, target_name) not in seen:
                        findings.append(Finding(SAME_NAME, f"isolated resource {resource.label} ({resource.type}) keeps the name '{source_name}' in both environments ({where})"))
                else:
                    action = SHARED
                    if source_name != target_name and (resource.label, source_name, target_name) not in seen:
                        warnings.append(f"shared resource {resource.label} gets another name in the target ('{source_name}' -> '{target_name}'): it would not be shared")
                add(MappingRow(resource.type, source_name, target_name, action, where, resource.monthly_cost if resource.isolation == ISOLATED else 0.0, resource.label), resource.max_length)
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


def cost_report(policy: EnvironmentPolicy) -> CostReport:
    """Each policy resource's monthly cost; isolated ones add theirs to the target."""
    return CostReport(tuple(
        CostLine(r.label, r.type, r.isolation, r.monthly_cost, r.monthly_cost if r.isolation == ISOLATED else 0.0) for r in policy.resources
    ))
