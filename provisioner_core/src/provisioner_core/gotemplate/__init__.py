"""Go ``text/template`` for Atmos stack values: a parser and evaluator with Sprig and Gomplate functions.

    from provisioner_core.gotemplate import render
    render("{{ .vars.namespace }}-{{ .vars.stage }}", {"vars": {"namespace": "acme", "stage": "dev"}})

``parse`` caches the parsed and compiled form of each distinct text, so rendering the same value
for many components parses it once. See docs/templates.md for the supported subset.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from .errors import TemplateError, UnsupportedTemplateError
from .evaluator import MISSING_MODES, Program, State
from .parser import parse_text

DEFAULT_DELIMITERS = ("{{", "}}")
CACHE_SIZE = 4096

__all__ = ["Template", "TemplateError", "UnsupportedTemplateError", "has_template", "parse", "render"]


def has_template(text: str, delimiters: tuple[str, str] = DEFAULT_DELIMITERS) -> bool:
    """Whether the text contains a left delimiter (cheap: no parsing)."""
    return delimiters[0] in text


@functools.lru_cache(maxsize=CACHE_SIZE)
def _program(text: str, delimiters: tuple[str, str]) -> Program:
    return Program(text, parse_text(text, "", delimiters))


class Template:
    """A parsed template; render it any number of times with different data."""

    __slots__ = ("name", "_program")

    def __init__(self, program: Program, name: str) -> None:
        self._program = program
        self.name = name

    @property
    def text(self) -> str:
        """The template source."""
        return self._program.text

    @property
    def functions_used(self) -> frozenset[str]:
        """Names of the functions the template calls (dotted names such as ``strings.ToLower`` included)."""
        return self._program.functions_used

    def render(
        self,
        data: Any,
        *,
        missing: str = "error",
        env: Mapping[str, str] | None = None,
        funcs: Mapping[str, Callable[..., Any]] | None = None,
    ) -> str:
        """Execute with ``data`` as dot.

        missing: Go's ``missingkey`` option: "error" (a missing map key fails), "default"/"invalid"
        (it yields no value, printed ``<no value>``) or "zero" (it yields nil).
        env: what ``env``/``getenv``/``expandenv`` read (default: the process environment).
        funcs: extra functions, which take precedence over built-ins of the same name.
        """
        if missing not in MISSING_MODES:
            raise ValueError(f"missing must be one of {sorted(MISSING_MODES)}, not {missing!r}")
        program = self._program
        try:
            if program.unresolved:
                program.check_functions(funcs)
            return program.execute(data, State(missing, env, funcs))
        except TemplateError as exc:
            if exc.name:
                raise
            raise exc.located(name=self.name, line=exc.line, col=exc.col, construct=exc.construct) from exc.__cause__
        except RecursionError:
            raise TemplateError("template nesting too deep", name=self.name, line=0) from None

    def __repr__(self) -> str:
        return f"Template(name={self.name!r}, text={self.text[:40]!r})"


def parse(text: str, name: str = "", delimiters: tuple[str, str] = DEFAULT_DELIMITERS) -> Template:
    """Parse (once per distinct text and delimiters) and return a Template; raises TemplateError on syntax errors."""
    try:
        program = _program(text, (delimiters[0], delimiters[1]))
    except TemplateError as exc:
        raise exc.located(name=name, line=exc.line, col=exc.col, construct=exc.construct) from None
    return Template(program, name)


def render(
    text: str,
    data: Any,
    *,
    name: str = "",
    delimiters: tuple[str, str] = DEFAULT_DELIMITERS,
    missing: str = "error",
    env: Mapping[str, str] | None = None,
    funcs: Mapping[str, Callable[..., Any]] | None = None,
) -> str:
    """Parse (cached) and render in one call."""
    return parse(text, name, delimiters).render(data, missing=missing, env=env, funcs=funcs)
