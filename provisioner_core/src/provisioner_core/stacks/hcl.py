"""HCL attribute files of literal values (``.tfvars``, ``.tf`` with attributes only), for ``!include``.

``name = value`` lines whose values are strings, numbers, booleans, null, lists and objects.
Anything else (an expression, an interpolation ``${...}``, a block such as ``variable "x" {}``) is
exit 2 naming the file and line: a stack value must not depend on evaluating terraform code.
"""

from __future__ import annotations

import json
import re
from typing import Any

from provisioner_core.errors import ConfigError

_TOKEN = re.compile(
    r"""(?P<space>[ \t\r]+|\\\n)
      |(?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
      |(?P<newline>\n)
      |(?P<heredoc><<-?(?P<marker>[A-Za-z_]\w*)[ \t]*\n)
      |(?P<string>"(?:[^"\\\n]|\\.)*")
      |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      |(?P<ident>[A-Za-z_][\w-]*)
      |(?P<punct>[=:,\[\]{}()])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens: list[tuple[str, str, int]] = []
        self._lex()
        self.i = 0

    def fail(self, message: str, line: int | None = None) -> ConfigError:
        at = line if line is not None else (self.tokens[self.i][2] if self.i < len(self.tokens) else self.text.count("\n") + 1)
        return ConfigError(
            f"{self.where}:{at}: {message}",
            hint="An included HCL file may hold only `name = value` attributes with literal values (strings, numbers, lists, objects).",
        )

    def _lex(self) -> None:
        position, line = 0, 1
        while position < len(self.text):
            match = _TOKEN.match(self.text, position)
            if match is None:
                raise ConfigError(
                    f"{self.where}:{line}: unexpected {self.text[position]!r} (only literal values are supported)",
                    hint="An included HCL file may hold only `name = value` attributes with literal values.",
                )
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "heredoc":
                marker = match.group("marker")
                end = re.compile(rf"^[ \t]*{marker}[ \t]*$", re.MULTILINE).search(self.text, match.end())
                if end is None:
                    raise ConfigError(f"{self.where}:{line}: heredoc <<{marker} is not closed", hint=f"End it with a line holding only {marker}.")
                body = self.text[match.end() : end.start()]
                if value.startswith("<<-"):
                    lines = body.split("\n")
                    indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                    body = "\n".join(x[indent:] for x in lines)
                self.tokens.append(("text", body, line))
                line += self.text.count("\n", match.start(), end.end())
                position = end.end()
                continue
            if kind not in ("space", "comment"):
                self.tokens.append((kind, value, line))
            line += value.count("\n")
            position = match.end()

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "", self.tokens[-1][2] if self.tokens else 1)

    def skip_newlines(self) -> None:
        while self.peek()[0] == "newline":
            self.i += 1

    def expect(self, value: str) -> None:
        kind, text, line = self.peek()
        if text != value or kind != "punct":
            raise self.fail(f"expected {value!r}, found {text or 'the end'!r}", line)
        self.i += 1

    def attributes(self, closing: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self.skip_newlines()
            kind, text, line = self.peek()
            if closing is not None and kind == "punct" and text == closing:
                self.i += 1
                return result
            if kind == "eof":
                if closing is not None:
                    raise self.fail(f"missing {closing!r}", line)
                return result
            if kind not in ("ident", "string"):
                raise self.fail(f"expected an attribute name, found {text!r}", line)
            key = self._string(text) if kind == "string" else text
            self.i += 1
            sep = self.peek()
            if sep[0] != "punct" or sep[1] not in ("=", ":"):
                what = "a block" if sep[0] in ("string", "ident") or sep[1] == "{" else repr(sep[1])
                raise self.fail(f"{key}: found {what} where `=` belongs (blocks are not supported)", sep[2])
            self.i += 1
            result[key] = self.value()
            after = self.peek()
            if after[0] == "punct" and after[1] == ",":
                self.i += 1

    def value(self) -> Any:
        self.skip_newlines()
        kind, text, line = self.peek()
        self.i += 1
        if kind == "string":
            return self._string(text, line)
        if kind == "text":
            return text
        if kind == "number":
            return json.loads(text)
        if kind == "ident" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if kind == "punct" and text == "[":
            items: list[Any] = []
            while True:
                self.skip_newlines()
                if self.peek()[:2] == ("punct", "]"):
                    self.i += 1
                    return items
                items.append(self.value())
                self.skip_newlines()
                if self.peek()[:2] == ("punct", ","):
                    self.i += 1
        if kind == "punct" and text == "{":
            return self.attributes("}")
        raise self.fail(f"{text!r} is not a literal value (expressions are not supported)", line)

    def _string(self, token: str, line: int | None = None) -> str:
        body = token[1:-1]
        if "${" in body.replace("$${", "") or "%{" in body.replace("%%{", ""):
            raise self.fail(f"interpolation in {token} is not supported", line)
        out = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt == "u" and i + 6 <= len(body):
                    out.append(chr(int(body[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out).replace("$${", "${").replace("%%{", "%{")


def parse_attributes(text: str, where: str) -> dict[str, Any]:
    """The attributes of an HCL file of literals, as plain data."""
    return _Parser(text, where).attributes(None)
