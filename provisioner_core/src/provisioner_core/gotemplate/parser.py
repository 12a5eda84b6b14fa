"""Build the parse tree from tokens, following Go's ``text/template/parse`` grammar and its error messages.

Variables are resolved here: each declaration gets a slot in its template's frame, and a use refers
to the slot of the nearest declaration in scope, so the evaluator never looks names up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import lexer as lx
from .errors import TemplateError, UnsupportedTemplateError
from .formatting import quote
from .lexer import Token, line_of
from .nodes import (
    ActionNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    FunctionNode,
    IfNode,
    ListNode,
    LiteralNode,
    NilNode,
    Node,
    Operand,
    PipeNode,
    RangeNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
)

_OCTAL = re.compile(r"[+-]?0[0-7_]+")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


@dataclass
class ParseResult:
    """What parsing a template text yields: the main tree, the defined templates and the functions used."""

    main: Tree
    defines: dict[str, Tree]
    functions: dict[str, int] = field(default_factory=dict)  # name -> offset of first use


def unquote(token: Token, error: TemplateError) -> str:
    """Decode a Go string literal (interpreted or raw)."""
    source = token.value
    if token.kind == lx.RAW_STRING:
        return source[1:-1].replace("\r", "")
    body = source[1:-1]
    if "\\" not in body:
        return body
    return _decode_escapes(body, '"', error)


def _decode_escapes(body: str, quote: str, error: TemplateError) -> str:
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out += char.encode()
            index += 1
            continue
        index += 1
        if index >= len(body):
            raise error
        code = body[index]
        index += 1
        if code in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[code].encode()
        elif code == quote:
            out += code.encode()
        elif code == "x":
            digits = body[index : index + 2]
            if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise error
            out.append(int(digits, 16))
            index += 2
        elif code in "uU":
            size = 4 if code == "u" else 8
            digits = body[index : index + size]
            if len(digits) != size or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise error
            value = int(digits, 16)
            if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise error
            out += chr(value).encode()
            index += size
        elif code in "01234567":
            digits = body[index - 1 : index + 2]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
                raise error
            out.append(int(digits, 8))
            index += 2
        else:
            raise error
    # Go strings are bytes; \x escapes that do not form UTF-8 print as U+FFFD, as Go's output would show.
    return out.decode("utf-8", errors="replace")


def number_value(token: Token, error: TemplateError) -> int | float:
    """Convert a number literal as Go's ``idealConstant`` does: ints stay ints, ``.``/exponents make floats."""
    text = token.value
    if token.kind == lx.CHAR_CONSTANT:
        decoded = _decode_escapes(text[1:-1], "'", error)
        if len(decoded) != 1:
            raise error
        return ord(decoded)
    if text.endswith("i"):
        raise UnsupportedTemplateError("complex number constants are not supported", name=error.name, line=error.line, construct=text)
    lowered = text.lower()
    is_hex = lowered.lstrip("+-").startswith("0x")
    try:
        if is_hex and "p" in lowered:
            return float.fromhex(lowered.replace("_", ""))
        if not is_hex and any(c in lowered for c in ".e"):
            return float(text)
        if _OCTAL.fullmatch(text):
            sign = -1 if text.startswith("-") else 1
            return sign * int(text.lstrip("+-").replace("_", ""), 8)
        return int(text, 0)
    except ValueError:
        raise error from None


