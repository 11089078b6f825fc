"""Compile formula ASTs to Polars expressions, with SQL's semantics.

- Aggregates skip nulls; over no values ``count`` is 0 and every other aggregate null.
- ``/`` is true division; division by zero gives null.
- ``percentile``/``median`` interpolate linearly; ``stddev`` is the sample deviation.
- ``x in (a, b)`` is ``x = a or x = b`` (so a null in the list behaves as in SQL).
- ``round`` rounds half away from zero; ``least``/``greatest`` ignore nulls.

Types are checked against the source's schema first, by the language's rules
(:mod:`kpispec.formula.types`, the registry's type rules), so that a type error (``sum``
of a text column) is reported at the formula's line and column, not as a Polars exception.
Validation applies the same rules earlier, to the types it can learn without the data.
The lowering of each function is looked up by name in :mod:`kpispec.engine.polars.lower`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from kpispec.engine.polars.lower import AGGREGATE_LOWERING, COUNTS, ROW_LOWERING, Rows
from kpispec.engine.polars.typed import CompileError, Typed, check
from kpispec.formula.functions import FUNCTIONS, ArgumentProblem
from kpispec.formula.kinds import TEMPORAL, Kind
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
    Visitor,
)
from kpispec.formula.types import compared_kind, text_literal
from kpispec.spec.columns import polars_kind

PERIOD_COLUMNS = {
    "period_start": "__period_start",
    "period_end": "__period_end",
    "period_days": "__period_days",
}


def like_regex(pattern: str) -> str:
    """SQL LIKE to an anchored regular expression: % any run, _ one character."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "(?s)^" + "".join(out) + "$"


