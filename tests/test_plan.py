"""The logical plan on its own: which aggregates decompose, buckets, windows, roll-ups.

Expected values are worked out by hand from the calendar (indexes: a month's index is
year * 12 + month - 1, a day's its proleptic ordinal).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import kpispec
from kpispec.formula.nodes import Call
from kpispec.formula.parser import parse
from kpispec.periods import period_index
from kpispec.plan.build import build_plan, shape
from kpispec.plan.partials import Op, partials_of
from kpispec.plan.windows import Span, bucket_grain, mapping, row_bounds
from kpispec.spec.model import Window
from tests.helpers import write_files


def _call(text: str) -> Call:
    node = parse(text)
    assert isinstance(node, Call)
    return node


@pytest.mark.parametrize(
    ("formula", "ops"),
    [
        ("count(*)", (Op.ROWS,)),
        ("count(x)", (Op.COUNT,)),
        ("sum(x)", (Op.SUM, Op.COUNT)),
        ("avg(x)", (Op.SUM, Op.COUNT)),
        ("share(b)", (Op.SUM, Op.COUNT)),
        ("min(x)", (Op.MIN,)),
        ("max(x)", (Op.MAX,)),
        ("stddev(x)", (Op.SUM, Op.COUNT, Op.M2)),
        ("count(distinct x)", None),
        ("median(x)", None),
        ("percentile(x, 0.9)", None),
        ("first(x)", None),
        ("last(x)", None),
    ],
)
def test_which_aggregates_decompose(formula: str, ops: tuple[Op, ...] | None) -> None:
    assert partials_of(_call(formula)) == ops


def test_shape_ignores_where_an_expression_is_written() -> None:
    a, b = parse("sum(x * 2)"), parse("  sum( x*2 )")
    assert shape(a) == shape(b)
    assert shape(parse("sum(x * 2)")) != shape(parse("sum(x * 2.0)"))
    assert shape(parse("count(*) filter (where a)")) != shape(parse("count(*)"))


MONTHS = Span(
    "month", period_index("month", date(2026, 1, 1)), period_index("month", date(2026, 3, 1))
)


def test_months_of_a_period_window_are_month_buckets_one_each() -> None:
    window = Window("period")
    needed = {date(2026, m, 1) for m in (1, 2, 3, 4)}
    assert bucket_grain(needed) == "month"
    m = mapping(MONTHS, window, "month")
    assert m.pairs == tuple((p, p) for p in MONTHS.indexes()) and m.floor is None
    assert row_bounds(MONTHS, window) == (date(2026, 1, 1), date(2026, 4, 1))


def test_a_rolling_window_of_days_over_months_reads_daily_buckets() -> None:
    window = Window("rolling", 30, "day")
    # March 2026 ends on 2026-04-01: its window is 2026-03-02 .. 2026-03-31
    assert bucket_grain({date(2026, 4, 1), date(2026, 3, 2)}) == "day"
    m = mapping(MONTHS, window, "day")
    march = [b for p, b in m.pairs if p == MONTHS.last]
    assert march == list(range(date(2026, 3, 2).toordinal(), date(2026, 4, 1).toordinal()))
    assert row_bounds(MONTHS, window) == (date(2026, 1, 2), date(2026, 4, 1))


def test_a_window_of_all_folds_the_buckets_before_the_first_period() -> None:
    m = mapping(MONTHS, Window("all"), "month")
    first = MONTHS.first
    # January and every bucket before it count as one bucket, January's
    assert m.floor == first + 1
    assert [b for p, b in m.pairs if p == first] == [first]
    assert [b for p, b in m.pairs if p == MONTHS.last] == [first, first + 1, first + 2]
    assert row_bounds(MONTHS, Window("all")) == (None, date(2026, 4, 1))


def test_weeks_and_months_together_need_day_buckets() -> None:
    assert bucket_grain({date(2026, 1, 1), date(2026, 1, 5)}) == "day"  # Thu, Mon
    assert bucket_grain({date(2026, 1, 5), date(2026, 1, 12)}) == "week"
    assert bucket_grain({date(2026, 1, 1), date(2026, 4, 1)}) == "quarter"


PROJECT = {
    "kpispec.yaml": "kpispec: 1\ntimezone: UTC\nhistory: 3\n",
    "s.csv": "t,channel,x,v\n2026-01-05,a,1,u1\n2026-02-05,b,2,u2\n2026-03-05,a,,u1\n",
    "kpis.yaml": "kpispec: 1\nscorecard: {id: card}\n"
    "sources: [{id: s, path: s.csv, time: t}]\n"
    "kpis:\n"
    "  - {id: n, source: s, formula: 'count(*)', dimensions: [channel]}\n"
    "  - {id: total, source: s, formula: 'sum(x)'}\n"
    "  - {id: mean, source: s, formula: 'sum(x) / count(*)', dimensions: [channel]}\n"
    "  - {id: users, source: s, formula: 'count(distinct v)'}\n",
}


def test_kpis_share_their_partials_and_exact_aggregates_get_a_row_pass(tmp_path: Path) -> None:
    loaded = kpispec.load(write_files(tmp_path, PROJECT))
    checked = loaded.checked
    source = checked.project.source("s")
    assert source is not None
    span = Span("month", *(period_index("month", date(2026, m, 1)) for m in (1, 3)))
    plan = build_plan(source, list(checked.kpis.values()), {"month": span}, None)
    (scan,) = plan.scans
    assert scan.bucket == "month" and scan.dimensions == ["channel"]
    # count(*) twice and sum(x) twice: one rows partial, one sum and one count of x
    assert sorted(str(p.op) for p in scan.partials) == ["count", "rows", "sum"]
    assert [g.number for g in plan.row_groups] == [0]
    assert [a.text for a in plan.row_groups[0].exact] == ["count(distinct v)"]
    text = "\n".join(plan.describe())
    assert "group by (bucket, channel)" in text
    assert "rolled up to (period), (period, channel)" in text


def test_explain_prints_the_logical_plan_then_polars_plans_without_a_cache(
    tmp_path: Path,
) -> None:
    root = write_files(tmp_path, PROJECT)
    run = subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", str(root), "--explain", "--as-of", "2026-04-02"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.index("## logical plan") < out.index("## Polars plan 1 of")
    assert "= rows(*)" in out and "= sum(x)" in out and "= count(x)" in out
    assert "row pass, group 0" in out and "count(distinct v)" in out
    assert "CACHE" not in out


def test_the_explain_example_in_the_docs_is_what_kpispec_prints(tmp_path: Path) -> None:
    """docs/cli.md shows --explain for one KPI; the same project prints the same lines."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    block = page.split("```text\n# source `sessions`: 1 KPI in 1 query\n", 1)[1].split("```", 1)[0]
    shown = ["# source `sessions`: 1 KPI in 1 query", *block.splitlines()]
    shown = shown[: shown.index("| AGGREGATE[maintain_order: false]")]
    rows = "".join(
        f"2026-{m:02d}-0{d} 10:00:00,{c},{str(m % 2 == 0).lower()}\n"
        for m in range(1, 11)
        for d, c in ((1, "ads"), (2, "email"))
    )
    root = write_files(
        tmp_path,
        {
            "kpispec.yaml": "kpispec: 1\ntimezone: UTC\nhistory: 12\n",
            "sessions.csv": "started_at,channel,converted\n" + rows,
            "web.yaml": "kpispec: 1\nscorecard: {id: web}\n"
            "sources: [{id: sessions, path: sessions.csv, time: started_at}]\n"
            "kpis:\n"
            "  - {id: conversion_rate, source: sessions, formula: share(converted),"
            " dimensions: [channel]}\n",
        },
    )
    run = subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", str(root), "--explain", "--as-of", "2026-11-22"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[: len(shown)] == shown


