"""Entry point of the ``provision`` command: global options, errors and exit codes."""

from __future__ import annotations

import difflib
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any, NoReturn

import click

from provisioner_core.capture import LOGGER_NAME
from provisioner_core.cli.commands import make_provision_command
from provisioner_core.cli.console import Console
from provisioner_core.cli.state import CONFIG_ENV, CliState
from provisioner_core.errors import EXIT_CONFIG, EXIT_GENERAL, ConfigError, ProvisionerError
from provisioner_core.interrupts import SignalExit, exit_code_for, signal_handlers, signal_name
from provisioner_core.version import API_VERSION, distribution_version, installed_plugin_distributions


class ProvisionGroup(click.Group):
    """The commands plugins register (core's own included), plus one command per installed provisioner type."""

    def registered(self, ctx: click.Context) -> dict[str, click.Command]:
        """The commands the run's plugins registered (collected once per run, never into this shared group)."""
        state = ctx.ensure_object(CliState)
        if state.commands is None:
            scratch = click.Group("provision")
            state.registry.register_commands(scratch)
            state.commands = dict(scratch.commands)
        return state.commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        commands = self.registered(ctx)
        state = ctx.ensure_object(CliState)
        types = [t for t in state.registry.provisioner_types() if t not in commands]
        return sorted(commands) + types

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        commands = self.registered(ctx)
        if cmd_name in commands:
            return commands[cmd_name]
        # Any other word is a provisioner type; unknown types fail with close matches (exit 2).
        state = ctx.ensure_object(CliState)
        types = state.registry.provisioner_types()
        if cmd_name not in types:
            # A typo of a command (`descibe`) is not an unknown provisioner type: name the close one.
            close = difflib.get_close_matches(cmd_name, sorted({*commands, *types}), n=1)
            if close and close[0] in commands and not ctx.resilient_parsing:  # (completing: no error)
                raise ConfigError(f"unknown command '{cmd_name}'; did you mean '{close[0]}'?", hint="See `provision --help` for the commands and `provision plugins` for the provisioner types.")
            if close and not ctx.resilient_parsing:
                raise ConfigError(f"unknown provisioner type '{cmd_name}'; did you mean '{close[0]}'?", hint=f"Installed types: {', '.join(types)}; see `provision plugins`.")
        same_type = [rp.spec for rp in state.registry.provisioners() if rp.spec.type == cmd_name]
        if len(same_type) == 1:
            description = same_type[0].description
        elif same_type:
            served = ", ".join(sorted({b for spec in same_type for b in spec.backend_types} or {spec.name for spec in same_type}))
            description = f"Run the '{cmd_name}' provisioner that serves the component ({served})."
        else:
            description = ""
        return make_provision_command(cmd_name, description)


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: core's version and plugin API, then every installed plugin distribution (none is loaded)."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"provision {distribution_version()} (provisioner-core, plugin API {API_VERSION})")
    plugins = installed_plugin_distributions()
    click.echo("plugins:" if plugins else "plugins: none installed")
    for name, version in plugins:
        click.echo(f"  {name} {version}")
    ctx.exit()


