"""The aggregate query of each group of a source's plan, as a sqlglot expression tree.

    SELECT __p, <dimension>, <member>, <aggregate> FILTER (WHERE ...), ...
    FROM <source> AS __rows
    JOIN (VALUES (p, window start, period end, period_start, period_end, period_days), ...)
         AS __periods ON __rows.<time> >= __lo AND __rows.<time> < __hi
    WHERE <the source's filter>
    GROUP BY GROUPING SETS ((__p), (__p, <dimension>), ...)

Where each period is its own window (``window: period``) and no formula reads a period
variable, the join gives way to ``CASE WHEN <time> < <end of p> THEN p ... END AS __p``
over the rows of the periods (much cheaper: a row is compared, not joined).

The periods and their windows are computed once, in Python (:mod:`kpispec.plan.windows`),
as the Polars engine computes them: local midnights of the project's time zone, written
in the time column's own representation (a date, a naive timestamp in the source's zone,
an instant), so no dialect's ``date_trunc`` or time zone rules decide a period and the
column is compared as it is stored. A period's window is the rows in ``[__lo, __hi)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import cast
from zoneinfo import ZoneInfo

from sqlglot import exp

from kpispec.diagnostics import Diagnostic
from kpispec.engine.polars.scans import compile_error
from kpispec.engine.polars.typed import CompileError, Unsupported
from kpispec.engine.sql.compile import (
    PERIODS,
    ROWS,
    Column,
    Rows,
    RowSql,
    aggregate,
    iso_utc,
    qualified,
)
from kpispec.engine.sql.dialects import Dialect
from kpispec.formula.kinds import Kind
from kpispec.periods import local_midnight, period_start
from kpispec.plan.model import Aggregate, Group, SourcePlan
from kpispec.plan.windows import window_start

#: the first instant every dialect writes: the lower bound of ``window: all``
_FIRST_DAY = date(1, 1, 1)


@dataclass(frozen=True)
class Target:
    """Where a source's rows are, in which dialect, and how its columns read."""

    dialect: Dialect
    rows: exp.Expression  #: what FROM reads: a table, a table function, a CTE's name
    columns: Mapping[str, Column]
    source_timezone: str
    timezone: str  #: the project's

    def compiler(self) -> RowSql:
        return RowSql(self.dialect, self.columns, self.source_timezone, self.timezone)

    def bound(self, time: str, day: date | None) -> exp.Expression:
        """The local midnight starting ``day`` in the time column's representation."""
        column = self.columns[time]
        if column.kind == Kind.DATE:
            return self.dialect.date((day or _FIRST_DAY).isoformat())
        if day is None:
            text = f"{_FIRST_DAY.isoformat()} 00:00:00"
            return (
                self.dialect.naive(text) if column.naive else self.dialect.instant(text + "+00:00")
            )
        instant = local_midnight(day, self.timezone)
        if column.naive:
            wall = instant.astimezone(ZoneInfo(self.source_timezone)).replace(tzinfo=None)
            return self.dialect.naive(wall.isoformat(sep=" "))
        return self.dialect.instant(iso_utc(instant))


def _periods(target: Target, group: Group, time: str | None) -> exp.Expression:
    """The VALUES list of the group's periods, windows and period variables."""
    rows = []
    for p in group.span.indexes():
        start, end = period_start(group.grain, p), period_start(group.grain, p + 1)
        lo = window_start(group.grain, p, group.window)
        d = target.dialect
        row = [
            exp.Literal.number(p),
            target.bound(time, lo) if time else exp.Null(),
            target.bound(time, end) if time else exp.Null(),
            d.instant(iso_utc(local_midnight(start, target.timezone))),
            d.instant(iso_utc(local_midnight(end, target.timezone))),
            d.double(exp.Literal.number(float((end - start).days))),
        ]
        rows.append(exp.Tuple(expressions=row))
    names = ["__p", "__lo", "__hi", "__ps", "__pe", "__pd"]
    return exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier(PERIODS), columns=[exp.to_identifier(n) for n in names]
        ),
    )


def _placed(target: Target, group: Group, time: str) -> exp.Expression:
    """The rows of the group's periods, each with the index of its period ``__p``: for
    periods that are their own windows, a CASE over the periods' ends (much cheaper than a
    range join: each row is compared with the bounds, not joined to every period)."""
    first, last = group.span.first, group.span.last
    ends = [target.bound(time, period_start(group.grain, p + 1)) for p in range(first, last + 1)]
    t = exp.column(exp.to_identifier(time, quoted=True))
    index = exp.Case()
    for p, end in zip(range(first, last + 1), ends, strict=True):
        index = index.when(exp.LT(this=t, expression=end), exp.Literal.number(p))
    start = target.bound(time, period_start(group.grain, first))
    inner = (
        exp.select(exp.Star(), index.as_("__p"))
        .from_(exp.alias_(target.rows, "__source_rows", table=True))
        .where(exp.and_(exp.GTE(this=t, expression=start), exp.LT(this=t, expression=ends[-1])))
    )
    return cast(exp.Expression, exp.alias_(exp.Subquery(this=inner), ROWS, table=True))


