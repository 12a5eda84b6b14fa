"""Running the terraform binary: environment from the AuthContext, output redacted, signals passed on."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from provisioner_core.auth import AuthContext
from provisioner_core.errors import ConfigError
from provisioner_core.interrupts import WAIT_SLICE_S, Stop, signal_name, signals_blocked


def find_binary(command: str) -> str:
    found = shutil.which(command)
    if found is None:
        raise ConfigError(
            f"terraform binary '{command}' not found on PATH",
            hint="Install terraform (1.x), or choose another binary with --terraform-bin (e.g. tofu) or components.terraform.command in atmos.yaml.",
        )
    return found


def terraform_env(auth: AuthContext, component_env: Mapping[str, object], secret_vars: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    # The workspace is selected per component (docs/configuration.md); an ambient one would override it.
    env.pop("TF_WORKSPACE", None)
    # Ambient credentials of every provider in use (the providers name them): never inherited.
    for name in auth.ambient_env:
        env.pop(name, None)
    env.update(auth.terraform_env())
    env.update({str(k): "" if v is None else str(v) for k, v in component_env.items()})
    env.update({f"TF_VAR_{name}": value for name, value in secret_vars.items()})
    return env


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], *, redact: Callable[[str], str], stdout: IO[str], stderr: IO[str], interactive: bool, stop: Stop | None = None
) -> int:
    """Run terraform; its exit code passes through. Output is redacted line by line unless interactive.

    With ``stop``: a requested stop starts nothing (RunInterrupted); one requested while the
    child runs is passed on to it (SIGHUP as SIGTERM, which terraform handles: it dies on
    SIGHUP without releasing its state lock), and the wait goes on until it exits. Not at a
    terminal the child gets its own process group, so a signal sent to ours reaches it once.
    """
    own_group = stop is not None  # only when we pass signals on; else the caller's group gets them as before
    stop = stop if stop is not None else Stop()
    program = Path(argv[0]).name
    child: list[subprocess.Popen[Any]] = []

    def forward(signum: int) -> None:
        if not child or (interactive and signum == signal.SIGINT):
            return  # at a terminal, Ctrl-C already reached the child (the same process group)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child[0].pid, signal.SIGTERM if signum == signal.SIGHUP else signum)

    def notice(current: Stop, signum: int) -> str:
        name = signal_name(signum)
        if current.abandoned:
            return f"Interrupted again ({name}): passed on to {program}, which stops at once."
        return f"Interrupted ({name}): passed on to {program}; waiting for it to stop (it releases its state lock). Send it again to stop it at once."

    with stop.waking(forward), stop.listening(notice):
        stop.check(f"{program} {' '.join(argv[1:2])}".rstrip())
        if interactive:
            # A person at a terminal may need to answer prompts: hand over the terminal unchanged.
            child.append(subprocess.Popen(list(argv), cwd=cwd, env=dict(env)))
        else:
            child.append(subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                start_new_session=own_group,
            ))  # fmt: skip
        process = child[0]
        if stop.requested:
            forward(stop.signum)  # the signal came between the check and the start
        if interactive:
            return _wait(process)

        def pump(source: IO[str], sink: IO[str]) -> None:
            for line in source:
                sink.write(redact(line))
                sink.flush()

        threads = [threading.Thread(target=pump, args=(process.stdout, stdout)), threading.Thread(target=pump, args=(process.stderr, stderr))]
        with signals_blocked():
            for thread in threads:
                thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(WAIT_SLICE_S)  # in slices: a signal must reach the handler while we wait
        return _wait(process)


def _wait(process: subprocess.Popen[Any]) -> int:
    """The child's exit code, waited for in slices (a signal handled meanwhile passes it on)."""
    while True:
        try:
            return process.wait(WAIT_SLICE_S)
        except subprocess.TimeoutExpired:
            continue


def stdin_is_interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
