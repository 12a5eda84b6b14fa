"""A `provision` child process whose output is read as it comes, so a test can wait for a line (no sleeps).

The child runs in its own session: a signal the test sends reaches it alone, as a CI runner's
``kill <pid>`` would.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path


class Child:
    def __init__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], *, read: Sequence[str] = ("stdout", "stderr")) -> None:
        """``read``: the streams read from the start; another one is read from ``start_reading`` on (until then the child may block writing it)."""
        self.process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.seen: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._lines: dict[str, queue.SimpleQueue[str | None]] = {"stdout": queue.SimpleQueue(), "stderr": queue.SimpleQueue()}
        self._readers: list[threading.Thread] = []
        for name in read:
            self.start_reading(name)

    def start_reading(self, name: str) -> None:
        reader = threading.Thread(target=self._read, args=(name,), daemon=True)
        self._readers.append(reader)
        reader.start()

    def _read(self, name: str) -> None:
        stream = getattr(self.process, name)
        for line in stream:
            self.seen[name].append(line)
            self._lines[name].put(line)
        self._lines[name].put(None)

    def wait_for(self, text: str, stream: str = "stderr", timeout: float = 120) -> str:
        """The first line of ``stream`` (from here on) that contains ``text``; fails on end of output or after ``timeout``."""
        while True:
            try:
                line = self._lines[stream].get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} on {stream} within {timeout}s; seen:\n{''.join(self.seen[stream])}") from None
            if line is None:
                raise AssertionError(f"{stream} ended without {text!r}; stdout:\n{self.stdout}\nstderr:\n{self.stderr}")
            if text in line:
                return line

    def send(self, signum: int = signal.SIGINT) -> None:
        self.process.send_signal(signum)

    def finish(self, timeout: float = 120) -> int:
        """Wait for the child to exit (killing it after ``timeout``) and for its output to be read."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
            raise AssertionError(f"the child did not exit within {timeout}s; stderr:\n{self.stderr}") from None
        for reader in self._readers:
            reader.join(30)
        return code

    @property
    def stdout(self) -> str:
        return "".join(self.seen["stdout"])

    @property
    def stderr(self) -> str:
        return "".join(self.seen["stderr"])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
