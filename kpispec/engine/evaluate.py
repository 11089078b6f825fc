"""Evaluate a checked project: run one fused query per source, then compute KPI values.

The result of this stage is a :class:`Values` table per KPI: one row per period and
member (``__dimension``/``__member`` null for the total), on the full period spine, so a
period without rows still appears (counts 0, everything else null).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal

import polars as pl

from kpispec.diagnostics import DataError, Diagnostic, Loc, SpecError
from kpispec.engine.joins import with_joins
from kpispec.engine.polars.compile import KpiCompiler
from kpispec.engine.polars.rollup import roll_up
from kpispec.engine.polars.scans import KEYS, Lowered, compile_error, lower, spine
from kpispec.engine.polars.typed import CompileError
from kpispec.engine.sources import Opened, find_bad_value, first_line, open_source
from kpispec.periods import (
    MAX_PERIODS,
    Period,
    label_grain,
    last_complete,
    local_midnight,
    period_index,
    period_start,
    year_earlier,
)
from kpispec.plan.build import build_plan
from kpispec.plan.model import Group, Scan
from kpispec.plan.windows import Span
from kpispec.spec.checks import CheckedKpi, CheckedProject
from kpispec.spec.model import Kpi

if TYPE_CHECKING:
    from kpispec.engine.sql.run import SqlRun

VALUE = "value"


@dataclass
class Evaluation:
    """KPI values of a project, with the periods they were computed for."""

    as_of: date
    evaluated: dict[str, Period]  #: grain -> the period being judged
    spans: dict[str, Span]
    values: dict[str, pl.DataFrame]  #: KPI id -> __p, __dimension, __member, value
    plans: list[Lowered] = field(default_factory=list)
    #: source id -> (the newest time value as ISO text, or None; whether it is stale)
    newest: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    #: KPI id -> the index of the first period with data: the one holding the first row of
    #: its source (of its inputs, the latest); None when it has no time column
    first: dict[str, int | None] = field(default_factory=dict)
    #: the sources an SQL engine aggregated, with their queries
    sql: list[SqlRun] = field(default_factory=list)


def evaluated_periods(kpis: list[Kpi], as_of: date, period: Period | None) -> dict[str, Period]:
    """The period judged on each grain: the named one, or the last complete one."""
    out: dict[str, Period] = {}
    for grain in {str(k.grain) for k in kpis}:
        if period is not None and period.grain == grain:
            out[grain] = period
        elif period is not None:
            out[grain] = last_complete(grain, period.end)
        else:
            out[grain] = last_complete(grain, as_of)
    return out


def spans_for(kpis: list[Kpi], evaluated: dict[str, Period]) -> dict[str, Span]:
    """Periods to compute per grain: the longest history of its KPIs, a year earlier, and
    baseline periods."""
    from kpispec.periods import parse_label

    spans: dict[str, Span] = {}
    for grain, period in evaluated.items():
        history = max((k.history for k in kpis if str(k.grain) == grain), default=1)
        first = min(
            period.shift(-(history - 1)).index, year_earlier(period).index, period.index - 1
        )
        earliest: tuple[int, Loc, str] | None = None  # the earliest baseline period
        for kpi in kpis:
            if str(kpi.grain) != grain:
                continue
            for target in kpi.targets:
                if isinstance(target.baseline, str) and label_grain(target.baseline) == grain:
                    index = parse_label(target.baseline).index
                    if earliest is None or index < earliest[0]:
                        at = target.locs.get("baseline", target.loc)
                        earliest = (index, at, target.baseline)
        if earliest is not None and period.index - earliest[0] + 1 > MAX_PERIODS:
            raise SpecError(
                [
                    Diagnostic(
                        "E508",
                        f"from the baseline period {earliest[2]} to {period.label} are "
                        f"{period.index - earliest[0] + 1:,} {grain}s; kpispec computes at most "
                        f"{MAX_PERIODS:,} periods of a grain at once",
                        earliest[1],
                        "choose a later baseline period, or an earlier --as-of or --period",
                    )
                ]
            )
        if earliest is not None:
            first = min(first, earliest[0])
        spans[grain] = Span(grain, first, period.index)
    return spans


def _grid(frame: pl.DataFrame, group: Group, tz: str) -> pl.DataFrame:
    """A group's aggregates on the full spine: every period, and every member of each of
    its dimensions that has rows (a member without rows in a period: counts 0, others
    null); sorted as values are (dimension, member, period; nulls first)."""
    periods = spine(group.span, tz)
    p = periods.select("__p")
    keys = [
        p.with_columns(
            pl.lit(None, pl.String).alias("__dimension"), pl.lit(None, pl.String).alias("__member")
        )
    ]
    for dim in group.dimensions:
        members = frame.filter(pl.col("__dimension") == dim).select("__member").unique()
        keys.append(
            p.join(members, how="cross").with_columns(pl.lit(dim).alias("__dimension")).select(KEYS)
        )
    grid = pl.concat(keys, how="vertical_relaxed")
    full = grid.join(frame, on=KEYS, how="left", nulls_equal=True)
    counts = [a.column for a in group.aggregates if a.is_count]
    if counts:
        full = full.with_columns(pl.col(c).fill_null(0) for c in counts)
    return full.join(periods, on="__p", how="left").sort(
        ["__dimension", "__member", "__p"], nulls_last=False
    )


def _empty(group: Group, tz: str) -> pl.DataFrame:
    """A group's aggregates over no rows, per period: counts 0, everything else null; each
    row is its period's total (``__dimension`` null), as ``total()`` reads it."""
    return spine(group.span, tz).with_columns(
        pl.lit(None, pl.String).alias("__dimension"),
        *(
            pl.lit(0 if a.is_count else None, pl.Int64 if a.is_count else pl.Float64).alias(
                a.column
            )
            for a in group.aggregates
        ),
    )