class Parser:
    """Recursive-descent parser over the token list of one template text."""

    def __init__(self, text: str, name: str, tokens: list[Token]) -> None:
        self.text = text
        self.name = name
        self.tokens = tokens
        self.index = 0
        self.scope: list[tuple[str, int]] = [("$", 0)]
        self.slots = 1
        self.range_depth = 0
        self.defines: dict[str, Tree] = {}
        self.functions: dict[str, int] = {}

    # -- token helpers ---------------------------------------------------------------------------

    def error(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, name=self.name, line=line_of(self.text, pos))

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != lx.EOF:
            self.index += 1
        return token

    def peek(self) -> Token:
        return self.tokens[self.index]

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind == lx.SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        index = self.index
        while self.tokens[index].kind == lx.SPACE:
            index += 1
        self.index = index
        return self.tokens[index]

    def describe(self, token: Token) -> str:
        if token.kind == lx.EOF:
            return "EOF"
        if token.kind == lx.RIGHT:
            return "}}" if token.value == "}}" else f"right delimiter {token.value!r}"
        if token.kind == lx.KEYWORD:
            return f"<{token.value}>"
        return f"{token.kind} {token.value!r}" if token.kind not in (lx.LEFT_PAREN, lx.RIGHT_PAREN, lx.PIPE) else repr(token.value)

    def unexpected(self, token: Token, context: str) -> TemplateError:
        return self.error(f"unexpected {self.describe(token)} in {context}", token.pos)

    def expect(self, kind: str, context: str) -> Token:
        token = self.next_non_space()
        if token.kind != kind:
            raise self.unexpected(token, context)
        return token

    # -- scopes ----------------------------------------------------------------------------------

    def declare(self, token: Token) -> VariableNode:
        slot = self.slots
        self.slots += 1
        self.scope.append((token.value, slot))
        return VariableNode(token.pos, token.value, slot, ())

    def lookup(self, token: Token, names: tuple[str, ...] = ()) -> VariableNode:
        for name, slot in reversed(self.scope):
            if name == token.value:
                return VariableNode(token.pos, token.value, slot, names)
        raise self.error(f"undefined variable {quote(token.value)}", token.pos)

    # -- grammar ---------------------------------------------------------------------------------

    def parse(self) -> ParseResult:
        nodes: list[Node] = []
        while True:
            token = self.peek()
            if token.kind == lx.EOF:
                break
            if token.kind == lx.LEFT and self.keyword_after_left() == "define":
                self.parse_define()
                continue
            node, terminator = self.text_or_action()
            if terminator is not None:
                raise self.error(f"unexpected {{{{{terminator.value}}}}}", terminator.pos)
            if node is not None:
                nodes.append(node)
        main = Tree(ListNode(0, tuple(nodes)), self.slots)
        return ParseResult(main, self.defines, self.functions)

    def keyword_after_left(self) -> str | None:
        index = self.index + 1
        while self.tokens[index].kind == lx.SPACE:
            index += 1
        token = self.tokens[index]
        return token.value if token.kind == lx.KEYWORD else None

    def text_or_action(self) -> tuple[Node | None, Token | None]:
        """One text or action; returns the ``end``/``else`` keyword token instead when it meets one."""
        token = self.next()
        if token.kind == lx.TEXT:
            return TextNode(token.pos, token.value), None
        if token.kind == lx.LEFT:
            return self.action(token)
        raise self.unexpected(token, "input")

    def item_list(self, context: str, opener: Token) -> tuple[ListNode, Token]:
        """Nodes up to the ``{{end}}`` or ``{{else}}`` that closes a control structure; variables declared inside end there."""
        mark = len(self.scope)
        nodes: list[Node] = []
        while True:
            if self.peek().kind == lx.EOF:
                raise self.error(f"missing {{{{end}}}} for {{{{{context}}}}} started at line {line_of(self.text, opener.pos)}", opener.pos)
            node, terminator = self.text_or_action()
            if terminator is not None:
                del self.scope[mark:]
                return ListNode(opener.pos, tuple(nodes)), terminator
            if node is not None:
                nodes.append(node)

    def action(self, left: Token) -> tuple[Node | None, Token | None]:
        token = self.peek_non_space()
        if token.kind == lx.KEYWORD:
            self.next()
            keyword = token.value
            if keyword in ("end", "else"):
                return None, token
            if keyword in ("if", "with"):
                return self.parse_if(token), None
            if keyword == "range":
                return self.parse_range(token), None
            if keyword in ("break", "continue"):
                if self.range_depth == 0:
                    raise self.error(f"{{{{{keyword}}}}} outside {{{{range}}}}", token.pos)
                self.expect(lx.RIGHT, keyword)
                return (BreakNode(token.pos) if keyword == "break" else ContinueNode(token.pos)), None
            if keyword == "template":
                return self.parse_template(token), None
            if keyword == "block":
                return self.parse_block(token), None
            raise self.error(f"unexpected {{{{{keyword}}}}}: define must be at the top level of a template", token.pos)
        pipe = self.pipeline("command", lx.RIGHT)
        return ActionNode(left.pos, pipe), None

    def parse_if(self, keyword: Token) -> IfNode:
        """``if`` and ``with``, including ``else if``/``else with`` chains that share one ``{{end}}``."""
        mark = len(self.scope)
        pipe = self.pipeline(keyword.value, lx.RIGHT)
        body, terminator = self.item_list(keyword.value, keyword)
        else_body: ListNode | None = None
        if terminator.value == "else":
            following = self.peek_non_space()
            if following.kind == lx.KEYWORD and following.value == keyword.value:
                self.next()
                else_body = ListNode(following.pos, (self.parse_if(following),))
            else:
                self.expect(lx.RIGHT, "else")
                else_body, terminator = self.item_list(keyword.value, keyword)
                if terminator.value != "end":
                    raise self.error("expected end; found {{else}}", terminator.pos)
                self.expect(lx.RIGHT, "end")
        else:
            self.expect(lx.RIGHT, "end")
        del self.scope[mark:]
        return IfNode(keyword.pos, keyword.value, pipe, body, else_body)

    def parse_range(self, keyword: Token) -> RangeNode:
        mark = len(self.scope)
        pipe = self.pipeline("range", lx.RIGHT)
        self.range_depth += 1
        body, terminator = self.item_list("range", keyword)
        self.range_depth -= 1
        else_body: ListNode | None = None
        if terminator.value == "else":
            self.expect(lx.RIGHT, "else")
            else_body, terminator = self.item_list("range", keyword)
            if terminator.value != "end":
                raise self.error("expected end; found {{else}}", terminator.pos)
        self.expect(lx.RIGHT, "end")
        del self.scope[mark:]
        return RangeNode(keyword.pos, pipe, body, else_body)

    def template_name(self, context: str) -> str:
        token = self.next_non_space()
        if token.kind not in (lx.STRING, lx.RAW_STRING):
            raise self.unexpected(token, context)
        return unquote(token, self.error(f"bad string literal in {context}", token.pos))

    def parse_template(self, keyword: Token) -> TemplateNode:
        name = self.template_name("template clause")
        pipe = None
        if self.peek_non_space().kind != lx.RIGHT:
            pipe = self.pipeline("template clause", lx.RIGHT)
        else:
            self.next()
        return TemplateNode(keyword.pos, name, pipe)

    def parse_define(self) -> None:
        self.next()
        keyword = self.next_non_space()
        name = self.template_name("define clause")
        self.expect(lx.RIGHT, "define clause")
        self.defines[name] = self.sub_tree(keyword, "define")

    def parse_block(self, keyword: Token) -> TemplateNode:
        name = self.template_name("block clause")
        pipe = self.pipeline("block clause", lx.RIGHT)
        self.defines[name] = self.sub_tree(keyword, "block")
        return TemplateNode(keyword.pos, name, pipe)

    def sub_tree(self, keyword: Token, context: str) -> Tree:
        """The body of a define/block: its own frame, where ``$`` is the dot it is called with."""
        saved = (self.scope, self.slots, self.range_depth)
        self.scope, self.slots, self.range_depth = [("$", 0)], 1, 0
        body, terminator = self.item_list(context, keyword)
        if terminator.value != "end":
            raise self.error(f"unexpected {{{{else}}}} in {context}", terminator.pos)
        self.expect(lx.RIGHT, "end")
        tree = Tree(body, self.slots)
        self.scope, self.slots, self.range_depth = saved
        return tree

    def pipeline(self, context: str, end: str) -> PipeNode:
        start = self.peek_non_space()
        decl_tokens: list[Token] = []
        is_assign = False
        while self.peek_non_space().kind == lx.VARIABLE:
            saved = self.index
            token = self.next()
            following = self.peek_non_space()
            if following.kind in (lx.DECLARE, lx.ASSIGN):
                self.next()
                decl_tokens.append(token)
                is_assign = following.kind == lx.ASSIGN
                break
            if following.kind == lx.CHAR and following.value == ",":
                self.next()
                decl_tokens.append(token)
                if context != "range" or len(decl_tokens) > 1:
                    raise self.error(f"too many declarations in {context}", following.pos)
                if self.peek_non_space().kind != lx.VARIABLE:
                    raise self.error("range can only initialize variables", following.pos)
                continue
            if decl_tokens:
                raise self.error(f"missing := after the variables of {context}", following.pos)
            self.index = saved
            break
        if is_assign and context == "range":
            raise UnsupportedTemplateError("assignment (=) in a range clause is not supported; use :=", name=self.name, line=line_of(self.text, start.pos))
        cmds: list[CommandNode] = []
        while True:
            token = self.peek_non_space()
            if token.kind == end:
                self.next()
                break
            if token.kind in _OPERAND_STARTS:
                cmds.append(self.command(context))
                continue
            raise self.unexpected(token, context)
        if not cmds:
            raise self.error(f"missing value for {context}", start.pos)
        for stage, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.args[0], (LiteralNode, DotNode, NilNode)):
                raise self.error(f"non executable command in pipeline stage {stage}", cmd.pos)
        # Declarations take effect after the pipeline is evaluated, so `$x := $x` reads the outer $x.
        decl = tuple(self.lookup(t) if is_assign else self.declare(t) for t in decl_tokens)
        return PipeNode(start.pos, decl, is_assign, tuple(cmds))

    def command(self, context: str) -> CommandNode:
        start = self.peek_non_space()
        args: list[Operand] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            token = self.peek()
            if token.kind == lx.SPACE:
                self.next()
                continue
            if token.kind in (lx.RIGHT, lx.RIGHT_PAREN):
                break
            if token.kind == lx.PIPE:
                self.next()
                break
            raise self.unexpected(token, "operand")
        if not args:
            raise self.error("empty command", start.pos)
        return CommandNode(start.pos, tuple(args))

    def operand(self) -> Operand | None:
        token = self.peek()
        term = self.term()
        if term is None:
            return None
        names: list[str] = []
        while self.peek().kind == lx.FIELD:
            names.append(self.next().value[1:])
        if not names:
            return term
        if isinstance(term, FunctionNode):
            # Go calls the function, then reads fields; Sprig/Gomplate namespaces make the dotted name one function.
            name = ".".join((term.name, *names))
            if self.functions.get(term.name) == term.pos:
                del self.functions[term.name]
            self.functions.setdefault(name, term.pos)
            return FunctionNode(term.pos, name)
        if isinstance(term, FieldNode):
            return FieldNode(term.pos, term.names + tuple(names))
        if isinstance(term, VariableNode):
            return VariableNode(term.pos, term.name, term.slot, term.names + tuple(names))
        if isinstance(term, PipeNode):
            return ChainNode(term.pos, term, tuple(names))
        raise self.error(f"unexpected . after term {quote(token.value)}", token.pos)

    def term(self) -> Operand | None:
        token = self.peek()
        kind = token.kind
        if kind == lx.IDENTIFIER:
            self.next()
            self.functions.setdefault(token.value, token.pos)
            return FunctionNode(token.pos, token.value)
        if kind == lx.DOT:
            self.next()
            return DotNode(token.pos)
        if kind == lx.NIL:
            self.next()
            return NilNode(token.pos)
        if kind == lx.VARIABLE:
            self.next()
            return self.lookup(token)
        if kind == lx.FIELD:
            self.next()
            return FieldNode(token.pos, (token.value[1:],))
        if kind == lx.BOOL:
            self.next()
            return LiteralNode(token.pos, token.value == "true", token.value)
        if kind in (lx.NUMBER, lx.CHAR_CONSTANT):
            self.next()
            return LiteralNode(token.pos, number_value(token, self.error(f"bad number syntax: {token.value!r}", token.pos)), token.value)
        if kind in (lx.STRING, lx.RAW_STRING):
            self.next()
            return LiteralNode(token.pos, unquote(token, self.error(f"bad string syntax: {token.value}", token.pos)), token.value)
        if kind == lx.LEFT_PAREN:
            self.next()
            return self.pipeline("parenthesized pipeline", lx.RIGHT_PAREN)
        return None


_OPERAND_STARTS = frozenset(
    {lx.BOOL, lx.CHAR_CONSTANT, lx.DOT, lx.FIELD, lx.IDENTIFIER, lx.NUMBER, lx.NIL, lx.RAW_STRING, lx.STRING, lx.VARIABLE, lx.LEFT_PAREN}
)


def parse_text(text: str, name: str = "", delimiters: tuple[str, str] = ("{{", "}}")) -> ParseResult:
    """Lex and parse one template text."""
    tokens = lx.lex(text, name, delimiters)
    return Parser(text, name, tokens).parse()
