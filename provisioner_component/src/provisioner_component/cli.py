"""``provision component …``: pull (one component or ``--all``), list, describe, delete.

Registered through core's ``register_commands`` (see plugin.py)::

    provision component vpc -s dev [--dry-run] [--force]   # = provision component pull vpc -s dev
    provision component --all [-s dev …] [--jobs 4]        # each distinct (source, ref) fetched once
    provision component list [-s dev …]                     # what is vendored: lock state, drift
    provision component describe vpc -s dev                 # source, lock entry, local edits
    provision component delete vpc -s dev --force           # remove the working folder and its lock entry

``pull`` runs the provisioner the way every ``provision <type>`` command does, through
``Provisioning.provision`` (core's checks, typed options, captured output, timeouts); ``--all``
runs it for every component that enables it, ``--jobs`` at a time, sharing one engine per run
so each source is fetched once. The engine is imported inside the commands: listing plugins
(which builds the command list) never loads it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from provisioner_component.plugin import FORCE, SECTION, TYPE, git_credentials, vendorer
from provisioner_core import (
    OUTPUT_OPTION,
    CliState,
    ConfigError,
    EventFailed,
    Outcome,
    ProvisionerError,
    ResolvedComponent,
    cli_state,
    complete_components,
    complete_stacks,
    render_outcomes,
)

if TYPE_CHECKING:
    from provisioner_component.config import ComponentSource
    from provisioner_component.vendor import Vendorer

DEFAULT_JOBS = 4
STACK_OPTION = click.option("-s", "--stack", "stacks", multiple=True, help="Stack name (repeatable with --all and list).", shell_complete=complete_stacks)


class _PullByDefault(click.Group):
    """``provision component vpc -s dev`` means ``provision component pull vpc -s dev``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["pull", *args]
        return super().parse_args(ctx, args)


@click.group("component", cls=_PullByDefault)
def component_commands() -> None:
    """Vendor components' Terraform sources into per-stack working folders (pinned, locked, verified).

    \b
    provision component vpc -s dev [--dry-run] [--force]
    provision component --all [-s dev]
    provision component list | describe vpc -s dev | delete vpc -s dev --force
    """


def _one(state: CliState, component_name: str, stacks: tuple[str, ...]) -> ResolvedComponent:
    if len(stacks) != 1:
        raise click.UsageError("give exactly one -s/--stack for one component")
    return state.provisioning.component(stacks[0], component_name)


def _enabled(state: CliState, stacks: tuple[str, ...]) -> Iterator[ResolvedComponent]:
    """Every runnable component of ``stacks`` (all by default) that enables the provisioner (or sets source:)."""
    for name in stacks:
        state.provisioning.stacks.stack(name)  # unknown stacks fail up front, with close matches
    for component in state.provisioning.components(list(stacks) or None):
        if component.abstract or component.disabled or not component.is_enabled(TYPE):
            continue
        yield component


def _source_of(component: ResolvedComponent) -> ComponentSource | None:
    from provisioner_component.config import resolve_source

    return resolve_source(component.provision_options(TYPE), component.plugin_sections.get(SECTION))


def _engine(state: CliState, component: ResolvedComponent | None = None) -> Vendorer:
    provisioning = state.provisioning
    credentials = git_credentials(provisioning.auth(component)) if component is not None else None
    return vendorer(provisioning.clients, provisioning.config.root, credentials)


# --- pull -----------------------------------------------------------------------------------