@dataclass
class KpiValues:
    """A KPI's values on the spine, and its value over no rows in each period.

    The value over no rows stands in for a member an input never saw: with no rows its
    counts are 0 (so a conversion rate of a channel without orders is 0, not null).
    """

    values: pl.DataFrame  #: __p, __dimension, __member, value
    empty: pl.DataFrame  #: __p, value


def _join_refs(
    frame: pl.LazyFrame, refs: dict[str, KpiValues]
) -> tuple[pl.LazyFrame, dict[str, str]]:
    columns: dict[str, str] = {}
    for ref_id, ref in refs.items():
        column = f"__k_{ref_id}"
        columns[ref_id] = column
        present = (
            ref.values.lazy().rename({VALUE: column}).with_columns(pl.lit(True).alias("__present"))
        )
        frame = (
            frame.join(present, on=KEYS, how="left", nulls_equal=True)
            .join(ref.empty.lazy().rename({VALUE: "__empty"}), on="__p", how="left")
            .with_columns(
                pl.when(pl.col("__present").is_null())
                .then(pl.col("__empty"))
                .otherwise(pl.col(column))
                .alias(column)
            )
            .drop("__present", "__empty")
        )
    return frame, columns


def _finite(expr: pl.Expr) -> pl.Expr:
    """A KPI's value as a float; NaN and infinities are no value."""
    value = expr.cast(pl.Float64)
    return pl.when(value.is_nan() | value.is_infinite()).then(None).otherwise(value)


def _evaluate_expr(frame: pl.LazyFrame, expr: pl.Expr, keys: list[str]) -> pl.LazyFrame:
    return frame.select([*keys, _finite(expr).alias(VALUE)])


def _collect(kpi: CheckedKpi, frames: list[pl.LazyFrame]) -> list[pl.DataFrame]:
    """Collect a KPI's frames together; a failure is a data error at its formula."""
    try:
        return pl.collect_all(frames, engine="in-memory")
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            [
                Diagnostic(
                    "D105",
                    f"KPI `{kpi.kpi.id}` cannot be computed: {first_line(exc)}",
                    kpi.kpi.formula.loc(0),
                )
            ]
        ) from None


