"""Split template text into tokens, following Go's ``text/template/parse`` lexer.

Text outside actions becomes TEXT tokens (already trimmed where ``{{-``/``-}}`` ask for it); inside an
action the lexer emits the same items as Go's: spaces, fields, variables, identifiers, literals...
Comments produce no token.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import TemplateError

TEXT = "text"
LEFT = "{{"
RIGHT = "}}"
SPACE = "space"
FIELD = "field"
DOT = "."
VARIABLE = "variable"
IDENTIFIER = "identifier"
KEYWORD = "keyword"
BOOL = "bool"
NIL = "nil"
NUMBER = "number"
CHAR_CONSTANT = "character constant"
STRING = "string"
RAW_STRING = "raw string"
PIPE = "|"
LEFT_PAREN = "("
RIGHT_PAREN = ")"
DECLARE = ":="
ASSIGN = "="
CHAR = "char"
EOF = "EOF"

KEYWORDS = frozenset({"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"})
_SPACES = " \t\r\n"
_TERMINATORS = frozenset(".,|:()")


class Token(NamedTuple):
    """One lexical item: its kind, its source text and its offset in the template."""

    kind: str
    value: str
    pos: int


def line_of(text: str, pos: int) -> int:
    """1-based line number of an offset."""
    return text.count("\n", 0, pos) + 1


def _is_alnum(char: str) -> bool:
    return char == "_" or char.isalnum()


class _Lexer:
    def __init__(self, text: str, name: str, left: str, right: str) -> None:
        self.text = text
        self.name = name
        self.left = left
        self.right = right
        self.tokens: list[Token] = []
        self.paren_depth = 0

    def error(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, name=self.name, line=line_of(self.text, pos))

    def run(self) -> list[Token]:
        text, left = self.text, self.left
        pos = 0
        while True:
            start = text.find(left, pos)
            if start < 0:
                if pos < len(text):
                    self.tokens.append(Token(TEXT, text[pos:], pos))
                break
            inside = start + len(left)
            trim_left = text.startswith("-", inside) and inside + 1 < len(text) and text[inside + 1] in _SPACES
            end_of_text = len(text[pos:start].rstrip(_SPACES)) + pos if trim_left else start
            if end_of_text > pos:
                self.tokens.append(Token(TEXT, text[pos:end_of_text], pos))
            if trim_left:
                inside += 2
            if text.startswith("/*", inside):
                pos = self.comment(start, inside)
                continue
            self.tokens.append(Token(LEFT, left, start))
            pos = self.action(inside)
        self.tokens.append(Token(EOF, "", len(text)))
        return self.tokens

    def at_right(self, pos: int) -> tuple[bool, bool]:
        """Whether a closing delimiter starts here, and whether it carries a trim marker (`` -}}``)."""
        text = self.text
        if text.startswith(self.right, pos):
            return True, False
        if pos + 1 < len(text) and text[pos] in _SPACES and text[pos + 1] == "-" and text.startswith(self.right, pos + 2):
            return True, True
        return False, False

    def after_right(self, pos: int, trim: bool) -> int:
        """Offset just after a closing delimiter found at ``pos``, skipping whitespace if it trims."""
        pos += (2 if trim else 0) + len(self.right)
        if trim:
            while pos < len(self.text) and self.text[pos] in _SPACES:
                pos += 1
        return pos

    def comment(self, start: int, inside: int) -> int:
        close = self.text.find("*/", inside + 2)
        if close < 0:
            raise self.error("unclosed comment", start)
        found, trim = self.at_right(close + 2)
        if not found:
            raise self.error("comment ends before closing delimiter", start)
        return self.after_right(close + 2, trim)

    def at_terminator(self, pos: int) -> bool:
        if pos >= len(self.text):
            return True
        char = self.text[pos]
        return char in _SPACES or char in _TERMINATORS or self.text.startswith(self.right, pos)

    def action(self, pos: int) -> int:
        text = self.text
        emit = self.tokens.append
        start = pos
        while True:
            found, trim = self.at_right(pos)
            if found:
                if self.paren_depth:
                    raise self.error("unclosed left paren", pos)
                emit(Token(RIGHT, self.right, pos))
                return self.after_right(pos, trim)
            if pos >= len(text):
                raise self.error("unclosed action", start)
            char = text[pos]
            if char in _SPACES:
                end = pos
                while end < len(text) and text[end] in _SPACES:
                    if self.at_right(end)[1]:
                        break
                    end += 1
                if end == pos:
                    # A lone space before "-}}": let the next round see the trim marker.
                    continue
                emit(Token(SPACE, text[pos:end], pos))
                pos = end
            elif char == "=":
                emit(Token(ASSIGN, char, pos))
                pos += 1
            elif char == ":":
                if not text.startswith(":=", pos):
                    raise self.error("expected :=", pos)
                emit(Token(DECLARE, ":=", pos))
                pos += 2
            elif char == "|":
                emit(Token(PIPE, char, pos))
                pos += 1
            elif char == '"':
                pos = self.quoted(pos)
            elif char == "`":
                end = text.find("`", pos + 1)
                if end < 0:
                    raise self.error("unterminated raw quoted string", pos)
                emit(Token(RAW_STRING, text[pos : end + 1], pos))
                pos = end + 1
            elif char == "'":
                pos = self.char_constant(pos)
            elif char == "$":
                pos = self.word(pos + 1, pos, VARIABLE)
            elif char == ".":
                if pos + 1 < len(text) and text[pos + 1].isdigit():
                    pos = self.number(pos)
                elif self.at_terminator(pos + 1):
                    emit(Token(DOT, ".", pos))
                    pos += 1
                else:
                    pos = self.word(pos + 1, pos, FIELD)
            elif char in "+-" or char.isdigit():
                pos = self.number(pos)
            elif _is_alnum(char):
                pos = self.word(pos, pos, IDENTIFIER)
            elif char == "(":
                self.paren_depth += 1
                emit(Token(LEFT_PAREN, char, pos))
                pos += 1
            elif char == ")":
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    raise self.error("unexpected right paren", pos)
                emit(Token(RIGHT_PAREN, char, pos))
                pos += 1
            elif char.isascii() and char.isprintable():
                emit(Token(CHAR, char, pos))
                pos += 1
            else:
                raise self.error(f"unrecognized character in action: U+{ord(char):04X}", pos)

    def word(self, pos: int, start: int, kind: str) -> int:
        """A field, variable or identifier: alphanumerics that must end at a terminator."""
        text = self.text
        end = pos
        while end < len(text) and _is_alnum(text[end]):
            end += 1
        if not self.at_terminator(end):
            char = text[end]
            raise self.error(f"bad character U+{ord(char):04X} '{char}'", end)
        value = text[start:end]
        if kind == IDENTIFIER:
            if value in KEYWORDS:
                kind = KEYWORD
            elif value in ("true", "false"):
                kind = BOOL
            elif value == "nil":
                kind = NIL
        self.tokens.append(Token(kind, value, start))
        return end

    def quoted(self, pos: int) -> int:
        text = self.text
        end = pos + 1
        while True:
            if end >= len(text) or text[end] == "\n":
                raise self.error("unterminated quoted string", pos)
            if text[end] == "\\":
                end += 2
                continue
            if text[end] == '"':
                break
            end += 1
        self.tokens.append(Token(STRING, text[pos : end + 1], pos))
        return end + 1

    def char_constant(self, pos: int) -> int:
        text = self.text
        end = pos + 1
        while True:
            if end >= len(text) or text[end] == "\n":
                raise self.error("unterminated character constant", pos)
            if text[end] == "\\":
                end += 2
                continue
            if text[end] == "'":
                break
            end += 1
        self.tokens.append(Token(CHAR_CONSTANT, text[pos : end + 1], pos))
        return end + 1

    def number(self, pos: int) -> int:
        text = self.text
        end = pos

        def accept(chars: str) -> bool:
            nonlocal end
            if end < len(text) and text[end] in chars:
                end += 1
                return True
            return False

        def accept_run(chars: str) -> None:
            while accept(chars):
                pass

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        accept_run(digits)
        if accept("."):
            accept_run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            accept_run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            accept_run("0123456789_")
        accept("i")
        if end < len(text) and _is_alnum(text[end]) or text[pos:end] in ("+", "-", ""):
            raise self.error(f"bad number syntax: {text[pos : end + 1]!r}", pos)
        self.tokens.append(Token(NUMBER, text[pos:end], pos))
        return end


def lex(text: str, name: str = "", delimiters: tuple[str, str] = ("{{", "}}")) -> list[Token]:
    """Tokenize a whole template; raises TemplateError for lexical errors (unclosed action, bad number...)."""
    left, right = delimiters
    return _Lexer(text, name, left, right).run()
