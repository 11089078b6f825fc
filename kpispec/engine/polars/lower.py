"""The Polars lowering of every formula function, one entry per function.

The registry (:mod:`kpispec.formula.functions`) has checked the arguments' kinds before
an entry is called; an entry only builds the expression, with SQL's semantics:

- aggregates skip nulls; over no values ``count`` is 0 and every other aggregate null;
- ``percentile``/``median`` interpolate linearly; ``stddev`` is the sample deviation;
- ``round`` rounds half away from zero; ``least``/``greatest`` ignore nulls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from kpispec.engine.polars.typed import Typed
from kpispec.formula.functions import DATE_DIFF_UNITS, literal_number
from kpispec.formula.kinds import Kind
from kpispec.formula.nodes import Call, Node


class Scope(Protocol):
    """What a row function's lowering may ask of the compiler that calls it."""

    def align(self, left: Typed, right: Typed, node: Node) -> tuple[pl.Expr, pl.Expr, Kind]: ...

    def as_datetime(self, value: Typed) -> pl.Expr: ...


@dataclass(frozen=True)
class Rows:
    """What an aggregate's lowering reads: its argument over the rows it keeps."""

    node: Call
    arg: Typed | None  #: the first argument (None for count(*))
    values: pl.Expr | None  #: the argument over the kept rows
    condition: pl.Expr | None  #: which rows are kept (None: all)
    time_column: str | None


#: a row function: its arguments (already typed) to its value, of ``kind``
RowLowering = Callable[[Scope, Call, list[Typed], Kind], pl.Expr]
#: an aggregate: its rows to its aggregation
AggregateLowering = Callable[[Rows], pl.Expr]


def _nullif(scope: Scope, node: Call, args: list[Typed], kind: Kind) -> pl.Expr:
    a, b, _ = scope.align(args[0], args[1], node)
    return pl.when(a == b).then(pl.lit(None)).otherwise(a)


def _round(scope: Scope, node: Call, args: list[Typed], kind: Kind) -> pl.Expr:
    digits = int(args[1].literal) if len(args) > 1 and args[1].literal is not None else 0
    digits = min(digits, 400)  # beyond ~330 decimals rounding changes no float
    return args[0].expr.cast(pl.Float64).round(digits, mode="half_away_from_zero")


def _date_diff(scope: Scope, node: Call, args: list[Typed], kind: Kind) -> pl.Expr:
    per = DATE_DIFF_UNITS[str(args[0].literal).lower()]
    start, end = scope.as_datetime(args[1]), scope.as_datetime(args[2])
    return (end - start).dt.total_microseconds() / 1e6 / per


ROW_LOWERING: dict[str, RowLowering] = {
    "coalesce": lambda scope, node, args, kind: pl.coalesce([a.expr for a in args]),
    "nullif": _nullif,
    "abs": lambda scope, node, args, kind: args[0].expr.cast(pl.Float64).abs(),
    "round": _round,
    "least": lambda scope, node, args, kind: pl.min_horizontal([a.expr for a in args]),
    "greatest": lambda scope, node, args, kind: pl.max_horizontal([a.expr for a in args]),
    "date_diff": _date_diff,
}


def _count(rows: Rows) -> pl.Expr:
    if rows.values is None:  # count(*)
        if rows.condition is None:
            return pl.len().cast(pl.Int64)
        return rows.condition.fill_null(False).sum().cast(pl.Int64)
    if rows.node.distinct:
        return rows.values.drop_nulls().n_unique().cast(pl.Int64)
    return rows.values.count().cast(pl.Int64)


def _ordered(late: bool) -> AggregateLowering:
    """first/last: rows ordered by time, then by the value itself (so tied times never
    depend on the order of rows in the files); first takes the first, last the last."""

    def lower(rows: Rows) -> pl.Expr:
        assert rows.arg is not None and rows.time_column is not None  # checked by validation
        arg, cond = rows.arg.expr, rows.condition
        keep = arg.is_not_null() if cond is None else cond.fill_null(False) & arg.is_not_null()
        kept = arg.filter(keep)
        t = pl.col(rows.time_column).filter(keep)
        return kept.sort_by([t, kept], descending=[late, late], nulls_last=True).first()

    return lower


def _numbers(rows: Rows) -> pl.Expr:
    assert rows.values is not None
    return rows.values.cast(pl.Float64)


def _sum(rows: Rows) -> pl.Expr:
    x = _numbers(rows)
    return pl.when(x.count() > 0).then(x.sum())


def _percentile(rows: Rows) -> pl.Expr:
    p = literal_number(rows.node.args[1])
    assert p is not None  # validation: a number literal between 0 and 1
    return _numbers(rows).quantile(p, interpolation="linear")


def _values(rows: Rows) -> pl.Expr:
    assert rows.values is not None
    return rows.values


AGGREGATE_LOWERING: dict[str, AggregateLowering] = {
    "count": _count,
    "sum": _sum,
    "avg": lambda rows: _numbers(rows).mean(),
    "min": lambda rows: _values(rows).min(),
    "max": lambda rows: _values(rows).max(),
    "median": lambda rows: _numbers(rows).median(),
    "percentile": _percentile,
    "stddev": lambda rows: _numbers(rows).std(ddof=1),
    "first": _ordered(late=False),
    "last": _ordered(late=True),
    "share": lambda rows: _values(rows).drop_nulls().cast(pl.Float64).mean(),
}

#: aggregates that give 0, not null, over no rows
COUNTS = frozenset({"count"})
