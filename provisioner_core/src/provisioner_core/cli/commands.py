"""The built-in subcommands: plugins, describe, list, and one command per provisioner type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import click

from provisioner_core.cli.complete import complete_components, complete_stacks
from provisioner_core.cli.render import outcomes_text
from provisioner_core.cli.state import CliState
from provisioner_core.errors import EXIT_GENERAL, ProvisionerError
from provisioner_core.interrupts import RunInterrupted
from provisioner_core.redaction import masker, redact_mapping
from provisioner_core.runner import DEFAULT_TIMEOUT_S, EventFailed
from provisioner_core.schema import OptionRow, json_schema, option_rows

FuncT = TypeVar("FuncT", bound=Callable[..., Any])


def _remember_output(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # Eager: known before a missing option fails, so that error gets the JSON envelope too.
    ctx.ensure_object(CliState).output = value
    return value


def output_option(*formats: str, help: str = "Output format.") -> Callable[[FuncT], FuncT]:
    """``-o/--output``: every command's, so an error with ``-o json`` prints the one JSON envelope (cli.main)."""
    return click.option("-o", "--output", type=click.Choice(list(formats)), default=formats[0], show_default=True, is_eager=True, callback=_remember_output, help=help)


OUTPUT = output_option("text", "json")


def state_of(ctx: click.Context) -> CliState:
    """The run's CLI state (console, registry, Provisioning): what a plugin's command uses."""
    return ctx.ensure_object(CliState)


