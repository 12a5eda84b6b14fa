"""Errors raised while parsing or executing a Go template.

Both carry the template's name and the 1-based line of the construct that failed, and print as one
line: ``name:line: message`` (Go prints ``template: name:line:col: ...``).
"""

from __future__ import annotations

from provisioner_core.errors import ConfigError


class TemplateError(ConfigError):
    """A template could not be parsed or executed: a configuration error (exit code 2)."""

    HINT = "Fix the Go template at that place (docs/templates.md: the syntax and functions supported)."

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        line: int = 0,
        col: int | None = None,
        construct: str | None = None,
    ) -> None:
        self.reason = message
        self.name = name
        self.line = line
        self.col = col
        self.construct = construct
        super().__init__(self._format(), hint=self.HINT)

    def _format(self) -> str:
        where = f"{self.name or 'template'}:{self.line}"
        if self.construct:
            return f"{where}: at <{self.construct}>: {self.reason}"
        return f"{where}: {self.reason}"

    def located(self, *, name: str, line: int, col: int | None = None, construct: str | None = None) -> TemplateError:
        """Return a copy of this error placed at another location, keeping its class (used when a nested call fails)."""
        clone = type(self)(self.reason, name=name, line=line, col=col, construct=construct)
        clone.__cause__ = self.__cause__
        return clone


class UnsupportedTemplateError(TemplateError):
    """The template uses something outside the supported subset (an unknown or refused function, ``call``...)."""

    HINT = "docs/templates.md lists the functions and constructs supported, and why the others are refused."


class FunctionError(Exception):
    """Raised by a template function; the evaluator turns it into ``error calling NAME: message``."""


class UnsupportedFunctionError(FunctionError):
    """Raised by a function that exists in Go but is refused here (non-deterministic, I/O...)."""
