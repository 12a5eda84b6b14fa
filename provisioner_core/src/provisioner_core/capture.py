"""What a provisioner says while it runs, and whether it may still act.

* **Output**: while a provisioner runs (on its own thread), what it prints to stdout/stderr and
  what it logs are captured, redacted and attached to its Outcome as messages; the CLI routes
  them (stderr in text mode, inside the JSON document with ``-o json``). Other threads print
  as usual.
* **Cancellation**: a run that exceeded its timeout is cancelled: its ChangeRecorder refuses
  every further write, and :func:`check_cancelled` lets a long loop stop on its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from provisioner_core.errors import ProvisionerError
from provisioner_core.results import Message

LOGGER_NAME = "provisioner"


class RunCancelled(ProvisionerError):
    """The provisioner's run was stopped (it exceeded its timeout): nothing more may be written."""


class RunControl:
    """One provisioner run: its cancellation flag and the messages it produced."""

    def __init__(self, name: str, redact: Callable[[str], str]) -> None:
        self.name = name
        self.redact = redact
        self.cancelled = threading.Event()
        self.messages: list[Message] = []
        self._partial = {"stdout": "", "stderr": ""}
        self._lock = threading.Lock()

    def add(self, level: str, text: str) -> None:
        with self._lock:
            for line in text.splitlines() or [""]:
                if line.strip():
                    self.messages.append(Message(level, self.redact(line)))

    def write(self, stream: str, text: str) -> None:
        """Printed text, line by line (a partial line waits for its end)."""
        with self._lock:
            text = self._partial[stream] + text
            *lines, self._partial[stream] = text.split("\n")
        for line in lines:
            self.add(stream, line)

    def flush(self) -> None:
        for stream, rest in list(self._partial.items()):
            if rest:
                self._partial[stream] = ""
                self.add(stream, rest)


_CURRENT: contextvars.ContextVar[RunControl | None] = contextvars.ContextVar("provisioner_run", default=None)
_BY_THREAD: dict[int, RunControl] = {}
_STATE_LOCK = threading.Lock()
_ORIGINAL: dict[str, TextIO] = {}


def current() -> RunControl | None:
    """The run this thread belongs to (None outside a provisioner)."""
    return _CURRENT.get()


def check_cancelled() -> None:
    """Raise RunCancelled when the running provisioner was stopped (call it in long loops)."""
    control = _CURRENT.get()
    if control is not None and control.cancelled.is_set():
        raise RunCancelled(
            f"provisioner {control.name} was stopped: it exceeded its timeout, so it may not change anything more",
            hint="Raise provision.<type>.timeout if the work legitimately takes longer.",
        )


class _Router(io.TextIOBase):
    """sys.stdout / sys.stderr while provisioners run: their threads' text is captured, the rest passes."""

    def __init__(self, stream: str, original: TextIO) -> None:
        self.stream = stream
        self.original = original

    def write(self, text: str) -> int:
        control = _BY_THREAD.get(threading.get_ident())
        if control is None:
            return self.original.write(text)
        control.write(self.stream, text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.original, "encoding", "utf-8")


class _Handler(logging.Handler):
    """Log records emitted on a provisioner's thread become its messages."""

    def emit(self, record: logging.LogRecord) -> None:
        control = _BY_THREAD.get(threading.get_ident())
        if control is not None:
            control.add(record.levelname.lower(), record.getMessage())


_HANDLER = _Handler()


@contextlib.contextmanager
def capturing(control: RunControl) -> Iterator[None]:
    """Capture this thread's output and log records into ``control`` (routers installed while any run is active)."""
    ident = threading.get_ident()
    with _STATE_LOCK:
        if not _BY_THREAD:
            for name in ("stdout", "stderr"):
                _ORIGINAL[name] = getattr(sys, name)
                setattr(sys, name, _Router(name, _ORIGINAL[name]))
            logging.getLogger().addHandler(_HANDLER)
        _BY_THREAD[ident] = control
    token = _CURRENT.set(control)
    try:
        yield
    finally:
        _CURRENT.reset(token)
        control.flush()
        with _STATE_LOCK:
            _BY_THREAD.pop(ident, None)
            if not _BY_THREAD:
                for name, original in _ORIGINAL.items():
                    if isinstance(getattr(sys, name), _Router):
                        setattr(sys, name, original)
                _ORIGINAL.clear()
                logging.getLogger().removeHandler(_HANDLER)


def get_logger(name: str) -> logging.Logger:
    """The logger a plugin reports through: ``provisioner.<name>`` (captured and redacted per run)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
