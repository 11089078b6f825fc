"""Evaluate a checked project: run one fused query per source, then compute KPI values.

The result of this stage is a :class:`Values` table per KPI: one row per period and
member (``__dimension``/``__member`` null for the total), on the full period spine, so a
period without rows still appears (counts 0, everything else null).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import polars as pl

from kpispec.diagnostics import DataError, Diagnostic, Loc, SpecError
from kpispec.engine.plan import KEYS, Group, SourcePlan, Span, compile_error, plan_source, spine
from kpispec.engine.polars.compile import KpiCompiler
from kpispec.engine.polars.typed import CompileError
from kpispec.engine.sources import Opened, find_bad_value, first_line, open_source
from kpispec.periods import (
    MAX_PERIODS,
    Period,
    label_grain,
    last_complete,
    local_midnight,
    period_index,
    year_earlier,
)
from kpispec.spec.checks import CheckedKpi, CheckedProject
from kpispec.spec.model import Kpi

VALUE = "value"


@dataclass
class Evaluation:
    """KPI values of a project, with the periods they were computed for."""

    as_of: date
    evaluated: dict[str, Period]  #: grain -> the period being judged
    spans: dict[str, Span]
    values: dict[str, pl.DataFrame]  #: KPI id -> __p, __dimension, __member, value
    plans: list[SourcePlan] = field(default_factory=list)
    #: source id -> (the newest time value as ISO text, or None; whether it is stale)
    newest: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    #: KPI id -> the index of the first period with data: the one holding the first row of
    #: its source (of its inputs, the latest); None when it has no time column
    first: dict[str, int | None] = field(default_factory=dict)


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


def spans_for(kpis: list[Kpi], evaluated: dict[str, Period], history: int) -> dict[str, Span]:
    """Periods to compute per grain: the history, a year earlier, and baseline periods."""
    from kpispec.periods import parse_label

    spans: dict[str, Span] = {}
    for grain, period in evaluated.items():
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


def _complete(
    group_rows: pl.LazyFrame, group: Group, kpi: CheckedKpi, span: Span, tz: str
) -> pl.LazyFrame:
    """The KPI's aggregate columns on the full spine: every period, every member (lazy)."""
    aggregates = [a for a in group.aggregates if a.kpi == kpi.kpi.id]
    columns = [a.column for a in aggregates]
    rows = group_rows.select([*KEYS, *columns])
    periods = spine(span, tz).lazy()
    keys = [
        periods.select("__p").with_columns(
            pl.lit(None, pl.String).alias("__dimension"), pl.lit(None, pl.String).alias("__member")
        )
    ]
    for dim in kpi.dimensions:
        members = rows.filter(pl.col("__dimension") == dim).select("__member").unique()
        keys.append(
            periods.select("__p")
            .join(members, how="cross")
            .with_columns(pl.lit(dim).alias("__dimension"))
            .select(KEYS)
        )
    grid = pl.concat(keys, how="vertical_relaxed")
    full = grid.join(rows, on=KEYS, how="left", nulls_equal=True)
    counts = [a.column for a in aggregates if a.is_count]
    if counts:
        full = full.with_columns(pl.col(c).fill_null(0) for c in counts)
    return full.join(periods, on="__p", how="left")


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


def _evaluate_expr(frame: pl.LazyFrame, expr: pl.Expr, keys: list[str]) -> pl.LazyFrame:
    out = frame.select([*keys, expr.cast(pl.Float64).alias(VALUE)])
    finite = pl.col(VALUE).is_nan() | pl.col(VALUE).is_infinite()
    return out.with_columns(pl.when(finite).then(None).otherwise(pl.col(VALUE)).alias(VALUE))


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


def _kpi_values(
    kpi: CheckedKpi,
    own: pl.LazyFrame | None,
    refs: dict[str, KpiValues],
    group: Group | None,
    span: Span,
    tz: str,
) -> KpiValues:
    """Evaluate the KPI-level expression over its aggregates and referenced KPIs."""
    periods = spine(span, tz).lazy()
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
    else:
        frame = own
    frame, ref_columns = _join_refs(frame, refs)
    aggregates = [a for a in (group.aggregates if group else []) if a.kpi == kpi.kpi.id]
    compiler = KpiCompiler({a.call.span: a.column for a in aggregates}, ref_columns, tz)
    assert kpi.formula is not None
    try:
        expr = compiler.visit(kpi.formula.ast).expr
    except CompileError as exc:
        raise compile_error(exc, kpi.kpi.formula, kpi.kpi.source or kpi.kpi.id) from None
    dims = list(kpi.dimensions)
    result = frame.filter(pl.col("__dimension").is_null() | pl.col("__dimension").is_in(dims))
    values = _evaluate_expr(result, expr, KEYS).sort(
        ["__dimension", "__member", "__p"], nulls_last=False
    )
    # the same expression over no rows: counts 0, other aggregates null
    nothing = periods.with_columns(
        pl.lit(0 if a.is_count else None, pl.Int64 if a.is_count else pl.Float64).alias(a.column)
        for a in aggregates
    )
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


def earliest_query(opened: Opened, column: str) -> pl.LazyFrame:
    """The earliest value of a time column over every row of the source (aware, local).

    Read before any filter: it says from when the source has data at all, so a period
    that ends before it has no data (not zero rows).
    """
    opened.times = opened.times | {column}
    rows = opened.normalize(opened.raw.select(column), [column])
    return rows.select(opened.time_expr(column).min())


