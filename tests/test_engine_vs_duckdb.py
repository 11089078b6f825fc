"""kpispec computes the same KPI values as an independent SQL engine (DuckDB).

Every test writes a project (spec files and Parquet/CSV data generated deterministically),
evaluates it with ``kpispec.evaluate`` and recomputes every value of the series (and of the
breakdowns) with hand-written DuckDB SQL over the same data, period by period. The SQL is
written here from docs/language.md; nothing is generated from kpispec's code and no
expected value is copied from kpispec's output.

Conventions of the SQL below:

- the data is the view ``t`` (or the named view of a source), read by DuckDB from the
  Parquet file kpispec reads (or the Parquet twin of its CSV file);
- ``$ps``/``$pe`` are the period's start/end timestamps and ``$pd`` its number of days;
  they are substituted as literals before the query runs;
- ``a / b`` at KPI level is written ``a / nullif(b, 0)`` since division by zero gives null
  in kpispec (DuckDB 2 gives infinity).
"""

from __future__ import annotations

import csv as csv_module
import io
import json
import math
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from helpers import evaluate_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpispec

AS_OF = "2026-11-22"

# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # local (naive) midnight
    end: datetime  # local (naive) midnight of the next period, exclusive

    @property
    def days(self) -> int:
        return (self.end.date() - self.start.date()).days


def _period_start(grain: str, d: date) -> date:
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())  # Monday
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(d.year, 1, 1)
    raise AssertionError(grain)


def _add_months(d: date, n: int) -> date:
    """d plus n calendar months, the day clamped to the month's length."""
    index = d.year * 12 + d.month - 1 + n
    year, month = divmod(index, 12)
    month += 1
    length = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, length))


def _next_start(grain: str, start: date) -> date:
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    return _add_months(start, {"month": 1, "quarter": 3, "year": 12}[grain])


def _prev_start(grain: str, start: date) -> date:
    return _period_start(grain, start - timedelta(days=1))


def _label(grain: str, start: date) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def periods(grain: str, history: int, as_of: str = AS_OF) -> list[Period]:
    """The `history` periods ending with the last complete period at `as_of` (section 10.5)."""
    day = date.fromisoformat(as_of)
    start = _prev_start(grain, _period_start(grain, day))  # the as-of's own period is open
    starts = [start]
    for _ in range(history - 1):
        starts.append(_prev_start(grain, starts[-1]))
    out = []
    for s in reversed(starts):
        e = _next_start(grain, s)
        assert e <= day
        out.append(
            Period(
                _label(grain, s),
                datetime.combine(s, datetime.min.time()),
                datetime.combine(e, datetime.min.time()),
            )
        )
    return out


def window_bounds(p: Period, window: str) -> tuple[datetime | None, datetime]:
    """[lo, hi) of the rows a period reads (section 8.2), as local naive timestamps."""
    if window == "period":
        return p.start, p.end
    if window == "all":
        return None, p.end
    n, unit = window.split()
    n = int(n)
    if unit in ("day", "days"):
        return p.end - timedelta(days=n), p.end
    if unit in ("week", "weeks"):
        return p.end - timedelta(days=7 * n), p.end
    if unit in ("month", "months"):
        return datetime.combine(_add_months(p.end.date(), -n), datetime.min.time()), p.end
    raise AssertionError(window)


def ts_literal(value: datetime, tz: str | None) -> str:
    text = f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return f"timezone('{tz}', {text})" if tz else text


