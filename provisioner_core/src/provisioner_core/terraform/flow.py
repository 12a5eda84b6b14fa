"""``provision terraform <subcommand>``: resolve, provision, hook, then terraform.

Order (the PRD's "Integration with Terraform Execution"):
before.component.load -> locate folder, write files -> after.component.load ->
before.terraform.init -> terraform init -> terraform workspace select -> after.terraform.init ->
before.terraform.plan|apply -> terraform plan|apply|destroy -> after.terraform.plan|apply.
At each event the enabled provisioners run first, then the user hooks; the first failure
stops everything, and terraform does not run after a failed event.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from attrs import define, field

from provisioner_core import events as ev
from provisioner_core.auth import AuthContext
from provisioner_core.errors import ConfigError
from provisioner_core.interrupts import RunInterrupted
from provisioner_core.orchestrator import prepare, run_provisioners
from provisioner_core.results import Outcome
from provisioner_core.session import Provisioning
from provisioner_core.stacks.component import ResolvedComponent
from provisioner_core.state.workspace import DEFAULT_WORKSPACE
from provisioner_core.terraform import files, process
from provisioner_core.terraform.initialised import check_initialised_backend
from provisioner_core.terraform.user_hooks import UserHook, parse_hooks, run_hooks

SUBCOMMANDS: tuple[str, ...] = ("init", "plan", "apply", "destroy", "output", "validate", "show", "refresh")
VARFILE_SUBCOMMANDS = frozenset({"plan", "apply", "destroy", "refresh"})
INPUT_SUBCOMMANDS = frozenset({"init", "plan", "apply", "destroy", "refresh"})
AROUND: dict[str, tuple[str, str]] = {
    "plan": (ev.BEFORE_TERRAFORM_PLAN, ev.AFTER_TERRAFORM_PLAN),
    "apply": (ev.BEFORE_TERRAFORM_APPLY, ev.AFTER_TERRAFORM_APPLY),
    "destroy": (ev.BEFORE_TERRAFORM_APPLY, ev.AFTER_TERRAFORM_APPLY),
}

@define
class TerraformRun:
    """What happened: events run, provisioner outcomes, hooks, terraform commands and exit code."""

    stack: str
    component: str
    subcommand: str
    workspace: str = "default"
    dry_run: bool = False
    folder: str = ""
    events: list[str] = field(factory=list)
    outcomes: list[Outcome] = field(factory=list)
    hooks: list[dict[str, Any]] = field(factory=list)
    commands: list[dict[str, Any]] = field(factory=list)
    generated: list[str] = field(factory=list)
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "component": self.component,
            "subcommand": self.subcommand,
            "workspace": self.workspace,
            "dry_run": self.dry_run,
            "folder": self.folder,
            "events": self.events,
            "results": [o.to_dict() for o in self.outcomes],
            "hooks": self.hooks,
            "terraform": self.commands,
            "generated_files": self.generated,
            "exit_code": self.exit_code,
        }


class _Flow:
    def __init__(
        self,
        provisioning: Provisioning,
        run: TerraformRun,
        component: ResolvedComponent,
        auth: AuthContext,
        hooks: list[UserHook],
        status: Callable[[str], None],
        command_runner: Callable[[Sequence[str], Path, Mapping[str, str]], int],
        report: Callable[[list[Outcome]], None] | None = None,
    ) -> None:
        self.command_runner = command_runner
        self.report = report
        self.provisioning = provisioning
        self.run = run
        self.component = component
        self.auth = auth
        self.hooks = hooks
        self.status = status
        self.env: dict[str, str] = {}
        self.cwd = provisioning.config.root

    def event(self, name: str) -> None:
        """Fire ``name``, then every plugin event declared to fire right after it."""
        for event in (name, *self.provisioning.registry.events_after(name)):
            self._fire(event)

    def _fire(self, name: str) -> None:
        self.run.events.append(name)

        def announce(rp: Any) -> None:
            verb = "Planning" if self.run.dry_run else "Running"
            self.status(f"{verb} {rp.spec.type} provisioner ({rp.spec.name}) at {name}...")

        outcomes = run_provisioners(self.provisioning, name, self.component, auth=self.auth, dry_run=self.run.dry_run, on_start=announce)
        self.run.outcomes += outcomes
        if self.report is not None and outcomes:
            self.report(outcomes)
        if self.run.dry_run:
            # User hooks are commands of the user's own: a dry run only lists them.
            self.run.hooks += [{"event": name, "hook": hook.name, "would_run": True} for hook in self.hooks if name in hook.events]
            return
        env = self.env or process.terraform_env(self.auth, self.component.env, {})
        env = {**env, "PROVISION_STACK": self.component.stack, "PROVISION_COMPONENT": self.component.name, "PROVISION_EVENT": name}
        for hook in run_hooks(self.hooks, name, self.cwd, env, self.command_runner):
            self.run.hooks.append({"event": name, "hook": hook})


def run_terraform(
    provisioning: Provisioning,
    subcommand: str,
    stack: str,
    component_name: str,
    extra_args: Sequence[str] = (),
    *,
    terraform_bin: str | None = None,
    auto_approve: bool = False,
    dry_run: bool = False,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    interactive: bool | None = None,
    status: Callable[[str], None] = lambda _: None,
    warn: Callable[[str], None] | None = None,
    report: Callable[[list[Outcome]], None] | None = None,
    events: bool = True,
    setup_stdout: IO[str] | None = None,
    capture: IO[str] | None = None,
    color: bool | None = None,
) -> TerraformRun:
    """Run one terraform subcommand for a component with the provisioners around it.

    ``dry_run``: provisioners plan only, no file is written and terraform does not run; the
    commands that would run are recorded in ``TerraformRun.commands``. ``report`` receives each
    event's outcomes as they finish (the CLI prints them in text mode). ``events=False`` runs no
    provisioner or hook (reading outputs for a YAML function); ``setup_stdout`` receives what
    ``init`` and ``workspace select`` print, so ``stdout`` holds the subcommand's output only;
    ``capture`` receives the subcommand's output unredacted (values read back, never printed).
    ``color``: False passes ``-no-color`` to every terraform command; by default colour only when
    ``NO_COLOR`` is unset (or empty, as no-color.org says) and terraform's output goes to a terminal.
    """
    if subcommand not in SUBCOMMANDS:
        raise ConfigError(f"unsupported terraform subcommand '{subcommand}'", hint=f"Supported: {', '.join(SUBCOMMANDS)}.")
    component = provisioning.component(stack, component_name)
    # Before anything is written or run: it runs at all, its provisioners exist, plugins accept it,
    # and it does not share another component's state.
    prepare(provisioning, component)
    binary = process.find_binary(terraform_bin or provisioning.config.terraform_command)
    hooks = parse_hooks(component, provisioning.registry.events())
    auth = provisioning.auth(component)
    run = TerraformRun(stack, component.name, subcommand, workspace=component.workspace, dry_run=dry_run)
    interactive = process.stdin_is_interactive() if interactive is None else interactive
    out, err = stdout or sys.stdout, stderr or sys.stderr
    color = wants_color(out) if color is None else color
    ambient_workspace = os.environ.get("TF_WORKSPACE")
    if ambient_workspace and ambient_workspace != component.workspace:
        (warn or status)(f"TF_WORKSPACE={ambient_workspace} is ignored: this component's workspace is {component.workspace} (metadata.terraform_workspace sets it)")

    stop = provisioning.stop

    def command_runner(argv: Sequence[str], cwd: Path, env: Mapping[str, str], to: IO[str] | None = None) -> int:
        # terraform and user hooks alike: output redacted line by line unless at a terminal; a signal is passed on.
        redact = (lambda line: line) if to is not None and to is capture else provisioning.redactor
        code = process.run(argv, cwd, env, redact=redact, stdout=to or out, stderr=err, interactive=interactive, stop=stop)
        if stop.requested:
            what = f"{Path(binary).name} {argv[1]}" if argv[0] == binary and len(argv) > 1 else "a user hook"
            raise RunInterrupted(
                f"interrupted by {stop.name} while {what} ran; it was passed the signal and stopped (exit {code})",
                signum=stop.signum,
                hint="terraform stops gracefully on the first signal and releases its state lock; run the same command again to finish.",
                context={"stack": component.stack, "component": component.name},
                outcomes=run.outcomes,
            )
        return code

    flow = _Flow(provisioning, run, component, auth, hooks if events else [], status, command_runner, report)
    if not events:
        flow.event = lambda name: None  # type: ignore[method-assign]

    flow.event(ev.BEFORE_COMPONENT_LOAD)
    # A provisioner at before.component.load may hand over the folder to run in (e.g. vendored code).
    workdirs = [o.result.workdir for o in run.outcomes if o.result.workdir]
    # In a dry run the provisioner only plans: its workdir may not exist yet.
    folder = files.component_folder(provisioning.config.terraform_base_path, component, Path(workdirs[-1]) if workdirs else None, planned=dry_run)
    run.folder = str(folder)
    generate_backend = provisioning.config.auto_generate_backend_file
    varfile_name = files.varfile_name(component)
    try:
        if dry_run:
            run.generated = [str(p) for p in files.planned_files(folder, component, backend=generate_backend)]
        else:
            generated = files.write_files(folder, component, provisioning.registry.backend_types(), backend=generate_backend, auth=auth, warn=warn or status)
            run.generated = [str(p) for p in (generated.backend_file, generated.varfile) if p is not None]
            flow.env = {**process.terraform_env(auth, component.env, generated.secret_vars), **generated.secret_env}
        flow.cwd = folder
        flow.event(ev.AFTER_COMPONENT_LOAD)

        def terraform(args: list[str]) -> int:
            stop.check(f"terraform {args[0]}", run.outcomes)
            if dry_run:
                run.commands.append({"args": args, "would_run": True})
                status(f"Would run: {Path(binary).name} {' '.join(args)} (in {folder})")
                return 0
            argv = [binary, *args]
            status(f"Running terraform {' '.join(args)} in {folder}")
            started = time.perf_counter()
            code = command_runner(argv, folder, flow.env, setup_stdout if args[0] in ("init", "workspace") else capture)
            run.commands.append({"args": args, "exit_code": code, "duration_s": round(time.perf_counter() - started, 3)})
            return code

        def common(sub: str) -> list[str]:
            args = []
            if sub in INPUT_SUBCOMMANDS and not interactive:
                args.append("-input=false")  # never hang on a prompt in CI
            if sub in VARFILE_SUBCOMMANDS:
                args.append(f"-var-file={varfile_name}")
            if sub in ("apply", "destroy") and auto_approve:
                args.append("-auto-approve")
            if not color and "-no-color" not in extra_args:
                args.append("-no-color")  # ANSI escapes in a CI log are noise
            return args

        flow.event(ev.BEFORE_TERRAFORM_INIT)
        if not dry_run:
            # The workspace another stack selected here must not leak into this init (Atmos does the same).
            (folder / ".terraform" / "environment").unlink(missing_ok=True)
        init_args = ["init", "-reconfigure", *common("init")]
        run.exit_code = terraform(init_args + (list(extra_args) if subcommand == "init" else []))
        if run.exit_code != 0:
            return run
        if component.workspace != DEFAULT_WORKSPACE:
            # Every later command, and plain `terraform` in this folder afterwards, uses this stack's state.
            run.exit_code = terraform(["workspace", "select", "-or-create", *common("workspace"), component.workspace])
            if run.exit_code != 0:
                return run
        flow.event(ev.AFTER_TERRAFORM_INIT)
        if subcommand == "init":
            return run
        if not dry_run:
            # The folder's own code may have chosen another backend than the component's: never plan or apply on it.
            check_initialised_backend(folder, component, provisioning.registry.backend_types())
        before, after = AROUND.get(subcommand, (None, None))
        if before:
            flow.event(before)
        run.exit_code = terraform([subcommand, *common(subcommand), *extra_args])
        if run.exit_code == 0 and after:
            flow.event(after)
        return run
    finally:
        if not dry_run:
            # The var file is per run, whatever happens (a signal too); backend.tf.json stays so plain `terraform` keeps working there.
            (folder / varfile_name).unlink(missing_ok=True)


def wants_color(out: IO[str]) -> bool:
    """Terraform's colours: only to a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def component_folder_of(provisioning: Provisioning, component: ResolvedComponent) -> Path:
    return files.component_folder(provisioning.config.terraform_base_path, component)
