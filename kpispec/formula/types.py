"""Type checking of an analysed formula, before any data is read.

The rules are the language's, shared with the engines (which apply them again to the
types they find in the data): the kinds each function accepts come from the registry
(:mod:`kpispec.formula.functions`); :func:`compared_kind` says which values compare and
:func:`needs` words a value of the wrong kind. A column whose kind is not known (a SQL
source, a column the reader could not type) fits every rule, so nothing is reported
that the data might prove right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kpispec.formula.analysis import FormulaInfo, Level, Problem
from kpispec.formula.functions import FUNCTIONS, ArgumentProblem
from kpispec.formula.kinds import ANY, TEMPORAL, Kind
from kpispec.formula.nodes import (
    Between,
    Binary,
    Call,
    Case,
    InList,
    IsNull,
    Like,
    Literal,
    Name,
    Node,
    Unary,
    Value,
    Visitor,
)

CODE = "E314"
HINT = "check the column's type in the data, or declare it under the source's `columns:`"
PERIOD_KINDS = {
    "period_start": Kind.TIMESTAMP,
    "period_end": Kind.TIMESTAMP,
    "period_days": Kind.NUMBER,
}


def needs(kind: Kind, allowed: tuple[Kind, ...], what: str) -> str | None:
    """The complaint about a value of ``kind`` where ``allowed`` kinds are expected."""
    if kind in allowed or kind in ANY:
        return None
    return f"{what} needs {' or '.join(map(str, allowed))}, but this is {kind}"


def is_temporal_text(text: str) -> bool:
    """Whether a 'text' literal reads as a date or timestamp (to compare with one)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def compared_kind(
    left: Kind, right: Kind, *, text_literal: str | None = None
) -> Kind | ArgumentProblem:
    """The kind two values are compared as, or why they cannot be compared.

    A 'text' literal beside a date or timestamp is read as one (``text_literal`` is its
    text); a date beside a timestamp becomes the timestamp of its midnight.
    """
    kinds = {left, right}
    if kinds & TEMPORAL and Kind.TEXT in kinds and text_literal is not None:
        if not is_temporal_text(text_literal):
            return ArgumentProblem(
                f"'{text_literal}' is not a date or timestamp", None, "write dates as 'YYYY-MM-DD'"
            )
        return left if left in TEMPORAL else right
    if kinds == set(TEMPORAL):
        return Kind.TIMESTAMP
    known = kinds - ANY
    if len(known) > 1:
        return ArgumentProblem(
            f"cannot compare {left} with {right}",
            None,
            "compare values of the same type; quote text as 'text' and write numbers bare",
        )
    return known.pop() if known else (Kind.UNKNOWN if Kind.UNKNOWN in kinds else Kind.NULL)


@dataclass(frozen=True, slots=True)
class Typed:
    kind: Kind
    literal: Value = None
    is_literal: bool = False


UNTYPED = Typed(Kind.UNKNOWN)


class _Valued(Protocol):
    @property
    def kind(self) -> Kind: ...
    @property
    def literal(self) -> Any: ...
    @property
    def is_literal(self) -> bool: ...


def text_literal(*values: _Valued) -> str | None:
    """The text of the first 'text' literal among ``values`` (to read as a date)."""
    return next((str(v.literal) for v in values if v.is_literal and v.kind is Kind.TEXT), None)


def check_types(info: FormulaInfo, level: Level, columns: Mapping[str, Kind]) -> list[Problem]:
    """Type problems of an analysed formula (none if analysis found problems already).

    ``columns`` gives the kind of each column the source is known to have.
    """
    if info.problems:
        return []
    checker = _Checker(columns, row=level is not Level.KPI)
    checker.visit(info.ast)
    return checker.problems