def _expression(
    kpi: CheckedKpi, group: Group | None, ref_columns: dict[str, str], tz: str
) -> pl.Expr:
    """The KPI-level expression over its aggregates' columns and referenced KPIs."""
    aggregates = [a for a in (group.aggregates if group else []) if a.kpi is kpi]
    compiler = KpiCompiler({a.call.span: a.column for a in aggregates}, ref_columns, tz)
    assert kpi.formula is not None
    try:
        return compiler.visit(kpi.formula.ast).expr
    except CompileError as exc:
        raise compile_error(exc, kpi.kpi.formula, kpi.kpi.source or kpi.kpi.id) from None


def _own_values(
    kpis: list[CheckedKpi], group: Group, grid: pl.DataFrame, empty: pl.DataFrame, tz: str
) -> dict[str, KpiValues]:
    """Every KPI of a group that reads only its own aggregates, in one pass over its grid.

    Each KPI's frame is cut from the wide result column by column (Series, not queries):
    a project of 500 KPIs spent most of its evaluation in per-KPI queries.
    """
    exprs = {k.kpi.id: _expression(k, group, {}, tz) for k in kpis}
    try:
        values = grid.select(*KEYS, *(_finite(e).alias(f"__v_{i}") for i, e in exprs.items()))
        nothing = empty.select("__p", *(_finite(e).alias(f"__v_{i}") for i, e in exprs.items()))
    except pl.exceptions.PolarsError:  # find the KPI that fails, and say so at its formula
        for kpi in kpis:
            _collect(kpi, [_evaluate_expr(grid.lazy(), exprs[kpi.kpi.id], KEYS)])
        raise
    keys = [values.get_column(k) for k in KEYS]
    dimension = keys[1]
    # the rows of a KPI: the total and the members of its own dimensions
    masks: dict[frozenset[str], pl.Series | None] = {}
    out = {}
    for kpi in kpis:
        dims = frozenset(kpi.dimensions)
        if dims not in masks:
            whole = dims >= set(group.dimensions)
            masks[dims] = None if whole else dimension.is_null() | dimension.is_in(list(dims))
        mask = masks[dims]
        column = f"__v_{kpi.kpi.id}"
        series = [*keys, values.get_column(column).alias(VALUE)]
        if mask is not None:
            series = [s.filter(mask) for s in series]
        out[kpi.kpi.id] = KpiValues(
            pl.DataFrame(series),
            pl.DataFrame([nothing.get_column("__p"), nothing.get_column(column).alias(VALUE)]),
        )
    return out


def _kpi_values(
    kpi: CheckedKpi,
    own: tuple[Group, pl.DataFrame, pl.DataFrame] | None,
    refs: dict[str, KpiValues],
    span: Span,
    tz: str,
) -> KpiValues:
    """Evaluate a KPI that references other KPIs (and may have aggregates of its own)."""
    periods = spine(span, tz).lazy()
    group = own[0] if own is not None else None
    if own is None:
        keys = periods.select("__p").with_columns(
            pl.lit(None, pl.String).alias("__dimension"), pl.lit(None, pl.String).alias("__member")
        )
        member_keys = [
            refs[r].values.lazy().filter(pl.col("__dimension") == dim).select(KEYS)
            for r in refs
            for dim in kpi.dimensions
        ]
        frame = pl.concat([keys, *member_keys], how="vertical_relaxed").unique(maintain_order=True)
        frame = frame.join(periods, on="__p", how="left")
        nothing = periods.with_columns(pl.lit(None, pl.String).alias("__dimension"))
    else:
        frame = own[1].lazy()
        nothing = own[2].lazy()
    frame, ref_columns = _join_refs(frame, refs)
    expr = _expression(kpi, group, ref_columns, tz)
    dims = list(kpi.dimensions)
    result = frame.filter(pl.col("__dimension").is_null() | pl.col("__dimension").is_in(dims))
    values = _evaluate_expr(result, expr, KEYS).sort(
        ["__dimension", "__member", "__p"], nulls_last=False
    )
    # the same expression over no rows: counts 0, other aggregates null
    for ref_id, ref in refs.items():
        nothing = nothing.join(
            ref.empty.lazy().rename({VALUE: ref_columns[ref_id]}), on="__p", how="left"
        )
    values_frame, empty = _collect(kpi, [values, _evaluate_expr(nothing, expr, ["__p"])])
    return KpiValues(values_frame, empty)


