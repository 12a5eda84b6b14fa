"""Entry point of the ``provision`` command: global options, errors and exit codes."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from provisioner_core import __version__
from provisioner_core.cli.commands import describe_command, list_group, make_provision_command, plugins_command
from provisioner_core.cli.console import Console
from provisioner_core.cli.state import CliState
from provisioner_core.errors import EXIT_CONFIG, EXIT_GENERAL, ProvisionerError

BUILTIN_COMMANDS: dict[str, click.Command] = {
    "plugins": plugins_command,
    "describe": describe_command,
    "list": list_group,
}
LAZY_COMMANDS = {
    "terraform": ("provisioner_core.cli.terraform_command", "terraform_group"),
    "env": ("provisioner_core.cli.env_command", "env_group"),
}


class ProvisionGroup(click.Group):
    """Built-in commands plus one command per installed provisioner type."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        state = ctx.ensure_object(CliState)
        types = [t for t in state.registry.provisioner_types() if t not in BUILTIN_COMMANDS]
        return sorted(BUILTIN_COMMANDS) + sorted(LAZY_COMMANDS) + types

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTIN_COMMANDS:
            return BUILTIN_COMMANDS[cmd_name]
        if cmd_name in LAZY_COMMANDS:
            import importlib

            module, attribute = LAZY_COMMANDS[cmd_name]
            try:
                return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
            except ImportError:
                return None
        # Any other word is a provisioner type; unknown types fail with close matches (exit 2).
        state = ctx.ensure_object(CliState)
        same_type = [rp.spec for rp in state.registry.provisioners() if rp.spec.type == cmd_name]
        if len(same_type) == 1:
            description = same_type[0].description
        elif same_type:
            served = ", ".join(sorted({b for spec in same_type for b in spec.backend_types} or {spec.name for spec in same_type}))
            description = f"Run the '{cmd_name}' provisioner that serves the component ({served})."
        else:
            description = ""
        return make_provision_command(cmd_name, description)


@click.group(cls=ProvisionGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", default=None, metavar="PATH", help="atmos.yaml or provisioner.yaml (default: found in the working directory).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="provision")
@click.pass_context
def cli(ctx: click.Context, config: str | None, debug: bool) -> None:
    """Provision what a Terraform component needs before Terraform runs.

    \b
    Examples:
      provision backend vpc -s dev            # create the state backend of vpc in dev
      provision backend vpc -s dev --dry-run  # show every call it would make
      provision terraform apply vpc -s dev    # provision, then terraform init + apply
      provision plugins                       # what is installed
    """
    state = ctx.ensure_object(CliState)
    state.config = config
    state.debug = debug


def main(argv: list[str] | None = None, state: CliState | None = None) -> Any:
    """Run the CLI; map every error to its documented exit code, never a stray traceback."""
    state = state or CliState(None, "--debug" in (argv if argv is not None else sys.argv[1:]))
    try:
        code = cli.main(args=argv, prog_name="provision", standalone_mode=False, obj=state)
    except ProvisionerError as error:
        if state.debug:
            traceback.print_exc()
        state.console.error(error)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(EXIT_GENERAL)
    except click.ClickException as error:
        # Usage errors are configuration errors: exit 2 with click's own one-line message.
        state.console.error(ProvisionerError(error.format_message(), hint="Run with --help for usage."))
        sys.exit(EXIT_CONFIG if isinstance(error, click.UsageError) or error.exit_code == 2 else EXIT_GENERAL)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if state.debug:
            traceback.print_exc()
        Console(state.console.redactor).error(
            ProvisionerError(f"unexpected {type(error).__name__}: {error}", hint="Run again with --debug for a traceback, and report it if it is a bug.")
        )
        sys.exit(EXIT_GENERAL)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
