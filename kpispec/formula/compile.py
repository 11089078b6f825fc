"""Compile formula ASTs to Polars expressions, with SQL's semantics.

- Aggregates skip nulls; over no values ``count`` is 0 and every other aggregate null.
- ``/`` is true division; division by zero gives null.
- ``percentile``/``median`` interpolate linearly; ``stddev`` is the sample deviation.
- ``x in (a, b)`` is ``x = a or x = b`` (so a null in the list behaves as in SQL).
- ``round`` rounds half away from zero; ``least``/``greatest`` ignore nulls.

Types are checked against the source's schema first, so that a type error (``sum`` of a
text column) is reported at the formula's line and column, not as a Polars exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

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

NUMBER, STRING, BOOLEAN, DATETIME, DATE, NULL = (
    "number",
    "text",
    "boolean",
    "timestamp",
    "date",
    "null",
)
DURATION = "duration"
PERIOD_COLUMNS = {
    "period_start": "__period_start",
    "period_end": "__period_end",
    "period_days": "__period_days",
}
COUNTS = ("count",)


class CompileError(Exception):
    """A type problem at a character range of a formula."""

    def __init__(self, message: str, node: Node, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = node.start
        self.end = node.end
        self.hint = hint


def kind_of(dtype: Any) -> str:
    if dtype == pl.Null:
        return NULL
    if dtype == pl.Boolean:
        return BOOLEAN
    if dtype.is_numeric():
        return NUMBER
    if isinstance(dtype, pl.Datetime):
        return DATETIME
    if dtype == pl.Date:
        return DATE
    if isinstance(dtype, pl.Duration):
        return DURATION
    return STRING


@dataclass(frozen=True)
class Typed:
    expr: pl.Expr
    kind: str
    literal: Any = None  #: the Python value of a literal, for parsing dates in comparisons
    is_literal: bool = False


def _check(value: Typed, allowed: tuple[str, ...], node: Node, what: str) -> None:
    if value.kind not in (*allowed, NULL):
        raise CompileError(
            f"{what} needs {' or '.join(allowed)}, but this is {value.kind}",
            node,
            "check the column's type in the data, or declare it under the source's `columns:`",
        )


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
            return Typed(pl.lit(None), NULL, None, True)
        if isinstance(v, bool):
            return Typed(pl.lit(v), BOOLEAN, v, True)
        if isinstance(v, int | float):
            return Typed(
                pl.lit(v, dtype=pl.Float64 if isinstance(v, float) else pl.Int64), NUMBER, v, True
            )
        return Typed(pl.lit(v), STRING, v, True)

    def temporal_literal(self, text: str, kind: str, node: Node) -> pl.Expr:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CompileError(
                f"'{text}' is not a date or timestamp", node, "write dates as 'YYYY-MM-DD'"
            ) from None
        if kind == DATE and len(text) <= 10:
            return pl.lit(value.date())
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return pl.lit(value).dt.convert_time_zone(self.timezone)

    def align(self, left: Typed, right: Typed, node: Node) -> tuple[pl.Expr, pl.Expr, str]:
        """Make two operands comparable: string literals next to dates become dates."""
        lk, rk = left.kind, right.kind
        if lk in (DATE, DATETIME) and right.is_literal and rk == STRING:
            return left.expr, self.temporal_literal(right.literal, lk, node), lk
        if rk in (DATE, DATETIME) and left.is_literal and lk == STRING:
            return self.temporal_literal(left.literal, rk, node), right.expr, rk
        if {lk, rk} == {DATE, DATETIME}:
            cast = lambda e: e.cast(pl.Datetime("us")).dt.replace_time_zone(self.timezone)  # noqa: E731
            return (
                (cast(left.expr) if lk == DATE else left.expr),
                (cast(right.expr) if rk == DATE else right.expr),
                DATETIME,
            )
        kinds = {lk, rk} - {NULL}
        if len(kinds) > 1:
            raise CompileError(
                f"cannot compare {lk} with {rk}",
                node,
                "compare values of the same type; quote text as 'text' and write numbers bare",
            )
        return left.expr, right.expr, (kinds.pop() if kinds else NULL)

    def visit_Unary(self, node: Unary) -> Typed:
        operand = self.visit(node.operand)
        if node.op == "not":
            _check(operand, (BOOLEAN,), node, "`not`")
            return Typed(~operand.expr, BOOLEAN)
        _check(operand, (NUMBER,), node, f"unary `{node.op}`")
        value = operand.expr.cast(pl.Float64)  # -(-2**63) does not fit in 64 bits
        return Typed(-value if node.op == "-" else value, NUMBER)

    def visit_Binary(self, node: Binary) -> Typed:
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("and", "or"):
            _check(left, (BOOLEAN,), node.left, f"`{op}`")
            _check(right, (BOOLEAN,), node.right, f"`{op}`")
            return Typed(left.expr & right.expr if op == "and" else left.expr | right.expr, BOOLEAN)
        if op in ("+", "-", "*", "/"):
            _check(left, (NUMBER,), node.left, f"`{op}`")
            _check(right, (NUMBER,), node.right, f"`{op}`")
            # in 64-bit floating point, as SQLite does on overflow: 64-bit integers would
            # wrap around silently (9223372036854775807 + 1 = -9223372036854775808)
            a, b = left.expr.cast(pl.Float64), right.expr.cast(pl.Float64)
            if op == "/":
                return Typed(pl.when(b != 0).then(a / b), NUMBER)
            return Typed(a + b if op == "+" else a - b if op == "-" else a * b, NUMBER)
        a, b, _ = self.align(left, right, node)
        ops: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
            "=": lambda x, y: x == y,
            "<>": lambda x, y: x != y,
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
        }
        return Typed(ops[op](a, b), BOOLEAN)

    def visit_InList(self, node: InList) -> Typed:
        operand = self.visit(node.operand)
        result: pl.Expr | None = None
        for item in node.items:
            a, b, _ = self.align(operand, self.visit(item), item)
            term = a == b
            result = term if result is None else result | term
        assert result is not None
        return Typed(~result if node.negated else result, BOOLEAN)

    def visit_Between(self, node: Between) -> Typed:
        operand = self.visit(node.operand)
        a, lo, _ = self.align(operand, self.visit(node.low), node.low)
        a2, hi, _ = self.align(operand, self.visit(node.high), node.high)
        result = (a >= lo) & (a2 <= hi)
        return Typed(~result if node.negated else result, BOOLEAN)

    def visit_IsNull(self, node: IsNull) -> Typed:
        operand = self.visit(node.operand)
        return Typed(
            operand.expr.is_not_null() if node.negated else operand.expr.is_null(), BOOLEAN
        )

    def visit_Like(self, node: Like) -> Typed:
        operand = self.visit(node.operand)
        _check(operand, (STRING,), node.operand, "`like`")
        if not (isinstance(node.pattern, Literal) and isinstance(node.pattern.value, str)):
            raise CompileError(
                "the pattern of `like` must be a 'text' literal",
                node.pattern,
                "e.g. page like '/blog/%'",
            )
        result = operand.expr.str.contains(like_regex(node.pattern.value))
        return Typed(~result if node.negated else result, BOOLEAN)

    def visit_Case(self, node: Case) -> Typed:
        chain: Any = None
        kinds: set[str] = set()
        subject = self.visit(node.operand) if node.operand is not None else None
        for condition, value in node.whens:
            if subject is not None:
                a, b, _ = self.align(subject, self.visit(condition), condition)
                cond = a == b
            else:
                typed = self.visit(condition)
                _check(typed, (BOOLEAN,), condition, "`when`")
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
        kinds.discard(NULL)
        if len(kinds) > 1:
            raise CompileError(
                f"the branches of this case give different types ({', '.join(sorted(kinds))})",
                node,
                "make every then/else give the same type",
            )
        return Typed(expr, kinds.pop() if kinds else NULL)

    def row_function(self, node: Call) -> Typed:
        args = [self.visit(a) for a in node.args]
        name = node.name
        if name == "coalesce":
            kinds = {a.kind for a in args} - {NULL}
            if len(kinds) > 1:
                raise CompileError("coalesce needs arguments of one type", node)
            return Typed(pl.coalesce([a.expr for a in args]), kinds.pop() if kinds else NULL)
        if name == "nullif":
            a, b, _kind = self.align(args[0], args[1], node)
            return Typed(pl.when(a == b).then(pl.lit(None)).otherwise(a), args[0].kind)
        if name == "abs":
            _check(args[0], (NUMBER,), node, "abs")
            return Typed(args[0].expr.cast(pl.Float64).abs(), NUMBER)
        if name == "round":
            _check(args[0], (NUMBER,), node, "round")
            digits = int(args[1].literal) if len(args) > 1 and args[1].literal is not None else 0
            digits = min(digits, 400)  # beyond ~330 decimals rounding changes no float
            return Typed(
                args[0].expr.cast(pl.Float64).round(digits, mode="half_away_from_zero"), NUMBER
            )
        if name in ("least", "greatest"):
            for a, n in zip(args, node.args, strict=True):
                _check(a, (NUMBER, DATE, DATETIME), n, name)
            fn = pl.min_horizontal if name == "least" else pl.max_horizontal
            return Typed(fn([a.expr for a in args]), args[0].kind)
        if name == "date_diff":
            unit = str(args[0].literal).lower()
            start, end = args[1], args[2]
            for a, n in ((start, node.args[1]), (end, node.args[2])):
                _check(a, (DATE, DATETIME), n, "date_diff")
            seconds = (
                self.as_datetime(end) - self.as_datetime(start)
            ).dt.total_microseconds() / 1e6
            per = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit]
            return Typed(seconds / per, NUMBER)
        raise CompileError(f"`{name}` is an aggregate; it cannot be used here", node)

    def as_datetime(self, value: Typed) -> pl.Expr:
        if value.kind == DATE:
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
            return Typed(pl.col(column), NUMBER if node.name == "period_days" else DATETIME)
        if node.name not in self.schema:
            raise CompileError(f"unknown column `{node.name}`", node)
        return Typed(pl.col(node.name), kind_of(self.schema[node.name]))

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
        cond = self.condition
        if node.filter is not None:
            typed = self.rows.visit(node.filter)
            _check(typed, (BOOLEAN,), node.filter, "`filter (where ...)`")
            cond = typed.expr if cond is None else cond & typed.expr
        name = node.name
        if name == "count" and node.star:
            if cond is None:
                return pl.len().cast(pl.Int64), True
            return cond.fill_null(False).sum().cast(pl.Int64), True
        arg = self.rows.visit(node.args[0])
        x = arg.expr if cond is None else arg.expr.filter(cond)
        if name == "count":
            if node.distinct:
                return x.drop_nulls().n_unique().cast(pl.Int64), True
            return x.count().cast(pl.Int64), True
        if name == "share":
            _check(arg, (BOOLEAN,), node.args[0], "share")
            return x.drop_nulls().cast(pl.Float64).mean(), False
        if name in ("first", "last"):
            assert self.time_column is not None  # checked when the specs were validated
            t = pl.col(self.time_column)
            keep = (
                arg.expr.is_not_null()
                if cond is None
                else cond.fill_null(False) & arg.expr.is_not_null()
            )
            # rows ordered by time, then by the value itself (so tied times never depend
            # on the order of rows in the files): first takes the first, last the last
            late = name == "last"
            kept = arg.expr.filter(keep)
            ordered = kept.sort_by([t.filter(keep), kept], descending=[late, late], nulls_last=True)
            return ordered.first(), False
        if name in ("min", "max"):
            _check(arg, (NUMBER, BOOLEAN, DATE, DATETIME, STRING), node.args[0], name)
            return (x.min() if name == "min" else x.max()), False
        _check(arg, (NUMBER, BOOLEAN), node.args[0], name)
        x = x.cast(pl.Float64)
        if name == "sum":
            return pl.when(x.count() > 0).then(x.sum()), False
        if name == "avg":
            return x.mean(), False
        if name == "median":
            return x.median(), False
        if name == "percentile":
            p = (
                float(node.args[1].value)
                if isinstance(node.args[1], Literal)
                else float(self.rows.visit(node.args[1]).literal)
            )
            return x.quantile(p, interpolation="linear"), False
        if name == "stddev":
            return x.std(ddof=1), False
        raise CompileError(f"unknown aggregate `{name}`", node)  # pragma: no cover


class KpiCompiler(_Scalar):
    """KPI level: aggregates (already computed, as columns), other KPIs, period variables."""

    def __init__(
        self, aggregates: Mapping[int, str], kpis: Mapping[str, str], timezone: str
    ) -> None:
        self.aggregates = aggregates  #: id(Call) -> column holding its value
        self.kpis = kpis  #: KPI id -> column holding its value
        self.timezone = timezone

    def visit_Name(self, node: Name) -> Typed:
        if not node.quoted and node.name in PERIOD_COLUMNS:
            column = PERIOD_COLUMNS[node.name]
            return Typed(pl.col(column), NUMBER if node.name == "period_days" else DATETIME)
        return Typed(pl.col(self.kpis[node.name]), NUMBER)

    def visit_Call(self, node: Call) -> Typed:
        column = self.aggregates.get(id(node))
        if column is not None:
            return Typed(pl.col(column), NUMBER)
        return self.row_function(node)