def newest_query(opened: Opened, as_of: date) -> pl.LazyFrame | None:
    """The newest time value of a source with ``fresh_within``, up to the as-of date."""
    source = opened.source
    if source.fresh_within is None or source.time is None:
        return None
    end = local_midnight(as_of, opened.project_timezone)
    rows = opened.raw.select(source.time)
    predicate = opened.time_bounds(source.time, None, end)
    if predicate is not None:
        rows = rows.filter(predicate)
    opened.times = opened.times | {source.time}
    local = opened.time_expr(source.time)
    rows = opened.normalize(rows, [source.time]).filter(local < end)
    return rows.select(local.max())


def earliest_query(opened: Opened, column: str, before: date | None = None) -> pl.LazyFrame:
    """The earliest value of a time column over every row of the source (a date or a
    wall-clock time in the project's zone); with ``before``, over the rows before that
    local date only.

    Read before any filter: it says from when the source has data at all, so a period
    that ends before it has no data (not zero rows).
    """
    opened.times = opened.times | {column}
    rows = opened.raw.select(column)
    if before is not None:
        predicate = opened.time_bounds(
            column, None, local_midnight(before, opened.project_timezone)
        )
        assert predicate is not None  # only asked of columns whose bounds push down
        rows = rows.filter(predicate)
    if opened.converts(column) or not opened.pushable(column):
        rows = opened.normalize(rows, [column])
    return rows.select(opened.wall_clock(column, None, None).min())


def _scan_reads_every_row(plan: Lowered, column: str) -> Scan | None:
    """The scan that sees every row of ``column`` from its start on, if one does: then the
    earliest row at or after its start is its first bucket, and only the rows before the
    start need a query (which the file's statistics mostly answer).

    That holds when the source has no filter (the earliest row counts before any filter),
    the column is read as it is stored, and every group on the column is in the scan (so
    its buckets tile every grain that asks)."""
    logical, opened = plan.plan, plan.opened
    if logical.filter is not None or logical.collapse:
        return None
    if opened.converts(column) or not opened.pushable(column):
        return None
    for scan in logical.scans:
        if scan.time == column and all(
            g in scan.groups for g in logical.groups if g.time == column
        ):
            return scan
    return None


@dataclass
class _Earliest:
    plan: Lowered
    column: str
    query: pl.LazyFrame
    scan: Scan | None  #: when set, the query reads only the rows before the scan's start


def _earliest_queries(plans: list[Lowered]) -> list[_Earliest]:
    """The query of the earliest value of every time column read, by plan."""
    out = []
    for plan in plans:
        for column in dict.fromkeys(g.time for g in plan.plan.groups if g.time is not None):
            scan = _scan_reads_every_row(plan, column)
            before = scan.start if scan is not None else None
            query = earliest_query(plan.opened, column, before)
            out.append(_Earliest(plan, column, query, scan))
    return out


def _first_bucket(scan: Scan, table: pl.DataFrame) -> date | None:
    """The start of the first bucket of a scan that holds rows."""
    if table.height == 0:
        return None
    assert scan.bucket is not None
    first = table["__b"].min()
    assert isinstance(first, int)
    return period_start(scan.bucket, first)


def _unreadable_time(plan: Lowered, column: str, exc: BaseException) -> DataError:
    source = plan.opened.source
    return DataError(
        [
            Diagnostic(
                "D102",
                f"source `{source.id}`: cannot read its time column `{column}`: " + first_line(exc),
                source.locs.get("time", source.loc),
                "check the data, or declare the column's type under `columns:`",
            )
        ]
    )


def judge_freshness(
    opened: Opened, newest: datetime | None, as_of: date
) -> tuple[str | None, bool]:
    """The newest time value (ISO text) and whether it is older than ``fresh_within``."""
    fresh = opened.source.fresh_within
    assert fresh is not None
    now = local_midnight(as_of, opened.project_timezone)  # as periods: the start of the day
    if newest is None:
        return None, True
    try:
        limit = now - timedelta(**{f"{fresh.unit}s": fresh.count})
    except OverflowError:  # reaches back before the year 1: no data is that old
        return newest.isoformat(), False
    return newest.isoformat(), newest < limit