class _Scalar(Visitor[Typed]):
    """Expressions shared by the row level and the KPI level: operators and row functions."""

    timezone: str = "UTC"

    def visit_Literal(self, node: Literal) -> Typed:
        v = node.value
        if v is None:
            return Typed(pl.lit(None), Kind.NULL, None, True)
        if isinstance(v, bool):
            return Typed(pl.lit(v), Kind.BOOLEAN, v, True)
        if isinstance(v, int | float):
            return Typed(
                pl.lit(v, dtype=pl.Float64 if isinstance(v, float) else pl.Int64),
                Kind.NUMBER,
                v,
                True,
            )
        return Typed(pl.lit(v), Kind.TEXT, v, True)

    def temporal_literal(self, text: str, kind: Kind) -> pl.Expr:
        """A 'text' literal compared with a date or timestamp (checked by compared_kind)."""
        value = datetime.fromisoformat(text)
        if kind == Kind.DATE and len(text) <= 10:
            return pl.lit(value.date())
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return pl.lit(value).dt.convert_time_zone(self.timezone)

    def align(self, left: Typed, right: Typed, node: Node) -> tuple[pl.Expr, pl.Expr, Kind]:
        """Make two operands comparable: string literals next to dates become dates."""
        kind = compared_kind(left.kind, right.kind, text_literal=text_literal(left, right))
        if isinstance(kind, ArgumentProblem):
            raise CompileError(kind.message, node, kind.hint)
        lk, rk = left.kind, right.kind
        if lk in TEMPORAL and rk == Kind.TEXT:
            return left.expr, self.temporal_literal(right.literal, lk), kind
        if rk in TEMPORAL and lk == Kind.TEXT:
            return self.temporal_literal(left.literal, rk), right.expr, kind
        if {lk, rk} == TEMPORAL:
            return self.as_datetime(left), self.as_datetime(right), kind
        return left.expr, right.expr, kind

    def visit_Unary(self, node: Unary) -> Typed:
        operand = self.visit(node.operand)
        if node.op == "not":
            check(operand, (Kind.BOOLEAN,), node, "`not`")
            return Typed(~operand.expr, Kind.BOOLEAN)
        check(operand, (Kind.NUMBER,), node, f"unary `{node.op}`")
        value = operand.expr.cast(pl.Float64)  # -(-2**63) does not fit in 64 bits
        return Typed(-value if node.op == "-" else value, Kind.NUMBER)

    def visit_Binary(self, node: Binary) -> Typed:
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("and", "or"):
            check(left, (Kind.BOOLEAN,), node.left, f"`{op}`")
            check(right, (Kind.BOOLEAN,), node.right, f"`{op}`")
            return Typed(
                left.expr & right.expr if op == "and" else left.expr | right.expr, Kind.BOOLEAN
            )
        if op in ("+", "-", "*", "/"):
            check(left, (Kind.NUMBER,), node.left, f"`{op}`")
            check(right, (Kind.NUMBER,), node.right, f"`{op}`")
            # in 64-bit floating point, as SQLite does on overflow: 64-bit integers would
            # wrap around silently (9223372036854775807 + 1 = -9223372036854775808)
            a, b = left.expr.cast(pl.Float64), right.expr.cast(pl.Float64)
            if op == "/":
                return Typed(pl.when(b != 0).then(a / b), Kind.NUMBER)
            return Typed(a + b if op == "+" else a - b if op == "-" else a * b, Kind.NUMBER)
        a, b, _ = self.align(left, right, node)
        ops: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
            "=": lambda x, y: x == y,
            "<>": lambda x, y: x != y,
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
        }
        return Typed(ops[op](a, b), Kind.BOOLEAN)

    def visit_InList(self, node: InList) -> Typed:
        operand = self.visit(node.operand)
        result: pl.Expr | None = None
        for item in node.items:
            a, b, _ = self.align(operand, self.visit(item), item)
            term = a == b
            result = term if result is None else result | term
        assert result is not None
        return Typed(~result if node.negated else result, Kind.BOOLEAN)

    def visit_Between(self, node: Between) -> Typed:
        operand = self.visit(node.operand)
        a, lo, _ = self.align(operand, self.visit(node.low), node.low)
        a2, hi, _ = self.align(operand, self.visit(node.high), node.high)
        result = (a >= lo) & (a2 <= hi)
        return Typed(~result if node.negated else result, Kind.BOOLEAN)

    def visit_IsNull(self, node: IsNull) -> Typed:
        operand = self.visit(node.operand)
        return Typed(
            operand.expr.is_not_null() if node.negated else operand.expr.is_null(), Kind.BOOLEAN
        )

    def visit_Like(self, node: Like) -> Typed:
        operand = self.visit(node.operand)
        check(operand, (Kind.TEXT,), node.operand, "`like`")
        if not (isinstance(node.pattern, Literal) and isinstance(node.pattern.value, str)):
            raise CompileError(
                "the pattern of `like` must be a 'text' literal",
                node.pattern,
                "e.g. page like '/blog/%'",
            )
        result = operand.expr.str.contains(like_regex(node.pattern.value))
        return Typed(~result if node.negated else result, Kind.BOOLEAN)

    def visit_Case(self, node: Case) -> Typed:
        chain: Any = None
        kinds: set[Kind] = set()
        subject = self.visit(node.operand) if node.operand is not None else None
        for condition, value in node.whens:
            if subject is not None:
                a, b, _ = self.align(subject, self.visit(condition), condition)
                cond = a == b
            else:
                typed = self.visit(condition)
                check(typed, (Kind.BOOLEAN,), condition, "`when`")
                cond = typed.expr
            then = self.visit(value)
            kinds.add(then.kind)
            chain = (
                pl.when(cond).then(then.expr) if chain is None else chain.when(cond).then(then.expr)
            )
        if node.default is not None:
            default = self.visit(node.default)
            kinds.add(default.kind)
            expr = chain.otherwise(default.expr)
        else:
            expr = chain.otherwise(pl.lit(None))
        kinds.discard(Kind.NULL)
        if len(kinds) > 1:
            raise CompileError(
                f"the branches of this case give different types ({', '.join(sorted(map(str, kinds)))})",
                node,
                "make every then/else give the same type",
            )
        return Typed(expr, kinds.pop() if kinds else Kind.NULL)

    def row_function(self, node: Call) -> Typed:
        fn = FUNCTIONS[node.name]
        if fn.aggregate:
            raise CompileError(f"`{fn.name}` is an aggregate; it cannot be used here", node)
        args = [self.visit(a) for a in node.args]
        kind = fn.type_of([a.kind for a in args])
        if isinstance(kind, ArgumentProblem):
            at = node if kind.index is None else node.args[kind.index]
            raise CompileError(kind.message, at, kind.hint)
        return Typed(ROW_LOWERING[fn.name](self, node, args, kind), kind)

    def as_datetime(self, value: Typed) -> pl.Expr:
        if value.kind == Kind.DATE:
            return value.expr.cast(pl.Datetime("us")).dt.replace_time_zone(self.timezone)
        return value.expr