@component_commands.command("pull")
@click.argument("component", required=False, shell_complete=complete_components)
@STACK_OPTION
@click.option("--all", "all_components", is_flag=True, help="Every component of the selected stacks (all by default) that enables it; each distinct source fetched once.")
@click.option("--dry-run", is_flag=True, help="Say what would be vendored; no write, no network call, no git run.")
@click.option("--force", is_flag=True, help="Overwrite local edits and resolve the ref again (a branch moves to its current commit).")
@click.option("--jobs", type=click.IntRange(1, 32), default=DEFAULT_JOBS, show_default=True, help="With --all: components vendored at once.")
@OUTPUT_OPTION
@click.pass_context
def pull_command(ctx: click.Context, component: str | None, stacks: tuple[str, ...], all_components: bool, dry_run: bool, force: bool, jobs: int, output: str) -> None:
    """Vendor COMPONENT's source into its working folder (the default subcommand)."""
    state = cli_state(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    # The run reads it (core hands the context to the provisioner's thread); reset after, so a
    # later run in the same process (provision terraform, a Python tool) never inherits --force.
    token = FORCE.set(force)
    try:
        if all_components:
            if component:
                raise click.UsageError("give either a COMPONENT or --all, not both")
            ctx.exit(_pull_all(state, stacks, dry_run=dry_run, jobs=jobs, output=output))
        if not component:
            raise click.UsageError("give a COMPONENT (or --all)")
        if len(stacks) != 1:
            raise click.UsageError("give exactly one -s/--stack for one component")
        _pull_one(state, component, stacks[0], dry_run=dry_run, output=output)
    finally:
        FORCE.reset(token)


def _pull_one(state: CliState, component: str, stack: str, *, dry_run: bool, output: str) -> None:
    state.console.status(f"{'Planning' if dry_run else 'Vendoring'} {component} in {stack}...")
    try:
        outcomes = state.provisioning.provision(TYPE, stack, component, dry_run=dry_run)
    except ProvisionerError as error:
        if output == "json":
            done = error.outcomes if isinstance(error, EventFailed) else ()
            state.console.json(_document(stack, component, dry_run, list(done), error))
        raise
    if output == "json":
        state.console.json(_document(stack, component, dry_run, outcomes, None))
        return
    state.console.result(render_outcomes(outcomes, dry_run))


def _document(stack: str, component: str, dry_run: bool, outcomes: list[Outcome], error: ProvisionerError | None) -> dict[str, Any]:
    # The same shape as every `provision <type>` command's JSON.
    return {"type": TYPE, "stack": stack, "component": component, "dry_run": dry_run, "ok": error is None,
            "results": [o.to_dict() for o in outcomes], "error": None if error is None else error.to_dict()}  # fmt: skip


def _pull_all(state: CliState, stacks: tuple[str, ...], *, dry_run: bool, jobs: int, output: str) -> int:
    from concurrent.futures import ThreadPoolExecutor  # only --all needs threads: listing plugins stays cheap

    components = list(_enabled(state, stacks))
    # Nothing runs when one of them would write another's state (core's guard, once for the batch).
    state.provisioning.check_state_collisions(components)
    results: list[tuple[ResolvedComponent, list[Outcome], ProvisionerError | None]] = []

    def pull(component: ResolvedComponent) -> tuple[ResolvedComponent, list[Outcome], ProvisionerError | None]:
        try:
            return component, state.provisioning.provision(TYPE, component.stack, component.name, dry_run=dry_run), None
        except ProvisionerError as error:  # one component's failure does not stop the others
            return component, list(error.outcomes) if isinstance(error, EventFailed) else [], error

    context = contextvars.copy_context()  # --force reaches every worker
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="component") as pool:
        results = list(pool.map(lambda c: context.copy().run(pull, c), components))
    fetches = sum(_engine(state, c).fetcher.fetches for c in _distinct_credentials(state, components))
    # The highest code is reported: 5 network > 4 conflict > 3 permission > 2 config > 1 general.
    exit_code = max((error.exit_code for _, _, error in results if error is not None), default=0)
    counts: dict[str, int] = {}
    for _, outcomes, error in results:
        status = "failed" if error is not None else ",".join(sorted({o.result.status.value for o in outcomes})) or "unchanged"
        counts[status] = counts.get(status, 0) + 1
    if output == "json":
        state.console.json(
            {"type": TYPE, "dry_run": dry_run, "ok": exit_code == 0, "exit_code": exit_code,
             "results": [{"stack": c.stack, "component": c.name, "ok": e is None, "results": [o.to_dict() for o in o_], "error": None if e is None else e.to_dict()}
                         for c, o_, e in results],
             "metrics": {"components": len(results), "fetches": fetches, "jobs": jobs, "statuses": counts}}
        )  # fmt: skip
        return exit_code
    lines = [render_outcomes(outcomes, dry_run) for _, outcomes, error in results if error is None]
    for component, _, error in results:
        if error is not None:
            lines.append(f"! {TYPE} {component.stack}/{component.name}: failed (exit {error.exit_code}): {error.message}")
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines.append(f"{len(results)} components ({summary or 'none'}); {fetches} source fetches")
    state.console.result("\n".join(lines))
    for _, _, error in results:
        if error is not None:
            state.console.error(error)
    return exit_code


