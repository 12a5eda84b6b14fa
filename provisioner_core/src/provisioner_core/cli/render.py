"""Text rendering of provisioner outcomes (the JSON form is Outcome.to_dict())."""

from __future__ import annotations

from collections.abc import Iterable

from provisioner_core.results import Outcome, Resolution, Status

_MARK = {Status.CREATED: "+", Status.UPDATED: "~", Status.UNCHANGED: "=", Status.SKIPPED: "-", Status.PLANNED: "?"}


def outcome_lines(outcome: Outcome, dry_run: bool = False, *, verbose: bool = False) -> list[str]:
    result = outcome.result
    head = f"{_MARK[result.status]} {outcome.provisioner_type} ({outcome.provisioner}) {outcome.stack}/{outcome.component}: {result.status.value}"
    if result.resource:
        head += f" {result.resource}"
    lines = [head]
    done = [a for a in result.actions if not a.planned]
    planned = [a for a in result.actions if a.planned]
    if done:
        lines.append("  Calls made:")
        lines += [f"    - {action}" for action in done]
    if planned:
        lines.append("  Would make these calls:" if dry_run else "  Would make these calls (report only, not made):")
        lines += [f"    - {action}" for action in planned]
    for drift in result.drift:
        verb = {Resolution.APPLIED: "strengthened", Resolution.KEPT: "kept", Resolution.REPORTED: "reported only", Resolution.PLANNED: "would strengthen"}[drift.resolution]
        reason = f" ({drift.reason})" if drift.reason else ""
        lines.append(f"  Drift: {drift.setting}: expected {drift.expected}, found {drift.actual}: {verb}{reason}")
    if dry_run and result.details:
        lines.append("  Resulting settings:")
        lines += [f"    {key}: {value}" for key, value in result.details.items()]
    lines += [f"  Warning: {warning}" for warning in result.warnings]
    # What the provisioner printed or logged (redacted); debug lines only with -v.
    lines += [f"  {_LABEL.get(m.level, m.level)}: {m.text}" for m in outcome.messages if verbose or m.level != "debug"]
    return lines


_LABEL = {"stdout": "Output", "stderr": "Output", "info": "Info", "warning": "Warning", "error": "Error", "debug": "Debug", "critical": "Error"}


def outcomes_text(outcomes: Iterable[Outcome], dry_run: bool = False, *, verbose: bool = False) -> str:
    lines: list[str] = []
    for outcome in outcomes:
        lines += outcome_lines(outcome, dry_run, verbose=verbose)
    return "\n".join(lines) if lines else "Nothing to provision."