class RowCompiler(_Scalar):
    """Row level: columns of the source, literals, row functions, period variables."""

    def __init__(self, schema: Mapping[str, Any], timezone: str) -> None:
        self.schema = schema
        self.timezone = timezone

    def visit_Name(self, node: Name) -> Typed:
        if not node.quoted and node.name in PERIOD_COLUMNS:
            column = PERIOD_COLUMNS[node.name]
            return Typed(
                pl.col(column), Kind.NUMBER if node.name == "period_days" else Kind.TIMESTAMP
            )
        if node.name not in self.schema:
            raise CompileError(f"unknown column `{node.name}`", node)
        return Typed(pl.col(node.name), polars_kind(self.schema[node.name]))

    def visit_Call(self, node: Call) -> Typed:
        return self.row_function(node)


class AggregateCompiler:
    """One aggregate call (with its filter) to a Polars aggregation, SQL semantics."""

    def __init__(
        self, rows: RowCompiler, time_column: str | None, condition: pl.Expr | None
    ) -> None:
        self.rows = rows
        self.time_column = time_column
        self.condition = condition  #: the KPI's row filter, applied to every aggregate

    def compile(self, node: Call) -> tuple[pl.Expr, bool]:
        """The aggregation and whether it is a count (0, not null, over no rows)."""
        return AGGREGATE_LOWERING[node.name](self.rows_of(node)), node.name in COUNTS

    def rows_of(self, node: Call) -> Rows:
        """What the aggregate reads, type-checked: its argument and the rows it keeps."""
        cond = self.condition
        if node.filter is not None:
            typed = self.rows.visit(node.filter)
            check(typed, (Kind.BOOLEAN,), node.filter, "`filter (where ...)`")
            cond = typed.expr if cond is None else cond & typed.expr
        fn = FUNCTIONS[node.name]
        arg = values = None
        if not node.star:
            arg = self.rows.visit(node.args[0])
            kind = fn.type_of([arg.kind])
            if isinstance(kind, ArgumentProblem):
                raise CompileError(kind.message, node.args[0], kind.hint)
            values = arg.expr if cond is None else arg.expr.filter(cond)
        return Rows(node, arg, values, cond, self.time_column)


class KpiCompiler(_Scalar):
    """KPI level: aggregates (already computed, as columns), other KPIs, period variables."""

    def __init__(
        self, aggregates: Mapping[tuple[int, int], str], kpis: Mapping[str, str], timezone: str
    ) -> None:
        self.aggregates = aggregates  #: the call's span in the formula -> column of its value
        self.kpis = kpis  #: KPI id -> column holding its value
        self.timezone = timezone

    def visit_Name(self, node: Name) -> Typed:
        if not node.quoted and node.name in PERIOD_COLUMNS:
            column = PERIOD_COLUMNS[node.name]
            return Typed(
                pl.col(column), Kind.NUMBER if node.name == "period_days" else Kind.TIMESTAMP
            )
        return Typed(pl.col(self.kpis[node.name]), Kind.NUMBER)

    def visit_Call(self, node: Call) -> Typed:
        column = self.aggregates.get(node.span)
        if column is not None:
            return Typed(pl.col(column), Kind.NUMBER)
        if node.name == "total":
            # the value on the period's total row (no dimension), on every row of the period
            inner = self.visit(node.args[0])
            on_total = inner.expr.filter(pl.col("__dimension").is_null()).first()
            return Typed(on_total.over("__p"), inner.kind)
        return self.row_function(node)