class Duck:
    """DuckDB over the Parquet files of a project; `tz` makes time columns instants."""

    def __init__(self, tz: str | None = None) -> None:
        self.con = duckdb.connect()
        self.tz = tz
        if tz:
            self.con.execute(f"SET TimeZone = '{tz}'")

    def view(
        self,
        name: str,
        parquet: Path,
        naive_time_columns: Iterable[str] = (),
        zone: str | None = None,
    ) -> None:
        """A view of a Parquet file; naive time columns are read in `zone` (default: the
        project's zone) when the project has one."""
        cols = list(naive_time_columns)
        source = f"read_parquet('{parquet}')"
        if self.tz and cols:
            replace = ", ".join(f"timezone('{zone or self.tz}', {c}) as {c}" for c in cols)
            self.con.execute(f"create view {name} as select * replace ({replace}) from {source}")
        else:
            self.con.execute(f"create view {name} as select * from {source}")

    def value(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()
        assert len(rows) == 1, sql
        return rows[0][0]

    def series(
        self,
        expr: str,
        ps: list[Period],
        *,
        table: str = "t",
        time: str | None = "ts",
        window: str = "period",
        where: str | None = None,
    ) -> dict[str, float | None]:
        """`select expr from table` over the rows each period reads."""
        out: dict[str, float | None] = {}
        for p in ps:
            conds = []
            if time is not None:
                lo, hi = window_bounds(p, window)
                if lo is not None:
                    conds.append(f"{time} >= {ts_literal(lo, self.tz)}")
                conds.append(f"{time} < {ts_literal(hi, self.tz)}")
            if where:
                conds.append(f"({where})")
            sql = f"select ({expr})::double from {table}"
            if conds:
                sql += " where " + " and ".join(conds)
            sql = (
                sql.replace("$ps", ts_literal(p.start, self.tz))
                .replace("$pe", ts_literal(p.end, self.tz))
                .replace("$pd", str(p.days))
            )
            out[p.label] = self.value(sql)
        return out


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return False
    if isinstance(b, float) and math.isnan(b):
        return False
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_series(
    actual: list[dict[str, Any]], expected: dict[str, float | None], what: str = ""
) -> None:
    got = {row["period"]: row["value"] for row in actual}
    assert list(got) == list(expected), f"{what}: periods differ"
    bad = {
        label: (got[label], want) for label, want in expected.items() if not close(got[label], want)
    }
    assert not bad, f"{what}: (kpispec, duckdb) differ in {bad}"


def write_project(
    root: Path,
    specs: dict[str, dict[str, Any]],
    tables: dict[str, pl.DataFrame],
    *,
    history: int = 12,
    timezone: str = "UTC",
    csv: Iterable[str] = (),
) -> Path:
    """Spec files (as JSON, which is YAML 1.2) and data: every table as Parquet, the ones
    named in `csv` also as CSV."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kpispec.yaml").write_text(
        f"kpispec: 1\nhistory: {history}\ntimezone: {timezone}\n", encoding="utf-8"
    )
    for name, spec in specs.items():
        (root / name).write_text(json.dumps(spec, indent=2), encoding="utf-8")
    csv = set(csv)
    for name, df in tables.items():
        df.write_parquet(root / f"{name}.parquet")
        if name in csv:
            df.write_csv(root / f"{name}.csv")
    return root


def spec(card: str, sources: list[dict], kpis: list[dict], grain: str = "month") -> dict:
    return {
        "kpispec": 1,
        "scorecard": {"id": card, "owner": "tests", "grain": grain},
        "sources": sources,
        "kpis": kpis,
    }


def kpis_by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for card in doc["scorecards"] for k in card["kpis"]}


def breakdown(kpi: dict[str, Any], dimension: str) -> dict[Any, list[dict[str, Any]]]:
    [found] = [b for b in kpi["breakdowns"] if b["dimension"] == dimension]
    return {m["member"]: m["series"] for m in found["members"]}


def unique_times(rng: random.Random, n: int, start: datetime, end: datetime, skip=None) -> list:
    span = int((end - start).total_seconds())
    seen: set[datetime] = set()
    while len(seen) < n:
        ts = start + timedelta(seconds=rng.randrange(span))
        if skip is None or not skip(ts):
            seen.add(ts)
    return sorted(seen)


# --------------------------------------------------------------------------- the events data

EVENTS_SCHEMA = {
    "ts": pl.Datetime("us"),
    "t2": pl.Datetime("us"),
    "cid": pl.Int64,
    "x": pl.Float64,
    "y": pl.Int64,
    "q": pl.Float64,
    "flag": pl.Boolean,
    "ch": pl.String,
    "dev": pl.String,
    "name": pl.String,
}
NAMES = ["abc", "a.c", "Abc", "xbz", "ab%", "a_c", "a", "", None]
HISTORY = 15  # 2025-08 .. 2026-10: two empty months before the data, June 2026 empty


def events_df(seed: int = 7, n: int = 900) -> pl.DataFrame:
    """Events from 2025-10-01 to 2026-11-21: no rows in June 2026, x all null in April 2026."""
    rng = random.Random(seed)
    times = unique_times(
        rng,
        n,
        datetime(2025, 10, 1),
        datetime(2026, 11, 21, 23, 0),
        skip=lambda ts: (ts.year, ts.month) == (2026, 6),
    )
    rows = []
    for ts in times:
        r = rng.random()
        t2 = None if r < 0.1 else ts + timedelta(seconds=rng.randrange(-3600 * 5, 3600 * 80))
        rows.append(
            {
                "ts": ts,
                "t2": t2,
                "cid": rng.randrange(1, 60),
                "x": None
                if rng.random() < 0.15 or (ts.year, ts.month) == (2026, 4)
                else round(rng.uniform(-20, 120), 2),
                "y": None if rng.random() < 0.15 else rng.randrange(0, 10),
                "q": None if rng.random() < 0.1 else rng.randrange(-40, 41) / 4,
                "flag": None if rng.random() < 0.2 else rng.random() < 0.4,
                "ch": rng.choice(["email", "email", "sms", "web", "web", None]),
                "dev": rng.choice(["mobile", "desktop", "tablet"]),
                "name": rng.choice(NAMES),
            }
        )
    return pl.DataFrame(rows, schema=EVENTS_SCHEMA)


def share_sql(cond: str, where: str = "true") -> str:
    return (
        f"count(*) filter (where ({cond}) and ({where}))::double"
        f" / nullif(count(*) filter (where ({cond}) is not null and ({where})), 0)"
    )


# (kpispec formula, DuckDB expression over the period's rows)
AGGREGATE_CASES: list[tuple[str, str]] = [
    ("count(*)", "count(*)"),
    ("count(x)", "count(x)"),
    ("count(distinct cid)", "count(distinct cid)"),
    ("count(distinct ch)", "count(distinct ch)"),
    ("count(distinct x)", "count(distinct x)"),
    ("sum(x)", "sum(x)"),
    ("sum(y)", "sum(y)"),
    ("avg(x)", "avg(x)"),
    ("avg(y)", "avg(y)"),
    ("min(x)", "min(x)"),
    ("max(x)", "max(x)"),
    ("min(y) + max(y)", "min(y) + max(y)"),
    ("median(x)", "quantile_cont(x, 0.5)"),
    ("median(y)", "quantile_cont(y, 0.5)"),
    ("percentile(x, 0.9)", "quantile_cont(x, 0.9)"),
    ("percentile(y, 0.25)", "quantile_cont(y, 0.25)"),
    ("percentile(x, 0)", "min(x)"),
    ("percentile(x, 1)", "max(x)"),
    ("stddev(x)", "stddev_samp(x)"),
    ("stddev(y)", "stddev_samp(y)"),
    ("share(x > 50)", share_sql("x > 50")),
    ("share(flag)", share_sql("flag")),
    ("share(not flag)", share_sql("not flag")),
    ("share(flag or x > 50)", share_sql("flag or x > 50")),
    ("share(flag and y > 4)", share_sql("flag and y > 4")),
    (
        "100 * share(y >= 3) filter (where ch = 'email')",
        "100 * " + share_sql("y >= 3", "ch = 'email'"),
    ),
    ("first(x)", "arg_min(x, ts) filter (where x is not null)"),
    ("last(x)", "arg_max(x, ts) filter (where x is not null)"),
    (
        "last(y) filter (where ch = 'sms')",
        "arg_max(y, ts) filter (where y is not null and ch = 'sms')",
    ),
    (
        "first(y) - last(y)",
        "arg_min(y, ts) filter (where y is not null) - arg_max(y, ts) filter (where y is not null)",
    ),
    ("sum(x) filter (where ch = 'email')", "sum(x) filter (where ch = 'email')"),
    ("count(*) filter (where flag)", "count(*) filter (where flag)"),
    (
        "avg(x) filter (where flag and dev <> 'tablet')",
        "avg(x) filter (where flag and dev <> 'tablet')",
    ),
    ("count(*) filter (where not (x > 50))", "count(*) filter (where not (x > 50))"),
    (
        "sum(case when ch = 'email' then x when ch = 'sms' then -x end)",
        "sum(case when ch = 'email' then x when ch = 'sms' then -x end)",
    ),
    (
        "sum(case ch when 'email' then 1 when 'sms' then 2 else 0 end)",
        "sum(case ch when 'email' then 1 when 'sms' then 2 else 0 end)",
    ),
    (
        "count(case when x > 100 then 1 end)",
        "count(case when x > 100 then 1 end)",
    ),
    ("sum(coalesce(x, y, 0))", "sum(coalesce(x, y, 0))"),
    (
        "coalesce(sum(x) filter (where ch = 'none'), -1)",
        "coalesce(sum(x) filter (where ch = 'none'), -1)",
    ),
    ("sum(nullif(y, 3))", "sum(nullif(y, 3))"),
    ("count(nullif(ch, 'web'))", "count(nullif(ch, 'web'))"),
    ("sum(round(q, 1))", "sum(round(q, 1))"),
    ("sum(round(q))", "sum(round(q))"),
    ("round(avg(x), 2)", "round(avg(x), 2)"),
    ("sum(abs(x - 50))", "sum(abs(x - 50))"),
    ("abs(sum(q))", "abs(sum(q))"),
    ("sum(greatest(x, y))", "sum(greatest(x, y))"),
    ("sum(least(x, y, 5))", "sum(least(x, y, 5))"),
    ("greatest(max(x), max(y) * 20)", "greatest(max(x), max(y) * 20)"),
    (
        "count(*) filter (where ch in ('email', 'sms'))",
        "count(*) filter (where ch in ('email', 'sms'))",
    ),
    ("count(*) filter (where ch not in ('email'))", "count(*) filter (where ch not in ('email'))"),
    ("count(*) filter (where y in (1, 2, x))", "count(*) filter (where y in (1, 2, x))"),
    ("count(*) filter (where y between 3 and 7)", "count(*) filter (where y between 3 and 7)"),
    (
        "count(*) filter (where y not between 3 and 7)",
        "count(*) filter (where y not between 3 and 7)",
    ),
    ("count(*) filter (where x between y and 60)", "count(*) filter (where x between y and 60)"),
    ("count(*) filter (where name like 'a%')", "count(*) filter (where name like 'a%')"),
    ("count(*) filter (where name like 'a_c')", "count(*) filter (where name like 'a_c')"),
    ("count(*) filter (where name like 'a.c')", "count(*) filter (where name like 'a.c')"),
    ("count(*) filter (where name like '%b%')", "count(*) filter (where name like '%b%')"),
    ("count(*) filter (where name not like '_b%')", "count(*) filter (where name not like '_b%')"),
    ("count(*) filter (where name like '')", "count(*) filter (where name like '')"),
    ("count(*) filter (where x is null)", "count(*) filter (where x is null)"),
    (
        "count(*) filter (where x is not null and ch is null)",
        "count(*) filter (where x is not null and ch is null)",
    ),
    ("avg(date_diff('hour', ts, t2))", "avg(epoch(t2 - ts) / 3600)"),
    ("sum(date_diff('minute', ts, t2))", "sum(epoch(t2 - ts) / 60)"),
    ("max(date_diff('second', t2, ts))", "max(epoch(ts - t2))"),
    ("percentile(date_diff('day', ts, t2), 0.9)", "quantile_cont(epoch(t2 - ts) / 86400, 0.9)"),
    ("avg(date_diff('hour', period_start, ts))", "avg(epoch(ts - $ps) / 3600)"),
    ("count(*) filter (where t2 >= period_end)", "count(*) filter (where t2 >= $pe)"),
    ("sum(y) / count(*)", "sum(y)::double / nullif(count(*), 0)"),
    ("7 / 2 + 0 * count(*)", "3.5 + 0 * count(*)"),
    ("100 * sum(x) / sum(y)", "100 * sum(x) / nullif(sum(y), 0)"),
    ("count(distinct cid) / period_days", "count(distinct cid)::double / $pd"),
    ("-sum(x) + +sum(y)", "-sum(x) + sum(y)"),
    ("sum(x * y) / sum(y)", "sum(x * y) / nullif(sum(y), 0)"),
    ("sum(x / y)", "sum(x / nullif(y, 0))"),
    ("sum(y / 4)", "sum(y / 4)"),
    ("count(*) filter (where y > x)", "count(*) filter (where y > x)"),
    ("count(*) filter (where flag = false)", "count(*) filter (where flag = false)"),
    (
        "count(*) filter (where \"ch\" <> 'web' or dev = 'mobile')",
        "count(*) filter (where ch <> 'web' or dev = 'mobile')",
    ),
]

# formulas whose denominator is zero in (almost) every period with rows
DIVISION_BY_ZERO_CASES: list[tuple[str, str]] = [
    ("sum(x) / sum(y) filter (where y = 0)", "sum(x) / nullif(sum(y) filter (where y = 0), 0)"),
    ("sum(x) / (sum(y) - sum(y))", "sum(x) / nullif(sum(y) - sum(y), 0)"),
    (
        "count(*) / count(x) filter (where x > 1000)",
        "count(*) / nullif(count(x) filter (where x > 1000), 0)",
    ),
    ("sum(x / (y - y))", "sum(x / nullif(y - y, 0))"),
    ("count(x) / count(x)", "count(x) / nullif(count(x), 0)"),
]


def _kpi_id(prefix: str, i: int) -> str:
    return f"{prefix}{i:03d}"


@pytest.fixture(scope="module")
def events_project(tmp_path_factory: pytest.TempPathFactory):
    df = events_df()
    root = tmp_path_factory.mktemp("events")
    kpis = [
        {"id": _kpi_id("a", i), "source": "ev", "formula": f}
        for i, (f, _) in enumerate(AGGREGATE_CASES)
    ] + [
        {"id": _kpi_id("z", i), "source": "ev", "formula": f}
        for i, (f, _) in enumerate(DIVISION_BY_ZERO_CASES)
    ]
    write_project(
        root,
        {"events.yaml": spec("events", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": df},
        history=HISTORY,
    )
    doc = evaluate_doc(str(root), as_of=AS_OF)
    duck = Duck()
    duck.view("t", root / "ev.parquet")
    return kpis_by_id(doc), duck, df


@pytest.mark.parametrize(
    ("index", "formula", "sql"),
    [(i, f, s) for i, (f, s) in enumerate(AGGREGATE_CASES)],
    ids=[f for f, _ in AGGREGATE_CASES],
)
def test_aggregates_per_month(events_project, index: int, formula: str, sql: str) -> None:
    kpis, duck, _ = events_project
    kpi = kpis[_kpi_id("a", index)]
    assert kpi["formula"] == formula
    assert_series(kpi["series"], duck.series(sql, periods("month", HISTORY)), formula)


@pytest.mark.parametrize(
    ("index", "formula", "sql"),
    [(i, f, s) for i, (f, s) in enumerate(DIVISION_BY_ZERO_CASES)],
    ids=[f for f, _ in DIVISION_BY_ZERO_CASES],
)
def test_division_by_zero_is_null(events_project, index: int, formula: str, sql: str) -> None:
    kpis, duck, _ = events_project
    kpi = kpis[_kpi_id("z", index)]
    expected = duck.series(sql, periods("month", HISTORY))
    assert_series(kpi["series"], expected, formula)
    if formula != "count(x) / count(x)":
        assert all(v is None for v in expected.values())


def test_the_data_has_the_edge_cases_the_tests_rely_on(events_project) -> None:
    _, duck, df = events_project
    labels = [p.label for p in periods("month", HISTORY)]
    assert labels[0] == "2025-08" and labels[-1] == "2026-10"
    month = df.with_columns(m=pl.col("ts").dt.strftime("%Y-%m"))
    assert month.filter(pl.col("m") == "2026-06").height == 0
    assert month.filter((pl.col("m") == "2026-04") & pl.col("x").is_not_null()).height == 0
    assert month.filter(pl.col("m") == "2026-04").height > 0
    assert duck.value("select count(*) from t where ts >= TIMESTAMP '2026-11-01'") > 0
    assert duck.value("select count(*) from t where y = 0") > 0
    assert duck.value("select count(*) from t where name = 'a.c'") > 0


def test_empty_periods_give_zero_counts_and_null_aggregates(events_project) -> None:
    """June 2026 and Aug-Sep 2025 have no rows: counts 0, every other aggregate null (also
    sum); April 2026 has rows but no x: count(x) 0, sum(x) null. Checked by hand."""
    kpis, _, _ = events_project
    by_formula = {
        kpis[_kpi_id("a", i)]["formula"]: kpis[_kpi_id("a", i)] for i in range(len(AGGREGATE_CASES))
    }

    def value(formula: str, label: str) -> float | None:
        [row] = [r for r in by_formula[formula]["series"] if r["period"] == label]
        return row["value"]

    for label in ("2025-08", "2025-09", "2026-06"):
        for formula in (
            "count(*)",
            "count(x)",
            "count(distinct cid)",
            "count(*) filter (where flag)",
        ):
            assert value(formula, label) == 0, (formula, label)
        for formula in (
            "sum(x)", "sum(y)", "avg(x)", "min(x)", "max(x)", "median(x)", "stddev(x)",
            "percentile(x, 0.9)", "share(flag)", "first(x)", "last(x)", "sum(y) / count(*)",
            "sum(round(q, 1))", "sum(greatest(x, y))",
        ):  # fmt: skip
            assert value(formula, label) is None, (formula, label)
        assert value("coalesce(sum(x) filter (where ch = 'none'), -1)", label) == -1
        assert value("7 / 2 + 0 * count(*)", label) == 3.5
    assert value("count(*)", "2026-04") > 0
    assert value("count(x)", "2026-04") == 0
    for formula in ("sum(x)", "avg(x)", "max(x)", "median(x)", "first(x)", "last(x)", "stddev(x)"):
        assert value(formula, "2026-04") is None, formula


def test_round_is_half_away_from_zero(tmp_path: Path) -> None:
    """By hand: exact binary halves, where half-to-even and half-away-from-zero differ."""
    values = [0.25, -0.25, 2.5, -2.5, 0.5, 1.5, -0.75, 0.125]
    df = pl.DataFrame(
        {"ts": [datetime(2026, 10, 1 + i, 12) for i in range(len(values))], "q": values},
        schema={"ts": pl.Datetime("us"), "q": pl.Float64},
    )
    kpis = [
        {"id": f"r{i}", "source": "ev", "formula": f, "filter": f"q = {v}"}
        for i, (f, v) in enumerate(
            (f, v) for v in values for f in (f"max(round(q, {1 if v * 10 % 1 else 0}))",)
        )
    ]
    # a tie at KPI level: 1.375 / 11 = 0.125 exactly -> 0.13 (half to even would give 0.12)
    kpis.append({"id": "r_two", "source": "ev", "formula": "round(sum(q) / 11, 2)"})
    write_project(
        tmp_path,
        {"s.yaml": spec("r", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": df},
        history=1,
    )
    got = {
        k: v["series"][0]["value"]
        for k, v in kpis_by_id(evaluate_doc(str(tmp_path), as_of=AS_OF)).items()
    }
    expected = [0.3, -0.3, 3.0, -3.0, 1.0, 2.0, -0.8, 0.1]
    # 0.125 rounded to 1 decimal is 0.1 (not a tie); 0.25 -> 0.3 and -0.75 -> -0.8 (ties)
    assert [got[f"r{i}"] for i in range(len(values))] == pytest.approx(expected, abs=1e-12)
    assert got["r_two"] == pytest.approx(0.13, abs=1e-12)


def test_round_with_a_negative_digits_argument(tmp_path: Path) -> None:
    """`-1` is unary minus applied to 1 (section 7.2), so `round(x, -1)` must either be
    rejected at validation (n is "a whole number literal") or round to tens; a crash is
    neither."""
    df = pl.DataFrame(
        {"ts": [datetime(2026, 10, 3, 12)], "q": [1234.5]},
        schema={"ts": pl.Datetime("us"), "q": pl.Float64},
    )
    kpis = [{"id": "r", "source": "ev", "formula": "sum(round(q, -1))"}]
    write_project(
        tmp_path,
        {"s.yaml": spec("r", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": df},
        history=1,
    )
    try:
        doc = evaluate_doc(str(tmp_path), as_of=AS_OF)
    except kpispec.SpecError:
        return  # rejected with a diagnostic: fine
    assert kpis_by_id(doc)["r"]["series"][0]["value"] == 1230.0


# --------------------------------------------------------------------------- windows, time: null


def customers_df(seed: int = 11, n: int = 400) -> pl.DataFrame:
    rng = random.Random(seed)
    signed = unique_times(rng, n, datetime(2025, 1, 1), datetime(2026, 11, 20))
    rows = []
    for s in signed:
        churned = None
        if rng.random() < 0.55:
            churned = s + timedelta(seconds=rng.randrange(3600, 3600 * 24 * 300))
        rows.append({"signed_up_at": s, "churned_at": churned, "plan": rng.choice(["a", "b"])})
    return pl.DataFrame(
        rows,
        schema={
            "signed_up_at": pl.Datetime("us"),
            "churned_at": pl.Datetime("us"),
            "plan": pl.String,
        },
    )


CHURN = (
    "100 * count(*) filter (where churned_at >= period_start and churned_at < period_end)"
    " / count(*) filter (where signed_up_at < period_start"
    " and (churned_at is null or churned_at >= period_start))"
)
CHURN_SQL = (
    "100 * count(*) filter (where churned_at >= $ps and churned_at < $pe)"
    " / nullif(count(*) filter (where signed_up_at < $ps"
    " and (churned_at is null or churned_at >= $ps)), 0)"
)
RETENTION = (
    "100 * count(*) filter (where signed_up_at < period_start"
    " and (churned_at is null or churned_at >= period_end))"
    " / count(*) filter (where signed_up_at < period_start"
    " and (churned_at is null or churned_at >= period_start))"
)
RETENTION_SQL = (
    "100 * count(*) filter (where signed_up_at < $ps and (churned_at is null or churned_at >= $pe))"
    " / nullif(count(*) filter (where signed_up_at < $ps"
    " and (churned_at is null or churned_at >= $ps)), 0)"
)

WINDOW_HISTORY = 15


@dataclass(frozen=True)
class Case:
    """A KPI and the SQL that recomputes it: `expr` over `table`, rows placed by `time`
    (None: every row) with `window`."""

    id: str
    kpi: dict[str, Any]
    expr: str
    grain: str = "month"
    table: str = "t"
    time: str | None = "ts"
    window: str = "period"
    where: str | None = None


WINDOW_CASES = [
    Case("all_count", {"formula": "count(*)", "window": "all"}, "count(*)", window="all"),
    Case("all_sum", {"formula": "sum(x)", "window": "all"}, "sum(x)", window="all"),
    Case(
        "all_distinct_week",
        {"formula": "count(distinct cid)", "window": "all", "grain": "week"},
        "count(distinct cid)",
        grain="week",
        window="all",
    ),
    Case(
        "m3_distinct",
        {"formula": "count(distinct cid)", "window": "3 months"},
        "count(distinct cid)",
        window="3 months",
    ),
    Case("m3_avg", {"formula": "avg(x)", "window": "3 months"}, "avg(x)", window="3 months"),
    Case(
        "m3_last",
        {"formula": "last(x)", "window": "3 months"},
        "arg_max(x, ts) filter (where x is not null)",
        window="3 months",
    ),
    Case(
        "m3_first",
        {"formula": "first(y)", "window": "3 months"},
        "arg_min(y, ts) filter (where y is not null)",
        window="3 months",
    ),
    Case(
        "m3_period_vars",
        {"formula": "count(*) filter (where ts >= period_start) / count(*)", "window": "3 months"},
        "(count(*) filter (where ts >= $ps))::double / nullif(count(*), 0)",
        window="3 months",
    ),
    Case("d7_count", {"formula": "count(*)", "window": "7 days"}, "count(*)", window="7 days"),
    Case(
        "d7_sum_week",
        {"formula": "sum(y)", "window": "7 days", "grain": "week"},
        "sum(y)",
        grain="week",
        window="7 days",
    ),
    Case(
        "d7_day",
        {"formula": "count(*) + 0 * period_days", "window": "7 days", "grain": "day"},
        "count(*)",
        grain="day",
        window="7 days",
    ),
    Case(
        "w2_distinct_week",
        {"formula": "count(distinct cid)", "window": "2 weeks", "grain": "week"},
        "count(distinct cid)",
        grain="week",
        window="2 weeks",
    ),
    Case(
        "d28_median_week",
        {"formula": "median(x)", "window": "28 days", "grain": "week"},
        "quantile_cont(x, 0.5)",
        grain="week",
        window="28 days",
    ),
    Case(
        "kpi_time_t2",
        {"formula": "count(*)", "time": "t2"},
        "count(*)",
        time="t2",
    ),
    Case(
        "kpi_time_t2_all",
        {"formula": "sum(x)", "time": "t2", "window": "all"},
        "sum(x)",
        time="t2",
        window="all",
    ),
    Case(
        "kpi_time_t2_last",
        {"formula": "last(x)", "time": "t2"},
        "arg_max(x, t2) filter (where x is not null)",
        time="t2",
    ),
    Case(
        "churn",
        {"source": "customers", "formula": CHURN, "time": None},
        CHURN_SQL,
        table="c",
        time=None,
    ),
    Case(
        "retention",
        {"source": "customers", "formula": RETENTION, "time": None},
        RETENTION_SQL,
        table="c",
        time=None,
    ),
    Case(
        "churn_window_ignored",
        {"source": "customers", "formula": CHURN, "time": None, "window": "3 months"},
        CHURN_SQL,
        table="c",
        time=None,
    ),
    Case(
        "churn_week",
        {"source": "customers", "formula": CHURN, "time": None, "grain": "week"},
        CHURN_SQL,
        grain="week",
        table="c",
        time=None,
    ),
    Case(
        "active_per_day",
        {
            "source": "customers_nt",
            "formula": "count(*) filter (where signed_up_at < period_end"
            " and (churned_at is null or churned_at >= period_end)) / period_days",
        },
        "(count(*) filter (where signed_up_at < $pe"
        " and (churned_at is null or churned_at >= $pe)))::double / $pd",
        table="c",
        time=None,
    ),
    Case(
        "source_time_null_all_rows",
        {"source": "customers_nt", "formula": "count(*)", "window": "7 days"},
        "count(*)",
        table="c",
        time=None,
    ),
    Case(
        "customers_signed_up",
        {"source": "customers", "formula": "count(*) filter (where plan = 'a')"},
        "count(*) filter (where plan = 'a')",
        table="c",
        time="signed_up_at",
    ),
]


@pytest.fixture(scope="module")
def window_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("windows")
    sources = [
        {"id": "ev", "path": "ev.parquet", "time": "ts"},
        {"id": "customers", "path": "customers.csv", "time": "signed_up_at"},
        {"id": "customers_nt", "path": "customers.parquet", "time": None},
    ]
    kpis = [{"id": c.id, "source": "ev", **c.kpi} for c in WINDOW_CASES]
    write_project(
        root,
        {"w.yaml": spec("windows", sources, kpis)},
        {"ev": events_df(), "customers": customers_df()},
        history=WINDOW_HISTORY,
        csv=["customers"],
    )
    doc = evaluate_doc(str(root), as_of=AS_OF)
    duck = Duck()
    duck.view("t", root / "ev.parquet")
    duck.view("c", root / "customers.parquet")
    return kpis_by_id(doc), duck


def check_case(
    kpis: dict[str, Any], duck: Duck, case: Case, history: int, as_of: str = AS_OF
) -> None:
    kpi = kpis[case.id]
    assert kpi["grain"] == case.grain
    expected = duck.series(
        case.expr,
        periods(case.grain, history, as_of),
        table=case.table,
        time=case.time,
        window=case.window,
        where=case.where,
    )
    assert_series(kpi["series"], expected, f"{case.id}: {kpi['formula']}")


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c.id for c in WINDOW_CASES])
def test_windows_and_time_null(window_project, case: Case) -> None:
    kpis, duck = window_project
    check_case(kpis, duck, case, WINDOW_HISTORY)


MONTH_WINDOW_CASES = [
    Case(
        "w_m1",
        {"formula": "count(*)", "grain": "week", "window": "1 months"},
        "count(*)",
        grain="week",
        window="1 months",
    ),
    Case(
        "d_m1",
        {"formula": "count(*)", "grain": "day", "window": "1 months"},
        "count(*)",
        grain="day",
        window="1 months",
    ),
    Case(
        "d_m2",
        {"formula": "sum(v)", "grain": "day", "window": "2 months"},
        "sum(v)",
        grain="day",
        window="2 months",
    ),
]


@pytest.mark.parametrize("case", MONTH_WINDOW_CASES, ids=[c.id for c in MONTH_WINDOW_CASES])
def test_month_windows_on_day_and_week_grains(tmp_path: Path, case: Case) -> None:
    """Section 8.2: `N months` reads [period_end - N calendar months, period_end). When
    that day does not exist (31 March - 1 month) the bound is taken as clamped to the month's
    end (2026-02-28), as SQL engines do; kpispec matches neither clamping nor overflow."""
    times = [datetime(2025, 12, 1) + timedelta(hours=6 * i) for i in range(4 * 360)]
    df = pl.DataFrame(
        {"ts": times, "v": [i % 7 for i in range(len(times))]},
        schema={"ts": pl.Datetime("us"), "v": pl.Int64},
    )
    history = 120 if case.grain == "day" else 40  # back to 2026-07-25 / 2026-W07
    write_project(
        tmp_path,
        {
            "s.yaml": spec(
                "m",
                [{"id": "ev", "path": "ev.parquet", "time": "ts"}],
                [{"id": case.id, "source": "ev", **case.kpi}],
            )
        },
        {"ev": df},
        history=history,
    )
    duck = Duck()
    duck.view("t", tmp_path / "ev.parquet")
    check_case(kpis_by_id(evaluate_doc(str(tmp_path), as_of=AS_OF)), duck, case, history)


# --------------------------------------------------------------------------- grains

GRAIN_HISTORY = 30


def grains_df(seed: int = 5, n: int = 4000) -> pl.DataFrame:
    rng = random.Random(seed)
    times = unique_times(rng, n, datetime(2023, 1, 1), datetime(2027, 1, 20))
    return pl.DataFrame(
        {
            "ts": times,
            "v": [None if rng.random() < 0.1 else rng.randrange(-50, 200) / 8 for _ in times],
            "cid": [rng.randrange(1, 300) for _ in times],
        },
        schema={"ts": pl.Datetime("us"), "v": pl.Float64, "cid": pl.Int64},
    )


GRAIN_FORMULAS = [
    ("count(*)", "count(*)"),
    ("sum(v)", "sum(v)"),
    ("avg(v)", "avg(v)"),
    ("count(distinct cid) / period_days", "count(distinct cid)::double / $pd"),
    ("last(v)", "arg_max(v, ts) filter (where v is not null)"),
    ("percentile(v, 0.9)", "quantile_cont(v, 0.9)"),
]
GRAIN_CASES = [
    Case(f"{grain}_{i}", {"formula": f, "grain": grain}, sql, grain=grain)
    for grain in ("day", "week", "quarter", "year")
    for i, (f, sql) in enumerate(GRAIN_FORMULAS)
]


@pytest.fixture(scope="module")
def grain_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("grains")
    kpis = [{"id": c.id, "source": "ev", **c.kpi} for c in GRAIN_CASES]
    write_project(
        root,
        {"g.yaml": spec("grains", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": grains_df()},
        history=GRAIN_HISTORY,
    )
    duck = Duck()
    duck.view("t", root / "ev.parquet")
    return {
        as_of: kpis_by_id(evaluate_doc(str(root), as_of=as_of)) for as_of in (AS_OF, "2027-01-12")
    }, duck


@pytest.mark.parametrize("as_of", [AS_OF, "2027-01-12"])
@pytest.mark.parametrize("case", GRAIN_CASES, ids=[c.id for c in GRAIN_CASES])
def test_grains(grain_project, case: Case, as_of: str) -> None:
    by_as_of, duck = grain_project
    check_case(by_as_of[as_of], duck, case, GRAIN_HISTORY, as_of)


def test_grain_labels_and_bounds(grain_project) -> None:
    """Labels written by hand (ISO weeks, quarters), and the start/end of each period."""
    by_as_of, _ = grain_project
    last = {
        (AS_OF, "day"): ("2026-11-21", "2026-11-21", "2026-11-22"),
        (AS_OF, "week"): ("2026-W46", "2026-11-09", "2026-11-16"),
        (AS_OF, "quarter"): ("2026-Q3", "2026-07-01", "2026-10-01"),
        (AS_OF, "year"): ("2025", "2025-01-01", "2026-01-01"),
        ("2027-01-12", "week"): ("2027-W01", "2027-01-04", "2027-01-11"),
        ("2027-01-12", "quarter"): ("2026-Q4", "2026-10-01", "2027-01-01"),
    }
    for (as_of, grain), (label, start, end) in last.items():
        series = by_as_of[as_of][f"{grain}_0"]["series"]
        assert len(series) == GRAIN_HISTORY
        assert (series[-1]["period"], series[-1]["start"], series[-1]["end"]) == (label, start, end)
    weeks = [r["period"] for r in by_as_of["2027-01-12"]["week_0"]["series"]]
    assert weeks[-3:] == ["2026-W52", "2026-W53", "2027-W01"]  # 2027-01-01 is in 2026-W53
    for as_of in (AS_OF, "2027-01-12"):
        for grain in ("day", "week", "quarter", "year"):
            series = by_as_of[as_of][f"{grain}_0"]["series"]
            for p, row in zip(periods(grain, GRAIN_HISTORY, as_of), series, strict=True):
                assert (row["period"], row["start"], row["end"]) == (
                    p.label,
                    p.start.date().isoformat(),
                    p.end.date().isoformat(),
                )


# --------------------------------------------------------------------------- dimensions


def member_where(dimension: str, member: Any) -> str:
    if member is None:
        return f"{dimension} is null"
    assert isinstance(member, str)
    return f"{dimension} = '{member.replace(chr(39), chr(39) * 2)}'"


def members_read(duck: Duck, case: Case, dimension: str, ps: list[Period]) -> set[Any]:
    """Members with at least one row read by some period of the history."""
    found: set[Any] = set()
    for p in ps:
        lo, hi = window_bounds(p, case.window)
        conds = ["true"]
        if case.time is not None:
            conds.append(f"{case.time} < {ts_literal(hi, duck.tz)}")
            if lo is not None:
                conds.append(f"{case.time} >= {ts_literal(lo, duck.tz)}")
        if case.where:
            conds.append(f"({case.where})")
        sql = f"select distinct {dimension} from {case.table} where " + " and ".join(conds)
        sql = sql.replace("$ps", ts_literal(p.start, duck.tz)).replace(
            "$pe", ts_literal(p.end, duck.tz)
        )
        found |= {row[0] for row in duck.con.execute(sql).fetchall()}
    return found


def check_breakdowns(kpi: dict[str, Any], duck: Duck, case: Case, ps: list[Period]) -> None:
    assert [b["dimension"] for b in kpi["breakdowns"]] == case.kpi["dimensions"]
    for dimension in case.kpi["dimensions"]:
        members = breakdown(kpi, dimension)
        missing = members_read(duck, case, dimension, ps) - set(members)
        assert not missing, f"{case.id}: members {missing} of {dimension} not shown"
        for member, series in members.items():
            where = member_where(dimension, member)
            if case.where:
                where = f"({case.where}) and {where}"
            expected = duck.series(
                case.expr, ps, table=case.table, time=case.time, window=case.window, where=where
            )
            assert_series(series, expected, f"{case.id} {dimension}={member!r}")


DIMENSION_CASES = [
    Case("count_by_ch", {"formula": "count(*)", "dimensions": ["ch"]}, "count(*)"),
    Case(
        "ratio_by_ch_dev",
        {"formula": "sum(x) / count(*)", "dimensions": ["ch", "dev"]},
        "sum(x) / nullif(count(*), 0)",
    ),
    Case(
        "share_by_dev_ch",
        {"formula": "100 * share(flag)", "dimensions": ["dev", "ch"]},
        "100 * " + share_sql("flag"),
    ),
    Case("median_by_dev", {"formula": "median(x)", "dimensions": ["dev"]}, "quantile_cont(x, 0.5)"),
    Case(
        "last_3m_by_ch",
        {"formula": "last(x)", "window": "3 months", "dimensions": ["ch"]},
        "arg_max(x, ts) filter (where x is not null)",
        window="3 months",
    ),
    Case(
        "distinct_all_by_ch_dev",
        {"formula": "count(distinct cid)", "window": "all", "dimensions": ["ch", "dev"]},
        "count(distinct cid)",
        window="all",
    ),
    Case(
        "flagged_by_name",  # '' and null are different members
        {"formula": "count(*) filter (where flag)", "dimensions": ["name"]},
        "count(*) filter (where flag)",
    ),
    Case(
        "weekly_by_ch",
        {"formula": "sum(y) - count(*)", "grain": "week", "dimensions": ["ch"]},
        "sum(y) - count(*)",
        grain="week",
    ),
]
DIMENSION_HISTORY = 15


@pytest.fixture(scope="module")
def dimension_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dimensions")
    kpis = [{"id": c.id, "source": "ev", **c.kpi} for c in DIMENSION_CASES]
    write_project(
        root,
        {"d.yaml": spec("dims", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": events_df(seed=3)},
        history=DIMENSION_HISTORY,
    )
    duck = Duck()
    duck.view("t", root / "ev.parquet")
    return kpis_by_id(evaluate_doc(str(root), as_of=AS_OF)), duck


@pytest.mark.parametrize("case", DIMENSION_CASES, ids=[c.id for c in DIMENSION_CASES])
def test_dimensions(dimension_project, case: Case) -> None:
    kpis, duck = dimension_project
    check_case(kpis, duck, case, DIMENSION_HISTORY)
    check_breakdowns(kpis[case.id], duck, case, periods(case.grain, DIMENSION_HISTORY))


def test_dimensions_include_a_null_and_an_empty_member(dimension_project) -> None:
    kpis, _ = dimension_project
    assert None in breakdown(kpis["count_by_ch"], "ch")
    names = breakdown(kpis["flagged_by_name"], "name")
    assert None in names and "" in names and "a.c" in names


# --------------------------------------------------------------------------- derived KPIs

DERIVED_HISTORY = 14


def shop_tables(seed: int = 21) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    start, end = datetime(2025, 9, 1), datetime(2026, 11, 21)
    orders = unique_times(rng, 700, start, end)
    sessions = unique_times(rng, 1500, start, end)
    days = [date(2025, 9, 1) + timedelta(days=i) for i in range((end - start).days)]
    ads_rows = [
        (d, c, None if rng.random() < 0.05 else rng.randrange(0, 3000) / 10)
        for d in days
        for c in ("search", "social", "tv")
        if rng.random() < 0.7 and not (c == "search" and (d.year, d.month) == (2026, 3))
    ]
    return {
        "orders": pl.DataFrame(
            {
                "ordered_at": orders,
                "amount": [
                    None if rng.random() < 0.05 else rng.randrange(100, 90000) / 100 for _ in orders
                ],
                "completed": [None if rng.random() < 0.05 else rng.random() < 0.8 for _ in orders],
                "channel": [rng.choice(["email", "search", "social", None]) for _ in orders],
                "country": [rng.choice(["NO", "DK", "SE"]) for _ in orders],
            },
            schema={
                "ordered_at": pl.Datetime("us"),
                "amount": pl.Float64,
                "completed": pl.Boolean,
                "channel": pl.String,
                "country": pl.String,
            },
        ),
        "sessions": pl.DataFrame(
            {
                "started_at": sessions,
                "channel": [
                    rng.choice(["email", "search", "social", "tv", None]) for _ in sessions
                ],
            },
            schema={"started_at": pl.Datetime("us"), "channel": pl.String},
        ),
        "ads": pl.DataFrame(
            ads_rows,
            schema={"day": pl.Date, "channel": pl.String, "spend": pl.Float64},
            orient="row",
        ),
    }


# the inputs: id -> Case (the SQL of each input KPI)
DERIVED_INPUTS = {
    "revenue": Case(
        "revenue",
        {
            "source": "orders",
            "formula": "sum(amount) filter (where completed)",
            "dimensions": ["channel", "country"],
        },
        "sum(amount) filter (where completed)",
        table="orders",
        time="ordered_at",
    ),
    "n_orders": Case(
        "n_orders",
        {
            "source": "orders",
            "formula": "count(*) filter (where completed)",
            "dimensions": ["channel", "country"],
        },
        "count(*) filter (where completed)",
        table="orders",
        time="ordered_at",
    ),
    "revenue_cum": Case(
        "revenue_cum",
        {
            "source": "orders",
            "formula": "sum(amount) filter (where completed)",
            "window": "all",
            "dimensions": ["channel"],
        },
        "sum(amount) filter (where completed)",
        table="orders",
        time="ordered_at",
        window="all",
    ),
    "n_sessions": Case(
        "n_sessions",
        {"source": "sessions", "formula": "count(*)", "dimensions": ["channel"]},
        "count(*)",
        table="sessions",
        time="started_at",
    ),
    "ad_spend": Case(
        "ad_spend",
        {"source": "ads", "formula": "sum(spend)", "dimensions": ["channel"]},
        "sum(spend)",
        table="ads",
        time="day",
    ),
}


def div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def mul(k: float, a: float | None) -> float | None:
    return None if a is None else k * a


# derived id -> (formula, its inputs, how to combine their values, dimensions it shares)
DERIVED = {
    "roas": ("revenue / ad_spend", ("revenue", "ad_spend"), div, ["channel"]),
    "aov": ("revenue / n_orders", ("revenue", "n_orders"), div, ["channel", "country"]),
    "rev_share": ("revenue / revenue_cum", ("revenue", "revenue_cum"), div, ["channel"]),
    "roas_pct": ("100 * roas", ("roas",), lambda r: mul(100, r), ["channel"]),
    "conversion": (
        "100 * n_orders / n_sessions",
        ("n_orders", "n_sessions"),
        lambda o, s: mul(100, div(o, s)),
        ["channel"],
    ),
}


@pytest.fixture(scope="module")
def derived_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("derived")
    shop_sources = [
        {"id": "orders", "path": "orders.parquet", "time": "ordered_at"},
        {"id": "sessions", "path": "sessions.csv", "time": "started_at"},
    ]
    shop_kpis = [{"id": c.id, **c.kpi} for k, c in DERIVED_INPUTS.items() if k != "ad_spend"]
    shop_kpis.append({"id": "aov", "formula": DERIVED["aov"][0]})
    marketing_kpis = [{"id": "ad_spend", **DERIVED_INPUTS["ad_spend"].kpi}] + [
        {"id": k, "formula": f} for k, (f, *_) in DERIVED.items() if k != "aov"
    ]
    tables = shop_tables()
    write_project(
        root,
        {
            "shop.yaml": spec("shop", shop_sources, shop_kpis),
            "marketing.yaml": spec(
                "marketing", [{"id": "ads", "path": "ads.parquet", "time": "day"}], marketing_kpis
            ),
        },
        tables,
        history=DERIVED_HISTORY,
        csv=["sessions"],
    )
    duck = Duck()
    for name in tables:
        duck.view(name, root / f"{name}.parquet")
    return kpis_by_id(evaluate_doc(str(root), as_of=AS_OF)), duck


def derived_expected(duck: Duck, kpi_id: str, ps: list[Period], where: str | None = None):
    """The derived KPI's series, from its inputs' SQL series (inputs may be derived)."""
    if kpi_id in DERIVED_INPUTS:
        c = DERIVED_INPUTS[kpi_id]
        return duck.series(c.expr, ps, table=c.table, time=c.time, window=c.window, where=where)
    _, inputs, combine, _ = DERIVED[kpi_id]
    values = [derived_expected(duck, i, ps, where) for i in inputs]
    return {p.label: combine(*(v[p.label] for v in values)) for p in ps}


@pytest.mark.parametrize("case", list(DERIVED_INPUTS.values()), ids=list(DERIVED_INPUTS))
def test_inputs_of_derived_kpis(derived_project, case: Case) -> None:
    kpis, duck = derived_project
    check_case(kpis, duck, case, DERIVED_HISTORY)
    check_breakdowns(kpis[case.id], duck, case, periods("month", DERIVED_HISTORY))


def _leaf_inputs(kpi_id: str) -> list[str]:
    if kpi_id in DERIVED_INPUTS:
        return [kpi_id]
    return [leaf for i in DERIVED[kpi_id][1] for leaf in _leaf_inputs(i)]


@pytest.mark.parametrize("kpi_id", list(DERIVED))
def test_derived_kpis(derived_project, kpi_id: str) -> None:
    kpis, duck = derived_project
    kpi = kpis[kpi_id]
    ps = periods("month", DERIVED_HISTORY)
    formula, _, _, dimensions = DERIVED[kpi_id]
    assert kpi["formula"] == formula
    assert_series(kpi["series"], derived_expected(duck, kpi_id, ps), formula)
    assert [b["dimension"] for b in kpi["breakdowns"]] == dimensions
    for dimension in dimensions:
        members = breakdown(kpi, dimension)
        for leaf in _leaf_inputs(kpi_id):
            missing = members_read(duck, DERIVED_INPUTS[leaf], dimension, ps) - set(members)
            # a member some inputs never have is left out only when it has no value at all
            # (e.g. the ROAS of a channel without ad spend)
            shown_empty = {
                m
                for m in missing
                if any(
                    v is not None
                    for v in derived_expected(duck, kpi_id, ps, member_where(dimension, m)).values()
                )
            }
            assert not shown_empty, f"{kpi_id}: members {shown_empty} of {dimension} not shown"
        for member, series in members.items():
            if (kpi_id, dimension, member) in MEMBERS_OF_ONE_INPUT:
                continue  # test_derived_member_that_one_count_input_never_reads
            where = member_where(dimension, member)
            expected = derived_expected(duck, kpi_id, ps, where)
            assert_series(series, expected, f"{formula} {dimension}={member!r}")


# (derived KPI, dimension, member) where one input, a count, has no row of the member
MEMBERS_OF_ONE_INPUT = {("conversion", "channel", "tv")}


@pytest.mark.parametrize(("kpi_id", "dimension", "member"), sorted(MEMBERS_OF_ONE_INPUT))
def test_derived_member_that_one_count_input_never_reads(
    derived_project, kpi_id: str, dimension: str, member: str
) -> None:
    """Section 7.8: a derived KPI is evaluated from its inputs' values, and section 7.7: over
    no rows a count is 0. No order ever has channel 'tv', sessions do: the 'tv' conversion
    is 100 * 0 / n_sessions = 0 in every period with 'tv' sessions."""
    kpis, duck = derived_project
    ps = periods("month", DERIVED_HISTORY)
    series = breakdown(kpis[kpi_id], dimension)[member]
    expected = derived_expected(duck, kpi_id, ps, member_where(dimension, member))
    assert any(v == 0 for v in expected.values())
    assert_series(series, expected, f"{kpi_id} {dimension}={member!r}")


def test_derived_data_has_members_that_only_one_input_reads(derived_project) -> None:
    _, duck = derived_project
    assert duck.value("select count(*) from sessions where channel = 'tv'") > 0
    assert duck.value("select count(*) from orders where channel = 'tv'") == 0
    assert duck.value("select count(*) from ads where channel = 'email'") == 0


# --------------------------------------------------------------------------- filters

FILTER_HISTORY = 12
SOURCE_FILTER = "not is_test and ch <> 'internal'"
SOURCE_FILTER_SQL = "not is_test and ch <> 'internal'"  # SQL's where drops null too


def filter_df(seed: int = 17, n: int = 900) -> pl.DataFrame:
    rng = random.Random(seed)
    times = unique_times(rng, n, datetime(2025, 11, 1), datetime(2026, 11, 21))
    return pl.DataFrame(
        {
            "ts": times,
            "amount": [None if rng.random() < 0.1 else rng.randrange(0, 5000) / 100 for _ in times],
            "is_test": [None if rng.random() < 0.1 else rng.random() < 0.2 for _ in times],
            "ch": [rng.choice(["email", "web", "internal", None]) for _ in times],
            "kind": [rng.choice(["a", "b", "c"]) for _ in times],
        },
        schema={
            "ts": pl.Datetime("us"),
            "amount": pl.Float64,
            "is_test": pl.Boolean,
            "ch": pl.String,
            "kind": pl.String,
        },
    )


FILTER_CASES = [
    Case("src_count", {"source": "f", "formula": "count(*)"}, "count(*)", where=SOURCE_FILTER_SQL),
    Case(
        "src_and_kpi_filter",
        {"source": "f", "formula": "sum(amount)", "filter": "amount > 10", "dimensions": ["ch"]},
        "sum(amount)",
        where=f"{SOURCE_FILTER_SQL} and amount > 10",
    ),
    Case(
        "kpi_filter_and_aggregate_filter",
        {
            "source": "f",
            "formula": "count(*) filter (where kind = 'a') / count(*)",
            "filter": "kind <> 'c' or amount is null",
        },
        "count(*) filter (where kind = 'a')::double / nullif(count(*), 0)",
        where=f"{SOURCE_FILTER_SQL} and (kind <> 'c' or amount is null)",
    ),
    Case(
        "unfiltered_source",
        {"source": "g", "formula": "count(*)", "filter": "not is_test", "dimensions": ["ch"]},
        "count(*)",
        where="not is_test",
    ),
]


@pytest.fixture(scope="module")
def filter_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("filters")
    sources = [
        {"id": "f", "path": "f.csv", "time": "ts", "filter": SOURCE_FILTER},
        {"id": "g", "path": "f.parquet", "time": "ts"},
    ]
    kpis = [{"id": c.id, **c.kpi} for c in FILTER_CASES]
    write_project(
        root,
        {"f.yaml": spec("filters", sources, kpis)},
        {"f": filter_df()},
        history=FILTER_HISTORY,
        csv=["f"],
    )
    duck = Duck()
    duck.view("t", root / "f.parquet")
    return kpis_by_id(evaluate_doc(str(root), as_of=AS_OF)), duck


@pytest.mark.parametrize("case", FILTER_CASES, ids=[c.id for c in FILTER_CASES])
def test_source_and_kpi_filters(filter_project, case: Case) -> None:
    kpis, duck = filter_project
    check_case(kpis, duck, case, FILTER_HISTORY)
    if "dimensions" in case.kpi:
        check_breakdowns(kpis[case.id], duck, case, periods("month", FILTER_HISTORY))


@pytest.mark.parametrize("where", ["kpi", "source"])
def test_period_variables_in_filter_keys(tmp_path: Path, where: str) -> None:
    """Section 7.1: the `filter:` keys are row level, where period variables are allowed
    (7.6: "may be used at both levels"). With window: all, `filter: ts >= period_start`
    reads the period's own rows only."""
    df = filter_df()
    kpi = {"id": "k", "source": "f", "formula": "count(*)", "window": "all", "dimensions": ["kind"]}
    source = {"id": "f", "path": "f.parquet", "time": "ts"}
    (kpi if where == "kpi" else source)["filter"] = "ts >= period_start and ts < period_end"
    write_project(tmp_path, {"f.yaml": spec("f", [source], [kpi])}, {"f": df}, history=6)
    case = Case("k", kpi, "count(*)", window="all", where="ts >= $ps and ts < $pe")
    duck = Duck()
    duck.view("t", tmp_path / "f.parquet")
    kpis = kpis_by_id(evaluate_doc(str(tmp_path), as_of=AS_OF))
    check_case(kpis, duck, case, 6)
    check_breakdowns(kpis["k"], duck, case, periods("month", 6))


def test_source_filter_drops_rows_where_it_is_null(filter_project) -> None:
    """Rows with is_test or ch null are dropped by the source filter (null is not true)."""
    kpis, duck = filter_project
    [oct_row] = [r for r in kpis["src_count"]["series"] if r["period"] == "2026-10"]
    in_october = "ts >= TIMESTAMP '2026-10-01' and ts < TIMESTAMP '2026-11-01'"
    kept_if_null_were_true = duck.value(
        f"select count(*) from t where {in_october} and coalesce(not is_test, true)"
        " and coalesce(ch <> 'internal', true)"
    )
    assert oct_row["value"] < kept_if_null_were_true
    assert oct_row["value"] == duck.value(
        f"select count(*) from t where {in_october} and {SOURCE_FILTER_SQL}"
    )
    assert None not in breakdown(kpis["src_and_kpi_filter"], "ch")  # ch <> 'internal' drops null


# --------------------------------------------------------------------------- time zones

OSLO = "Europe/Oslo"
OSLO_HISTORY = 60
LOCAL_TIMES = [
    (0, 0, 0), (0, 10, 0), (0, 59, 59), (1, 30, 0), (2, 30, 0), (3, 10, 0),
    (12, 0, 0), (22, 59, 59), (23, 0, 0), (23, 30, 0), (23, 59, 59),
]  # fmt: skip
UTC_TIMES = [(21, 30), (22, 0), (22, 30), (23, 0), (23, 30), (0, 0), (0, 30), (1, 0)]
# 02:00-03:00 local is missing or happens twice: in Oslo and in New York (the `ny` source)
DST_DAYS = {date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1)}