def _distinct_credentials(state: CliState, components: list[ResolvedComponent]) -> list[ResolvedComponent]:
    """One component per distinct git identity: each has its own engine (and fetch counter) in the run."""
    seen: dict[str, ResolvedComponent] = {}
    for component in components:
        credentials = git_credentials(state.provisioning.auth(component))
        seen.setdefault(credentials.fingerprint() if credentials else "", component)
    return list(seen.values())


# --- list, describe, delete -----------------------------------------------------------------


@component_commands.command("list")
@STACK_OPTION
@OUTPUT_OPTION
@click.pass_context
def list_command(ctx: click.Context, stacks: tuple[str, ...], output: str) -> None:
    """List the components that vendor a source: working folder, lock state and local edits."""
    state = cli_state(ctx)
    engine = _engine(state)
    rows = []
    for component in _enabled(state, stacks):
        source = _source_of(component)
        row = engine.inspect(engine.target(component.stack, component.name), source).to_dict()
        row["source"] = source.label() if source else None
        rows.append(row)
    if output == "json":
        state.console.json({"components": rows})
        return
    for row in rows:
        resolved = row["resolved"] or {}
        pin = resolved.get("commit", "")[:12] or resolved.get("archive_sha256", "")[:19] or resolved.get("source_tree", "")[:19]
        state.console.result(f"{row['stack']}\t{row['component']}\t{row['state']}\t{row['source'] or '-'}\t{pin or '-'}")


@component_commands.command("describe")
@click.argument("component", shell_complete=complete_components)
@STACK_OPTION
@click.option("-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True, help="Output format.")
@click.pass_context
def describe_command(ctx: click.Context, component: str, stacks: tuple[str, ...], output: str) -> None:
    """Show a component's source, its lock entry and any local edits."""
    state = cli_state(ctx)
    resolved = _one(state, component, stacks)
    if not resolved.is_enabled(TYPE):
        raise ConfigError(
            f"component '{component}' in stack '{resolved.stack}' vendors no source",
            hint="Give it a source: section (or provision.component: {enabled: true, source: ...}).",
        )
    source = _source_of(resolved)
    engine = _engine(state)
    inspection = engine.inspect(engine.target(resolved.stack, resolved.name), source)
    document: dict[str, Any] = {
        "stack": resolved.stack,
        "component": resolved.name,
        "source": None if source is None else {"form": source.form, "written": source.written, **source.identity()},
        "workdir": str(inspection.target.workdir),
        "state": inspection.state,
        "lock": None if inspection.entry is None else {k: v for k, v in inspection.entry.to_dict().items() if k != "files"},
        "files": sorted(inspection.entry.files) if inspection.entry else [],
        "changes": inspection.to_dict()["changes"],
    }
    if output == "json":
        state.console.json(document)
        return
    state.console.yaml(document)


@component_commands.command("delete")
@click.argument("component", shell_complete=complete_components)
@STACK_OPTION
@click.option("--force", is_flag=True, help="Required: confirms the deletion.")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted.")
@click.pass_context
def delete_command(ctx: click.Context, component: str, stacks: tuple[str, ...], force: bool, dry_run: bool) -> None:
    """Delete a component's vendored working folder and its lock entry (needs --force)."""
    state = cli_state(ctx)
    resolved = _one(state, component, stacks)
    if not force and not dry_run:
        raise click.UsageError("delete removes the working folder: confirm with --force (or look first with --dry-run)")
    engine = _engine(state)
    target = engine.target(resolved.stack, resolved.name)
    result = engine.delete(target, dry_run=dry_run)
    lines = [f"{'would ' if a.planned else ''}{a}" for a in result.actions] or [f"nothing to delete: {target.workdir}"]
    state.console.result(f"{resolved.stack}/{resolved.name}: " + "; ".join(lines))
