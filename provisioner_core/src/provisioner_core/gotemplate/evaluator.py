"""Execute a parse tree against plain Python data, with Go's ``text/template`` semantics.

The tree is compiled once into nested closures (one per node), so rendering the same template for
thousands of values costs a few function calls per action, not a walk over node types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import FunctionError, TemplateError, UnsupportedFunctionError, UnsupportedTemplateError
from .formatting import format_value, sort_keys
from .functions import ARITY, BUILTINS, ENV_FUNCTIONS, refusal_reason
from .lexer import line_of
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
from .parser import ParseResult
from .values import NO_VALUE, is_true, type_name

MISSING_MODES = frozenset({"error", "default", "invalid", "zero"})
MAX_DEPTH = 100


class _NoFinal:
    """Marks "no value piped in" (Go's ``missingVal``), distinct from a piped no-value."""

    __slots__ = ()


_NO_FINAL = _NoFinal()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    """What one render needs besides the data: options, environment and caller functions."""

    __slots__ = ("missing", "env", "extra", "depth")

    def __init__(self, missing: str, env: Mapping[str, str] | None, extra: Mapping[str, Callable[..., Any]] | None) -> None:
        self.missing = missing
        self.env = env
        self.extra = extra
        self.depth = 0


Frame = list[Any]
Value = Callable[[State, Frame, Any], Any]
Command = Callable[[State, Frame, Any, Any], Any]
Statement = Callable[[State, Frame, Any, list[str]], None]


def print_value(value: Any) -> str:
    """How an action prints its value: nil (an unwrapped nil interface in Go) prints as ``<no value>``."""
    if value is NO_VALUE or value is None:
        return "<no value>"
    return format_value(value)


def node_source(node: Operand) -> str:
    """A short source form of an operand, for error messages (Go's ``<.a.b>``)."""
    if isinstance(node, FieldNode):
        return "." + ".".join(node.names)
    if isinstance(node, VariableNode):
        return ".".join((node.name, *node.names))
    if isinstance(node, FunctionNode):
        return node.name
    if isinstance(node, LiteralNode):
        return node.source
    if isinstance(node, DotNode):
        return "."
    if isinstance(node, NilNode):
        return "nil"
    if isinstance(node, ChainNode):
        return "(" + node_source_pipe(node.node) + ")." + ".".join(node.names)
    return "(" + node_source_pipe(node) + ")"


def node_source_pipe(pipe: PipeNode) -> str:
    return " | ".join(" ".join(node_source(arg) for arg in cmd.args) for cmd in pipe.cmds)


class Program:
    """A parsed template text compiled to closures; shared by every Template made from the same text."""

    def __init__(self, text: str, parsed: ParseResult) -> None:
        self.text = text
        self.parsed = parsed
        self.functions_used = frozenset(parsed.functions)
        # Functions that are neither built in nor refused-with-a-reason must come from the caller.
        self.unresolved = sorted(
            (pos, name) for name, pos in parsed.functions.items() if name not in BUILTINS and name not in ("and", "or")
        )
        self.bodies: dict[str, tuple[Statement, int]] = {}
        self.main = self.compile_tree(parsed.main)
        for define_name, tree in parsed.defines.items():
            self.bodies[define_name] = (self.compile_tree(tree), tree.slots)

    # -- errors ----------------------------------------------------------------------------------

    def error(self, pos: int, message: str, construct: str | None = None, unsupported: bool = False) -> TemplateError:
        cls = UnsupportedTemplateError if unsupported else TemplateError
        return cls(message, line=line_of(self.text, pos), construct=construct)

    def check_functions(self, extra: Mapping[str, Callable[..., Any]] | None) -> None:
        for pos, name in self.unresolved:
            if extra is not None and name in extra:
                continue
            reason = refusal_reason(name)
            message = f'function "{name}" {reason}' if reason else f'function "{name}" not defined'
            raise self.error(pos, message, unsupported=True)

    # -- entry -----------------------------------------------------------------------------------

    def execute(self, data: Any, state: State) -> str:
        out: list[str] = []
        frame: Frame = [data] + [NO_VALUE] * (self.parsed.main.slots - 1)
        self.main(state, frame, data, out)
        return "".join(out)

    # -- compilation -----------------------------------------------------------------------------

    def compile_tree(self, tree: Tree) -> Statement:
        return self.compile_list(tree.root)

    def compile_list(self, node: ListNode) -> Statement:
        parts = [self.compile_node(child) for child in node.nodes]
        if len(parts) == 1:
            return parts[0]

        def run_list(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
            for part in parts:
                part(state, frame, dot, out)

        return run_list

    def compile_node(self, node: Node) -> Statement:
        if isinstance(node, TextNode):
            text = node.text

            def run_text(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
                out.append(text)

            return run_text
        if isinstance(node, ActionNode):
            return self.compile_action(node)
        if isinstance(node, IfNode):
            return self.compile_if(node)
        if isinstance(node, RangeNode):
            return self.compile_range(node)
        if isinstance(node, BreakNode):

            def run_break(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
                raise _Break

            return run_break
        if isinstance(node, ContinueNode):

            def run_continue(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
                raise _Continue

            return run_continue
        if isinstance(node, TemplateNode):
            return self.compile_template_call(node)
        if isinstance(node, ListNode):
            return self.compile_list(node)
        raise AssertionError(f"unknown node {node!r}")

    def compile_action(self, node: ActionNode) -> Statement:
        pipe = self.compile_pipe(node.pipe)
        if node.pipe.decl:

            def run_declare(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
                pipe(state, frame, dot)

            return run_declare

        def run_action(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
            value = pipe(state, frame, dot)
            out.append(value if type(value) is str else print_value(value))

        return run_action

    def compile_if(self, node: IfNode) -> Statement:
        pipe = self.compile_pipe(node.pipe)
        body = self.compile_list(node.body)
        else_body = self.compile_list(node.else_body) if node.else_body is not None else None
        is_with = node.kind == "with"

        def run_if(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
            value = pipe(state, frame, dot)
            if is_true(value):
                body(state, frame, value if is_with else dot, out)
            elif else_body is not None:
                else_body(state, frame, dot, out)

        return run_if

    def compile_range(self, node: RangeNode) -> Statement:
        pipe = self.compile_pipe(node.pipe)
        body = self.compile_list(node.body)
        else_body = self.compile_list(node.else_body) if node.else_body is not None else None
        slots = [var.slot for var in node.pipe.decl]
        key_slot = slots[0] if len(slots) == 2 else None
        elem_slot = slots[-1] if slots else None
        pos = node.pos

        def run_range(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
            value = pipe(state, frame, dot)
            items: Sequence[tuple[Any, Any]]
            if isinstance(value, Mapping):
                items = [(key, value[key]) for key in sort_keys(dict(value))]
            elif isinstance(value, (list, tuple)):
                items = list(enumerate(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                if key_slot is not None:
                    raise self.error(pos, f"can't use {value} to iterate over more than one variable")
                items = [(i, i) for i in range(value)]
            elif value is None or value is NO_VALUE:
                items = ()
            else:
                raise self.error(pos, f"range can't iterate over {format_value(value)}")
            if not items:
                if else_body is not None:
                    else_body(state, frame, dot, out)
                return
            for key, elem in items:
                if elem_slot is not None:
                    frame[elem_slot] = elem
                if key_slot is not None:
                    frame[key_slot] = key
                try:
                    body(state, frame, elem, out)
                except _Continue:
                    continue
                except _Break:
                    break

        return run_range

    def compile_template_call(self, node: TemplateNode) -> Statement:
        pipe = self.compile_pipe(node.pipe) if node.pipe is not None else None
        name = node.name
        pos = node.pos

        def run_template(state: State, frame: Frame, dot: Any, out: list[str]) -> None:
            target = self.bodies.get(name)
            if target is None:
                raise self.error(pos, f'no template "{name}" defined')
            value = pipe(state, frame, dot) if pipe is not None else None
            if state.depth >= MAX_DEPTH:
                raise self.error(pos, f"exceeded maximum template depth ({MAX_DEPTH})")
            body, slot_count = target
            state.depth += 1
            try:
                body(state, [value] + [NO_VALUE] * (slot_count - 1), value, out)
            finally:
                state.depth -= 1

        return run_template

    def compile_pipe(self, pipe: PipeNode) -> Value:
        commands = [self.compile_command(cmd) for cmd in pipe.cmds]
        slots = [var.slot for var in pipe.decl]
        if len(commands) == 1 and not slots:
            only = commands[0]

            def run_single(state: State, frame: Frame, dot: Any) -> Any:
                value = only(state, frame, dot, _NO_FINAL)
                return NO_VALUE if value is None else value

            return run_single

        def run_pipe(state: State, frame: Frame, dot: Any) -> Any:
            value: Any = _NO_FINAL
            for command in commands:
                value = command(state, frame, dot, value)
                # Go turns a nil interface result into "no value" between stages ("lovely!" in exec.go).
                if value is None:
                    value = NO_VALUE
            for slot in slots:
                frame[slot] = value
            return value

        return run_pipe

    def compile_command(self, cmd: CommandNode) -> Command:
        first = cmd.args[0]
        rest = cmd.args[1:]
        if isinstance(first, FunctionNode):
            return self.compile_call(first, rest)
        if isinstance(first, NilNode):
            raise self.error(first.pos, "nil is not a command")
        pos = first.pos
        source = node_source(first)
        if rest:
            if isinstance(first, (FieldNode, ChainNode)) or (isinstance(first, VariableNode) and first.names):
                raise self.error(pos, f"{_last_name(first)} is not a method but has arguments", source)
            raise self.error(pos, f"can't give argument to non-function {source}", source)
        operand = self.compile_operand(first)
        takes_fields = isinstance(first, (FieldNode, ChainNode)) or (isinstance(first, VariableNode) and bool(first.names))

        def run_operand(state: State, frame: Frame, dot: Any, final: Any) -> Any:
            if final is not _NO_FINAL:
                if takes_fields:
                    raise self.error(pos, f"{_last_name(first)} is not a method but has arguments", source)
                raise self.error(pos, f"can't give argument to non-function {source}", source)
            return operand(state, frame, dot)

        return run_operand

    def compile_operand(self, node: Operand) -> Value:
        if isinstance(node, LiteralNode):
            constant = node.value

            def run_literal(state: State, frame: Frame, dot: Any) -> Any:
                return constant

            return run_literal
        if isinstance(node, DotNode):

            def run_dot(state: State, frame: Frame, dot: Any) -> Any:
                return dot

            return run_dot
        if isinstance(node, NilNode):

            def run_nil(state: State, frame: Frame, dot: Any) -> Any:
                return None

            return run_nil
        if isinstance(node, FieldNode):
            return self.compile_fields(node.pos, None, node.names, "." + ".".join(node.names))
        if isinstance(node, VariableNode):
            slot = node.slot

            def run_variable(state: State, frame: Frame, dot: Any) -> Any:
                return frame[slot]

            if not node.names:
                return run_variable
            return self.compile_fields(node.pos, run_variable, node.names, node_source(node))
        if isinstance(node, FunctionNode):
            call = self.compile_call(node, ())

            def run_function(state: State, frame: Frame, dot: Any) -> Any:
                return call(state, frame, dot, _NO_FINAL)

            return run_function
        if isinstance(node, ChainNode):
            return self.compile_fields(node.pos, self.compile_pipe(node.node), node.names, node_source(node))
        return self.compile_pipe(node)

    def compile_fields(self, pos: int, base: Value | None, names: tuple[str, ...], source: str) -> Value:
        """Field chain ``.a.b`` from the cursor (base None) or from a variable's or pipeline's value."""
        step = self.field_step

        def run_fields(state: State, frame: Frame, dot: Any) -> Any:
            value = dot if base is None else base(state, frame, dot)
            for name in names:
                if type(value) is dict and name in value:
                    value = value[name]
                else:
                    value = step(state, value, name, pos, source)
            return value

        return run_fields

    def field_step(self, state: State, value: Any, name: str, pos: int, source: str) -> Any:
        """The slow path of one field access: missing keys, nil and non-map receivers."""
        if isinstance(value, Mapping):
            if name in value:
                return value[name]
            if state.missing == "error":
                raise self.error(pos, f'map has no entry for key "{name}"', source)
            return None if state.missing == "zero" else NO_VALUE
        if value is NO_VALUE:
            if state.missing == "error":
                raise self.error(pos, f'nil data; no entry for key "{name}"', source)
            return NO_VALUE
        if value is None:
            raise self.error(pos, f"nil pointer evaluating interface {{}}.{name}", source)
        raise self.error(pos, f"can't evaluate field {name} in type {type_name(value)}", source)

    def compile_call(self, node: FunctionNode, arg_nodes: Sequence[Operand]) -> Command:
        name = node.name
        pos = node.pos
        args = [self.compile_operand(arg) for arg in arg_nodes]
        if name in ("and", "or"):
            return self.compile_and_or(name, pos, args)
        builtin = BUILTINS.get(name)
        low, high = ARITY.get(name, (0, None))
        wants_env = name in ENV_FUNCTIONS
        error = self.error

        def run_call(state: State, frame: Frame, dot: Any, final: Any) -> Any:
            extra = state.extra
            function = extra.get(name) if extra is not None else None
            values = [arg(state, frame, dot) for arg in args]
            if final is not _NO_FINAL:
                values.append(final)
            # Go passes a missing value to an interface{} parameter as nil.
            values = [None if v is NO_VALUE else v for v in values]
            if function is None:
                function = builtin
                if function is None:
                    raise error(pos, f'function "{name}" not defined', unsupported=True)
                count = len(values)
                if count < low or (high is not None and count > high):
                    want = str(low) if high == low else (f"at least {low}" if high is None else f"{low} to {high}")
                    raise error(pos, f"wrong number of args for {name}: want {want} got {count}", name)
                if wants_env:
                    values.insert(0, state.env)
            try:
                return function(*values)
            except TemplateError as exc:
                if exc.line:
                    raise
                raise error(pos, exc.reason, name, unsupported=isinstance(exc, UnsupportedTemplateError)) from exc
            except FunctionError as exc:
                raise error(pos, f"error calling {name}: {exc}", name, unsupported=isinstance(exc, UnsupportedFunctionError)) from exc
            except (_Break, _Continue):
                raise
            except Exception as exc:
                raise error(pos, f"error calling {name}: {_describe(exc)}", name) from exc

        return run_call

    def compile_and_or(self, name: str, pos: int, args: list[Value]) -> Command:
        stop_when = name == "or"

        def run_and_or(state: State, frame: Frame, dot: Any, final: Any) -> Any:
            if not args and final is _NO_FINAL:
                raise self.error(pos, f"wrong number of args for {name}: want at least 1 got 0", name)
            value: Any = NO_VALUE
            for arg in args:
                value = arg(state, frame, dot)
                if is_true(value) == stop_when:
                    return value
            if final is not _NO_FINAL:
                value = final
            return value

        return run_and_or


def _last_name(node: Operand) -> str:
    names = getattr(node, "names", ())
    return str(names[-1]) if names else node_source(node)


def _describe(exc: Exception) -> str:
    text = str(exc)
    return text if text else type(exc).__name__
