"""``provision terraform <subcommand> <component> -s STACK [--dry-run] [-- terraform args]``."""

from __future__ import annotations

import sys

import click

from provisioner_core.cli.commands import output_option, state_of
from provisioner_core.cli.complete import complete_components, complete_stacks
from provisioner_core.cli.render import outcomes_text
from provisioner_core.errors import ConfigError, ProvisionerError
from provisioner_core.interrupts import RunInterrupted
from provisioner_core.runner import EventFailed
from provisioner_core.terraform import SUBCOMMANDS, TerraformRun, run_terraform

_PASSTHROUGH = "terraform_args"


class TerraformCommand(click.Command):
    """Only our own options before ``--``; everything after it goes to terraform unchanged.

    Anything else before ``--`` is an error (exit 2): a misspelt ``--dry-run`` must never reach
    terraform while the provisioners run for real.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            args, ctx.meta[_PASSTHROUGH] = args[:cut], tuple(args[cut + 1 :])
        else:
            ctx.meta[_PASSTHROUGH] = ()
        given = list(args)  # click consumes the list it parses
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            # click names only the first letter of a short-option cluster (-detailed-exitcode -> -d): name the word.
            token = next((a for a in given if a.startswith(error.option_name)), error.option_name)
            close = sorted(error.possibilities or ())
            raise ConfigError(
                f"provision terraform: unknown option '{token}'" + (f"; did you mean {' or '.join(close)}?" if close else ""),
                hint="Terraform's own flags go after `--`, e.g. provision terraform plan vpc -s dev -- -detailed-exitcode.",
            ) from None
        except click.UsageError as error:
            if "unexpected extra argument" not in error.format_message():
                raise
            raise ConfigError(
                f"provision terraform: {error.format_message()}",
                hint="Give one SUBCOMMAND and one COMPONENT; terraform's own arguments go after `--`.",
            ) from None


@click.command("terraform", cls=TerraformCommand)
@click.argument("subcommand", type=click.Choice(SUBCOMMANDS))
@click.argument("component", shell_complete=complete_components)
@click.option("-s", "--stack", required=True, help="Stack name.", shell_complete=complete_stacks)
@click.option("--dry-run", is_flag=True, help="Provisioners plan only; print the terraform commands that would run (workspace included); write nothing, run nothing.")
@click.option("--terraform-bin", default=None, help="Binary to run (default: components.terraform.command, else terraform); e.g. tofu.")
@click.option("--auto-approve", is_flag=True, help="Pass -auto-approve to apply and destroy.")
@output_option("text", "json", help="json: a summary on stdout; terraform's own output goes to stderr.")
@click.pass_context
def terraform_group(ctx: click.Context, subcommand: str, component: str, stack: str, dry_run: bool, terraform_bin: str | None, auto_approve: bool, output: str) -> None:
    """Provision what COMPONENT needs, then run terraform SUBCOMMAND (init and the stack's workspace first).

    Arguments after `--` go to terraform unchanged.
    """
    state = state_of(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    provisioning = state.provisioning
    try:
        run = run_terraform(
            provisioning,
            subcommand,
            stack,
            component,
            ctx.meta.get(_PASSTHROUGH, ()),
            terraform_bin=terraform_bin,
            auto_approve=auto_approve,
            dry_run=dry_run,
            stdout=sys.stderr if output == "json" else sys.stdout,
            stderr=sys.stderr,
            status=state.console.status,
            warn=state.console.warn,
            report=None if dry_run else lambda outcomes: state.console.detail(outcomes_text(outcomes, verbose=state.console.verbose).splitlines()),
        )
        if state.stop.requested:
            # The last event's provisioners finished within the grace after the signal: nothing else was left.
            raise RunInterrupted(f"interrupted by {state.stop.name}; what was running finished first", signum=state.stop.signum,
                                 hint="Nothing else was left to run.", outcomes=run.outcomes)  # fmt: skip
    except ProvisionerError as error:
        if output == "json":
            done = error.outcomes if isinstance(error, (EventFailed, RunInterrupted)) else ()
            state.console.json({"stack": stack, "component": component, "subcommand": subcommand, "dry_run": dry_run, "ok": False,
                                "results": [o.to_dict() for o in done], "error": error.to_dict()})
        raise
    if output == "json":
        state.console.json({**run.to_dict(), "ok": run.exit_code == 0, "error": None})
    elif dry_run:
        state.console.result(dry_run_text(run, verbose=state.console.verbose))
    ctx.exit(run.exit_code)


def dry_run_text(run: TerraformRun, *, verbose: bool = False) -> str:
    lines = [outcomes_text(run.outcomes, dry_run=True, verbose=verbose), f"Workspace: {run.workspace}", f"Would write: {', '.join(run.generated) or '(nothing)'}"]
    lines += [f"Would run user hook {hook['hook']} at {hook['event']}" for hook in run.hooks]
    lines.append(f"Would run in {run.folder}:")
    lines += [f"  terraform {' '.join(command['args'])}" for command in run.commands]
    return "\n".join(lines)


__all__ = ["terraform_group"]
