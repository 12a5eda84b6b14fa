"""All CLI output goes through here: results on stdout, status on stderr, secrets masked."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from provisioner_core.errors import ProvisionerError
from provisioner_core.redaction import Redactor


def block_yaml(data: Any) -> str:
    """``data`` as block-style YAML, ending in a newline (what ``describe`` prints, what the test kit writes)."""
    import io

    from ruamel.yaml import YAML  # on first use: listing plugins stays fast

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


class Console:
    """Prints redacted text and JSON; ``quiet`` silences status lines (e.g. under ``-o json``)."""

    def __init__(self, redactor: Redactor | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.redactor = redactor or Redactor()
        self._stdout = stdout
        self._stderr = stderr
        self.quiet = False  # -o json, or -q: no status lines
        self.verbose = False  # -v: debug lines too
        self.json_printed = False  # a JSON document is on stdout: an error adds no second one

    @property
    def out(self) -> TextIO:
        return self._stdout or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._stderr or sys.stderr

    def result(self, text: str) -> None:
        print(self.redactor(text), file=self.out)

    def json(self, data: Any) -> None:
        self.json_printed = True
        print(self.redactor(json.dumps(data, indent=2, sort_keys=False, default=str)), file=self.out)

    def yaml(self, data: Any) -> None:
        """A document as block-style YAML on stdout (the text form of what ``json`` prints)."""
        self.result(block_yaml(data).rstrip())

    def status(self, text: str) -> None:
        if not self.quiet:
            print(self.redactor(text), file=self.err, flush=True)

    def warn(self, text: str) -> None:
        print(self.redactor(f"Warning: {text}"), file=self.err)

    def detail(self, lines: list[str]) -> None:
        """Lines about a run (a provisioner's outcome inside provision terraform): stderr, unless quiet."""
        if not self.quiet and lines:
            print(self.redactor("\n".join(lines)), file=self.err, flush=True)

    def error(self, error: ProvisionerError) -> None:
        # What the failing provisioner printed or logged comes first, then the one-line error.
        for message in getattr(error, "messages", ()):
            print(self.redactor(f"  {message.level}: {message.text}"), file=self.err)
        lines = [f"Error: {error.message}"]
        lines += [f"Hint: {hint}" for hint in error.hints]
        if error.context:
            lines.append("Context: " + ", ".join(f"{k}={v}" for k, v in error.context.items()))
        for line in lines:
            # One line each: a multi-line message from an SDK must not break the format.
            print(self.redactor(" ".join(line.split())), file=self.err)
