"""``provision env create|verify|destroy``: environment cloning (docs/environments.md)."""

from __future__ import annotations

import sys

import click

from provisioner_core import OUTPUT_OPTION as OUTPUT
from provisioner_core import ProvisionerError
from provisioner_core import cli_state as state_of


@click.group("env")
def env_group() -> None:
    """Create an isolated environment from a working one, verify it, tear it down.

    \b
    Examples:
      provision env create feature/auth --from dev --dry-run   # the report and the diff
      provision env create feature-auth --from dev --provision
      provision env verify feature-auth --against dev
      provision env destroy feature-auth --force
    """


@env_group.command("create")
@click.argument("target")
@click.option("--from", "source", default=None, metavar="SOURCE", help="Environment to clone (default: environments.default_source, else dev).")
@click.option("--dry-run", is_flag=True, help="Write nothing; print the report and the diff of every file.")
@click.option("--force", is_flag=True, help="Overwrite the target's existing files (never a protected environment's).")
@click.option("--provision", "provision", is_flag=True, help="Then run the backend provisioners for the new stacks.")
@OUTPUT
@click.pass_context
def create_command(ctx: click.Context, target: str, source: str | None, dry_run: bool, force: bool, provision: bool, output: str) -> None:
    """Create environment TARGET (a name or a branch name: feature/auth -> feature-auth)."""
    from provisioner_env.create import create_environment
    from provisioner_env.report import create_text

    state = state_of(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    try:
        result = create_environment(state.provisioning, target, source, dry_run=dry_run, force=force, provision=provision, status=state.console.status)
    except ProvisionerError as error:
        if output == "json":
            state.console.json({"target": target, "source": source, "dry_run": dry_run, "ok": False, "error": error.to_dict()})
        raise
    if output == "json":
        state.console.json(result.to_dict())
    else:
        state.console.result(create_text(result))


@env_group.command("backends")
@click.argument("target")
@click.option("--dry-run", is_flag=True, help="Only show what the backend provisioners would create or change.")
@OUTPUT
@click.pass_context
def backends_command(ctx: click.Context, target: str, dry_run: bool, output: str) -> None:
    """Provision the state backends of environment TARGET (Atmos components that enable
    provision.backend, and plain folders' backend.<env>.hcl), as create --provision does."""
    from provisioner_core import render_outcomes
    from provisioner_env.backends import environment_backends

    state = state_of(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    outcomes = environment_backends(state.provisioning, target, dry_run=dry_run, status=state.console.status)
    if output == "json":
        state.console.json({"target": target, "dry_run": dry_run, "results": [o.to_dict() for o in outcomes], "ok": True})
    else:
        state.console.result(render_outcomes(outcomes, dry_run) if outcomes else f"Environment {target}: no backend to provision.")


@env_group.command("verify")
@click.argument("target")
@click.option("--against", "against", default=None, metavar="SOURCE", help="The environment TARGET was cloned from (default: environments.default_source, else dev).")
@click.option("--check-backends", is_flag=True, help="Also check that the target's state backends exist (a dry run of the backend provisioners).")
@click.option("--live", is_flag=True, help="Check against the real backends: backends exist, state objects (applied or not), secrets set; after destroy, leftovers.")
@click.option("--plan", "plan", is_flag=True, help="With --live: also run terraform plan -detailed-exitcode per component (runs terraform).")
@OUTPUT
@click.pass_context
def verify_command(ctx: click.Context, target: str, against: str | None, check_backends: bool, live: bool, plan: bool, output: str) -> None:
    """Check TARGET's invariants against SOURCE; exit 2 listing every violation."""
    from provisioner_core import ConfigError as UsageProblem
    from provisioner_env.report import verify_text
    from provisioner_env.verify import verify_environment

    if plan and not live:
        raise UsageProblem("--plan needs --live", hint="Run `provision env verify TARGET --live --plan`.")
    state = state_of(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    result = verify_environment(state.provisioning, target, against, check_backends=check_backends, live=live, plan=plan, out=sys.stderr,
                                status=state.console.status)
    if output == "json":
        state.console.json(result.to_dict())
    else:
        state.console.result(verify_text(result))
    if not result.ok:
        raise result.error()


@env_group.command("destroy")
@click.argument("target")
@click.option("--force", is_flag=True, help="Required: without it, only show what would be destroyed.")
@click.option("--terraform-bin", default=None, help="Binary to run (default: components.terraform.command, else terraform).")
@OUTPUT
@click.pass_context
def destroy_command(ctx: click.Context, target: str, force: bool, terraform_bin: str | None, output: str) -> None:
    """Run terraform destroy for every component of TARGET, remove its files, report what is left."""
    from provisioner_env.destroy import DestroyFailed, destroy_environment, plan_destroy
    from provisioner_env.report import destroy_text

    state = state_of(ctx)
    state.console.quiet = state.console.quiet or output == "json"
    provisioning = state.provisioning
    try:
        if not force:
            preview = plan_destroy(provisioning, target)[0]
            if output == "json":
                state.console.json({**preview.to_dict(), "ok": False})
            else:
                state.console.result(destroy_text(preview))
        result = destroy_environment(provisioning, target, force=force, terraform_bin=terraform_bin,
                                     stdout=sys.stderr if output == "json" else sys.stdout, stderr=sys.stderr, status=state.console.status)
    except DestroyFailed as error:
        if output == "json":
            state.console.json({**error.result.to_dict(), "ok": False, "error": error.to_dict()})
        else:
            state.console.result(destroy_text(error.result))
        raise
    if output == "json":
        state.console.json({**result.to_dict(), "ok": True})
    else:
        state.console.result(destroy_text(result))