def oslo_tables(seed: int = 31) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    days = [date(2026, 2, 1) + timedelta(days=i) for i in range(300)]  # to 2026-11-27
    local, utc = [], []
    for d in days:
        for h, m, s in LOCAL_TIMES:
            if rng.random() < 0.5 and not (d in DST_DAYS and h == 2):
                local.append((datetime(d.year, d.month, d.day, h, m, s), rng.randrange(0, 100)))
        for h, m in UTC_TIMES:
            if rng.random() < 0.5:
                utc.append((datetime(d.year, d.month, d.day, h, m), rng.randrange(0, 100)))
    return {
        "local": pl.DataFrame(local, schema={"ts": pl.Datetime("us"), "v": pl.Int64}, orient="row"),
        "utc": pl.DataFrame(
            utc, schema={"utc_at": pl.Datetime("us"), "v": pl.Int64}, orient="row"
        ).with_columns(pl.col("utc_at").dt.replace_time_zone("UTC")),
    }


OSLO_CASES = [
    Case(
        "day_count",
        {"source": "local", "formula": "count(*)", "grain": "day"},
        "count(*)",
        grain="day",
    ),
    Case(
        "day_sum", {"source": "local", "formula": "sum(v)", "grain": "day"}, "sum(v)", grain="day"
    ),
    Case(
        "day_sum_7d",
        {"source": "local", "formula": "sum(v)", "grain": "day", "window": "7 days"},
        "sum(v)",
        grain="day",
        window="7 days",
    ),
    Case(
        "week_count",
        {"source": "local", "formula": "count(*)", "grain": "week"},
        "count(*)",
        grain="week",
    ),
    Case(
        "month_per_day",
        {"source": "local", "formula": "count(*) / period_days"},
        "count(*)::double / $pd",
    ),
    Case(
        "day_hours_since_start",
        {"source": "local", "formula": "max(date_diff('hour', period_start, ts))", "grain": "day"},
        "max(epoch(ts - $ps) / 3600)",
        grain="day",
    ),
    Case(
        "day_time_null",
        {
            "source": "local_nt",
            "formula": "count(*) filter (where ts >= period_start and ts < period_end)",
            "grain": "day",
        },
        "count(*) filter (where ts >= $ps and ts < $pe)",
        grain="day",
        time=None,
    ),
    Case(
        "utc_day_count",
        {"source": "utc", "formula": "count(*)", "grain": "day"},
        "count(*)",
        grain="day",
        table="utc",
        time="utc_at",
    ),
    Case(
        "utc_month_sum",
        {"source": "utc", "formula": "sum(v)"},
        "sum(v)",
        table="utc",
        time="utc_at",
    ),
    Case(
        "new_york_day_count",
        {"source": "ny", "formula": "count(*)", "grain": "day"},
        "count(*)",
        grain="day",
        table="ny",
    ),
]
OSLO_AS_OF = [AS_OF, "2026-04-06"]