@click.command("plugins")
@click.option("--options", "options_of", default=None, metavar="TYPE", help="List the options of the provisioners of TYPE (name, type, default, description).")
@OUTPUT
@click.pass_context
def plugins_command(ctx: click.Context, options_of: str | None, output: str) -> None:
    """List installed plugins: distribution, version, provisioners, events, status (exit 1 when one failed)."""
    state = state_of(ctx)
    if options_of is not None:
        _print_options(state, options_of, output)
        return
    infos = state.registry.plugins()
    if output == "json":
        state.console.json({"plugins": [i.to_dict() for i in infos], "events": state.registry.events()})
    else:
        rows = [("NAME", "DISTRIBUTION", "VERSION", "STATUS", "PROVISIONERS", "EVENTS")]
        for info in infos:
            provs = ", ".join(f"{p.name} ({p.type}{': ' + '/'.join(p.backend_types) if p.backend_types else ''})" for p in info.provisioners) or "-"
            events = ", ".join(sorted({e for p in info.provisioners for e in p.events})) or "-"
            rows.append((info.name, info.distribution, info.version, info.status, provs, events))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            state.console.result("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
        for info in infos:
            if info.reason:
                state.console.result(f"{info.name}: {info.status}: {info.reason}")
    failed = [info for info in infos if info.status == "failed"]
    for info in failed:
        if state.debug and info.traceback:
            print(info.traceback, file=state.console.err)
    if failed:
        # A broken install must not look healthy to a script or a CI step.
        ctx.exit(EXIT_GENERAL)


def _print_options(state: CliState, provisioner_type: str, output: str) -> None:
    specs = [rp.spec for rp in state.registry.provisioners() if rp.spec.type == provisioner_type]
    if not specs:
        state.provisioning.check_type(provisioner_type)
    tables = {}
    for spec in specs:
        rows = [OptionRow("enabled", "bool", "False", "run this provisioner for the component (core's)"),
                OptionRow("timeout", "float", repr(spec.timeout_s or DEFAULT_TIMEOUT_S), "seconds per run (core's)")]  # fmt: skip
        rows += option_rows(spec.options) if spec.options is not None else []
        tables[spec.name] = rows
    if output == "json":
        state.console.json({"type": provisioner_type, "provisioners": {
            name: {"options": [attrs.asdict(row) for row in rows], "schema": json_schema(spec.options) if spec.options else None}
            for (name, rows), spec in zip(tables.items(), specs, strict=True)
        }})  # fmt: skip
        return
    for (name, rows), spec in zip(tables.items(), specs, strict=True):
        state.console.result(f"{name} (provision.{provisioner_type}" + (f", backend_type: {'/'.join(spec.backend_types)}" if spec.backend_types else "") + ")")
        if spec.options is None:
            rows.append(OptionRow("...", "", "", "this provisioner declares no option schema: see its documentation"))
        width = max(len(r.name) for r in rows)
        for row in rows:
            state.console.result(f"  {row.name.ljust(width)}  {row.type}  default {row.default}  {row.description}")


@click.command("describe")
@click.argument("component", shell_complete=complete_components)
@click.option("-s", "--stack", required=True, help="Stack name.", shell_complete=complete_stacks)
@output_option("yaml", "json")
@click.pass_context
def describe_command(ctx: click.Context, component: str, stack: str, output: str) -> None:
    """Show a component's resolved sections (secrets redacted). COMPONENT may be a path: `.` is the component of this folder."""
    state = state_of(ctx)
    if component in (".", "..") or component.startswith(("./", "../", "/")):
        from pathlib import Path

        component = state.provisioning.stacks.component_for_path(stack, ((state.cwd or Path.cwd()) / component).resolve())
    resolved = state.provisioning.component(stack, component)
    sections = redact_mapping(
        {**resolved.sections(), "command": state.provisioning.config.terraform_command},
        masker(state.provisioning.hidden_values(resolved), state.provisioning.redactor),
    )
    if output == "json":
        state.console.json(sections)
        return
    state.console.yaml(sections)


@click.group("list")
def list_group() -> None:
    """List stacks or components."""


@list_group.command("stacks")
@OUTPUT
@click.pass_context
def list_stacks(ctx: click.Context, output: str) -> None:
    """List stack names."""
    state = state_of(ctx)
    # As Atmos: a stack without terraform components is not listed.
    stacks = {name: s for name, s in state.provisioning.stacks.stacks().items() if s.raw_components()}
    if output == "json":
        state.console.json({"stacks": [{"name": s.name, "file": s.relative} for s in sorted(stacks.values(), key=lambda s: s.name)]})
        return
    for name in sorted(stacks):
        state.console.result(name)


@list_group.command("components")
@click.option("-s", "--stack", "stacks", multiple=True, help="Only these stacks (repeatable).", shell_complete=complete_stacks)
@OUTPUT
@click.pass_context
def list_components(ctx: click.Context, stacks: tuple[str, ...], output: str) -> None:
    """List components per stack, with backend type and enabled provisioners."""
    state = state_of(ctx)
    rows: list[dict[str, Any]] = []
    for component in state.provisioning.components(list(stacks) or None, outline=True):
        enabled = sorted(k for k, v in component.provision.items() if isinstance(v, dict) and v.get("enabled") is True)
        rows.append(
            {"stack": component.stack, "component": component.name, "terraform_component": component.terraform_component,
             "backend_type": component.backend_type, "workspace": component.workspace, "abstract": component.abstract,
             "disabled": component.disabled, "provision": enabled}
        )
    if output == "json":
        state.console.json({"components": rows})
        return
    for row in rows:
        extra = " (abstract)" if row["abstract"] else " (disabled)" if row["disabled"] else ""
        state.console.result(f"{row['stack']}\t{row['component']}\t{row['backend_type'] or '-'}\t{','.join(row['provision']) or '-'}{extra}")


def make_provision_command(provisioner_type: str, description: str = "") -> click.Command:
    """``provision <type> <component> -s STACK``: run one provisioner type explicitly."""

    @click.command(provisioner_type, help=description or f"Run the '{provisioner_type}' provisioner for a component explicitly.")
    @click.argument("component", required=False, shell_complete=complete_components)
    @click.option("-s", "--stack", "stacks", multiple=True, help="Stack name (repeatable with --all).", shell_complete=complete_stacks)
    @click.option("--dry-run", is_flag=True, help="Report every call it would make; make no write call.")
    @click.option("--all", "all_components", is_flag=True, help="Every enabled component of the selected stacks (all stacks by default); each shared backend once.")
    @click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="With --all: distinct backends provisioned at once.")
    @click.option("--shard", default=None, metavar="K/N", help="With --all: only the K-th of N deterministic shares of the distinct backends (a CI matrix).")
    @click.option("--fail-fast", is_flag=True, help="With --all: stop at the first failure.")
    @click.option("--matrix", "matrix", type=click.IntRange(1, 256), default=None, metavar="N", help="With --all: print the CI matrix of N shards (each runnable as --shard K/N); run nothing.")
    @click.option("--matrix-format", type=click.Choice(["github", "gitlab"]), default="github", show_default=True, help="With --matrix: GitHub Actions strategy.matrix or GitLab parallel:matrix.")
    @OUTPUT
    @click.pass_context
    def command(ctx: click.Context, component: str | None, stacks: tuple[str, ...], dry_run: bool, all_components: bool, jobs: int, shard: str | None,
                fail_fast: bool, matrix: int | None, matrix_format: str, output: str) -> None:  # fmt: skip
        state = state_of(ctx)
        state.console.quiet = state.console.quiet or output == "json"
        if matrix is not None:
            if not all_components or component or shard is not None:
                raise click.UsageError("--matrix needs --all (and no COMPONENT or --shard)")
            from provisioner_core.cli.batch_command import print_matrix

            print_matrix(state, provisioner_type, stacks, matrix, matrix_format, output)
            return
        if all_components:
            if component:
                raise click.UsageError("give either a COMPONENT or --all, not both")
            from provisioner_core.cli.batch_command import run_batch_command

            ctx.exit(run_batch_command(state, provisioner_type, stacks, dry_run=dry_run, jobs=jobs, shard=shard, fail_fast=fail_fast, output=output))
        if shard is not None:
            raise click.UsageError("--shard needs --all")
        if not component:
            raise click.UsageError("give a COMPONENT (or --all)")
        if len(stacks) != 1:
            raise click.UsageError("give exactly one -s/--stack for one component")
        stack = stacks[0]
        state.console.status(f"{'Planning' if dry_run else 'Running'} {provisioner_type} provisioner for {component} in {stack}...")
        try:
            outcomes = state.provisioning.provision(provisioner_type, stack, component, dry_run=dry_run)
            if state.stop.requested:
                # What was running when the signal came finished within the grace: report it, then the stop.
                raise RunInterrupted(f"interrupted by {state.stop.name} while {provisioner_type} ran for {stack}/{component}; it finished first",
                                     signum=state.stop.signum, hint="Nothing else was left to run.", outcomes=outcomes)  # fmt: skip
        except ProvisionerError as error:
            if output != "json" and isinstance(error, RunInterrupted) and error.outcomes:
                state.console.result(outcomes_text(list(error.outcomes), dry_run, verbose=state.console.verbose))
            if output == "json":
                done = error.outcomes if isinstance(error, (EventFailed, RunInterrupted)) else ()
                state.console.json({"type": provisioner_type, "stack": stack, "component": component, "dry_run": dry_run, "ok": False,
                                    "results": [o.to_dict() for o in done], "error": error.to_dict()})
            raise
        if output == "json":
            state.console.json({"type": provisioner_type, "stack": stack, "component": component, "dry_run": dry_run, "ok": True,
                                "results": [o.to_dict() for o in outcomes], "error": None})
            return
        state.console.result(outcomes_text(outcomes, dry_run, verbose=state.console.verbose))

    return command
