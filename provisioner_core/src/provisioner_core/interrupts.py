"""Stopping a run early: on SIGINT, SIGTERM or SIGHUP, or when a Python tool asks.

The first request stops new work: no unit, provisioner, user hook or terraform command starts
after it. What is running may finish within a short grace (``PROVISIONER_INTERRUPT_GRACE``
seconds, default 5); a provisioner still running then is abandoned (its ChangeRecorder refuses
every further write) and reported as interrupted. A second request abandons what runs at once.
A terraform child gets the signal instead (SIGHUP as SIGTERM: terraform dies on SIGHUP without
releasing its state lock) and is waited for. The run then exits 128 + the signal's number.

Everything :class:`Stop` does is safe inside a signal handler: it takes no lock, and the wakers
it calls are ``queue.SimpleQueue.put`` (reentrant) or ``os.kill``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from provisioner_core.errors import ProvisionerError

EXIT_SIGNAL_BASE = 128
DEFAULT_GRACE_S = 5.0
GRACE_ENV = "PROVISIONER_INTERRUPT_GRACE"
HANDLED_SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The longest a wait in the main thread blocks at once: a signal the kernel gave a thread we did not
# start (a library's) is handled by the main thread only when it next runs Python code.
WAIT_SLICE_S = 1.0


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_code_for(signum: int) -> int:
    """The shell's convention: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143)."""
    return EXIT_SIGNAL_BASE + signum


class SignalExit(BaseException):
    """Raised by the CLI's handler where no wait acts on the signal: ``finally`` blocks run, then exit 128+n.

    A BaseException, like KeyboardInterrupt, so ``except Exception`` never swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum
        self.exit_code = exit_code_for(signum)


class RunInterrupted(ProvisionerError):
    """The run stopped on a signal (or :meth:`Stop.request`): reported like any error, exit 128+n.

    ``outcomes``: what finished before the stop.
    """

    def __init__(self, message: str, *, signum: int, hint: str | Iterable[str] | None = None, context: Mapping[str, Any] | None = None, outcomes: Iterable[Any] = ()) -> None:
        super().__init__(message, hint=hint or "Run the same command again: every provisioner converges from where this run stopped.", context=context, exit_code=exit_code_for(signum))
        self.signum = signum
        self.outcomes: tuple[Any, ...] = tuple(outcomes)


def is_interruption(error: BaseException | None) -> bool:
    """An error that reports a stop (its exit code is 128+n), itself or wrapped by a ProvisionerFailed."""
    return isinstance(error, ProvisionerError) and error.exit_code > EXIT_SIGNAL_BASE


def grace_from_env(environ: Mapping[str, str] | None = None) -> float:
    raw = (os.environ if environ is None else environ).get(GRACE_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_GRACE_S
    return value if 0 <= value < math.inf else DEFAULT_GRACE_S


class Stop:
    """One run's stop request: nothing new starts once requested; waits wake and act on it.

    ``request()`` once to stop gracefully (what runs gets ``grace_s`` seconds), again to stop at once.
    """

    def __init__(self, grace_s: float | None = None) -> None:
        self.grace_s = grace_from_env() if grace_s is None else grace_s
        self.signum = 0
        self.count = 0
        self._requested_at = 0.0
        self._wakers: dict[int, Callable[[int], None]] = {}
        self._notices: dict[int, Callable[[Stop, int], str]] = {}
        self._ids = itertools.count()

    @property
    def requested(self) -> bool:
        return self.count > 0

    @property
    def abandoned(self) -> bool:
        """A second request: what runs is abandoned without waiting for the grace."""
        return self.count > 1

    @property
    def name(self) -> str:
        return signal_name(self.signum) if self.requested else ""

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.signum) if self.requested else 0

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop (the first call), or to stop at once (any later call); wakes every wait."""
        self.count += 1
        if self.count == 1:
            self.signum = signum
            self._requested_at = time.monotonic()
        for wake in list(self._wakers.values()):
            wake(signum)

    def grace_left(self) -> float:
        """Seconds what runs may still take: infinite before a request, 0 once abandoned or past the grace."""
        if not self.requested:
            return math.inf
        if self.abandoned:
            return 0.0
        return max(0.0, self._requested_at + self.grace_s - time.monotonic())

    def check(self, what: str, outcomes: Iterable[Any] = ()) -> None:
        """Before starting ``what``: raise RunInterrupted when a stop was requested."""
        if self.requested:
            raise RunInterrupted(f"interrupted by {self.name}: {what} was not started", signum=self.signum, outcomes=outcomes)

    @contextlib.contextmanager
    def waking(self, wake: Callable[[int], None]) -> Iterator[None]:
        """Call ``wake(signum)`` on every request while inside (any thread): it must not block or take a lock."""
        key = next(self._ids)
        self._wakers[key] = wake
        try:
            yield
        finally:
            self._wakers.pop(key, None)

    @contextlib.contextmanager
    def listening(self, notice: Callable[[Stop, int], str]) -> Iterator[None]:
        """A wait in the main thread that acts on a stop itself: a signal handler then requests the stop instead of raising.

        ``notice(stop, signum)`` is the one line to print when a signal arrives during this wait.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        key = next(self._ids)
        self._notices[key] = notice
        try:
            yield
        finally:
            self._notices.pop(key, None)

    @property
    def listened(self) -> bool:
        """A wait in the main thread acts on a stop right now."""
        return bool(self._notices)

    def notice(self, signum: int) -> str:
        """The line the innermost listening wait prints for this signal."""
        notices = list(self._notices.values())
        return notices[-1](self, signum) if notices else f"Interrupted ({signal_name(signum)})."


def grace_notice(what: str) -> Callable[[Stop, int], str]:
    """The notice of a wait that lets what runs finish within the grace."""

    def notice(stop: Stop, signum: int) -> str:
        name = signal_name(signum)
        if stop.abandoned:
            return f"Interrupted again ({name}): stopping at once; what was still running is abandoned."
        return f"Interrupted ({name}): nothing new starts; {what} has up to {stop.grace_s:g}s to finish. Send it again to stop at once."

    return notice


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Threads started inside block SIGINT, SIGTERM and SIGHUP (they inherit the mask).

    The kernel may deliver a signal to any thread that does not block it, and only one that
    reaches the main thread interrupts the wait it is blocked in: so only the main thread takes
    them. A signal that comes meanwhile waits, pending, until the mask is restored.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield  # a thread we started already blocks them
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def signal_handlers(stop: Stop) -> Iterator[None]:
    """While the CLI runs: SIGINT, SIGTERM and SIGHUP request ``stop`` where a wait listens, else raise SignalExit.

    A third signal raises SignalExit even inside a listening wait. Outside the main thread
    (Python cannot install handlers there) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        if not stop.listened or stop.abandoned:
            raise SignalExit(signum)
        stop.request(signum)
        line = stop.notice(signum)
        # os.write, not print: the main thread may be inside a write to stderr right now.
        with contextlib.suppress(OSError):
            os.write(2, (line + "\n").encode())

    previous = {signum: signal.signal(signum, handle) for signum in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


__all__ = [
    "DEFAULT_GRACE_S",
    "EXIT_SIGNAL_BASE",
    "GRACE_ENV",
    "RunInterrupted",
    "SignalExit",
    "Stop",
    "exit_code_for",
    "grace_notice",
    "is_interruption",
    "signal_handlers",
    "signal_name",
    "signals_blocked",
    "WAIT_SLICE_S",
]