@pytest.fixture(scope="module")
def oslo_project(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("oslo")
    sources = [
        {"id": "local", "path": "local.parquet", "time": "ts"},
        {"id": "local_nt", "path": "local.parquet", "time": None},
        {"id": "utc", "path": "utc.parquet", "time": "utc_at"},
        {"id": "ny", "path": "local.csv", "time": "ts", "timezone": "America/New_York"},
    ]
    kpis = [{"id": c.id, **c.kpi} for c in OSLO_CASES]
    write_project(
        root,
        {"tz.yaml": spec("tz", sources, kpis)},
        oslo_tables(),
        history=OSLO_HISTORY,
        timezone=OSLO,
        csv=["local"],
    )
    duck = Duck(tz=OSLO)
    duck.view("t", root / "local.parquet", ["ts"])
    duck.view("ny", root / "local.parquet", ["ts"], zone="America/New_York")
    duck.view("utc", root / "utc.parquet")
    docs = {as_of: kpis_by_id(evaluate_doc(str(root), as_of=as_of)) for as_of in OSLO_AS_OF}
    return docs, duck


@pytest.mark.parametrize("as_of", OSLO_AS_OF)
@pytest.mark.parametrize("case", OSLO_CASES, ids=[c.id for c in OSLO_CASES])
def test_europe_oslo_periods(oslo_project, case: Case, as_of: str) -> None:
    docs, duck = oslo_project
    check_case(docs[as_of], duck, case, OSLO_HISTORY, as_of)


def test_europe_oslo_edge_rows_by_hand(oslo_project) -> None:
    """A row at 2026-10-31T23:30:00Z is on 1 November in Oslo (section 8.1); local 23:59:59
    stays on its day; the DST days are 23 and 25 hours long."""
    docs, duck = oslo_project
    assert (
        duck.value("select count(*) from utc where utc_at = TIMESTAMPTZ '2026-10-31 23:30:00+00'")
        == 1
    )
    nov = {r["period"]: r["value"] for r in docs[AS_OF]["utc_day_count"]["series"]}
    # 2026-11-01 in Oslo (UTC+1) is [2026-10-31T23:00Z, 2026-11-01T23:00Z)
    want = duck.value(
        "select count(*) from utc where utc_at >= TIMESTAMPTZ '2026-10-31 23:00:00+00'"
        " and utc_at < TIMESTAMPTZ '2026-11-01 23:00:00+00'"
    )
    assert nov["2026-11-01"] == want
    hours = {r["period"]: r["value"] for r in docs[AS_OF]["day_hours_since_start"]["series"]}
    late = duck.value(
        "select count(*) from t where ts = timezone('Europe/Oslo', TIMESTAMP '2026-10-25 23:59:59')"
    )
    if late:
        assert hours["2026-10-25"] == pytest.approx(24 + 59 / 60 + 59 / 3600)


def test_naive_time_in_the_spring_forward_gap_is_still_counted(tmp_path: Path) -> None:
    """Section 5.4/8.1: naive timestamps are read in the project's zone and a row belongs to
    the period its time falls in. 2026-03-29 02:30 does not exist in Oslo (02:00 -> 03:00);
    the docs do not say how it resolves, but any resolution (01:30 or 03:30 local, or 02:30
    at either offset) falls on 29 March, so the day has two rows."""
    df = pl.DataFrame(
        {"ts": [datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 12)]},
        schema={"ts": pl.Datetime("us")},
    )
    kpis = [{"id": "n", "source": "ev", "formula": "count(*)", "grain": "day"}]
    write_project(
        tmp_path,
        {"s.yaml": spec("s", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], kpis)},
        {"ev": df},
        history=3,
        timezone=OSLO,
    )
    series = kpis_by_id(evaluate_doc(str(tmp_path), as_of="2026-03-30"))["n"]["series"]
    assert [(r["period"], r["value"]) for r in series] == [
        ("2026-03-27", 0),
        ("2026-03-28", 0),
        ("2026-03-29", 2),
    ]


