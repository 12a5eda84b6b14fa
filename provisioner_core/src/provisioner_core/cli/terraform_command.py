"""``provision terraform <subcommand> <component> -s STACK [-- args]``."""

from __future__ import annotations

import sys

import click

from provisioner_core.cli.commands import state_of
from provisioner_core.errors import ProvisionerError
from provisioner_core.runner import EventFailed
from provisioner_core.terraform import SUBCOMMANDS, run_terraform


@click.command("terraform", context_settings={"ignore_unknown_options": True})
@click.argument("subcommand", type=click.Choice(SUBCOMMANDS))
@click.argument("component")
@click.option("-s", "--stack", required=True, help="Stack name.")
@click.option("--terraform-bin", default=None, help="Binary to run (default: components.terraform.command, else terraform); e.g. tofu.")
@click.option("--auto-approve", is_flag=True, help="Pass -auto-approve to apply and destroy.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json: a summary on stdout; terraform's own output goes to stderr.")
@click.argument("terraform_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def terraform_group(ctx: click.Context, subcommand: str, component: str, stack: str, terraform_bin: str | None, auto_approve: bool, output: str, terraform_args: tuple[str, ...]) -> None:
    """Provision what COMPONENT needs, then run terraform SUBCOMMAND (init first).

    Arguments after `--` go to terraform unchanged.
    """
    state = state_of(ctx)
    state.console.quiet = output == "json"
    provisioning = state.provisioning
    from provisioner_core.terraform.placeholders import refuse_placeholders

    try:
        run = run_terraform(
            provisioning,
            subcommand,
            stack,
            component,
            terraform_args,
            terraform_bin=terraform_bin,
            auto_approve=auto_approve,
            stdout=sys.stderr if output == "json" else sys.stdout,
            stderr=sys.stderr,
            status=state.console.status,
            checks=(refuse_placeholders,),
        )
    except ProvisionerError as error:
        if output == "json":
            done = error.outcomes if isinstance(error, EventFailed) else ()
            state.console.json({"stack": stack, "component": component, "subcommand": subcommand, "ok": False,
                                "results": [o.to_dict() for o in done], "error": error.to_dict()})
        raise
    if output == "json":
        state.console.json({**run.to_dict(), "ok": run.exit_code == 0, "error": None})
    ctx.exit(run.exit_code)
