"""Formulas and row filters: parsed and analysed once each (E300-E313), kept for the engine.

Every formula of the project goes through :func:`analyse`; a further check of formulas
(such as their types) belongs there.
"""

from __future__ import annotations

from collections.abc import Collection

from kpispec.formula.analysis import FormulaInfo, Level, analyze
from kpispec.formula.nodes import Node
from kpispec.formula.parser import parse
from kpispec.formula.tokens import FormulaSyntaxError
from kpispec.spec.checks.context import CheckedKpi, Context, dimension_locs
from kpispec.spec.checks.links import check_links
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Kpi, Source
from kpispec.suggest import did_you_mean

#: The longest rolling window, per unit: 100 years.
MAX_WINDOW = {"day": 36_525, "week": 5_218, "month": 1_200}


def parse_snippet(ctx: Context, snippet: Snippet) -> Node | None:
    if not snippet.text:
        return None  # an empty formula is reported by the schema (minLength)
    try:
        return parse(snippet.text)
    except FormulaSyntaxError as exc:
        message = f"syntax error in formula: {exc.message}"
        ctx.add_at("E300", message, snippet, exc.start, exc.end, exc.hint)
        return None


def analyse(
    ctx: Context,
    snippet: Snippet,
    level: Level,
    source: Source | None,
    kpi_ids: Collection[str] = (),
) -> FormulaInfo | None:
    """Parse and analyse one formula or filter, reporting its problems; None if it did not parse."""
    tree = parse_snippet(ctx, snippet)
    if tree is None:
        return None
    info = analyze(tree, level, kpi_ids=kpi_ids, columns=ctx.known(source))
    for p in info.problems:
        ctx.add_at(p.code, p.message, snippet, p.start, p.end, p.hint)
    return info


def unknown_columns(ctx: Context, info: FormulaInfo, source: Source, snippet: Snippet) -> None:
    known = ctx.columns.get(source.id)
    if known is None:
        return
    for name in info.columns:
        if name.name not in known.names:
            ctx.add_at(
                "E306",
                f"unknown column `{name.name}` in source `{source.id}` (read from {known.how})",
                snippet,
                name.start,
                name.end,
                did_you_mean(name.name, known.names)
                or f"columns: {', '.join(sorted(known.names))}",
            )


def source_filter(ctx: Context, source: Source) -> None:
    """A source's row filter (E305 for an aggregate in it)."""
    if source.filter is None:
        return
    info = analyse(ctx, source.filter, Level.FILTER, source)
    if info is not None:
        unknown_columns(ctx, info, source, source.filter)
        ctx.source_filters[source.id] = info


def kpi_formula(ctx: Context, checked: CheckedKpi, source: Source | None) -> None:
    kpi = checked.kpi
    info = analyse(ctx, kpi.formula, Level.KPI, source, ctx.kpis)
    if info is None:
        return
    checked.formula = info
    if info.aggregates and kpi.source is None:
        first = info.aggregates[0]
        ctx.add_at(
            "E310",
            f"`{first.name}` aggregates rows, but KPI `{kpi.id}` names no source",
            kpi.formula,
            first.start,
            first.name_end,
            f"add `source:` ({ctx.sources_hint()})",
        )
    if source is not None:
        unknown_columns(ctx, info, source, kpi.formula)
        time_functions(ctx, kpi, source, info)


def kpi_filter(ctx: Context, checked: CheckedKpi, source: Source | None) -> None:
    kpi = checked.kpi
    if kpi.filter is None:
        return
    info = analyse(ctx, kpi.filter, Level.FILTER, source)
    if info is None:
        return
    checked.filter = info
    if source is not None:
        unknown_columns(ctx, info, source, kpi.filter)
    elif kpi.source is None:
        ctx.out.add(
            "E310",
            f"KPI `{kpi.id}` has a row filter but no source",
            kpi.locs.get("filter", kpi.loc),
            "a filter applies to the rows of the KPI's source; add `source:` or remove the filter",
        )


def time_functions(ctx: Context, kpi: Kpi, source: Source, info: FormulaInfo) -> None:
    """``first`` and ``last`` order rows by time: the KPI needs a time column (E309)."""
    if kpi.time_column(source) is not None:
        return
    for call in info.aggregates:
        if call.name in ("first", "last"):
            ctx.add_at(
                "E309",
                f"`{call.name}` orders rows by the time column, but KPI `{kpi.id}` has none",
                kpi.formula,
                call.start,
                call.name_end,
                "give the source (or the KPI) a `time:` column",
            )


def check_kpi(ctx: Context, kpi: Kpi) -> None:
    """One KPI: its source, window, formula, filter, and the columns it names."""
    checked = CheckedKpi(kpi, dimensions=list(kpi.dimensions))
    ctx.checked[kpi.id] = checked
    check_links(ctx, kpi)
    source = None
    if kpi.source is not None:
        source = ctx.sources.get(kpi.source)
        if source is None:
            ctx.out.add(
                "E401",
                f"unknown source `{kpi.source}`",
                kpi.locs.get("source", kpi.loc),
                did_you_mean(kpi.source, ctx.sources) or ctx.sources_hint(),
            )
    window = kpi.window
    if window.kind == "rolling" and window.count > MAX_WINDOW[window.unit]:
        ctx.out.add(
            "E205",
            f"a window of {window.count:,} {window.unit}s is too long",
            kpi.locs.get("window", kpi.loc),
            f"windows reach back at most 100 years ({MAX_WINDOW[window.unit]:,} "
            f"{window.unit}s); for every row before the period, write window: all",
        )
    kpi_formula(ctx, checked, source)
    kpi_filter(ctx, checked, source)
    if source is not None:
        if kpi.time is not None:
            ctx.column_exists(kpi.time, source, kpi.locs.get("time", kpi.loc), "time column")
        for dim, loc in zip(kpi.dimensions, dimension_locs(kpi), strict=True):
            ctx.column_exists(dim, source, loc, "dimension")


def check_kpis(ctx: Context) -> None:
    for kpi in ctx.project.all_kpis():
        if ctx.kpis.get(kpi.id) is kpi:
            check_kpi(ctx, kpi)
