"""Text rendering of env results (the JSON form is each result's ``to_dict()``).

The create report follows the seed's steps: inventory, mapping, portable vs context-bound,
cost, manual checklist, files (and, for a dry run, the diff of every file).
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner_core import render_outcomes as outcomes_text
from provisioner_env.commands import Commands
from provisioner_env.create import CreateResult
from provisioner_env.destroy import DestroyResult
from provisioner_env.plan import EnvironmentPlan, MappingRow
from provisioner_env.verify import VerifyResult


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1] for row in rows]


def _bullets(items: Sequence[str], empty: str = "(none)", mark: str = "-") -> list[str]:
    return [f"  {mark} {item}" for item in items] if items else [f"  {empty}"]


def mapping_lines(rows: Sequence[MappingRow]) -> list[str]:
    if not rows:
        return ["  (nothing to map)"]
    table = [("SOURCE", "TARGET", "ACTION", "KIND / WHERE")]
    for row in rows:
        action = row.action + (f" (+${row.monthly_cost:,.2f}/month)" if row.monthly_cost else "")
        kind = row.label or row.kind
        table.append((row.source or "-", row.target, action, f"{kind}: {row.where}" if row.where else kind))
    return _table(table)


def plan_lines(plan: EnvironmentPlan, *, dry_run: bool, checklist: Sequence[str] | None = None) -> list[str]:
    inventory = plan.inventory
    lines = [f"Environment {plan.target} from {plan.source} ({', '.join(plan.layouts)} layout){'  [dry run: nothing written]' if dry_run else ''}", ""]
    lines += ["1. Inventory of " + plan.source]
    lines += [f"  files:      {', '.join(inventory.files)}"]
    if inventory.stacks:
        lines += [f"  stacks:     {', '.join(inventory.stacks)}"]
    lines += [f"  components: {', '.join(inventory.components) or '(none)'}"]
    lines += [f"  resources:  {', '.join(inventory.resources) or '(none declared)'}"]
    lines += [f"  keys:       {', '.join(inventory.keys) or '(none)'}", ""]
    lines += ["2. Mapping (source -> target -> action)", *mapping_lines(plan.rows), ""]
    lines += ["3. Portable (copied as is)", *_bullets(plan.portable)]
    lines += ["   Context-bound (changed for " + plan.target + ")", *_bullets(plan.context_bound), ""]
    warnings = plan.cost.warnings(plan.target)
    lines += [f"4. Cost: {plan.cost.headline(plan.target)}"]
    lines += [f"  {line.text()}" for line in plan.cost.lines]
    if plan.cost.absent:
        lines += [f"  not in {plan.source}, not charged: {', '.join(plan.cost.absent)}"]
    lines += [f"  Warning: {w}" for w in warnings] + [""]
    lines += ["5. Manual checklist", *_bullets(plan.checklist if checklist is None else checklist, mark="[ ]"), ""]
    lines += ["6. Files" + (" (would write)" if dry_run else "")]
    for change in plan.files:
        origin = f"from {change.source}" if change.source else "generated"
        lines.append(f"  {'~' if change.existing is not None else '+'} {change.target} ({origin}{', overwrites the existing file' if change.existing is not None else ''})")
    lines += ["", "7. Commands per environment (a plain folder's init switches the whole folder to that environment's state)"]
    lines += commands_lines(plan.commands)
    for warning in plan.warnings:
        lines.append(f"Warning: {warning}")
    return lines


def commands_lines(commands: Sequence[Commands]) -> list[str]:
    lines: list[str] = []
    for env in dict.fromkeys(c.environment for c in commands):
        lines.append(f"  {env}:")
        for command in (c for c in commands if c.environment == env):
            lines.append(f"    {command.component}:")
            lines += [f"      {line}" for line in command.lines()]
    return lines or ["  (none)"]


def create_text(result: CreateResult) -> str:
    plan = result.plan
    lines = plan_lines(plan, dry_run=result.dry_run, checklist=result.checklist)
    for warning in result.warnings:
        lines.append(f"Warning: {warning}")
    if result.dry_run:
        lines += ["", "Diff:"]
        lines += [change.diff.rstrip("\n") for change in plan.files]
        return "\n".join(lines)
    if result.outcomes:
        lines += ["", "8. Backends provisioned", outcomes_text(result.outcomes)]
    lines += ["", f"Created environment {plan.target}: {len(result.written)} file(s) written."
              + (f" {len(plan.placeholders)} REQUIRED placeholder(s) to fill before terraform runs." if plan.placeholders else "")
              + (f" {len(plan.references)} secret(s) to set: {', '.join(r.variable for r in plan.references)}." if plan.references else "")]
    return "\n".join(lines)


def verify_text(result: VerifyResult) -> str:
    what = "destroyed environment" if result.destroyed else "Environment"
    if result.ok:
        lines = [f"{what[0].upper()}{what[1:]} {result.target} passes every check against {result.source} ({len(result.checks)} checks, "
                 f"{result.units} component(s)): {', '.join(result.checks)}."]
    else:
        lines = [f"{what[0].upper()}{what[1:]} {result.target} fails {len(result.violations)} check(s) against {result.source}:"]
        lines += [f"  [{v.check}] {v.message}" for v in result.violations]
    if result.live is not None:
        lines += ["Live:", *_bullets([c.text() for c in result.live])]
    return "\n".join(lines)


def destroy_text(result: DestroyResult) -> str:
    lines = [f"Destroyed environment {result.target}." if result.done else f"Environment {result.target} would be destroyed:"]
    lines += ["  terraform destroy, in this order:", *_bullets(result.components, mark="  -")]
    if result.skipped:
        lines += ["  skipped:", *_bullets(result.skipped, mark="  -")]
    lines += ["  files " + ("removed:" if result.done else "to remove:"), *_bullets(result.removed if result.done else result.files, mark="  -")]
    if result.folders:
        lines += ["Folders:", *_bullets([f.text() for f in result.folders])]
    if result.commands:
        lines += ["Commands of the other environments there (init first: it switches the folder to that environment's state):", *commands_lines(result.commands)]
    lines += ["What may be left (check and clean up by hand):", *_bullets(result.leftovers)]
    if result.done:
        lines += [f"Check what is left, by name: `provision env verify {result.target} --live`"]
    return "\n".join(lines)
