"""Rendering of ``provision <type> --all``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from provisioner_core.batch import BatchResult, Shard, run_batch
from provisioner_core.cli.render import outcome_lines
from provisioner_core.cli.state import CliState
from provisioner_core.errors import ProvisionerError
from provisioner_core.interrupts import is_interruption


def run_batch_command(state: CliState, provisioner_type: str, stacks: Sequence[str], *, dry_run: bool, jobs: int, shard: str | None, fail_fast: bool, output: str) -> int:
    shard_value = Shard.parse(shard)
    show_progress = output != "json" and sys.stderr.isatty()

    def progress(done: int, total: int, failed: int) -> None:
        if show_progress:
            print(f"\r[{done}/{total}] done, {failed} failed", end="" if done < total else "\n", file=sys.stderr, flush=True)

    result = run_batch(state.provisioning, provisioner_type, list(stacks) or None, dry_run=dry_run, jobs=jobs, shard=shard_value, fail_fast=fail_fast, progress=progress)
    if output == "json":
        state.console.json(result.to_dict())
    else:
        state.console.result(batch_text(result))
        for unit in result.units:
            if unit.error is not None:
                state.console.error(unit.error)
    return result.exit_code


def batch_text(result: BatchResult) -> str:
    lines: list[str] = []
    for unit in result.units:
        names = ", ".join(f"{c.stack}/{c.name}" for c in unit.components[:5]) + (f" and {len(unit.components) - 5} more" if len(unit.components) > 5 else "")
        if unit.error is not None:
            verb = "interrupted" if is_interruption(unit.error) else "failed"
            lines.append(f"! {result.provisioner_type} for {names}: {verb} (exit {unit.error.exit_code}): {unit.error.message}")
        elif not unit.ran:
            why = f"not started (interrupted by {unit.not_started})" if unit.status == "not-started" else "not run (--fail-fast)"
            lines.append(f"- {result.provisioner_type} for {names}: {why}")
        else:
            for outcome in unit.outcomes:
                head, *rest = outcome_lines(outcome, result.dry_run)
                lines.append(f"{head}  [{len(unit.components)} component(s): {names}]")
                lines += rest
    metrics = result.metrics
    failed = sum(1 for u in result.units if u.status == "failed")
    lines.append(
        f"{metrics['distinct_units']} distinct {result.provisioner_type} unit(s) for {metrics['components']} component(s); "
        f"{failed} failed; {metrics['skipped_components']} skipped; {metrics['wall_s']:.2f}s"
        + (f"; shard {result.shard.index}/{result.shard.count}" if result.shard else "")
        + (
            f"; interrupted by {result.interrupted}: {sum(1 for u in result.units if u.status == 'interrupted')} interrupted, "
            f"{sum(1 for u in result.units if u.status == 'not-started')} not started"
            if result.interrupted
            else ""
        )
    )
    return "\n".join(lines)


__all__ = ["ProvisionerError", "run_batch_command"]