# --------------------------------------------------------------------------- property test

HYPO_START = datetime(2026, 5, 1)
HYPO_HISTORY = 7  # 2026-04 .. 2026-10; rows from May to early November
HYPO_FORMULAS = [
    ("count(*) + count(a) + count(distinct cat)", "count(*) + count(a) + count(distinct cat)"),
    ("sum(a) / count(b)", "sum(a)::double / nullif(count(b), 0)"),
    ("avg(b) filter (where flag)", "avg(b) filter (where flag)"),
    ("100 * share(cat = 'a' or a > 3)", "100 * " + share_sql("cat = 'a' or a > 3")),
    ("median(b) - min(a)", "quantile_cont(b, 0.5) - min(a)"),
    ("stddev(a + b)", "stddev_samp(a + b)"),
    ("percentile(b, 0.9) + max(a)", "quantile_cont(b, 0.9) + max(a)"),
    (
        "last(b) - first(a)",
        "arg_max(b, ts) filter (where b is not null) - arg_min(a, ts) filter (where a is not null)",
    ),
    (
        "coalesce(sum(b) filter (where cat in ('a', 'b')), 0) / period_days",
        "coalesce(sum(b) filter (where cat in ('a', 'b')), 0) / $pd",
    ),
    (
        "sum(case when flag then a when not flag then -a else 0 end) / sum(greatest(a, b))",
        "sum(case when flag then a when not flag then -a else 0 end)"
        " / nullif(sum(greatest(a, b)), 0)",
    ),
    (
        "share(not flag) filter (where a between 0 and 10)",
        share_sql("not flag", "a between 0 and 10"),
    ),
]
HYPO_SCHEMA = {
    "ts": pl.Datetime("us"),
    "a": pl.Int64,
    "b": pl.Float64,
    "flag": pl.Boolean,
    "cat": pl.String,
}