def _first_rows(plans: list[SourcePlan]) -> dict[tuple[str, str], datetime | None]:
    """(source id, time column) -> the earliest time value of that column in the source."""
    keys: list[tuple[str, str]] = []
    queries: list[pl.LazyFrame] = []
    sources = []
    for plan in plans:
        for column in dict.fromkeys(g.time for g in plan.groups if g.time is not None):
            keys.append((plan.opened.source.id, column))
            queries.append(earliest_query(plan.opened, column))
            sources.append(plan.opened.source)
    try:
        frames = pl.collect_all(queries) if queries else []
    except pl.exceptions.PolarsError:
        for query, source, (_, column) in zip(queries, sources, keys, strict=True):
            try:
                query.collect()
            except pl.exceptions.PolarsError as exc:
                raise DataError(
                    [
                        Diagnostic(
                            "D102",
                            f"source `{source.id}`: cannot read its time column `{column}`: "
                            + first_line(exc),
                            source.locs.get("time", source.loc),
                            "check the data, or declare the column's type under `columns:`",
                        )
                    ]
                ) from None
        raise
    return dict(zip(keys, (f.item() for f in frames), strict=True))


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


def run_plans(plans: list[SourcePlan]) -> list[pl.DataFrame]:
    """Collect every source's fused query (in parallel); data errors name the source."""
    try:
        return pl.collect_all([p.query for p in plans])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # Polars errors, and panics (a BaseException) on odd data
        pass
    # find the source that failed, and say why in its terms
    frames = []
    for plan in plans:
        try:
            frames.append(plan.query.collect())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            source = plan.opened.source
            bad = find_bad_value(plan.opened, plan.opened.schema)
            if bad is not None:
                raise DataError([bad]) from None
            raise DataError(
                [
                    Diagnostic(
                        "D102",
                        f"source `{source.id}`: cannot read the data: {first_line(exc)}",
                        source.locs.get("path", source.loc),
                        "check the file, or declare column types under `columns:`",
                    )
                ]
            ) from None
    return frames


def evaluate(
    checked: CheckedProject,
    *,
    as_of: date,
    period: Period | None = None,
    kpi_ids: list[str] | None = None,
    frames: dict[str, pl.DataFrame] | None = None,
    spans: dict[str, Span] | None = None,
    collapse: bool = False,
    breakdowns: bool = True,
) -> Evaluation:
    """Compute the values of ``kpi_ids`` (default all) and of every KPI they reference.

    ``frames`` replaces the data of sources by id (spec tests); ``spans`` fixes the periods.
    """
    project = checked.project
    tz = project.timezone
    wanted = set(kpi_ids) if kpi_ids is not None else set(checked.kpis)
    needed = _with_dependencies(checked, wanted)
    order = [k for k in checked.order if k in needed]
    kpis = [checked.kpis[k] for k in order]
    if not breakdowns:  # totals only: the dimension columns need not exist
        kpis = [replace(k, dimensions=[]) for k in kpis]
    evaluated = evaluated_periods([k.kpi for k in kpis], as_of, period)
    spans = spans or spans_for([k.kpi for k in kpis], evaluated, project.history)

    by_source: dict[str, list[CheckedKpi]] = {}
    for kpi in kpis:
        if kpi.kpi.source and kpi.formula and kpi.formula.aggregates:
            by_source.setdefault(kpi.kpi.source, []).append(kpi)
    plans: list[SourcePlan] = []
    for source_id, source_kpis in by_source.items():
        source = project.source(source_id)
        assert source is not None
        frame = frames.get(source_id) if frames is not None else None
        opened: Opened = open_source(source, project, frame=frame)
        plans.append(
            plan_source(
                opened, source_kpis, spans, checked.source_filters.get(source_id), collapse=collapse
            )
        )
    freshness = [(p.opened, q) for p in plans if (q := newest_query(p.opened, as_of)) is not None]
    results = run_plans(plans)
    newest: dict[str, tuple[str | None, bool]] = {}
    if freshness:
        for (opened, _), frame in zip(
            freshness, pl.collect_all([q for _, q in freshness]), strict=True
        ):
            newest[opened.source.id] = judge_freshness(opened, frame.item(), as_of)

    first_rows = _first_rows(plans)
    group_of: dict[str, tuple[Group, pl.LazyFrame, str]] = {}
    for plan, done in zip(plans, results, strict=True):
        for each in plan.groups:
            rows = done.filter(pl.col("__group") == each.number).lazy()  # once per group
            for kpi in each.kpis:
                group_of[kpi.kpi.id] = (each, rows, plan.opened.source.id)
    computed: dict[str, KpiValues] = {}
    firsts: dict[str, int | None] = {}
    for kpi in kpis:
        grain = str(kpi.kpi.grain)
        span = spans[grain]
        own: pl.LazyFrame | None = None
        group: Group | None = None
        first: int | None = None
        if kpi.kpi.id in group_of:
            group, group_rows, source_id = group_of[kpi.kpi.id]
            own = _complete(group_rows, group, kpi, span, tz)
            if group.time is not None:
                earliest = first_rows[(source_id, group.time)]
                # a source without rows has data in no period
                first = period_index(grain, earliest.date()) if earliest else span.last + 1
        if all(str(checked.kpis[r].kpi.grain) == grain for r in kpi.depends):
            known = [f for f in (first, *(firsts.get(r) for r in kpi.depends)) if f is not None]
            first = max(known) if known else None
        firsts[kpi.kpi.id] = first
        refs = {r: computed[r] for r in kpi.depends if r in computed}
        computed[kpi.kpi.id] = _kpi_values(kpi, own, refs, group, span, tz)
    values = {k: v.values for k, v in computed.items()}
    return Evaluation(as_of, evaluated, spans, values, plans, newest, firsts)


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
