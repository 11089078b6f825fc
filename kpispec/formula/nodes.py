"""The formula AST: small node classes that declare their children.

Every node keeps its character range in the formula text (``start``, ``end``) so that
diagnostics can point at it. Visitors dispatch on the class name (see :class:`Visitor`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

Value = float | int | str | bool | None


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        """Where the node is in its formula: its identity within that formula."""
        return (self.start, self.end)

    def children(self) -> Iterator[Node]:
        return iter(())

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first (without recursion)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


@dataclass(frozen=True, slots=True, eq=False)
class Literal(Node):
    value: Value


@dataclass(frozen=True, slots=True, eq=False)
class Name(Node):
    """A column, a KPI id or a period variable; which one is decided by analysis."""

    name: str
    quoted: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Unary(Node):
    op: str  #: '-', '+' or 'not'
    operand: Node

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Node):
    op: str  #: + - * / = <> < <= > >= and or
    left: Node
    right: Node

    def children(self) -> Iterator[Node]:
        yield self.left
        yield self.right


@dataclass(frozen=True, slots=True, eq=False)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool = False

    def children(self) -> Iterator[Node]:
        yield self.operand
        yield from self.items


@dataclass(frozen=True, slots=True, eq=False)
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negated: bool = False

    def children(self) -> Iterator[Node]:
        yield self.operand
        yield self.low
        yield self.high


@dataclass(frozen=True, slots=True, eq=False)
class IsNull(Node):
    operand: Node
    negated: bool = False

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True, eq=False)
class Like(Node):
    operand: Node
    pattern: Node
    negated: bool = False

    def children(self) -> Iterator[Node]:
        yield self.operand
        yield self.pattern


@dataclass(frozen=True, slots=True, eq=False)
class Case(Node):
    """``case [operand] when .. then .. [else ..] end``."""

    operand: Node | None
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None

    def children(self) -> Iterator[Node]:
        if self.operand is not None:
            yield self.operand
        for condition, value in self.whens:
            yield condition
            yield value
        if self.default is not None:
            yield self.default


@dataclass(frozen=True, slots=True, eq=False)
class Call(Node):
    """A function or aggregate call, with ``count(*)``, ``distinct`` and ``filter (where)``."""

    name: str  #: lower-cased
    args: tuple[Node, ...]
    name_end: int
    star: bool = False
    distinct: bool = False
    filter: Node | None = None
    filter_start: int = 0  #: where the `filter` keyword starts

    def children(self) -> Iterator[Node]:
        yield from self.args
        if self.filter is not None:
            yield self.filter


R = TypeVar("R")


class Visitor(Generic[R]):
    """Dispatches ``visit(node)`` to ``visit_<ClassName>``; ``generic_visit`` otherwise."""

    #: node class -> the name of its method, or None (shared by every visitor class)
    _methods: ClassVar[dict[tuple[type, type], str | None]] = {}

    def visit(self, node: Node, *args: Any) -> R:
        key = (type(self), type(node))
        name = Visitor._methods.get(key, "")
        if name == "":
            name = f"visit_{type(node).__name__}"
            name = Visitor._methods[key] = name if hasattr(self, name) else None
        if name is None:
            return self.generic_visit(node, *args)
        method: Callable[..., R] = getattr(self, name)
        return method(node, *args)

    def generic_visit(self, node: Node, *args: Any) -> R:
        raise NotImplementedError(f"{type(self).__name__} cannot visit {type(node).__name__}")