hypo_rows = st.lists(
    st.fixed_dictionaries(
        {
            "ts": st.integers(0, 190 * 86400).map(lambda s: HYPO_START + timedelta(seconds=s)),
            "a": st.none() | st.integers(-5, 20),
            "b": st.none()
            | st.integers(-8000, 8000).map(lambda i: i / 8)
            | st.floats(-1000, 1000, allow_nan=False).map(lambda f: round(f, 3)),
            "flag": st.none() | st.booleans(),
            "cat": st.none() | st.sampled_from(["a", "b", "c"]),
        }
    ),
    max_size=40,
    unique_by=lambda row: row["ts"],
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=hypo_rows,
    case=st.sampled_from(HYPO_FORMULAS),
    window=st.sampled_from(["period", "period", "all", "2 months", "10 days"]),
)
def test_random_tables_agree_with_duckdb(
    rows: list[dict], case: tuple[str, str], window: str
) -> None:
    formula, sql = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        kpi = {
            "id": "k",
            "source": "ev",
            "formula": formula,
            "window": window,
            "dimensions": ["cat"],
        }
        write_project(
            root,
            {"s.yaml": spec("h", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], [kpi])},
            {"ev": pl.DataFrame(rows, schema=HYPO_SCHEMA)},
            history=HYPO_HISTORY,
        )
        duck = Duck()
        duck.view("t", root / "ev.parquet")
        kpis = kpis_by_id(evaluate_doc(str(root), as_of=AS_OF))
        check = Case("k", kpi, sql, window=window)
        check_case(kpis, duck, check, HYPO_HISTORY)
        check_breakdowns(kpis["k"], duck, check, periods("month", HYPO_HISTORY))
        duck.con.close()


