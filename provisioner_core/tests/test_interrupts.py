"""Stopping a run (issue 16, items 6-8): nothing starts after a stop, the running provisioner has the grace,
a second request abandons it at once, and the CLI's handlers raise only where no wait listens.

No sleeps: a provisioner blocks on an Event the test sets only after the run returned, so the grace
always ends first; the in-process signal is delivered to this (main) thread before os.kill returns.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from provisioner_core import ChangeRecorder, ProvisionerSpec, ProvisionResult, ResolvedComponent, RunCancelled, Status, hookimpl
from provisioner_core.auth import AuthContext
from provisioner_core.interrupts import (
    DEFAULT_GRACE_S,
    RunInterrupted,
    SignalExit,
    Stop,
    exit_code_for,
    grace_from_env,
    grace_notice,
    is_interruption,
    signal_handlers,
)
from provisioner_core.runner import EventFailed, run_event

INIT = "before.terraform.init"


def component() -> ResolvedComponent:
    return ResolvedComponent(stack="dev", name="vpc", terraform_component="vpc", provision={"blocker": {"enabled": True}, "later": {"enabled": True}})


def blocking(started: threading.Event, release: threading.Event, refused: list[BaseException], calls: list[str], tried: threading.Event):
    """A provisioner that blocks until released, then tries one more write (which an abandoned run must refuse)."""

    class Plugin:
        @staticmethod
        @hookimpl
        def register_provisioner():
            return [
                ProvisionerSpec(name="blocker", type="blocker", events=(INIT,), description="blocks"),
                ProvisionerSpec(name="later", type="later", events=(INIT,), description="runs after the blocker"),
            ]

        @staticmethod
        @hookimpl
        def before_terraform_init(spec):
            calls.append(spec.name)
            if spec.name == "later":
                return ProvisionResult(status=Status.UNCHANGED)
            started.set()
            release.wait(60)
            recorder = ChangeRecorder("thing")
            try:
                recorder.write("put", "thing", lambda: None)
            except RunCancelled as exc:
                refused.append(exc)
            tried.set()
            return ProvisionResult(status=Status.UPDATED)

    return Plugin


@pytest.fixture
def blocker(provisioner_registry, register_plugin):
    state = {"started": threading.Event(), "release": threading.Event(), "refused": [], "calls": [], "tried": threading.Event()}
    register_plugin(blocking(state["started"], state["release"], state["refused"], state["calls"], state["tried"]), name="blocker")
    yield state
    state["release"].set()


def _request_when_started(stop: Stop, started: threading.Event, signum: int, times: int = 1) -> threading.Thread:
    def request() -> None:
        assert started.wait(60)
        for _ in range(times):
            stop.request(signum)

    thread = threading.Thread(target=request)
    thread.start()
    return thread


def test_stop_basics():
    stop = Stop(grace_s=10)
    assert not stop.requested and stop.grace_left() == float("inf") and stop.exit_code == 0
    stop.check("anything")  # nothing requested: no error
    stop.request(signal.SIGTERM)
    assert stop.requested and not stop.abandoned and stop.name == "SIGTERM" and stop.exit_code == 143
    assert 0 < stop.grace_left() <= 10
    with pytest.raises(RunInterrupted) as raised:
        stop.check("terraform apply", outcomes=["done"])
    assert raised.value.exit_code == 143 and raised.value.outcomes == ("done",) and "terraform apply was not started" in raised.value.message
    assert is_interruption(raised.value)
    stop.request(signal.SIGINT)  # a second request: abandon; the first signal still names the stop
    assert stop.abandoned and stop.grace_left() == 0 and stop.name == "SIGTERM"
    assert [exit_code_for(s) for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)] == [129, 130, 143]


@pytest.mark.parametrize(("raw", "expected"), [("", DEFAULT_GRACE_S), ("0.5", 0.5), ("0", 0.0), ("-1", DEFAULT_GRACE_S), ("nan", DEFAULT_GRACE_S), ("x", DEFAULT_GRACE_S), ("inf", DEFAULT_GRACE_S)])
def test_grace_from_the_environment(raw, expected):
    assert grace_from_env({"PROVISIONER_INTERRUPT_GRACE": raw}) == expected


def test_a_running_provisioner_is_abandoned_after_the_grace_and_may_write_nothing_more(provisioner_registry, blocker):
    stop = Stop(grace_s=0.05)
    helper = _request_when_started(stop, blocker["started"], signal.SIGTERM)
    with pytest.raises(EventFailed) as failed:
        run_event(provisioner_registry, INIT, component(), AuthContext(), stop=stop)
    helper.join(60)
    assert failed.value.exit_code == 143 and is_interruption(failed.value)
    assert "interrupted by SIGTERM: abandoned after the 0.05s grace" in failed.value.message
    assert blocker["calls"] == ["blocker"]  # the next provisioner never started
    blocker["release"].set()  # the abandoned run wakes up and tries to write: refused
    assert blocker["tried"].wait(60)
    assert len(blocker["refused"]) == 1


def test_a_second_request_abandons_at_once_whatever_the_grace(provisioner_registry, blocker):
    stop = Stop(grace_s=3600)
    helper = _request_when_started(stop, blocker["started"], signal.SIGINT, times=2)
    with pytest.raises(EventFailed) as failed:
        run_event(provisioner_registry, INIT, component(), AuthContext(), stop=stop)
    helper.join(60)
    assert failed.value.exit_code == 130 and "abandoned at once (a second signal)" in failed.value.message


def test_the_running_provisioner_that_finishes_within_the_grace_keeps_its_result_and_nothing_else_starts(provisioner_registry, blocker):
    stop = Stop(grace_s=3600)

    def request_then_release() -> None:
        assert blocker["started"].wait(60)
        stop.request(signal.SIGINT)
        blocker["release"].set()

    helper = threading.Thread(target=request_then_release)
    helper.start()
    with pytest.raises(RunInterrupted) as stopped:
        run_event(provisioner_registry, INIT, component(), AuthContext(), stop=stop)
    helper.join(60)
    assert [o.provisioner for o in stopped.value.outcomes] == ["blocker"]
    assert [o.result.status for o in stopped.value.outcomes] == [Status.UPDATED]
    assert blocker["calls"] == ["blocker"] and "later provisioner later" in stopped.value.message


def test_nothing_starts_after_a_stop(provisioner_registry, blocker):
    stop = Stop()
    stop.request(signal.SIGHUP)
    with pytest.raises(RunInterrupted) as stopped:
        run_event(provisioner_registry, INIT, component(), AuthContext(), stop=stop)
    assert stopped.value.exit_code == 129 and blocker["calls"] == []


def test_the_handlers_raise_where_no_wait_listens_and_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    stop = Stop()
    with pytest.raises(SignalExit) as exited, signal_handlers(stop):
        os.kill(os.getpid(), signal.SIGTERM)
    assert exited.value.exit_code == 143 and not stop.requested
    assert signal.getsignal(signal.SIGTERM) is before


def test_inside_a_listening_wait_a_signal_requests_the_stop_and_prints_one_line(capfd):
    stop = Stop(grace_s=7)
    with signal_handlers(stop), stop.listening(grace_notice("the unit")):
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.name == "SIGINT"
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.abandoned
        with pytest.raises(SignalExit):  # a third: out at once
            os.kill(os.getpid(), signal.SIGINT)
    assert capfd.readouterr().err.splitlines() == [
        "Interrupted (SIGINT): nothing new starts; the unit has up to 7s to finish. Send it again to stop at once.",
        "Interrupted again (SIGINT): stopping at once; what was still running is abandoned.",
    ]


def test_wakers_hear_every_request_while_registered():
    stop = Stop()
    heard: list[int] = []
    with stop.waking(heard.append):
        stop.request(signal.SIGTERM)
    stop.request(signal.SIGINT)
    assert heard == [signal.SIGTERM]
