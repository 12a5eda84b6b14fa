"""Rendering of ``provision <type> --all``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import click

from provisioner_core.batch import BatchResult, Shard, Unit, plan_matrix, run_batch
from provisioner_core.cli.render import outcome_lines
from provisioner_core.cli.state import CliState
from provisioner_core.errors import ProvisionerError


def run_batch_command(state: CliState, provisioner_type: str, stacks: Sequence[str], *, dry_run: bool, jobs: int, shard: str | None, fail_fast: bool, output: str) -> int:
    shard_value = Shard.parse(shard)
    quiet = state.console.quiet or output == "json"
    with contextlib.ExitStack() as stack:
        if quiet:
            planned, finished = None, None
        elif state.console.err.isatty():
            planned, finished = _progress_bar(stack, state, provisioner_type)
        else:
            # A CI log: one line per unit as it ends, so a long run shows its progress (and where it hangs).
            planned, finished = None, lambda unit, done, total: state.console.status(unit_line(unit, done, total))
        result = run_batch(state.provisioning, provisioner_type, list(stacks) or None, dry_run=dry_run, jobs=jobs, shard=shard_value,
                           fail_fast=fail_fast, planned=planned, finished=finished)  # fmt: skip
    if output == "json":
        state.console.json(result.to_dict())
    else:
        state.console.result(batch_text(result, quiet=state.console.quiet))
        for unit in result.units:
            if unit.error is not None:
                state.console.error(unit.error)
    return result.exit_code


def _progress_bar(stack: contextlib.ExitStack, state: CliState, provisioner_type: str) -> tuple[Callable[[int], None], Callable[[Unit, int, int], None]]:
    """A terminal's live bar (click's), labelled with the last unit that ended."""
    bars: list[Any] = []

    def planned(total: int) -> None:
        bar: Any = click.progressbar(length=total, label=f"{provisioner_type} --all", file=state.console.err, show_pos=True, show_eta=False,
                                item_show_func=lambda text: state.console.redactor(text) if text else None)  # fmt: skip
        bars.append(stack.enter_context(bar))

    def finished(unit: Unit, _done: int, _total: int) -> None:
        if bars:
            bars[0].update(1, f"{_names(unit, 1)}: {unit.status}")

    return planned, finished


def _names(unit: Unit, shown: int) -> str:
    names = ", ".join(f"{c.stack}/{c.name}" for c in unit.components[:shown])
    return names + (f" (+{len(unit.components) - shown} more)" if len(unit.components) > shown else "")


def unit_line(unit: Unit, done: int, total: int) -> str:
    """``[12/120] dev/vpc: unchanged <its resource>  0.21 s``: one finished unit, for a log."""
    if unit.error is not None:
        what = f"{unit.status} (exit {unit.error.exit_code}): {' '.join(unit.error.message.split())}"
    else:
        resources = sorted({o.result.resource for o in unit.outcomes if o.result.resource})
        what = unit.status + (f" {', '.join(resources)}" if resources else "")
    return f"[{done}/{total}] {_names(unit, 1)}: {what}  {unit.duration_s:.2f} s"


def print_matrix(state: CliState, provisioner_type: str, stacks: Sequence[str], count: int, matrix_format: str, output: str) -> None:
    """``--matrix N``: the shards, in the CI's matrix shape (JSON), or one line per shard (text)."""
    shards = plan_matrix(state.provisioning, provisioner_type, list(stacks) or None, count)
    rows = [{"shard": f"{shard.index}/{shard.count}", "units": len(units), "components": sum(len(u.components) for u in units)} for shard, units in shards]
    if output != "json":
        for row in rows:
            state.console.result(f"--shard {row['shard']}: {row['units']} unit(s), {row['components']} component(s)")
        return
    if matrix_format == "gitlab":
        # parallel:matrix takes one mapping per job; its values must be strings (or lists of them).
        state.console.json({"parallel": {"matrix": [{"SHARD": r["shard"], "UNITS": str(r["units"]), "COMPONENTS": str(r["components"])} for r in rows]}})
    else:
        state.console.json({"include": rows})


def batch_text(result: BatchResult, *, quiet: bool = False) -> str:
    """The run's result; ``quiet``: the failed units and the summary only."""
    lines: list[str] = []
    for unit in result.units:
        if quiet and unit.error is None:
            continue
        names = ", ".join(f"{c.stack}/{c.name}" for c in unit.components[:5]) + (f" and {len(unit.components) - 5} more" if len(unit.components) > 5 else "")
        if unit.error is not None:
            lines.append(f"! {result.provisioner_type} for {names}: {unit.status} (exit {unit.error.exit_code}): {unit.error.message}")
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
