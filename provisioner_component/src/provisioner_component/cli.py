"""``provision component …``: pull (one component or ``--all``), list, describe, delete.

A click group for core to register (the coming ``register_commands(cli)`` hook)::

    provision component vpc -s dev [--dry-run] [--force]   # = provision component pull vpc -s dev
    provision component --all [-s dev …] [--jobs 4]        # each distinct (source, ref) fetched once
    provision component list [-s dev …]                     # what is vendored: lock state, drift
    provision component describe vpc -s dev                 # source, lock entry, local edits
    provision component delete vpc -s dev --force           # remove the working folder and its lock entry

It uses core's CLI state (the resolved project, auth and console) and nothing else of core.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import click

from provisioner_component.batch import DEFAULT_JOBS, Item, vendor_all
from provisioner_component.config import ComponentSource, resolve_source
from provisioner_component.credentials import GitCredentials
from provisioner_component.sources import Fetcher
from provisioner_component.vendor import Vendorer
from provisioner_core import ConfigError, ProvisionResult, ResolvedComponent
from provisioner_core.cli.commands import state_of
from provisioner_core.cli.state import CliState

TYPE = "component"
SUBCOMMANDS = ("pull", "list", "describe", "delete")
OUTPUT = click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")


class _PullByDefault(click.Group):
    """``provision component vpc -s dev`` means ``provision component pull vpc -s dev``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["pull", *args]
        return super().parse_args(ctx, args)


@click.group("component", cls=_PullByDefault)
def component_commands() -> None:
    """Vendor components' Terraform sources into per-stack working folders (pinned, locked, verified)."""


def _vendorer(state: CliState, component: ResolvedComponent | None = None) -> Vendorer:
    root = state.provisioning.config.root
    credentials = None
    if component is not None:
        found = state.provisioning.auth(component).providers.get("git")
        credentials = found if isinstance(found, GitCredentials) else None
    return Vendorer(root, fetcher=Fetcher(Vendorer(root).layout, git_credentials=credentials, redact=state.provisioning.redactor))


def _source_of(component: ResolvedComponent) -> ComponentSource | None:
    return resolve_source(component.provision_options(TYPE))


def _one(state: CliState, component_name: str, stacks: tuple[str, ...]) -> ResolvedComponent:
    if len(stacks) != 1:
        raise click.UsageError("give exactly one -s/--stack for one component")
    component = state.provisioning.component(stacks[0], component_name)
    state.provisioning.check_runnable(component, TYPE)
    return component


def _enabled(state: CliState, stacks: tuple[str, ...]) -> Iterator[ResolvedComponent]:
    for name in stacks:
        state.provisioning.stacks.stack(name)  # unknown stacks fail up front, with close matches
    for component in state.provisioning.components(list(stacks) or None):
        if component.abstract or component.disabled or not component.is_enabled(TYPE):
            continue
        yield component


@component_commands.command("pull")
@click.argument("component", required=False)
@click.option("-s", "--stack", "stacks", multiple=True, help="Stack name (repeatable with --all).")
@click.option("--all", "all_components", is_flag=True, help="Every enabled component of the selected stacks (all by default); each distinct source fetched once.")
@click.option("--dry-run", is_flag=True, help="Say what would be vendored; no write, no network call, no git run.")
@click.option("--force", is_flag=True, help="Overwrite local edits and resolve the ref again (a branch moves to its current commit).")
@click.option("--jobs", type=click.IntRange(1, 32), default=DEFAULT_JOBS, show_default=True, help="With --all: fetches and copies at once.")
@OUTPUT
@click.pass_context
def pull_command(ctx: click.Context, component: str | None, stacks: tuple[str, ...], all_components: bool, dry_run: bool, force: bool, jobs: int, output: str) -> None:
    """Vendor COMPONENT's source into its working folder (the default subcommand)."""
    state = state_of(ctx)
    state.console.quiet = output == "json"
    if all_components:
        if component:
            raise click.UsageError("give either a COMPONENT or --all, not both")
        ctx.exit(_pull_all(state, stacks, dry_run=dry_run, force=force, jobs=jobs, output=output))
    if not component:
        raise click.UsageError("give a COMPONENT (or --all)")
    resolved = _one(state, component, stacks)
    source = _source_of(resolved)
    if source is None:
        raise ConfigError(f"component '{component}' in stack '{resolved.stack}' has provision.component.vendor: false", hint="Set vendor: true (or remove it) to vendor its source.")
    vendorer = _vendorer(state, resolved)
    state.console.status(f"{'Planning' if dry_run else 'Vendoring'} {component} in {resolved.stack}...")
    result = vendorer.vendor(vendorer.target(resolved.stack, resolved.name), source, dry_run=dry_run, force=force)
    if output == "json":
        state.console.json({"type": TYPE, "stack": resolved.stack, "component": resolved.name, "dry_run": dry_run, "ok": True, "result": result.to_dict()})
        return
    state.console.result(_result_line(resolved.stack, resolved.name, result))


