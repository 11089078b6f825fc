"""Lower a source's logical plan to Polars queries: one per scan, one per row-pass grouping.

A scan reads the rows once, puts each in its bucket of time and aggregates the partials
by (bucket, every dimension): its result is small (buckets times members), so the
streaming engine runs it in flat memory whatever the number of rows. A row pass (the
aggregates that do not decompose) places rows in their periods and groups them once per
grouping (the total, each dimension), each grouping its own query: no query holds the
source's rows for another.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from kpispec.diagnostics import DataError, Diagnostic, Loc
from kpispec.engine.periods import index_expr, index_of_days
from kpispec.engine.polars.compile import AggregateCompiler, RowCompiler
from kpispec.engine.polars.rollup import place
from kpispec.engine.polars.typed import CompileError
from kpispec.engine.sources import Opened
from kpispec.formula.nodes import Call
from kpispec.periods import local_midnight, period_start
from kpispec.plan.model import Group, Scan, SourcePlan
from kpispec.plan.partials import NUMERIC, Op
from kpispec.plan.windows import Span, row_bounds
from kpispec.spec.checks import CheckedKpi
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Source

KEYS = ["__p", "__dimension", "__member"]


def compile_error(exc: CompileError, snippet: Snippet, source_id: str) -> DataError:
    loc = snippet.range_loc(exc.start, exc.end)
    message = f"{exc.message} (source `{source_id}`)"
    return DataError([Diagnostic(exc.code, message, loc, exc.hint, length=loc.length)])


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


@dataclass
class Lowered:
    """The Polars queries of one source's plan."""

    plan: SourcePlan
    opened: Opened
    scans: list[tuple[Scan, pl.LazyFrame]]
    #: (group, the dimension of the grouping or None for the total, query)
    passes: list[tuple[Group, str | None, pl.LazyFrame]]

    def queries(self) -> list[pl.LazyFrame]:
        return [q for _, q in self.scans] + [q for _, _, q in self.passes]