#: Sources of more bytes than this run on Polars' streaming engine, in flat memory; smaller
#: ones in memory, where a sum of floats adds its values in the same order on every run
#: (streaming threads combine their partial sums in the order they finish).
STREAMING_BYTES = 1 * 1024 * 1024
#: no query shares a node with another: a shared node (a CACHE) holds one query's rows
#: for the next
_SEPARATE = pl.QueryOptFlags(comm_subplan_elim=False)


def engine_for(plan: Lowered) -> Literal["streaming", "in-memory"]:
    size = 0
    for path in plan.opened.files:
        with contextlib.suppress(OSError):
            size += path.stat().st_size
    return "streaming" if size > STREAMING_BYTES else "in-memory"


def _collect_all(
    queries: list[pl.LazyFrame], engine: Literal["streaming", "in-memory"]
) -> list[pl.DataFrame]:
    return pl.collect_all(queries, engine=engine, optimizations=_SEPARATE) if queries else []


def _unreadable(plan: Lowered, exc: BaseException) -> DataError:
    source = plan.opened.source
    bad = find_bad_value(plan.opened, plan.opened.schema)
    if bad is not None:
        return DataError([bad])
    return DataError(
        [
            Diagnostic(
                "D102",
                f"source `{source.id}`: cannot read the data: {first_line(exc)}",
                source.locs.get("path", source.loc),
                "check the file, or declare column types under `columns:`",
            )
        ]
    )


def run_queries(
    plans: list[Lowered], extra: dict[int, list[pl.LazyFrame]]
) -> tuple[list[list[pl.DataFrame]], dict[int, list[pl.DataFrame]]]:
    """Collect every plan's queries, and the ``extra`` queries of each plan (by its index)
    on the same engine, all of an engine together (in parallel); a failure is a data error
    naming the source and saying why in its terms."""
    engines = [engine_for(p) for p in plans]
    try:
        done: dict[int, list[pl.DataFrame]] = {}
        more: dict[int, list[pl.DataFrame]] = {}
        for engine in ("streaming", "in-memory"):
            chosen = [i for i, e in enumerate(engines) if e == engine]
            queries = [q for i in chosen for q in (*plans[i].queries(), *extra.get(i, []))]
            frames = iter(_collect_all(queries, engine))
            for i in chosen:
                done[i] = [next(frames) for _ in plans[i].queries()]
                more[i] = [next(frames) for _ in extra.get(i, [])]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # Polars errors, and panics (a BaseException) on odd data
        for plan, engine in zip(plans, engines, strict=True):
            try:
                _collect_all(plan.queries(), engine)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                raise _unreadable(plan, exc) from None
        raise
    return [done[i] for i in range(len(plans))], more


def _aggregates(plan: Lowered, frames: list[pl.DataFrame]) -> dict[int, pl.DataFrame]:
    """Group number -> every aggregate of the group per (period, dimension, member)."""
    parts: dict[int, list[pl.DataFrame]] = {}
    scanned = frames[: len(plan.scans)]
    for (scan, _), table in zip(plan.scans, scanned, strict=True):
        for number, frame in roll_up(scan, table).items():
            parts.setdefault(number, []).append(frame)
    passes: dict[int, list[pl.DataFrame]] = {}
    for (group, _, _), frame in zip(plan.passes, frames[len(plan.scans) :], strict=True):
        passes.setdefault(group.number, []).append(
            frame.select(*KEYS, *(c for c in frame.columns if c not in KEYS))
        )
    for number, frames_of in passes.items():
        parts.setdefault(number, []).append(pl.concat(frames_of, how="diagonal_relaxed"))
    out = {}
    for group in plan.plan.groups:
        pieces = parts.get(group.number, [])
        if not pieces:
            out[group.number] = pl.DataFrame(
                schema={k: pl.Int64 if k == "__p" else pl.String for k in KEYS}
            )
            continue
        frame = pieces[0]
        for piece in pieces[1:]:
            frame = frame.join(piece, on=KEYS, how="full", coalesce=True, nulls_equal=True)
        out[group.number] = frame
    return out


