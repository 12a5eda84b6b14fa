"""Bounded retries and bounded waits, written once for every backend.

* :func:`retry` runs a call up to ``attempts`` times (the first included) while its error is
  transient, waiting an exponential, capped, jittered delay in between; the last error is raised
  as it is, for the backend to map.
* :func:`wait_until` polls a check with growing pauses until it holds or ``timeout`` seconds
  pass (then exit 4, naming what did not happen).

Both stop at once when the run was cancelled (its timeout passed), and take ``sleep`` (and
``clock``) as arguments, so tests record the delays instead of waiting them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from provisioner_core.capture import check_cancelled
from provisioner_core.errors import ResourceConflict

T = TypeVar("T")
Delay = Callable[[int, BaseException], float]
Sleep = Callable[[float], None]


def backoff(base: float = 0.25, cap: float = 8.0) -> Delay:
    """Delays ``base``, 2×``base``, 4×``base`` … at most ``cap`` seconds, each scaled by a random 50–100 % (jitter)."""

    def delay(attempt: int, error: BaseException) -> float:
        return min(cap, base * 2.0 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    return delay


def retry(
    fn: Callable[[], T],
    *,
    attempts: int,
    transient: Callable[[BaseException], bool],
    delay: Delay | None = None,
    sleep: Sleep | None = None,
) -> T:
    """``fn()``, tried up to ``attempts`` times while ``transient(error)`` says another try may succeed.

    ``delay(attempt, error)``: seconds to wait after failed attempt number ``attempt`` (default
    :func:`backoff`); ``sleep``: how to wait (default ``time.sleep``). A non-transient error, or
    the error of the last attempt, is raised unchanged. KeyboardInterrupt and SystemExit pass.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    pause = delay or backoff()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as error:  # noqa: BLE001 - classified by the caller's rule, then raised unchanged
            if attempt >= attempts or not transient(error):
                raise
            check_cancelled()  # a run stopped at its timeout does not try again
            (sleep or time.sleep)(pause(attempt, error))


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    hint: str = "Check the resource; raise provision.backend.wait_timeout if the service is slow.",
    context: Mapping[str, Any] | None = None,
    sleep: Sleep | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ``check`` (0.1 s, 0.2 s … at most 5 s apart) until it returns True; ResourceConflict (exit 4) after ``timeout`` seconds.

    ``what`` completes "<what> did not happen within <timeout>s"; errors ``check`` raises pass unchanged.
    """
    deadline = clock() + timeout
    pause = 0.1
    while not check():
        if clock() >= deadline:
            raise ResourceConflict(f"{what} did not happen within {timeout:g}s", hint=hint, context=dict(context or {}))
        check_cancelled()
        (sleep or time.sleep)(pause)
        pause = min(pause * 2, 5.0)