class _Checker(Visitor[Typed]):
    def __init__(self, columns: Mapping[str, Kind], *, row: bool) -> None:
        self.columns = columns
        self.row = row
        self.problems: list[Problem] = []

    def fail(self, message: str, node: Node, hint: str | None = HINT) -> Typed:
        self.problems.append(Problem(CODE, message, node.start, node.end, hint))
        return UNTYPED

    def expect(self, value: Typed, allowed: tuple[Kind, ...], node: Node, what: str) -> bool:
        message = needs(value.kind, allowed, what)
        if message is not None:
            self.fail(message, node)
        return message is None

    def compare(self, left: Typed, right: Typed, node: Node) -> Kind:
        literal = text_literal(left, right)
        result = compared_kind(left.kind, right.kind, text_literal=literal)
        if isinstance(result, ArgumentProblem):
            self.fail(result.message, node, result.hint)
            return Kind.UNKNOWN
        return result

    def visit_Literal(self, node: Literal) -> Typed:
        v = node.value
        if v is None:
            kind = Kind.NULL
        elif isinstance(v, bool):
            kind = Kind.BOOLEAN
        elif isinstance(v, int | float):
            kind = Kind.NUMBER
        else:
            kind = Kind.TEXT
        return Typed(kind, v, True)

    def visit_Name(self, node: Name) -> Typed:
        if not node.quoted and node.name in PERIOD_KINDS:
            return Typed(PERIOD_KINDS[node.name])
        if not self.row:
            return Typed(Kind.NUMBER)  # another KPI
        return Typed(self.columns.get(node.name, Kind.UNKNOWN))

    def visit_Unary(self, node: Unary) -> Typed:
        operand = self.visit(node.operand)
        if node.op == "not":
            ok = self.expect(operand, (Kind.BOOLEAN,), node, "`not`")
            return Typed(Kind.BOOLEAN) if ok else UNTYPED
        ok = self.expect(operand, (Kind.NUMBER,), node, f"unary `{node.op}`")
        return Typed(Kind.NUMBER) if ok else UNTYPED

    def visit_Binary(self, node: Binary) -> Typed:
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("and", "or", "+", "-", "*", "/"):
            kind = Kind.BOOLEAN if op in ("and", "or") else Kind.NUMBER
            ok = self.expect(left, (kind,), node.left, f"`{op}`")
            ok = self.expect(right, (kind,), node.right, f"`{op}`") and ok
            return Typed(kind) if ok else UNTYPED
        self.compare(left, right, node)
        return Typed(Kind.BOOLEAN)

    def visit_InList(self, node: InList) -> Typed:
        operand = self.visit(node.operand)
        for item in node.items:
            self.compare(operand, self.visit(item), item)
        return Typed(Kind.BOOLEAN)

    def visit_Between(self, node: Between) -> Typed:
        operand = self.visit(node.operand)
        self.compare(operand, self.visit(node.low), node.low)
        self.compare(operand, self.visit(node.high), node.high)
        return Typed(Kind.BOOLEAN)

    def visit_IsNull(self, node: IsNull) -> Typed:
        self.visit(node.operand)
        return Typed(Kind.BOOLEAN)

    def visit_Like(self, node: Like) -> Typed:
        self.expect(self.visit(node.operand), (Kind.TEXT,), node.operand, "`like`")
        if not (isinstance(node.pattern, Literal) and isinstance(node.pattern.value, str)):
            self.fail(
                "the pattern of `like` must be a 'text' literal",
                node.pattern,
                "e.g. page like '/blog/%'",
            )
        return Typed(Kind.BOOLEAN)

    def visit_Case(self, node: Case) -> Typed:
        subject = self.visit(node.operand) if node.operand is not None else None
        kinds: set[Kind] = set()
        for condition, value in node.whens:
            typed = self.visit(condition)
            if subject is not None:
                self.compare(subject, typed, condition)
            else:
                self.expect(typed, (Kind.BOOLEAN,), condition, "`when`")
            kinds.add(self.visit(value).kind)
        if node.default is not None:
            kinds.add(self.visit(node.default).kind)
        known = kinds - ANY
        if len(known) > 1:
            names = ", ".join(sorted(map(str, known)))
            return self.fail(
                f"the branches of this case give different types ({names})",
                node,
                "make every then/else give the same type",
            )
        return Typed(known.pop()) if known else UNTYPED

    def visit_Call(self, node: Call) -> Typed:
        fn = FUNCTIONS[node.name]
        if fn.aggregate and not self.row:
            self.row = True
            try:
                self.call(node)
            finally:
                self.row = False
            return Typed(Kind.NUMBER)
        return self.call(node)

    def call(self, node: Call) -> Typed:
        fn = FUNCTIONS[node.name]
        if node.filter is not None:
            self.expect(
                self.visit(node.filter), (Kind.BOOLEAN,), node.filter, "`filter (where ...)`"
            )
        if node.star:
            return Typed(Kind.NUMBER)
        args = [self.visit(a) for a in node.args]
        if fn.compares:
            self.compare(args[0], args[1], node)
        result = fn.type_of([a.kind for a in args])
        if isinstance(result, ArgumentProblem):
            at = node if result.index is None else node.args[result.index]
            return self.fail(result.message, at, result.hint)
        return Typed(result)
