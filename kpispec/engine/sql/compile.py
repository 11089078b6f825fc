"""Compile formula ASTs to sqlglot expressions, with the Polars engine's semantics.

The rules are those of :mod:`kpispec.engine.polars.compile` (the type checks have run
there first, on the same schema, so a type error reads the same on every engine); what a
dialect writes differently comes from its entry in :mod:`kpispec.engine.sql.dialects`:

- arithmetic in 64-bit floating point; ``a / b`` is ``CAST(a AS DOUBLE) / NULLIF(b, 0)``;
- timestamps are compared and subtracted as instants (naive ones read in the source's
  zone), dates as dates, and a date next to a timestamp as its local midnight;
- an aggregate's filter is ``FILTER (WHERE ...)`` or a ``CASE WHEN`` inside it;
- ``first``/``last`` order by time, then by value; percentiles are exact or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlglot import exp

from kpispec.engine.polars.typed import CompileError, Unsupported
from kpispec.engine.sql.dialects import Dialect
from kpispec.formula.functions import DATE_DIFF_UNITS, FUNCTIONS, literal_number
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

ROWS = "__rows"  #: the alias of the source's rows
PERIODS = "__periods"  #: the alias of the periods' VALUES list
#: period variable -> its column in the periods' VALUES list
PERIOD_COLUMNS = {"period_start": "__ps", "period_end": "__pe", "period_days": "__pd"}


@dataclass(frozen=True)
class Sql:
    expr: exp.Expression
    kind: Kind
    literal: Any = None
    naive: bool = False  #: a timestamp without a zone (wall-clock time in the source's)
    is_literal: bool = False


@dataclass(frozen=True)
class Column:
    """How a source column reads: its kind, and whether its timestamps are naive."""

    kind: Kind
    naive: bool = False


def qualified(table: str, column: str) -> exp.Column:
    return exp.column(exp.to_identifier(column, quoted=True), exp.to_identifier(table))


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(sep=" ")


class RowSql(Visitor[Sql]):
    """Row level: the source's columns, literals, row functions and period variables."""

    def __init__(
        self,
        dialect: Dialect,
        columns: Mapping[str, Column],
        source_timezone: str,
        timezone: str,
    ) -> None:
        self.dialect = dialect
        self.columns = columns
        self.source_timezone = source_timezone
        self.timezone = timezone

    # -- values ------------------------------------------------------------------------

    def visit_Literal(self, node: Literal) -> Sql:
        v = node.value
        if v is None:
            return Sql(exp.Null(), Kind.NULL, None, is_literal=True)
        if isinstance(v, bool):
            return Sql(exp.Boolean(this=v), Kind.BOOLEAN, v, is_literal=True)
        if isinstance(v, int | float):
            lit: exp.Expression = exp.Literal.number(v)
            if isinstance(v, float):
                lit = self.dialect.double(lit)
            return Sql(lit, Kind.NUMBER, v, is_literal=True)
        return Sql(exp.Literal.string(v), Kind.TEXT, v, is_literal=True)

    def visit_Name(self, node: Name) -> Sql:
        if not node.quoted and node.name in PERIOD_COLUMNS:
            kind = Kind.NUMBER if node.name == "period_days" else Kind.TIMESTAMP
            return Sql(qualified(PERIODS, PERIOD_COLUMNS[node.name]), kind)
        if node.name not in self.columns:
            raise CompileError(f"unknown column `{node.name}`", node)
        return self.column(node.name)

    def column(self, name: str) -> Sql:
        """A column of the source's rows, with its kind."""
        column = self.columns[name]
        return Sql(qualified(ROWS, name), column.kind, naive=column.naive)

    # -- conversions -------------------------------------------------------------------

    def number(self, value: Sql) -> exp.Expression:
        """A value as a 64-bit float (true counts as 1)."""
        if value.kind == Kind.BOOLEAN:
            return self.dialect.double(exp.cast(value.expr, "INT"))
        return self.dialect.double(value.expr)

    def instant(self, value: Sql) -> exp.Expression:
        """A date or timestamp as an instant (a date: its local midnight)."""
        if value.kind == Kind.DATE:
            naive = exp.cast(value.expr, self.dialect.naive_type)
            return self.dialect.localize(naive, self.timezone)
        if value.naive:
            return self.dialect.localize(value.expr, self.source_timezone)
        return value.expr

    def temporal_literal(self, text: str, kind: Kind) -> exp.Expression:
        value = datetime.fromisoformat(text)
        if kind == Kind.DATE and len(text) <= 10:
            return self.dialect.date(value.date().isoformat())
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return self.dialect.instant(iso_utc(value))

    def align(self, left: Sql, right: Sql, node: Node) -> tuple[exp.Expression, exp.Expression]:
        kind = compared_kind(left.kind, right.kind, text_literal=text_literal(left, right))
        if not isinstance(kind, Kind):
            raise CompileError(kind.message, node, kind.hint)
        lk, rk = left.kind, right.kind
        if lk in TEMPORAL and rk == Kind.TEXT:
            return self._side(left, lk), self.temporal_literal(right.literal, lk)
        if rk in TEMPORAL and lk == Kind.TEXT:
            return self.temporal_literal(left.literal, rk), self._side(right, rk)
        if {lk, rk} == TEMPORAL or (lk == rk == Kind.TIMESTAMP and left.naive != right.naive):
            return self.instant(left), self.instant(right)
        return left.expr, right.expr

    def _side(self, value: Sql, kind: Kind) -> exp.Expression:
        return self.instant(value) if kind == Kind.TIMESTAMP else value.expr

    # -- operators ---------------------------------------------------------------------

    def visit_Unary(self, node: Unary) -> Sql:
        operand = self.visit(node.operand)
        if node.op == "not":
            return Sql(exp.Not(this=exp.Paren(this=operand.expr)), Kind.BOOLEAN)
        value = self.number(operand)
        return Sql(exp.Neg(this=value) if node.op == "-" else value, Kind.NUMBER)

    def visit_Binary(self, node: Binary) -> Sql:
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in ("and", "or"):
            cls: type[exp.Expression] = exp.And if op == "and" else exp.Or
            return Sql(exp.Paren(this=cls(this=left.expr, expression=right.expr)), Kind.BOOLEAN)
        if op in ("+", "-", "*", "/"):
            a, b = self.number(left), self.number(right)
            if op == "/":
                b = exp.Nullif(this=b, expression=exp.Literal.number(0))
            ops = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}
            return Sql(exp.Paren(this=ops[op](this=a, expression=b)), Kind.NUMBER)
        x, y = self.align(left, right, node)
        comparisons: dict[str, type[exp.Expression]] = {
            "=": exp.EQ,
            "<>": exp.NEQ,
            "<": exp.LT,
            "<=": exp.LTE,
            ">": exp.GT,
            ">=": exp.GTE,
        }
        return Sql(comparisons[op](this=x, expression=y), Kind.BOOLEAN)

    def visit_InList(self, node: InList) -> Sql:
        operand = self.visit(node.operand)
        terms: list[exp.Expression] = []
        for item in node.items:
            a, b = self.align(operand, self.visit(item), item)
            terms.append(exp.EQ(this=a, expression=b))
        result: exp.Expression = exp.Paren(this=exp.or_(*terms))
        return Sql(exp.Not(this=result) if node.negated else result, Kind.BOOLEAN)

    def visit_Between(self, node: Between) -> Sql:
        operand = self.visit(node.operand)
        a, lo = self.align(operand, self.visit(node.low), node.low)
        a2, hi = self.align(operand, self.visit(node.high), node.high)
        result = exp.Paren(
            this=exp.and_(exp.GTE(this=a, expression=lo), exp.LTE(this=a2, expression=hi))
        )
        return Sql(exp.Not(this=result) if node.negated else result, Kind.BOOLEAN)

    def visit_IsNull(self, node: IsNull) -> Sql:
        operand = self.visit(node.operand)
        test: exp.Expression = exp.Is(this=operand.expr, expression=exp.Null())
        return Sql(exp.Not(this=test) if node.negated else test, Kind.BOOLEAN)

    def visit_Like(self, node: Like) -> Sql:
        operand = self.visit(node.operand)
        assert isinstance(node.pattern, Literal) and isinstance(node.pattern.value, str)
        test: exp.Expression = exp.Like(
            this=operand.expr, expression=exp.Literal.string(node.pattern.value)
        )
        return Sql(exp.Not(this=test) if node.negated else test, Kind.BOOLEAN)

    def visit_Case(self, node: Case) -> Sql:
        subject = self.visit(node.operand) if node.operand is not None else None
        case = exp.Case()
        kinds: set[Kind] = set()
        for condition, value in node.whens:
            if subject is not None:
                a, b = self.align(subject, self.visit(condition), condition)
                cond: exp.Expression = exp.EQ(this=a, expression=b)
            else:
                cond = self.visit(condition).expr
            then = self.visit(value)
            kinds.add(then.kind)
            case = case.when(cond, then.expr)
        if node.default is not None:
            default = self.visit(node.default)
            kinds.add(default.kind)
            case = case.else_(default.expr)
        kinds.discard(Kind.NULL)
        return Sql(case, kinds.pop() if kinds else Kind.NULL)

    # -- functions ---------------------------------------------------------------------

    def visit_Call(self, node: Call) -> Sql:
        fn = FUNCTIONS[node.name]
        args = [self.visit(a) for a in node.args]
        kind = fn.type_of([a.kind for a in args])
        assert isinstance(kind, Kind)  # checked by the Polars compiler on the same schema
        return Sql(ROW_FUNCTIONS[fn.name](self, node, args), kind)