def evaluate(
    checked: CheckedProject,
    *,
    as_of: date,
    period: Period | None = None,
    kpi_ids: list[str] | None = None,
    frames: dict[str, pl.DataFrame] | None = None,
    spans: dict[str, Span] | None = None,
    collapse: bool = False,
    breakdowns: bool | frozenset[str] = True,
    engine: str | None = None,
) -> Evaluation:
    """Compute the values of ``kpi_ids`` (default all) and of every KPI they reference.

    ``frames`` replaces the data of sources by id (spec tests); ``spans`` fixes the periods;
    ``engine`` (default: the project's) evaluates file sources: polars, duckdb or spark.
    """
    runs: list[SqlRun] = []  #: sources an SQL engine aggregates; closed however it ends
    try:
        return _evaluate(
            checked, as_of, period, kpi_ids, frames, spans, collapse, breakdowns, engine, runs
        )
    finally:
        for run in runs:
            run.close()


def _evaluate(
    checked: CheckedProject,
    as_of: date,
    period: Period | None,
    kpi_ids: list[str] | None,
    frames: dict[str, pl.DataFrame] | None,
    spans: dict[str, Span] | None,
    collapse: bool,
    breakdowns: bool | frozenset[str],
    engine: str | None,
    runs: list[SqlRun],
) -> Evaluation:
    project = checked.project
    tz = project.timezone
    order, kpis, evaluated, spans, by_source = planned(
        checked, as_of, period, kpi_ids, spans, breakdowns
    )
    from kpispec.engine.sql.run import sql_run  # sqlglot, only when a run evaluates

    everything: list[Lowered] = []  #: every source's plan, in order (for --explain)
    plans: list[Lowered] = []  #: those Polars runs
    for source_id, source_kpis in by_source.items():
        source = project.source(source_id)
        assert source is not None
        frame = frames.get(source_id) if frames is not None else None
        logical = build_plan(
            source, source_kpis, spans, checked.source_filters.get(source_id), collapse=collapse
        )
        run = None
        if frame is None:
            run = sql_run(source, project, engine or project.engine, partial(lower, logical))
        if run is not None:
            runs.append(run)
            everything.append(run.lowered)
        else:
            opened = with_joins(open_source(source, project, frame=frame), project, frames)
            plans.append(lower(logical, opened))
            everything.append(plans[-1])
    # per plan: the newest time value (for freshness), then the earliest of each time column
    fresh = {i: q for i, p in enumerate(plans) if (q := newest_query(p.opened, as_of)) is not None}
    earliest = _earliest_queries(plans)
    extra: dict[int, list[pl.LazyFrame]] = {}
    for i in range(len(plans)):
        extra[i] = [q for q in (fresh.get(i),) if q is not None]
        extra[i].extend(e.query for e in earliest if e.plan is plans[i])
    try:
        results, collected = run_queries(plans, extra)
    except DataError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # the data reads, but a time column does not
        for e in earliest:
            try:
                e.query.collect()
            except pl.exceptions.PolarsError as exc:
                raise _unreadable_time(e.plan, e.column, exc) from None
        raise
    newest: dict[str, tuple[str | None, bool]] = {}
    first_rows: dict[tuple[str, str], date | datetime | None] = {}
    for i, plan in enumerate(plans):
        got = list(collected[i])
        if i in fresh:
            newest[plan.opened.source.id] = judge_freshness(plan.opened, got.pop(0).item(), as_of)
        of_plan = [e for e in earliest if e.plan is plan]
        for e, value in zip(of_plan, got, strict=True):
            found: date | datetime | None = value.item()
            if found is None and e.scan is not None:  # no row before the scan's start
                table = results[i][plan.plan.scans.index(e.scan)]
                found = _first_bucket(e.scan, table)
            first_rows[(plan.opened.source.id, e.column)] = found

    aggregated = [(p, _aggregates(p, f)) for p, f in zip(plans, results, strict=True)]
    for run in runs:
        source = run.plan.source
        if source.fresh_within is not None and source.time is not None:
            newest[source.id] = judge_freshness(run.lowered.opened, run.newest(as_of), as_of)
        for column in dict.fromkeys(g.time for g in run.plan.groups if g.time is not None):
            first_rows[(source.id, column)] = run.edge(column)
        aggregated.append((run.lowered, run.aggregates()))
    own: dict[str, tuple[Group, pl.DataFrame, pl.DataFrame]] = {}
    source_of: dict[str, str] = {}
    computed: dict[str, KpiValues] = {}
    for plan, aggregates in aggregated:
        for group in plan.plan.groups:
            grid = _grid(aggregates[group.number], group, tz)
            empty = _empty(group, tz)
            alone = [k for k in group.kpis if not k.depends]
            computed.update(_own_values(alone, group, grid, empty, tz))
            for kpi in group.kpis:
                own[kpi.kpi.id] = (group, grid, empty)
                source_of[kpi.kpi.id] = plan.opened.source.id
    firsts: dict[str, int | None] = {}
    for kpi in kpis:
        grain = str(kpi.kpi.grain)
        span = spans[grain]
        first: int | None = None
        mine = own.get(kpi.kpi.id)
        if mine is not None and mine[0].time is not None:
            earliest_row = first_rows[(source_of[kpi.kpi.id], mine[0].time)]
            # a source without rows has data in no period
            if earliest_row is None:
                first = span.last + 1
            else:  # a date, or a wall-clock time in the project's zone
                day = earliest_row.date() if isinstance(earliest_row, datetime) else earliest_row
                first = period_index(grain, day)
        if all(str(checked.kpis[r].kpi.grain) == grain for r in kpi.depends):
            known = [f for f in (first, *(firsts.get(r) for r in kpi.depends)) if f is not None]
            first = max(known) if known else None
        firsts[kpi.kpi.id] = first
        if kpi.kpi.id not in computed:
            refs = {r: computed[r] for r in kpi.depends if r in computed}
            computed[kpi.kpi.id] = _kpi_values(kpi, mine, refs, span, tz)
    values = {k: computed[k].values for k in order if k in computed}
    return Evaluation(as_of, evaluated, spans, values, everything, newest, firsts, list(runs))


