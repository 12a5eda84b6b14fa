"""Runs the enabled provisioners of one event: ordered, timed, fail-fast, attributed.

Order (documented in docs/hooks.md): implementations marked ``tryfirst`` first, then
unmarked ones, then ``trylast``; within each group by provisioner type, then name. The
order never depends on which distribution happened to be installed first.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provisioner_core.auth import AuthContext
from provisioner_core.cache import ClientCache
from provisioner_core.capture import RunControl, capturing
from provisioner_core.errors import NetworkError, ProvisionerError, ProvisionerFailed
from provisioner_core.events import MANUAL_PROVISION
from provisioner_core.frozen import freeze
from provisioner_core.interrupts import WAIT_SLICE_S, RunInterrupted, Stop, grace_notice, signals_blocked
from provisioner_core.plugins.manager import PluginRegistry, RegisteredProvisioner
from provisioner_core.results import Message, Outcome, ProvisionResult, Status
from provisioner_core.schema import structure_options
from provisioner_core.spec import ProvisionerSpec
from provisioner_core.stacks.component import ResolvedComponent

DEFAULT_TIMEOUT_S = 900.0


class EventFailed(ProvisionerFailed):
    """A ProvisionerFailed that also carries the outcomes of the provisioners that ran before it, and what the failing one said."""

    outcomes: tuple[Outcome, ...] = ()
    messages: tuple[Message, ...] = ()


def select(registry: PluginRegistry, event: str, component: ResolvedComponent, provisioner_type: str | None = None) -> list[RegisteredProvisioner]:
    """The provisioners that run for ``component`` at ``event``, in run order."""
    chosen = []
    for rp in registry.provisioners():
        if event not in rp.spec.events:
            continue
        if provisioner_type is not None and rp.spec.type != provisioner_type:
            continue
        if not component.is_enabled(rp.spec.type) or not rp.spec.serves(component.backend_type):
            continue
        chosen.append(rp)

    def order(rp: RegisteredProvisioner) -> tuple[int, str, str]:
        opts = registry.hook_options(rp, event)
        group = 0 if opts.get("tryfirst") else 2 if opts.get("trylast") else 1
        return (group, rp.spec.type, rp.spec.name)

    return sorted(chosen, key=order)


def provisioner_options(spec: ProvisionerSpec, component: ResolvedComponent) -> Any:
    """What a provisioner receives as ``options``: an instance of its options class, else a read-only mapping."""
    raw = component.provision_options(spec.type)
    if spec.options is not None:
        return structure_options(spec.options, raw, f"provision.{spec.type}")
    return freeze(dict(raw))


def run_event(
    registry: PluginRegistry,
    event: str,
    component: ResolvedComponent,
    auth: AuthContext,
    *,
    dry_run: bool = False,
    clients: ClientCache | None = None,
    provisioner_type: str | None = None,
    provisioners: list[RegisteredProvisioner] | None = None,
    on_start: Callable[[RegisteredProvisioner], None] | None = None,
    project_root: Path | None = None,
    redact: Callable[[str], str] = lambda text: text,
    read_only: ResolvedComponent | None = None,
    stop: Stop | None = None,
) -> list[Outcome]:
    """Run every enabled provisioner of ``event``; raise EventFailed at the first failure.

    Provisioners receive ``read_only`` (a deeply read-only copy of ``component``; made here when
    not given); what they print or log becomes their Outcome's messages, redacted. Once ``stop``
    is requested no provisioner starts (RunInterrupted); the running one has the stop's grace.
    """
    stop = stop if stop is not None else Stop()
    clients = clients if clients is not None else ClientCache()
    chosen = provisioners if provisioners is not None else select(registry, event, component, provisioner_type)
    frozen_component = read_only if read_only is not None else component.read_only()
    outcomes: list[Outcome] = []
    for rp in chosen:
        stop.check(f"{rp.spec.type} provisioner {rp.spec.name} at {event} for {component.stack}/{component.name}", outcomes)
        if on_start is not None:
            on_start(rp)
        started = time.perf_counter()
        control = RunControl(rp.spec.name, redact)
        try:
            options = provisioner_options(rp.spec, component)
            kwargs = {"component": frozen_component, "auth": auth, "options": options, "dry_run": dry_run, "clients": clients, "event": event,
                      "spec": rp.spec, "project_root": project_root or Path.cwd()}  # fmt: skip
            result = _call_with_timeout(registry, rp, event, kwargs, _timeout(rp, component.provision_options(rp.spec.type)), control, stop)
            result = _check_result(rp, result)
        except BaseException as exc:  # noqa: BLE001 - every failure is wrapped and attributed
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit, a signal's SignalExit
            failure = EventFailed(provisioner=rp.spec.name, provisioner_type=rp.spec.type, event=event, distribution=rp.distribution, cause=exc)
            failure.with_context(stack=component.stack, component=component.name)
            failure.outcomes = tuple(outcomes)
            failure.messages = tuple(control.messages)
            raise failure from exc
        outcomes.append(
            Outcome(rp.spec.name, rp.spec.type, rp.plugin_name, rp.distribution, event, component.stack, component.name, result,
                    time.perf_counter() - started, control.messages)  # fmt: skip
        )
    return outcomes


def _timeout(rp: RegisteredProvisioner, options: Mapping[str, Any]) -> float:
    configured = options.get("timeout")
    if isinstance(configured, (int, float)) and not isinstance(configured, bool) and configured > 0:
        return float(configured)
    return rp.spec.timeout_s or DEFAULT_TIMEOUT_S


def _call_with_timeout(
    registry: PluginRegistry, rp: RegisteredProvisioner, event: str, kwargs: Mapping[str, Any], timeout: float, control: RunControl, stop: Stop
) -> Any:
    answers: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def target() -> None:
        with capturing(control):
            try:
                answers.put(("result", registry.call_lifecycle(rp, event, kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread
                answers.put(("error", exc))

    # A daemon thread, so a hung provisioner cannot keep the process alive after we give up on it.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(target,), name=f"provisioner-{rp.spec.name}", daemon=True)
    deadline = time.monotonic() + timeout
    # A stop wakes this wait (SimpleQueue.put is safe in a signal handler): the grace may end before the timeout.
    with stop.waking(lambda _signum: answers.put(("wake", None))), stop.listening(grace_notice(f"provisioner {rp.spec.name}")):
        with signals_blocked():
            worker.start()
        while (wait := min(deadline - time.monotonic(), stop.grace_left())) > 0:
            try:
                kind, value = answers.get(timeout=min(wait, WAIT_SLICE_S))
            except queue.Empty:
                continue
            if kind == "result":
                return value
            if kind == "error":
                raise value
    # It cannot be killed, but it is told to stop: its ChangeRecorder refuses every further write.
    control.cancelled.set()
    if stop.requested and stop.grace_left() <= 0:
        how = "at once (a second signal)" if stop.abandoned else f"after the {stop.grace_s:g}s grace"
        raise RunInterrupted(
            f"interrupted by {stop.name}: abandoned {how} (stopped: it may not write anything more)",
            signum=stop.signum,
            hint=f"Run the same command again: {rp.spec.name} converges from what it had done.",
        )
    raise NetworkError(
        f"timed out after {timeout:g}s (stopped: it may not write anything more)",
        hint=f"Raise provision.{rp.spec.type}.timeout (seconds) if the endpoint is slow, or check that it is reachable.",
    )


def _check_result(rp: RegisteredProvisioner, result: Any) -> ProvisionResult:
    if result is None:
        return ProvisionResult(status=Status.UNCHANGED)
    if not isinstance(result, ProvisionResult):
        raise TypeError(f"hook returned {type(result).__name__}, expected ProvisionResult or None")
    return result


def wrap_error(exc: BaseException) -> ProvisionerError:
    """Any exception as a ProvisionerError (exit 1 for the unexpected)."""
    if isinstance(exc, ProvisionerError):
        return exc
    return ProvisionerError(f"unexpected {type(exc).__name__}: {exc}", hint="Run again with --debug for a traceback.")


__all__ = ["DEFAULT_TIMEOUT_S", "EventFailed", "MANUAL_PROVISION", "RunInterrupted", "run_event", "select", "wrap_error"]