def _nullif(c: RowSql, node: Call, args: list[Sql]) -> exp.Expression:
    a, b = c.align(args[0], args[1], node)
    return exp.Nullif(this=a, expression=b)


def _round(c: RowSql, node: Call, args: list[Sql]) -> exp.Expression:
    digits = int(args[1].literal) if len(args) > 1 and args[1].literal is not None else 0
    x = c.number(args[0])
    if digits > 15:  # beyond 15 decimals rounding changes no 64-bit float's digits
        return x
    # half away from zero, written out: PostgreSQL rounds floats half to even
    scale = exp.Literal.number(10**digits)
    up = exp.Floor(
        this=exp.Add(
            this=exp.Mul(this=exp.Abs(this=x), expression=scale), expression=exp.Literal.number(0.5)
        )
    )
    return exp.Paren(
        this=exp.Div(this=exp.Mul(this=exp.Sign(this=x), expression=up), expression=scale)
    )


def _date_diff(c: RowSql, node: Call, args: list[Sql]) -> exp.Expression:
    per = DATE_DIFF_UNITS[str(args[0].literal).lower()]
    start, end = c.instant(args[1]), c.instant(args[2])
    micros = exp.Sub(this=c.dialect.micros(end), expression=c.dialect.micros(start))
    return exp.Div(
        this=c.dialect.double(exp.Paren(this=micros)), expression=exp.Literal.number(1e6 * per)
    )