def planned(
    checked: CheckedProject,
    as_of: date,
    period: Period | None,
    kpi_ids: list[str] | None,
    spans: dict[str, Span] | None = None,
    breakdowns: bool | frozenset[str] = True,
) -> tuple[
    list[str], list[CheckedKpi], dict[str, Period], dict[str, Span], dict[str, list[CheckedKpi]]
]:
    """What an evaluation computes: the KPIs (with those they reference) in order, the
    periods judged and computed per grain, and the KPIs with aggregates by source."""
    wanted = set(kpi_ids) if kpi_ids is not None else set(checked.kpis)
    needed = _with_dependencies(checked, wanted)
    order = [k for k in checked.order if k in needed]
    kpis = [checked.kpis[k] for k in order]
    if breakdowns is not True:  # totals only, or those dimensions: the others need not exist
        keep = frozenset() if breakdowns is False else breakdowns
        kpis = [replace(k, dimensions=[d for d in k.dimensions if d in keep]) for k in kpis]
    evaluated = evaluated_periods([k.kpi for k in kpis], as_of, period)
    spans = spans or spans_for([k.kpi for k in kpis], evaluated)
    by_source: dict[str, list[CheckedKpi]] = {}
    for kpi in kpis:
        if kpi.kpi.source and kpi.formula and kpi.formula.aggregates:
            by_source.setdefault(kpi.kpi.source, []).append(kpi)
    return order, kpis, evaluated, spans, by_source


def _with_dependencies(checked: CheckedProject, wanted: set[str]) -> set[str]:
    out: set[str] = set()
    stack = list(wanted)
    while stack:
        kpi_id = stack.pop()
        if kpi_id in out or kpi_id not in checked.kpis:
            continue
        out.add(kpi_id)
        stack.extend(checked.kpis[kpi_id].depends)
    return out
