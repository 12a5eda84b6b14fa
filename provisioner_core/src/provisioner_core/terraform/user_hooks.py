"""User hooks from the stack manifest (Atmos style), run after the provisioners of an event.

    hooks:
      notify:
        events: [after.terraform.apply]   # after-terraform-apply works too
        command: ./scripts/notify.sh      # a string runs through the shell; a list is argv
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from attrs import frozen

from provisioner_core.errors import ConfigError, ProvisionerError
from provisioner_core.stacks.component import ResolvedComponent


@frozen
class UserHook:
    name: str
    events: tuple[str, ...]
    command: str | tuple[str, ...]


def parse_hooks(component: ResolvedComponent, known_events: Iterable[str]) -> list[UserHook]:
    known = list(known_events)
    hooks: list[UserHook] = []
    for name, raw in sorted(component.hooks.items()):
        where = f"hooks.{name}"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a mapping with events and command", hint=f"Write {where}: {{events: [after.terraform.apply], command: ...}}.")
        events = raw.get("events") or []
        if isinstance(events, str):
            events = [events]
        if not isinstance(events, list) or not events:
            raise ConfigError(f"{where}.events must list at least one event", hint="For example: events: [after.terraform.apply].")
        normalised = []
        for event in events:
            dotted = str(event).replace("-", ".")
            if dotted not in known:
                close = difflib.get_close_matches(dotted, known, n=1)
                raise ConfigError(f"{where}: unknown event '{event}'", hint=f"Did you mean '{close[0]}'?" if close else f"Events: {', '.join(known)}.")
            normalised.append(dotted)
        command = raw.get("command")
        if isinstance(command, list) and command and all(isinstance(c, str) for c in command):
            command = tuple(command)
        elif not isinstance(command, str) or not command.strip():
            raise ConfigError(f"{where}.command must be a command string or a list of arguments", hint="For example: command: echo done.")
        hooks.append(UserHook(str(name), tuple(normalised), command))
    return hooks


# Runs argv in a folder with an environment and returns the exit code (output redacted by the caller's runner).
CommandRunner = Callable[[Sequence[str], Path, Mapping[str, str]], int]


def run_hooks(hooks: Sequence[UserHook], event: str, cwd: Path, env: Mapping[str, str], runner: CommandRunner) -> list[str]:
    """Run the hooks of ``event`` in name order; fail fast on the first non-zero exit."""
    ran = []
    for hook in hooks:
        if event not in hook.events:
            continue
        argv = ["/bin/sh", "-c", hook.command] if isinstance(hook.command, str) else list(hook.command)
        try:
            returncode = runner(argv, cwd, env)
        except OSError as exc:
            raise ConfigError(f"user hook '{hook.name}' at {event} could not start: {exc.strerror}", hint="Check the hook's command.") from None
        if returncode != 0:
            raise ProvisionerError(
                f"user hook '{hook.name}' failed at {event} with exit code {returncode}",
                hint="Fix the hook's command, or remove the event from its events list.",
                context={"hook": hook.name, "event": event},
            )
        ran.append(hook.name)
    return ran