def _and(parts: list[exp.Expression]) -> exp.Expression | None:
    return cast(exp.Expression, exp.and_(*parts)) if parts else None


def group_query(
    target: Target, plan: SourcePlan, group: Group, left_out: list[Diagnostic] | None = None
) -> exp.Select:
    """The query of one group: every aggregate per period, for the total and each of its
    dimensions' members, in one grouping-sets query.

    An aggregate the dialect cannot write exactly is a D110 error at its formula; with
    ``left_out``, it is left out of the query and its error added there instead."""
    c = target.compiler()
    time = None if plan.collapse else group.time
    if time is not None and group.window.kind == "period" and not group.period_rows:
        # each row in one period at most: placed by its bounds, with no join
        query = exp.select().from_(_placed(target, group, time))
        p = qualified(ROWS, "__p")
    else:
        periods = _periods(target, group, time)
        query = exp.select().from_(exp.alias_(target.rows, ROWS, table=True))
        if time is not None:
            t = qualified(ROWS, time)
            on = exp.and_(
                exp.GTE(this=t, expression=qualified(PERIODS, "__lo")),
                exp.LT(this=t, expression=qualified(PERIODS, "__hi")),
            )
            query = query.join(periods, on=on)
        else:
            query = query.join(periods, join_type="cross")
        p = qualified(PERIODS, "__p")
    if plan.filter is not None:
        query = query.where(c.visit(plan.filter.ast).expr)
    dims = group.dimensions
    dimension: exp.Expression = exp.cast(exp.Null(), target.dialect.text_type)
    member: exp.Expression = exp.cast(exp.Null(), target.dialect.text_type)
    if dims:
        dimension, member = exp.Case(), exp.Case()
        for d in dims:
            grouped = exp.EQ(
                this=exp.func("GROUPING", qualified(ROWS, d)), expression=exp.Literal.number(0)
            )
            dimension = dimension.when(grouped, exp.Literal.string(d))
            member = member.when(grouped, target.dialect.text(qualified(ROWS, d)))
    selects = [p.as_("__p"), dimension.as_("__dimension"), member.as_("__member")]
    for a in group.aggregates:
        try:
            selects.append(aggregate(c, _rows(c, a, time)).as_(a.column))
        except CompileError as exc:
            error = compile_error(exc, a.kpi.kpi.formula, plan.source.id)
            if left_out is None or not isinstance(exc, Unsupported):
                raise error from None
            left_out.extend(error.diagnostics)
    query = query.select(*selects)
    if dims:
        sets = [exp.Tuple(expressions=[p])]
        sets += [exp.Tuple(expressions=[p, qualified(ROWS, d)]) for d in dims]
        return query.group_by(exp.GroupingSets(expressions=sets))
    return query.group_by(p)


def _rows(c: RowSql, a: Aggregate, time: str | None) -> Rows:
    """What an aggregate reads: its argument where the KPI's and its own filters hold."""
    call, kpi = a.call, a.kpi
    conditions = []
    if kpi.filter is not None:
        conditions.append(c.visit(kpi.filter.ast).expr)
    if call.filter is not None:
        conditions.append(c.visit(call.filter).expr)
    arg = None if call.star else c.visit(call.args[0])
    time_value = c.column(time) if time is not None else None
    return Rows(call, arg, _and(conditions), time_value)


def edge_query(target: Target, column: str, *, newest_before: date | None = None) -> exp.Select:
    """The earliest value of a time column over every row (before any filter), or with
    ``newest_before`` its newest value before that local date; instants as microseconds."""
    value = qualified(ROWS, column)
    column_info = target.columns[column]
    agg: exp.Expression = exp.Max(this=value) if newest_before else exp.Min(this=value)
    if column_info.kind == Kind.TIMESTAMP and not column_info.naive:
        agg = target.dialect.micros(agg)
    query = exp.select(agg.as_("__edge")).from_(exp.alias_(target.rows, ROWS, table=True))
    if newest_before is not None:
        query = query.where(exp.LT(this=value, expression=target.bound(column, newest_before)))
    return query
