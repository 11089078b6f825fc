"""Spec tests: the KPI they test (E414), the rows they give (E410, E414, E415), their period (E506)."""

from __future__ import annotations

from kpispec.confine import outside_root
from kpispec.files import is_file
from kpispec.periods import EXAMPLE_LABELS, FIRST_YEAR, LAST_YEAR, in_calendar, label_grain
from kpispec.spec.checks.context import Context
from kpispec.spec.model import Kpi, SpecTest
from kpispec.suggest import did_you_mean


def check_spec_tests(ctx: Context) -> None:
    for card in ctx.project.scorecards:
        for test in card.tests:
            kpi = ctx.kpis.get(test.kpi)
            if kpi is None:
                ctx.out.add(
                    "E414",
                    f"test {test.name!r} names unknown KPI `{test.kpi}`",
                    test.locs.get("kpi", test.loc),
                    did_you_mean(test.kpi, ctx.kpis) or "name a KPI id of the project",
                )
                continue
            test_rows(ctx, test, kpi)
            checked = ctx.checked.get(kpi.id)
            dimensions = checked.dimensions if checked is not None else kpi.dimensions
            if test.member is not None and test.member[0] not in dimensions:
                ctx.out.add(
                    "E414",
                    f"test {test.name!r} tests a member of `{test.member[0]}`, which is not a "
                    f"dimension of KPI `{kpi.id}`",
                    test.locs.get("member", test.loc),
                    did_you_mean(test.member[0], dimensions)
                    or f"KPI `{kpi.id}` has dimensions: {', '.join(dimensions) or 'none'}",
                )
            if test.period is not None:
                test_period(ctx, test, kpi, test.period)


def test_rows(ctx: Context, test: SpecTest, kpi: Kpi) -> None:
    needed = sources_read(ctx, kpi.id)
    for source_id, rows in test.rows.items():
        if source_id not in needed:
            ctx.out.add(
                "E414",
                f"test {test.name!r} gives rows for `{source_id}`, which KPI `{kpi.id}` does not read",
                test.row_key_locs.get(source_id, test.locs.get("rows", test.loc)),
                f"KPI `{kpi.id}` reads: {', '.join(sorted(needed)) or 'no source'}",
            )
        elif isinstance(rows, str):
            test_rows_file(ctx, test, source_id, rows)


def test_period(ctx: Context, test: SpecTest, kpi: Kpi, period: str) -> None:
    grain = label_grain(period)
    if grain is None:
        return  # not a label at all: the schema reports it
    loc = test.locs.get("period", test.loc)
    example = f"name a {kpi.grain} period, e.g. {EXAMPLE_LABELS[str(kpi.grain)]}"
    if grain != kpi.grain:
        ctx.out.add(
            "E506",
            f"test period {period!r} is a {grain}, but KPI `{kpi.id}` is evaluated per {kpi.grain}",
            loc,
            example,
        )
    elif not in_calendar(period):
        ctx.out.add(
            "E506",
            f"test period {period!r} is not a date of the calendar "
            f"(years {FIRST_YEAR} to {LAST_YEAR})",
            loc,
            example,
        )


def test_rows_file(ctx: Context, test: SpecTest, source_id: str, rows: str) -> None:
    """A test's CSV of rows: inside the project (E410), and there (E415)."""
    loc = test.row_value_locs.get(source_id, test.locs.get("rows", test.loc))
    path = test.file.parent / rows
    if not ctx.allow_outside_root:
        refused = outside_root(f"test data file {rows!r}", [path], ctx.project.root, loc)
        if refused is not None:
            ctx.out.items.append(refused)
            return
    if ctx.data and not is_file(path):
        ctx.out.add(
            "E415",
            f"test data file {rows!r} does not exist",
            loc,
            "paths are relative to the spec file; put the CSV beside it",
        )


def sources_read(ctx: Context, kpi_id: str, seen: set[str] | None = None) -> set[str]:
    """The sources a KPI reads, through the KPIs it references too."""
    seen = seen if seen is not None else set()
    if kpi_id in seen or kpi_id not in ctx.checked:
        return set()
    seen.add(kpi_id)
    checked = ctx.checked[kpi_id]
    found = {checked.kpi.source} if checked.kpi.source else set()
    for dep in checked.depends:
        found |= sources_read(ctx, dep, seen)
    return _with_joined(ctx, found)


def _with_joined(ctx: Context, sources: set[str]) -> set[str]:
    """The sources and every source they join, through chains of joins."""
    out, todo = set(), list(sources)
    while todo:
        source_id = todo.pop()
        if source_id in out:
            continue
        out.add(source_id)
        source = ctx.sources.get(source_id)
        todo.extend(j.source for j in source.joins) if source is not None else None
    return out