class _Lowering:
    def __init__(self, plan: SourcePlan, opened: Opened) -> None:
        self.plan = plan
        self.opened = opened
        self.source = plan.source
        self.kpis = [k for g in plan.groups for k in g.kpis]
        for name in plan.columns:
            opened.column(name, column_loc(name, self.kpis, self.source))
        opened.times = frozenset(g.time for g in plan.groups if g.time)
        self.tz = opened.project_timezone
        self.rows = RowCompiler(opened.normalized_schema(), self.tz)
        self.filter: pl.Expr | None = None
        if plan.filter is not None:
            assert plan.filter_text is not None
            try:
                self.filter = self.rows.visit(plan.filter.ast).expr
            except CompileError as exc:
                raise compile_error(exc, plan.filter_text, self.source.id) from None
        self.filter_per_period = plan.filter is not None and any(g.period_rows for g in plan.groups)

    # -- rows -------------------------------------------------------------------------

    def _bounded(self, time: str | None, start: date | None, end: date | None) -> pl.LazyFrame:
        """The columns read, within the time bounds (pushed into the scan where possible)."""
        rows = self.opened.raw.select(self.plan.columns)
        if time is None:
            return rows
        tz = self.tz
        lo = local_midnight(start, tz) if start is not None else None
        hi = local_midnight(end, tz) if end is not None else None
        predicate = self.opened.time_bounds(time, lo, hi)
        return rows.filter(predicate) if predicate is not None else rows

    def _time_filter(
        self, rows: pl.LazyFrame, time: str, start: date | None, end: date | None
    ) -> pl.LazyFrame:
        """Bounds on a time column that could not be pushed into the scan (text)."""
        if self.opened.pushable(time):
            return rows
        local = self.opened.time_expr(time)
        if start is not None:
            rows = rows.filter(local >= local_midnight(start, self.tz))
        if end is not None:
            rows = rows.filter(local < local_midnight(end, self.tz))
        return rows

    # -- scans ------------------------------------------------------------------------

    def _condition(self, kpi: CheckedKpi) -> pl.Expr | None:
        """The KPI's row filter, applied to every aggregate of it."""
        if kpi.filter is None or kpi.kpi.filter is None:
            return None
        try:
            return self.rows.visit(kpi.filter.ast).expr
        except CompileError as exc:
            raise compile_error(exc, kpi.kpi.filter, self.source.id) from None

    def _aggregate(self, kpi: CheckedKpi, time: str | None) -> AggregateCompiler:
        return AggregateCompiler(self.rows, time, self._condition(kpi))

    def _input(self, kpi: CheckedKpi, call: Call) -> pl.Expr | None:
        """The value an aggregate reads where its filters hold (None for the rows of
        count(*) without a filter), type-checked as the aggregate's own lowering is."""
        try:
            rows = self._aggregate(kpi, None).rows_of(call)
        except CompileError as exc:
            raise compile_error(exc, kpi.kpi.formula, self.source.id) from None
        if rows.arg is None:
            return rows.condition
        arg = rows.arg.expr
        return arg if rows.condition is None else pl.when(rows.condition).then(arg)

    def scan(self, scan: Scan) -> pl.LazyFrame:
        opened = self.opened
        rows = self._bounded(scan.time, scan.start, scan.end)
        read = set(self.plan.columns) - ({scan.time} if scan.time else set())
        if scan.time is not None and (
            self._read_at_row_level(scan.time)
            or not opened.pushable(scan.time)  # text: parsed first
            or opened.converts(scan.time)  # a declared type: applied first
        ):
            read.add(scan.time)
        rows = opened.normalize(rows, [c for c in self.plan.columns if c in read])
        if self.filter is not None:
            rows = rows.filter(self.filter)
        if scan.time is None:
            bucket = pl.lit(0, pl.Int64)
        else:
            rows = self._time_filter(rows, scan.time, scan.start, scan.end)
            assert scan.bucket is not None
            # by arithmetic on the stored value, unless the column was normalised above
            days = None if scan.time in read else opened.epoch_days(scan.time, scan.start, scan.end)
            if days is not None:
                bucket = index_of_days(scan.bucket, days)
            else:
                bucket = index_expr(scan.bucket, opened.wall_clock(scan.time, scan.start, scan.end))
        exprs: dict[str, pl.Expr] = {}
        for group in scan.groups:
            for a in group.decomposed:
                assert a.partials is not None
                column = a.partials[0].input.column
                expr = self._input(a.kpi, a.call)
                if column not in exprs and expr is not None:
                    exprs[column] = expr
        # the bucket is added as a column first: a frame of literals alone has one row
        rows = rows.with_columns(bucket.alias("__b")).select(
            "__b",
            *(pl.col(d) for d in scan.dimensions),
            *(e.alias(c) for c, e in exprs.items()),
        )
        aggs = []
        for p in scan.partials:
            x = pl.col(p.input.column)
            if p.op in NUMERIC:
                x = x.cast(pl.Float64)
            if p.op is Op.ROWS:
                agg = pl.len() if p.input.column not in exprs else x.sum()
                agg = agg.cast(pl.Int64)
            elif p.op is Op.COUNT:
                agg = x.count().cast(pl.Int64)
            elif p.op is Op.SUM:
                agg = x.sum()
            elif p.op is Op.MIN:
                agg = x.min()
            elif p.op is Op.MAX:
                agg = x.max()
            else:  # Op.M2: the sum of squared deviations from the bucket's mean
                agg = x.var(ddof=0) * x.count()
            aggs.append(agg.alias(p.column))
        return rows.group_by("__b", *scan.dimensions).agg(aggs)

    def _read_at_row_level(self, column: str) -> bool:
        infos = [i for k in self.kpis for i in (k.formula, k.filter) if i is not None]
        if self.plan.filter is not None:
            infos.append(self.plan.filter)
        return any(column in i.column_names for i in infos)

    # -- row passes -------------------------------------------------------------------

    def row_pass(self, group: Group) -> list[tuple[str | None, pl.LazyFrame]]:
        """The group's exact aggregates, from rows placed in their periods: per grouping."""
        opened, tz, span = self.opened, self.tz, group.span
        collapse = self.plan.collapse
        start, end = (
            (None, None) if group.time is None or collapse else row_bounds(span, group.window)
        )
        rows = self._bounded(None if collapse else group.time, start, end)
        rows = opened.normalize(rows, self.plan.columns)
        if self.filter is not None and not self.filter_per_period:
            rows = rows.filter(self.filter)
        if group.time is not None and not collapse:
            rows = self._time_filter(rows, group.time, start, end)
        if group.bucket is None:  # every row in every period
            bucket = pl.lit(0, pl.Int64)
        else:
            assert group.time is not None
            bucket = index_expr(group.bucket, opened.time_expr(group.time))
        assert group.mapping is not None
        rows = place(rows.with_columns(bucket.alias("__b")), group.mapping)
        if group.period_rows:
            rows = rows.join(spine(span, tz).lazy(), on="__p", how="left")
        if self.filter is not None and self.filter_per_period:
            rows = rows.filter(self.filter)
        exprs: list[pl.Expr] = []
        wanted: dict[str, set[str]] = {}
        for a in group.exact:
            compiler = self._aggregate(a.kpi, group.time)
            try:
                expr, _ = compiler.compile(a.call)
            except CompileError as exc:
                raise compile_error(exc, a.kpi.kpi.formula, self.source.id) from None
            exprs.append(expr.alias(a.column))
            wanted[a.column] = set(a.kpi.dimensions)
        out: list[tuple[str | None, pl.LazyFrame]] = [
            (
                None,
                rows.group_by("__p")
                .agg(exprs)
                .with_columns(
                    pl.lit(None, pl.String).alias("__dimension"),
                    pl.lit(None, pl.String).alias("__member"),
                ),
            )
        ]
        for dim in group.dimensions:
            dim_exprs = [
                e for e, a in zip(exprs, group.exact, strict=True) if dim in wanted[a.column]
            ]
            if not dim_exprs:
                continue
            out.append(
                (
                    dim,
                    rows.group_by("__p", dim)
                    .agg(dim_exprs)
                    .with_columns(
                        pl.lit(dim).alias("__dimension"),
                        pl.col(dim).cast(pl.String).alias("__member"),
                    )
                    .drop(dim),
                )
            )
        return out


def lower(plan: SourcePlan, opened: Opened) -> Lowered:
    lowering = _Lowering(plan, opened)
    scans = [(scan, lowering.scan(scan)) for scan in plan.scans]
    passes = [
        (group, dim, query) for group in plan.row_groups for dim, query in lowering.row_pass(group)
    ]
    return Lowered(plan, opened, scans, passes)
