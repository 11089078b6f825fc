"""Plan one fused Polars query per source.

Every aggregate of every KPI that reads a source becomes a column of one lazy query:

    scan (projection and predicate pushdown)
      -> source filter -> normalise types and time zone
      -> for each (time column, grain, window): rows placed in their periods
           -> for the total and each dimension: group by period (and member), aggregate
      -> all branches concatenated (Polars scans the source once for all of them)

A row is placed in the periods whose window holds it: its own period (``window: period``),
every later period (``all``), the periods whose rolling window covers it, or every period
(``time: null``). Windows other than ``period`` repeat a row once per period it belongs to.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from kpispec.diagnostics import DataError, Diagnostic, Loc
from kpispec.engine.periods import index_expr, offset_string
from kpispec.engine.polars.compile import AggregateCompiler, RowCompiler
from kpispec.engine.polars.typed import CompileError
from kpispec.engine.sources import Opened
from kpispec.formula.analysis import FormulaInfo
from kpispec.formula.functions import PERIOD_VARIABLES
from kpispec.formula.nodes import Call, Name, Node
from kpispec.periods import local_midnight, period_start, shift_date
from kpispec.spec.checks import CheckedKpi
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Source, Window

KEYS = ["__p", "__dimension", "__member"]


@dataclass(frozen=True)
class Span:
    """The periods to evaluate on one grain: indexes ``first`` to ``last``, inclusive."""

    grain: str
    first: int
    last: int

    def indexes(self) -> range:
        return range(self.first, self.last + 1)


@dataclass
class Aggregate:
    column: str
    call: Call
    kpi: str
    is_count: bool


@dataclass
class Group:
    """KPIs of one source that share a time column, a grain and a window."""

    number: int
    time: str | None
    grain: str
    window: Window
    kpis: list[CheckedKpi] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)

    @property
    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(d for k in self.kpis for d in k.dimensions))


@dataclass
class SourcePlan:
    opened: Opened
    groups: list[Group]
    query: pl.LazyFrame

    def explain(self) -> str:
        return self.query.explain()


def compile_error(exc: CompileError, snippet: Snippet, source_id: str) -> DataError:
    loc = snippet.range_loc(exc.start, exc.end)
    message = f"{exc.message} (source `{source_id}`)"
    return DataError([Diagnostic("D105", message, loc, exc.hint, length=loc.length)])


def _mentions_period(node: Node) -> bool:
    return any(
        isinstance(n, Name) and not n.quoted and n.name in PERIOD_VARIABLES for n in node.walk()
    )


def _uses_period_rows(kpi: CheckedKpi) -> bool:
    """Whether the KPI reads period variables at row level (in aggregates or its filter)."""
    calls = kpi.formula.aggregates if kpi.formula else []
    return any(_mentions_period(c) for c in calls) or (
        kpi.filter is not None and _mentions_period(kpi.filter.ast)
    )


def column_loc(name: str, kpis: Iterable[CheckedKpi], source: Source) -> Loc:
    """Where the specs use column ``name`` of ``source`` first (for data errors)."""
    for kpi in kpis:
        for info, snippet in ((kpi.formula, kpi.kpi.formula), (kpi.filter, kpi.kpi.filter)):
            if info is None or snippet is None:
                continue
            for node in info.columns:
                if node.name == name:
                    loc = snippet.loc(node.start)
                    return Loc(loc.file, loc.line, loc.col, node.end - node.start)
        for dim, loc in zip(kpi.kpi.dimensions, kpi.kpi.dimension_locs, strict=False):
            if dim == name:
                return loc
        if kpi.kpi.time == name and "time" in kpi.kpi.locs:
            return kpi.kpi.locs["time"]
    if source.time == name and "time" in source.locs:
        return source.locs["time"]
    return source.locs.get("filter", source.loc)


def time_column(kpi: CheckedKpi, opened: Opened) -> str | None:
    return kpi.kpi.time_column(opened.source)


def needed_columns(kpis: Iterable[CheckedKpi], opened: Opened) -> list[str]:
    names: list[str] = []
    source = opened.source
    if source.time:
        names.append(source.time)
    for kpi in kpis:
        t = time_column(kpi, opened)
        if t:
            names.append(t)
        names.extend(kpi.dimensions)
        for info in (kpi.formula, kpi.filter):
            if info is not None:
                names.extend(info.column_names)
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=64)
def spine(span: Span, tz: str) -> pl.DataFrame:
    """One row per period: index, start and end (aware, local midnight) and days.

    Cached: every KPI of a grain shares it (DataFrames are immutable).
    """
    starts = [period_start(span.grain, i) for i in range(span.first, span.last + 2)]
    return pl.DataFrame(
        {
            "__p": list(span.indexes()),
            "__period_start": [local_midnight(d, tz) for d in starts[:-1]],
            "__period_end": [local_midnight(d, tz) for d in starts[1:]],
            "__period_days": [float((b - a).days) for a, b in itertools.pairwise(starts)],
        },
        schema={
            "__p": pl.Int64,
            "__period_start": pl.Datetime("us", tz),
            "__period_end": pl.Datetime("us", tz),
            "__period_days": pl.Float64,
        },
    )


def _row_bounds(group: Group, span: Span, collapse: bool) -> tuple[date | None, date | None]:
    """The dates rows must lie between to belong to any evaluated period."""
    start, end = period_start(span.grain, span.first), period_start(span.grain, span.last + 1)
    window = group.window
    if group.time is None or collapse:
        return None, None
    if window.kind == "all":
        return None, end
    if window.kind == "rolling":
        try:
            return shift_date(start, -window.count, window.unit), end
        except (OverflowError, ValueError):  # the window reaches back before the year 1
            return None, end
    return start, end


def _placed(
    rows: pl.LazyFrame, group: Group, span: Span, opened: Opened, collapse: bool
) -> pl.LazyFrame:
    """Add ``__p``: the period each row belongs to (repeating rows for wide windows)."""
    first, last = pl.lit(span.first, pl.Int64), pl.lit(span.last, pl.Int64)
    if group.time is None or collapse:
        lo, hi = first, last
    else:
        local = opened.time_expr(group.time)
        own = index_expr(span.grain, local)
        if group.window.kind == "period":
            return rows.with_columns(own.alias("__p")).filter(
                pl.col("__p").is_between(span.first, span.last)
            )
        if group.window.kind == "all":
            lo, hi = pl.max_horizontal(own, first), last
        elif group.window.unit == "month" and span.grain in ("day", "week"):
            # [end - N months, end) with month ends clamped cannot be inverted exactly:
            # take every candidate period, then keep those whose window starts by the row
            shifted = local.dt.offset_by(offset_string(group.window.count, "month")).dt.offset_by(
                "3d"
            )
            lo, hi = (
                pl.max_horizontal(own, first),
                pl.min_horizontal(index_expr(span.grain, shifted), last),
            )
            placed = rows.with_columns(
                pl.int_ranges(lo, hi + 1, dtype=pl.Int64).alias("__p")
            ).explode("__p")
            starts = window_starts(span, group.window, opened.project_timezone).lazy()
            return (
                placed.join(starts, on="__p", how="inner")
                .filter(local >= pl.col("__window_start"))
                .drop("__window_start")
            )
        else:
            shifted = local.dt.offset_by(offset_string(group.window.count, group.window.unit))
            lo, hi = (
                pl.max_horizontal(own, first),
                pl.min_horizontal(index_expr(span.grain, shifted) - 1, last),
            )
    return (
        rows.with_columns(pl.int_ranges(lo, hi + 1, dtype=pl.Int64).alias("__p"))
        .explode("__p")
        .filter(pl.col("__p").is_not_null())
    )


def window_starts(span: Span, window: Window, tz: str) -> pl.DataFrame:
    """Where each period's rolling window starts: its end moved back by the window."""
    return pl.DataFrame(
        {
            "__p": list(span.indexes()),
            "__window_start": [
                local_midnight(
                    shift_date(period_start(span.grain, i + 1), -window.count, window.unit), tz
                )
                for i in span.indexes()
            ],
        },
        schema={"__p": pl.Int64, "__window_start": pl.Datetime("us", tz)},
    )