# --------------------------------------------------------------------------- the command line


def test_cli_csv_output_agrees_with_duckdb(tmp_path: Path) -> None:
    """`kpispec eval --format csv` gives the same values (totals and breakdown rows)."""
    case = Case(
        "ratio",
        {"source": "ev", "formula": "sum(x) / count(*)", "dimensions": ["dev"]},
        "sum(x) / nullif(count(*), 0)",
    )
    write_project(
        tmp_path,
        {
            "c.yaml": spec(
                "cli", [{"id": "ev", "path": "ev.csv", "time": "ts"}], [{"id": "ratio", **case.kpi}]
            )
        },
        {"ev": events_df(seed=9, n=300)},
        history=6,
        csv=["ev"],
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kpispec",
            "eval",
            str(tmp_path),
            "--format",
            "csv",
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = list(csv_module.DictReader(io.StringIO(out)))
    duck = Duck()
    duck.view("t", tmp_path / "ev.parquet")
    ps = periods("month", 6)
    got: dict[tuple[str, str], dict[str, float | None]] = {}
    for row in rows:
        assert (row["scorecard"], row["kpi"]) == ("cli", "ratio")
        value = float(row["value"]) if row["value"] != "" else None
        got.setdefault((row["dimension"], row["member"]), {})[row["period"]] = value
    assert set(got) == {("", ""), ("dev", "desktop"), ("dev", "mobile"), ("dev", "tablet")}
    for (dimension, member), series in got.items():
        where = member_where(dimension, member) if dimension else None
        expected = duck.series(case.expr, ps, where=where)
        assert_series([{"period": k, "value": v} for k, v in series.items()], expected, member)