def _pull_all(state: CliState, stacks: tuple[str, ...], *, dry_run: bool, force: bool, jobs: int, output: str) -> int:
    items: list[Item] = []
    vendorer: Vendorer | None = None
    for component in _enabled(state, stacks):
        source = _source_of(component)
        if source is None:
            continue
        if vendorer is None:
            vendorer = _vendorer(state, component)
        items.append(Item(vendorer.target(component.stack, component.name), source))
    if vendorer is None:
        vendorer = _vendorer(state)
    report = vendor_all(vendorer, items, jobs=jobs, dry_run=dry_run, force=force)
    if output == "json":
        state.console.json(
            {"type": TYPE, "dry_run": dry_run, "ok": report.exit_code == 0, "exit_code": report.exit_code,
             "sources_fetched": report.fetches, "results": [r.to_dict() for r in report.results]}
        )
        return report.exit_code
    for entry in report.results:
        if entry.error is not None:
            state.console.result(f"{entry.item.target.stack}\t{entry.item.target.component}\tfailed (exit {entry.error.exit_code}): {entry.error.message}")
        elif entry.result is not None:
            state.console.result(_result_line(entry.item.target.stack, entry.item.target.component, entry.result))
    failed = sum(1 for r in report.results if r.error is not None)
    state.console.result(f"{len(report.results)} components, {report.groups} distinct sources to fetch, {report.fetches} fetches, {failed} failed")
    return report.exit_code


def _result_line(stack: str, component: str, result: ProvisionResult) -> str:
    line = f"{stack}\t{component}\t{result.status.value}\t{result.details.get('workdir', '')}"
    for action in result.actions:
        line += f"\n  {'would ' if action.planned else ''}{action.verb}: {action.detail}"
    for warning in result.warnings:
        line += f"\n  warning: {warning}"
    return line


@component_commands.command("list")
@click.option("-s", "--stack", "stacks", multiple=True, help="Only these stacks (repeatable).")
@OUTPUT
@click.pass_context
def list_command(ctx: click.Context, stacks: tuple[str, ...], output: str) -> None:
    """List components with provision.component: working folder, lock state and local edits."""
    state = state_of(ctx)
    vendorer = _vendorer(state)
    rows = []
    for component in _enabled(state, stacks):
        source = _source_of(component)
        inspection = vendorer.inspect(vendorer.target(component.stack, component.name), source)
        row = inspection.to_dict()
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
@click.argument("component")
@click.option("-s", "--stack", "stacks", multiple=True, required=True, help="Stack name.")
@click.option("-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@click.pass_context
def describe_command(ctx: click.Context, component: str, stacks: tuple[str, ...], output: str) -> None:
    """Show a component's source, its lock entry and any local edits."""
    state = state_of(ctx)
    resolved = _one(state, component, stacks)
    source = _source_of(resolved)
    vendorer = _vendorer(state)
    inspection = vendorer.inspect(vendorer.target(resolved.stack, resolved.name), source)
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
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    state.console.result(buffer.getvalue().rstrip())


@component_commands.command("delete")
@click.argument("component")
@click.option("-s", "--stack", "stacks", multiple=True, required=True, help="Stack name.")
@click.option("--force", is_flag=True, help="Required: confirms the deletion.")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted.")
@click.pass_context
def delete_command(ctx: click.Context, component: str, stacks: tuple[str, ...], force: bool, dry_run: bool) -> None:
    """Delete a component's vendored working folder and its lock entry (needs --force)."""
    state = state_of(ctx)
    resolved = _one(state, component, stacks)
    if not force and not dry_run:
        raise click.UsageError("delete removes the working folder: confirm with --force (or look first with --dry-run)")
    vendorer = _vendorer(state)
    result = vendorer.delete(vendorer.target(resolved.stack, resolved.name), dry_run=dry_run)
    state.console.result(_result_line(resolved.stack, resolved.name, result))