def plan_source(
    opened: Opened,
    kpis: list[CheckedKpi],
    spans: dict[str, Span],
    source_filter: FormulaInfo | None,
    *,
    collapse: bool = False,
) -> SourcePlan:
    """Build the fused query of one source for ``kpis`` over the periods of ``spans``.

    ``collapse`` puts every row in every period, whatever its time (spec tests without
    a period treat all their rows as one period).
    """
    source = opened.source
    tz = opened.project_timezone
    columns = needed_columns(kpis, opened)
    if source_filter is not None:
        columns.extend(c for c in source_filter.column_names if c not in columns)
    for name in columns:
        opened.column(name, column_loc(name, kpis, source))
    groups: dict[tuple[Any, ...], Group] = {}
    for kpi in kpis:
        key = (time_column(kpi, opened), str(kpi.kpi.grain), kpi.kpi.window)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(len(groups), key[0], key[1], key[2])
        group.kpis.append(kpi)
    opened.times = frozenset(g.time for g in groups.values() if g.time)
    schema = opened.normalized_schema()
    rows_compiler = RowCompiler(schema, tz)

    base = opened.raw.select(columns)
    if source_filter is not None:
        assert source.filter is not None
        try:
            typed = rows_compiler.visit(source_filter.ast)
        except CompileError as exc:
            raise compile_error(exc, source.filter, source.id) from None
        # the source filter reads normalised values; apply it after normalising (or, when it
        # reads period variables, once rows are placed in their periods)
        filter_expr: pl.Expr | None = typed.expr
        filter_per_period = _mentions_period(source_filter.ast)
    else:
        filter_expr = None
        filter_per_period = False

    branches: list[pl.LazyFrame] = []
    for group in groups.values():
        span = spans[group.grain]
        start, end = _row_bounds(group, span, collapse)
        rows = base
        if group.time is not None:
            predicate = opened.time_bounds(
                group.time,
                local_midnight(start, tz) if start else None,
                local_midnight(end, tz) if end else None,
            )
            if predicate is not None:
                rows = rows.filter(predicate)
        rows = opened.normalize(rows, columns)
        if filter_expr is not None and not filter_per_period:
            rows = rows.filter(filter_expr)
        if group.time is not None and not opened.pushable(group.time):
            local = opened.time_expr(group.time)
            if start is not None:
                rows = rows.filter(local >= local_midnight(start, tz))
            if end is not None:
                rows = rows.filter(local < local_midnight(end, tz))
        rows = _placed(rows, group, span, opened, collapse)
        if filter_per_period or any(_uses_period_rows(k) for k in group.kpis):
            rows = rows.join(spine(span, tz).lazy(), on="__p", how="left")
        if filter_expr is not None and filter_per_period:
            rows = rows.filter(filter_expr)

        per_kpi: dict[str, list[tuple[str, pl.Expr]]] = {}
        for kpi in group.kpis:
            condition = None
            if kpi.filter is not None and kpi.kpi.filter is not None:
                try:
                    typed = rows_compiler.visit(kpi.filter.ast)
                except CompileError as exc:
                    raise compile_error(exc, kpi.kpi.filter, source.id) from None
                condition = typed.expr
            compiler = AggregateCompiler(rows_compiler, group.time, condition)
            exprs = []
            for call in kpi.formula.aggregates if kpi.formula else []:
                column = f"__a{group.number}_{len(group.aggregates)}"
                try:
                    expr, is_count = compiler.compile(call)
                except CompileError as exc:
                    raise compile_error(exc, kpi.kpi.formula, source.id) from None
                group.aggregates.append(Aggregate(column, call, kpi.kpi.id, is_count))
                exprs.append((column, expr))
            per_kpi[kpi.kpi.id] = exprs

        all_exprs = [e.alias(c) for exprs in per_kpi.values() for c, e in exprs]
        if not all_exprs:
            all_exprs = [pl.len().alias(f"__n{group.number}")]
        total = (
            rows.group_by("__p")
            .agg(all_exprs)
            .with_columns(
                pl.lit(None, pl.String).alias("__dimension"),
                pl.lit(None, pl.String).alias("__member"),
            )
        )
        branches.append(total.with_columns(pl.lit(group.number, pl.Int64).alias("__group")))
        for dim in group.dimensions:
            dim_exprs = [
                e.alias(c)
                for kpi in group.kpis
                if dim in kpi.dimensions
                for c, e in per_kpi[kpi.kpi.id]
            ]
            if not dim_exprs:
                continue
            by_dim = (
                rows.group_by("__p", dim)
                .agg(dim_exprs)
                .with_columns(
                    pl.lit(dim).alias("__dimension"), pl.col(dim).cast(pl.String).alias("__member")
                )
                .drop(dim)
            )
            branches.append(by_dim.with_columns(pl.lit(group.number, pl.Int64).alias("__group")))
    query = pl.concat(branches, how="diagonal_relaxed") if len(branches) > 1 else branches[0]
    return SourcePlan(opened, list(groups.values()), query)