@click.group(cls=ProvisionGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config", default=None, metavar="PATH", envvar=CONFIG_ENV, show_envvar=True,
    help="atmos.yaml or provisioner.yaml (default: ATMOS_CLI_CONFIG_PATH's folder, else found in the working directory).",
)  # fmt: skip
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-v", "--verbose", is_flag=True, help="More detail: provisioners' debug messages, log records at DEBUG.")
@click.option("-q", "--quiet", is_flag=True, help="Errors and the final summary only: no status, progress or per-unit lines.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=show_version, help="Show the versions of provisioner-core and of each installed plugin distribution, then exit.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, debug: bool, verbose: bool, quiet: bool) -> None:
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
    state.console.verbose = verbose
    state.console.quiet = quiet
    # Provisioners report through the `provisioner.*` loggers: what they log reaches their outcome.
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: list[str] | None = None, state: CliState | None = None) -> Any:
    """Run the CLI; map every error to its documented exit code, never a stray traceback.

    SIGINT, SIGTERM and SIGHUP exit 130, 143 and 129 with one line; where a run can stop
    gracefully it does first (see provisioner_core.interrupts).
    """
    state = state or CliState(None, "--debug" in (argv if argv is not None else sys.argv[1:]))
    try:
        with signal_handlers(state.stop):
            code = cli.main(args=argv, prog_name="provision", standalone_mode=False, obj=state)
    except SignalExit as stopped:
        print(f"Interrupted ({signal_name(stopped.signum)}).", file=sys.stderr)
        _exit(stopped.exit_code, state)
    except ProvisionerError as error:
        if state.debug:
            _print_traceback(state)
        _json_envelope(state, error)
        state.console.error(error)
        _exit(error.exit_code, state)
    except click.exceptions.Abort as error:
        if isinstance(error.__cause__, KeyboardInterrupt):  # no handler could be installed (not the main thread)
            print("Interrupted (SIGINT).", file=sys.stderr)
            sys.exit(exit_code_for(signal.SIGINT))
        print("Aborted.", file=sys.stderr)
        sys.exit(EXIT_GENERAL)
    except click.ClickException as error:
        # Usage errors are configuration errors: exit 2 with click's own one-line message.
        code = EXIT_CONFIG if isinstance(error, click.UsageError) or error.exit_code == 2 else EXIT_GENERAL
        usage = ProvisionerError(error.format_message(), hint="Run with --help for usage.", exit_code=code)
        if _asks_json(error, argv if argv is not None else sys.argv[1:]):
            state.output = "json"  # the option parser failed before -o was read
        _json_envelope(state, usage)
        state.console.error(usage)
        sys.exit(code)
    except KeyboardInterrupt:
        print("Interrupted (SIGINT).", file=sys.stderr)
        sys.exit(exit_code_for(signal.SIGINT))
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if state.debug:
            _print_traceback(state)
        unexpected = ProvisionerError(f"unexpected {type(error).__name__}: {error}", hint="Run again with --debug for a traceback, and report it if it is a bug.")
        _json_envelope(state, unexpected)
        Console(state.console.redactor).error(unexpected)
        sys.exit(EXIT_GENERAL)
    code = code if isinstance(code, int) else 0
    if state.stop.requested and code == 0:
        # A command that finished what it had started: it was still asked to stop.
        print(f"Interrupted ({state.stop.name}).", file=sys.stderr)
        code = state.stop.exit_code
    _exit(code, state)


def _asks_json(error: click.ClickException, argv: list[str]) -> bool:
    """Whether the failing command has our ``-o/--output`` and the words ask for json."""
    ctx = getattr(error, "ctx", None)
    if ctx is None or not any(p.name == "output" and "--output" in getattr(p, "opts", ()) for p in ctx.command.params):
        return False
    words = argv[: argv.index("--")] if "--" in argv else argv
    pairs = zip(words, [*words[1:], ""], strict=True)
    return any((a in ("-o", "--output") and b == "json") or a in ("-ojson", "--output=json") for a, b in pairs)


def _json_envelope(state: CliState, error: ProvisionerError) -> None:
    """With ``-o json``, every failing command leaves one JSON document on stdout: ``{"ok": false, "error": {...}}``.

    A command that already printed its own document (with more keys, the same two) adds none.
    """
    if state.output == "json" and not state.console.json_printed:
        state.console.json({"ok": False, "error": error.to_dict()})


def _print_traceback(state: CliState) -> None:
    """--debug: the traceback, redacted like every other output."""
    print(state.console.redactor(traceback.format_exc()).rstrip(), file=sys.stderr)


def _exit(code: int, state: CliState) -> NoReturn:
    """Exit with ``code``; after a stop, at once even when an abandoned worker thread still runs."""
    from provisioner_core.batch import BATCH_THREAD_PREFIX

    lingering = [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t.name.startswith(BATCH_THREAD_PREFIX)]
    if state.stop.requested and lingering:
        # Python would wait for an abandoned unit's thread at exit: the output is complete, so leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