@pytest.mark.parametrize("unit", ["ns", "us", "ms"])
def test_buckets_by_arithmetic_are_the_calendars_periods(tmp_path: Path, unit: str) -> None:
    """A naive timestamp in the project's zone is bucketed by integer division of its stored
    value; the period indexes must be the calendar's, before 1970 and around midnight too."""
    from datetime import datetime

    import polars as pl

    from kpispec.engine.periods import index_of_days
    from kpispec.engine.sources import open_source
    from kpispec.periods import GRAINS

    times = [
        datetime(1969, 12, 31, 23, 59, 59, 999000),
        datetime(1970, 1, 1),
        datetime(1899, 3, 1, 12),
        datetime(2024, 2, 29, 23, 59, 59),
        datetime(2026, 1, 4, 0, 0, 0, 1000),
        datetime(2026, 12, 31, 23, 30),
    ]
    frame = pl.DataFrame({"t": times}, schema={"t": pl.Datetime(unit)})
    frame.write_parquet(tmp_path / "s.parquet")
    root = write_files(
        tmp_path,
        {
            "kpispec.yaml": "kpispec: 1\ntimezone: Europe/Oslo\n",
            "k.yaml": "kpispec: 1\nscorecard: {id: c}\n"
            "sources: [{id: s, path: s.parquet, time: t}]\n"
            "kpis: [{id: n, source: s, formula: 'count(*)'}]\n",
        },
    )
    project = kpispec.load(root).checked.project
    source = project.source("s")
    assert source is not None
    opened = open_source(source, project)
    days = opened.epoch_days("t", date(2025, 1, 1), date(2026, 1, 1))
    assert days is not None
    for grain in GRAINS:
        got = frame.select(index_of_days(grain, days)).to_series().to_list()
        assert got == [period_index(grain, t.date()) for t in times], grain


def test_a_window_of_its_own_period_needs_no_join_and_others_do() -> None:
    assert mapping(MONTHS, Window("period"), "month").one_each
    assert not mapping(MONTHS, Window("period"), "day").one_each
    assert not mapping(MONTHS, Window("all"), "month").one_each
    assert not mapping(MONTHS, Window("rolling", 3, "month"), "month").one_each
