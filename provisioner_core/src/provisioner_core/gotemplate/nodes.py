"""The parse tree: one frozen dataclass per construct, each with its offset in the template text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class TextNode:
    """Literal text between actions."""

    pos: int
    text: str


@dataclass(frozen=True, slots=True)
class DotNode:
    """``.``: the cursor."""

    pos: int


@dataclass(frozen=True, slots=True)
class NilNode:
    """The untyped ``nil``."""

    pos: int


@dataclass(frozen=True, slots=True)
class LiteralNode:
    """A string, number, character or boolean constant, already converted to its Python value."""

    pos: int
    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class FieldNode:
    """``.a.b.c``: field (map key) chain starting at the cursor."""

    pos: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VariableNode:
    """``$x.a.b``: a variable (slot in the current frame) and optional fields."""

    pos: int
    name: str
    slot: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FunctionNode:
    """A function name (dotted names such as ``strings.ToLower`` included)."""

    pos: int
    name: str


@dataclass(frozen=True, slots=True)
class ChainNode:
    """``(pipeline).a.b``: fields applied to the result of a parenthesised pipeline."""

    pos: int
    node: PipeNode
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandNode:
    """One stage of a pipeline: an operand and its arguments."""

    pos: int
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class PipeNode:
    """Commands joined by ``|``, optionally declaring (``:=``) or assigning (``=``) variables."""

    pos: int
    decl: tuple[VariableNode, ...]
    is_assign: bool
    cmds: tuple[CommandNode, ...]


@dataclass(frozen=True, slots=True)
class ActionNode:
    """``{{ pipeline }}``: prints the pipeline's value unless it declares a variable."""

    pos: int
    pipe: PipeNode


@dataclass(frozen=True, slots=True)
class ListNode:
    """A sequence of nodes."""

    pos: int
    nodes: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class IfNode:
    """``{{if}}``, ``{{with}}`` (``kind`` tells which) with an optional else list."""

    pos: int
    kind: str
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(frozen=True, slots=True)
class RangeNode:
    """``{{range}}`` over a list, map or int, with an optional else list."""

    pos: int
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None


@dataclass(frozen=True, slots=True)
class BreakNode:
    """``{{break}}`` inside a range."""

    pos: int


@dataclass(frozen=True, slots=True)
class ContinueNode:
    """``{{continue}}`` inside a range."""

    pos: int


@dataclass(frozen=True, slots=True)
class TemplateNode:
    """``{{template "name" pipeline}}``: runs a defined template with dot set to the pipeline's value."""

    pos: int
    name: str
    pipe: PipeNode | None


Operand: TypeAlias = "DotNode | NilNode | LiteralNode | FieldNode | VariableNode | FunctionNode | ChainNode | PipeNode"
Node: TypeAlias = "TextNode | ActionNode | IfNode | RangeNode | BreakNode | ContinueNode | TemplateNode | ListNode"


@dataclass(frozen=True, slots=True)
class Tree:
    """A parsed template body and the number of variable slots its frame needs (slot 0 is ``$``)."""

    root: ListNode
    slots: int