ROW_FUNCTIONS: dict[str, Callable[[RowSql, Call, list[Sql]], exp.Expression]] = {
    "coalesce": lambda c, node, args: exp.Coalesce(
        this=args[0].expr, expressions=[a.expr for a in args[1:]]
    ),
    "nullif": _nullif,
    "abs": lambda c, node, args: exp.Abs(this=c.number(args[0])),
    "round": _round,
    # written as named: on DuckDB, PostgreSQL and Spark they skip nulls, as Polars does
    "least": lambda c, node, args: exp.Anonymous(this="LEAST", expressions=[a.expr for a in args]),
    "greatest": lambda c, node, args: exp.Anonymous(
        this="GREATEST", expressions=[a.expr for a in args]
    ),
    "date_diff": _date_diff,
}


@dataclass(frozen=True)
class Rows:
    """What an aggregate reads: its argument, which rows it keeps, and the time column."""

    node: Call
    arg: Sql | None
    condition: exp.Expression | None
    time: Sql | None


def _percentile(c: RowSql, rows: Rows, p: float) -> exp.Expression:
    if c.dialect.percentile is None:
        raise Unsupported(
            f"{c.dialect.name} has no exact percentile, and kpispec does not approximate one",
            rows.node,
            "kpispec evaluates it exactly on the polars, duckdb, postgres and spark engines",
        )
    assert rows.arg is not None
    return c.dialect.percentile(c.number(rows.arg), p)


def _ordered(late: bool) -> Callable[[RowSql, Rows], exp.Expression]:
    def build(c: RowSql, rows: Rows) -> exp.Expression:
        if c.dialect.first_last is None:
            raise Unsupported(
                f"{c.dialect.name} has no form of `{rows.node.name}` that kpispec writes",
                rows.node,
                "kpispec evaluates it exactly on the polars, duckdb, postgres and spark engines",
            )
        assert rows.arg is not None and rows.time is not None
        return c.dialect.first_last(rows.arg.expr, c.instant(rows.time), late)

    return build


def _fraction(rows: Rows) -> float:
    p = literal_number(rows.node.args[1])
    assert p is not None  # validation: a number literal between 0 and 1
    return p


#: aggregate -> its SQL over the argument (the filter is applied around it)
AGGREGATES: dict[str, Callable[[RowSql, Rows], exp.Expression]] = {
    "count": lambda c, r: _count(r),
    "sum": lambda c, r: exp.Sum(this=c.number(_arg(r))),
    "avg": lambda c, r: exp.Avg(this=c.number(_arg(r))),
    "share": lambda c, r: exp.Avg(this=c.number(_arg(r))),
    "min": lambda c, r: exp.Min(this=_ordered_value(c, _arg(r))),
    "max": lambda c, r: exp.Max(this=_ordered_value(c, _arg(r))),
    "median": lambda c, r: _percentile(c, r, 0.5),
    "percentile": lambda c, r: _percentile(c, r, _fraction(r)),
    "stddev": lambda c, r: exp.StddevSamp(this=c.number(_arg(r))),
    "first": _ordered(late=False),
    "last": _ordered(late=True),
}


def _arg(rows: Rows) -> Sql:
    assert rows.arg is not None
    return rows.arg


def _ordered_value(c: RowSql, value: Sql) -> exp.Expression:
    """min/max read numbers as numbers (true as 1), other values as they are."""
    return c.number(value) if value.kind in (Kind.NUMBER, Kind.BOOLEAN) else value.expr


def _count(rows: Rows) -> exp.Expression:
    if rows.arg is None:  # count(*)
        return exp.Count(this=exp.Star())
    if rows.node.distinct:
        return exp.Count(this=exp.Distinct(expressions=[rows.arg.expr]))
    return exp.Count(this=rows.arg.expr)


def aggregate(c: RowSql, rows: Rows) -> exp.Expression:
    """One aggregate call over the rows it keeps (SQL's nulls; counts 0 over no rows)."""
    node, arg = rows.node, rows.arg
    keep: exp.Expression | None = rows.condition
    if node.name in ("first", "last"):  # the value and the time of every row it reads
        assert arg is not None
        present = exp.Not(this=exp.Is(this=arg.expr, expression=exp.Null()))
        keep = present if keep is None else cast(exp.Expression, exp.and_(keep, present))
    if keep is not None and not c.dialect.filter_clause:  # the filter inside: a CASE
        value = exp.Literal.number(1) if arg is None else arg.expr  # count(*) counts a 1
        kind, naive = (Kind.NUMBER, False) if arg is None else (arg.kind, arg.naive)
        rows = Rows(node, Sql(exp.Case().when(keep, value), kind, naive=naive), None, rows.time)
        keep = None
    return _filtered(c, AGGREGATES[node.name](c, rows), keep)


def _filtered(c: RowSql, agg: exp.Expression, keep: exp.Expression | None) -> exp.Expression:
    if keep is None or not c.dialect.filter_clause:
        return agg
    return exp.Filter(this=agg, expression=exp.Where(this=keep))
