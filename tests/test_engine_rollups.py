"""Totals, breakdowns and windows agree with DuckDB where roll-ups go wrong.

Each fixture writes a project whose data is built to hold the cases that break an engine
that aggregates per period bucket and member and then combines those partial results
into totals, coarser breakdowns, `window: all` and rolling windows:

- nulls everywhere: in measures, in dimension values (a null member), a member whose
  values are all null in one period, rows without a time value, KPI and aggregate
  filters that keep nothing in some periods or members;
- members absent from some periods, a member of one period only, a member whose rows
  all lie before the evaluated periods (cumulative and rolling windows still read them);
- windows across months without rows, rows exactly on window bounds;
- several dimension sets on one source, integer and null members;
- every decomposable aggregate beside count distinct and percentiles in one KPI set, sums
  of integers beyond 64 bits, and stddev of values near 1e9 with a spread below 1;
- derived KPIs over sources with different member sets and windows;
- all grains on one source in Europe/Oslo, with naive times in the daylight-saving gap,
  in the repeated hour and next to local midnight, and instants in UTC.

Every expected value is computed by DuckDB SQL written here from docs/language.md, over
the Parquet files kpispec reads: one grouped query per KPI and dimension, joining the rows
to a table of each period's window `[lo, hi)`. A period or member without rows takes the
value of the same SQL over no rows (counts 0, other aggregates null). KPI-level divisions
are written `a / nullif(b, 0)` since kpispec gives null on division by zero.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import evaluate_doc
from test_engine_vs_duckdb import (
    AS_OF,
    Duck,
    Period,
    breakdown,
    kpis_by_id,
    periods,
    share_sql,
    spec,
    ts_literal,
    unique_times,
    window_bounds,
    write_project,
)

import kpispec

#: every engine evaluates every case: Polars in process, DuckDB and Spark reading the
#: files, PostgreSQL with the files' rows in tables (`table:` sources)
ENGINES = ["polars", "duckdb", "spark", "postgres"]


def evaluated(request: pytest.FixtureRequest, root: Path, as_of: str) -> dict[str, Any]:
    """The project's KPIs by id, evaluated on the engine of the fixture's parameter."""
    engine = request.param
    if engine == "postgres":
        if not (root / ".moved").exists():
            request.getfixturevalue("warehouse").move(root)
            (root / ".moved").write_text("")
        engine = "polars"  # sources on a connection are aggregated in their database
    return kpis_by_id(evaluate_doc(str(root), as_of=as_of, engine=engine))


TOTAL = object()  # "the total" where a member is expected (None is the null member)
Series = dict[str, float | None]

# --------------------------------------------------------------------------- the reference


@dataclass(frozen=True)
class Kpi:
    """A KPI of a source and the DuckDB expression that recomputes it."""

    id: str
    formula: str
    sql: str
    source: str = "ev"
    window: str = "period"
    grain: str = "month"
    dims: tuple[str, ...] = ()
    filter: str | None = None  # the KPI's `filter:`, also valid SQL
    time: str | None = "ts"  # None: `time: null`
    rel: float = 1e-9

    def spec(self, source_time: str | None = "ts") -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "formula": self.formula,
            "grain": self.grain,
        }
        if self.window != "period":
            out["window"] = self.window
        if self.dims:
            out["dimensions"] = list(self.dims)
        if self.filter:
            out["filter"] = self.filter
        if self.time != source_time:
            out["time"] = self.time
        return out


@dataclass
class Table:
    """A source as DuckDB sees it: a view, its source filter, member expressions."""

    view: str
    where: str = "true"
    member_sql: dict[str, str] = field(default_factory=dict)  # dimension -> SQL text of it


class Reference:
    """Series of KPIs (total and per member) computed by DuckDB."""

    def __init__(self, duck: Duck, tables: dict[str, Table]) -> None:
        self.duck = duck
        self.tables = tables
        self._members: dict[tuple[Any, ...], set[Any]] = {}

    def _windows(self, ps: list[Period], window: str) -> str:
        kind = "TIMESTAMPTZ" if self.duck.tz else "TIMESTAMP"
        rows = []
        for p in ps:
            lo, hi = window_bounds(p, window)
            low = ts_literal(lo, self.duck.tz) if lo is not None else f"CAST(NULL AS {kind})"
            rows.append(f"('{p.label}', {low}, {ts_literal(hi, self.duck.tz)})")
        return "with __w(__label, __lo, __hi) as (values " + ", ".join(rows) + ")"

    def _join(self, k: Kpi, ps: list[Period]) -> str:
        table = self.tables[k.source]
        on = "true"  # time: null, every period reads every row
        if k.time is not None:
            on = f'"{k.time}" < __hi and (__lo is null or "{k.time}" >= __lo)'
        return f"{self._windows(ps, k.window)} select {{cols}} from __w join {table.view} on {on}"

    def empty(self, k: Kpi) -> float | None:
        """The KPI's SQL over no rows."""
        return self.duck.value(
            f"select ({k.sql})::double from {self.tables[k.source].view} where false"
        )

    def _grouped(self, k: Kpi, ps: list[Period], member: str | None) -> dict[Any, Series]:
        table = self.tables[k.source]
        cols = f"__label, {member or 'NULL'} as __member, ({k.sql})::double as __v"
        where = f"({table.where}) and ({k.filter or 'true'})"
        sql = self._join(k, ps).format(cols=cols) + f" where {where} group by all"
        out: dict[Any, Series] = {}
        for label, m, v in self.duck.con.execute(sql).fetchall():
            out.setdefault(m, {})[label] = v
        return out

    def total(self, k: Kpi, ps: list[Period]) -> Series:
        empty = self.empty(k)
        got = self._grouped(k, ps, None).get(None, {})
        return {p.label: got.get(p.label, empty) for p in ps}

    def members(self, k: Kpi, dim: str, ps: list[Period]) -> set[Any]:
        """Members of rows that some period of `ps` reads (after the source filter only:
        a KPI filter does not hide a member, it gives it the value over no rows)."""
        table = self.tables[k.source]
        key = (k.source, k.time, k.window, k.grain, dim, tuple(p.label for p in ps))
        if key not in self._members:
            member = table.member_sql.get(dim, dim)
            sql = self._join(k, ps).format(cols=f"distinct {member}") + f" where {table.where}"
            self._members[key] = {row[0] for row in self.duck.con.execute(sql).fetchall()}
        return self._members[key]

    def by_member(self, k: Kpi, dim: str, ps: list[Period]) -> dict[Any, Series]:
        """Each member's series, for every member read by some period of `ps`."""
        empty = self.empty(k)
        member = self.tables[k.source].member_sql.get(dim, dim)
        got = self._grouped(k, ps, member)
        return {
            m: {p.label: got.get(m, {}).get(p.label, empty) for p in ps}
            for m in self.members(k, dim, ps)
        }

    def member(self, k: Kpi, dim: str, m: Any, ps: list[Period]) -> Series:
        """One member's series (also for a member no period reads)."""
        empty = self.empty(k)
        got = self._grouped(k, ps, self.tables[k.source].member_sql.get(dim, dim)).get(m, {})
        return {p.label: got.get(p.label, empty) for p in ps}


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return False
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def compare(got: list[dict[str, Any]], want: Series, what: str, rel: float = 1e-9) -> None:
    values = {row["period"]: row["value"] for row in got}
    assert list(values) == list(want), f"{what}: periods differ: {list(values)} {list(want)}"
    bad = {
        label: (values[label], w) for label, w in want.items() if not close(values[label], w, rel)
    }
    assert not bad, f"{what}: (kpispec, duckdb) differ in {bad}"


def check_kpi(doc_kpi: dict[str, Any], ref: Reference, k: Kpi, ps: list[Period]) -> None:
    """The total and every member shown agree with DuckDB; every member read is shown."""
    assert doc_kpi["grain"] == k.grain
    compare(doc_kpi["series"], ref.total(k, ps), f"{k.id} ({k.formula}) total", k.rel)
    assert [b["dimension"] for b in doc_kpi["breakdowns"]] == list(k.dims)
    for dim in k.dims:
        shown = breakdown(doc_kpi, dim)
        want = ref.by_member(k, dim, ps)
        missing = set(want) - set(shown)
        assert not missing, f"{k.id}: members {missing} of {dim} are not shown"
        for m, series in shown.items():
            expected = want[m] if m in want else ref.member(k, dim, m, ps)
            compare(series, expected, f"{k.id} ({k.formula}) {dim}={m!r}", k.rel)


def check_members_exactly(
    doc_kpi: dict[str, Any], ref: Reference, k: Kpi, ps: list[Period]
) -> None:
    """The members shown are exactly those of the rows some period reads (used where the
    periods computed are the periods shown: monthly KPIs with a history of 13 or more)."""
    for dim in k.dims:
        shown = set(breakdown(doc_kpi, dim))
        want = ref.members(k, dim, ps)
        assert shown == want, (
            f"{k.id} {dim}: shown but read by no period: {shown - want}; "
            f"read but not shown: {want - shown}"
        )


# --------------------------------------------------------------------------- the main source

HISTORY = 15  # 2025-08 .. 2026-10 (as of 2026-11-22); the data starts in 2025-03
EMPTY_MONTHS = {(2025, 9), (2026, 5), (2026, 6)}
NAMES = ["abc", "Abc", "a", "", "zz", "Z", "\u00e9t\u00e9", "a b", None]
EV_SCHEMA = {
    "ts": pl.Datetime("us"),
    "t2": pl.Datetime("us"),
    "ch": pl.String,
    "dev": pl.String,
    "region": pl.String,
    "tier": pl.Int64,
    "n": pl.Int64,
    "x": pl.Float64,
    "big": pl.Int64,
    "m": pl.Float64,
    "name": pl.String,
    "d": pl.Date,
    "flag": pl.Boolean,
    "cid": pl.Int64,
    "amount": pl.Float64,
    "status": pl.String,
}


def _row(rng: random.Random, ts: datetime | None) -> dict[str, Any]:
    base = ts or datetime(2026, 1, 1)
    return {
        "ts": ts,
        "t2": None
        if rng.random() < 0.15
        else base + timedelta(minutes=rng.randrange(-9000, 90000)),
        "ch": rng.choice(["email", "email", "sms", "web", "web", None]),
        "dev": rng.choice(["mobile", "mobile", "desktop", "tablet"]),
        "region": rng.choice(["north", "south", "east", None]),
        "tier": rng.choice([1, 2, 3, 3, None]),
        "n": None if rng.random() < 0.15 else rng.randrange(0, 10),
        "x": None if rng.random() < 0.15 else round(rng.uniform(-20, 120), 2),
        "big": None if rng.random() < 0.1 else rng.randrange(2**61, 2**62),
        "m": None if rng.random() < 0.1 else 1e9 + rng.randrange(0, 2**20) / 2**20,
        "name": rng.choice(NAMES),
        "d": None if rng.random() < 0.2 else date(2024, 1, 1) + timedelta(days=rng.randrange(900)),
        "flag": None if rng.random() < 0.2 else rng.random() < 0.4,
        "cid": rng.randrange(1, 80),
        "amount": None if rng.random() < 0.1 else rng.randrange(100, 50000) / 100,
        "status": rng.choice(["paid", "paid", "refunded", "open", None]),
    }


def events_df(seed: int = 41, n: int = 2000) -> pl.DataFrame:
    """Rows from 2025-03-01 to 2026-11-21, none in 2025-09, 2026-05 and 2026-06.

    - member `old` of ch only from May to July 2025, before the evaluated periods;
    - member `once` of ch: one row, in February 2026; no tablet rows in Q1 2026;
    - ch = 'sms' has rows but only null n and x in March 2026; x is null in all of April;
    - rows on window bounds (7 and 30 days before 1 November, the first instants after
      the empty months) and rows without a time value (member `ghost` only there).
    """
    rng = random.Random(seed)
    times = unique_times(
        rng,
        n,
        datetime(2025, 3, 1),
        datetime(2026, 11, 21, 23),
        skip=lambda ts: (ts.year, ts.month) in EMPTY_MONTHS,
    )
    rows = []
    for ts in times:
        row = _row(rng, ts)
        ym = (ts.year, ts.month)
        if (2025, 5) <= ym <= (2025, 7) and rng.random() < 0.3:
            row["ch"] = "old"
        if (2026, 1) <= ym <= (2026, 3) and row["dev"] == "tablet":
            row["dev"] = "desktop"
        if ym == (2026, 3) and row["ch"] == "sms":
            row["n"] = row["x"] = None
        if ym == (2026, 4):
            row["x"] = None
        rows.append(row)
    once = _row(rng, datetime(2026, 2, 14, 12))
    once.update(ch="once", n=5, x=2.5, m=1e9 + 0.5, dev="mobile", tier=2, flag=True)
    rows.append(once)
    for ts in (
        datetime(2026, 10, 25),  # first instant of the 7 days before 1 November
        datetime(2026, 10, 24, 23, 59, 59, 999999),
        datetime(2026, 10, 2),  # first instant of the 30 days before 1 November
        datetime(2026, 10, 1, 23, 59, 59, 999999),
        datetime(2026, 7, 1),  # the first instant after two months without rows
        datetime(2025, 10, 1),
        datetime(2025, 8, 1),  # the start of the first evaluated period
        datetime(2025, 7, 31, 23, 59, 59, 999999),
    ):
        for _ in range(2):
            rows.append(_row(rng, ts))
    for i in range(6):  # no time value: in no period, except with `time: null`
        row = _row(rng, None)
        if i < 3:
            row["ch"] = "ghost"
        rows.append(row)
    return pl.DataFrame(rows, schema=EV_SCHEMA)


def _case(cond_then: list[tuple[str, int]], other: int) -> str:
    return "case " + " ".join(f"when {c} then {v}" for c, v in cond_then) + f" else {other} end"


# (suffix, formula, SQL, relative tolerance); the same text serves both where SQL allows
FORMULAS: list[tuple[str, str, str, float]] = [
    ("cnt", "count(*)", "count(*)", 1e-9),
    ("cntx", "count(x)", "count(x)", 1e-9),
    ("sumn", "sum(n)", "sum(n)", 1e-9),
    ("sumbig", "sum(big)", "sum(big)", 1e-9),  # beyond 2^63 from three rows on
    ("sumx", "sum(x)", "sum(x)", 1e-9),
    ("avgx", "avg(x)", "avg(x)", 1e-9),
    ("avgn", "avg(n)", "avg(n)", 1e-9),
    ("avgm", "avg(m)", "avg(m)", 1e-9),
    ("minx", "min(x)", "min(x)", 1e-9),
    ("maxn", "max(n)", "max(n)", 1e-9),
    ("flags", "sum(flag) + avg(flag)", "sum(flag::int) + avg(flag::int)", 1e-9),
    ("minmaxflag", "min(flag) - 2 * max(flag)", "min(flag)::int - 2 * max(flag)::int", 1e-9),
    ("dspan", "max(d) - min(d)", "date_diff('day', min(d), max(d))", 1e-9),
    (
        "dcmp",
        _case(
            [
                ("min(d) < min(d) filter (where flag)", 1),
                ("min(d) = min(d) filter (where flag)", 0),
            ],
            -1,
        ),
        _case(
            [
                ("min(d) < min(d) filter (where flag)", 1),
                ("min(d) = min(d) filter (where flag)", 0),
            ],
            -1,
        ),
        1e-9,
    ),
    (
        "tcmp",
        _case(
            [
                ("max(t2) > max(t2) filter (where dev = 'mobile')", 1),
                ("max(t2) = max(t2) filter (where dev = 'mobile')", 0),
            ],
            -1,
        ),
        _case(
            [
                ("max(t2) > max(t2) filter (where dev = 'mobile')", 1),
                ("max(t2) = max(t2) filter (where dev = 'mobile')", 0),
            ],
            -1,
        ),
        1e-9,
    ),
    (
        "namemin",
        _case([("min(name) = min(name) filter (where dev = 'mobile')", 1)], 0),
        _case([("min(name) = min(name) filter (where dev = 'mobile')", 1)], 0),
        1e-9,
    ),
    (
        "namemax",
        _case(
            [
                ("max(name) filter (where flag) > max(name) filter (where not flag)", 1),
                ("max(name) filter (where flag) < max(name) filter (where not flag)", -1),
            ],
            0,
        ),
        _case(
            [
                ("max(name) filter (where flag) > max(name) filter (where not flag)", 1),
                ("max(name) filter (where flag) < max(name) filter (where not flag)", -1),
            ],
            0,
        ),
        1e-9,
    ),
    ("share", "share(flag)", share_sql("flag"), 1e-9),
    ("sharex", "100 * share(x > 50)", "100 * " + share_sql("x > 50"), 1e-9),
    # values 1e9 + [0, 1): a sum-of-squares formula loses every digit here (its error is
    # about 1e-16 * 1e18 against a variance of 0.08); stable algorithms (DuckDB's, Polars')
    # are within about 1e-7 of the exact value over these 2,000 values, hence 1e-6
    ("sdm", "stddev(m)", "stddev_samp(m)", 1e-6),
    ("sdn", "stddev(n)", "stddev_samp(n)", 1e-9),
    (
        "aov",
        "sum(amount) filter (where status = 'paid') / count(*) filter (where status = 'paid')",
        "sum(amount) filter (where status = 'paid')"
        " / nullif(count(*) filter (where status = 'paid'), 0)",
        1e-9,
    ),
    (
        "refunds",
        "100 * count(*) filter (where status = 'refunded')"
        " / count(*) filter (where status in ('paid', 'refunded'))",
        "100 * count(*) filter (where status = 'refunded')"
        " / nullif(count(*) filter (where status in ('paid', 'refunded')), 0)",
        1e-9,
    ),
    ("never", "sum(x) filter (where n > 100)", "sum(x) filter (where n > 100)", 1e-9),
    (
        "nevercnt",
        "count(*) filter (where n > 100) + count(x) filter (where n > 100)",
        "count(*) filter (where n > 100) + count(x) filter (where n > 100)",
        1e-9,
    ),
    (
        "coal",
        "coalesce(sum(x) filter (where ch = 'sms'), 0)"
        " - coalesce(min(n) filter (where dev = 'tablet'), -1)",
        "coalesce(sum(x) filter (where ch = 'sms'), 0)"
        " - coalesce(min(n) filter (where dev = 'tablet'), -1)",
        1e-9,
    ),
    (
        "rowexpr",
        "sum(n * x) / sum(case when x is not null then n end)",
        "sum(n * x) / nullif(sum(case when x is not null then n end), 0)",
        1e-9,
    ),
    ("dist", "count(distinct cid)", "count(distinct cid)", 1e-9),
    ("p90", "percentile(x, 0.9)", "quantile_cont(x, 0.9)", 1e-9),
    (
        "mixed",
        "sum(x) / count(distinct cid) + median(n) - avg(n)",
        "sum(x) / nullif(count(distinct cid), 0) + quantile_cont(n, 0.5) - avg(n)",
        1e-9,
    ),
]
WINDOWS = ["period", "all", "3 months", "7 days", "30 days"]
DIMSETS: list[tuple[str, ...]] = [
    ("ch",),
    ("ch", "dev"),
    ("dev", "region", "tier"),
    (),
    ("tier", "ch"),
    ("region", "ch"),
]

EV_KPIS: list[Kpi] = [
    Kpi(
        f"{suffix}_{window.replace(' ', '')}",
        formula,
        sql,
        window=window,
        dims=DIMSETS[(i + j) % len(DIMSETS)],
        rel=rel,
    )
    for i, (suffix, formula, sql, rel) in enumerate(FORMULAS)
    for j, window in enumerate(WINDOWS)
]
# KPI filters that keep nothing in some periods or members, other time columns, time: null
EV_KPIS += [
    Kpi("kf_tablet", "sum(n) / count(*)", "sum(n) / nullif(count(*), 0)",
        filter="dev = 'tablet'", dims=("ch", "dev")),
    Kpi("kf_tablet_3m", "sum(n) / count(*) + 0 * stddev(x)",
        "sum(n) / nullif(count(*), 0) + 0 * stddev_samp(x)",
        filter="dev = 'tablet'", window="3 months", dims=("dev", "tier")),
    Kpi("kf_rare", "count(*) + count(n) + coalesce(avg(x), -1)",
        "count(*) + count(n) + coalesce(avg(x), -1)",
        filter="ch = 'email' and n >= 9", dims=("ch", "region")),
    Kpi("kf_rare_all", "count(*) + count(n) + coalesce(avg(x), -1)",
        "count(*) + count(n) + coalesce(avg(x), -1)",
        filter="ch = 'email' and n >= 9", window="all", dims=("ch", "region")),
    Kpi("kf_flag_7d", "avg(x) - min(n) + count(distinct cid)",
        "avg(x) - min(n) + count(distinct cid)", filter="flag", window="7 days", dims=("ch",)),
    Kpi("t2_3m", "sum(n) + count(*)", "sum(n) + count(*)", time="t2", window="3 months",
        dims=("dev", "ch")),
    Kpi("t2_all", "avg(x) + max(n)", "avg(x) + max(n)", time="t2", window="all", dims=("ch",)),
    Kpi("tnull_cnt", "count(*) + sum(n)", "count(*) + sum(n)", time=None, dims=("ch", "tier")),
    Kpi("tnull_untimed", "count(*) filter (where ts is null) + 0 * stddev(m)",
        "count(*) filter (where ts is null) + 0 * stddev_samp(m)", time=None, dims=("ch",)),
]  # fmt: skip
# a source filter on the same file: members it drops never appear
SOURCE_FILTER = "n is not null and ch <> 'sms'"
EV_KPIS += [
    Kpi(f"sf_{name}_{w.replace(' ', '')}", f, s, source="evf", window=w, dims=("ch", "tier"))
    for name, f, s in [
        ("cnt", "count(*) + sum(n)", "count(*) + sum(n)"),
        ("sd", "stddev(n) + avg(x)", "stddev_samp(n) + avg(x)"),
        ("dist", "count(distinct cid) + percentile(n, 0.25)",
         "count(distinct cid) + quantile_cont(n, 0.25)"),
    ]
    for w in ("period", "all", "3 months")
]  # fmt: skip


@pytest.fixture(scope="module", params=ENGINES)
def ev_project(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("rollups")
    sources = [
        {"id": "ev", "path": "ev.parquet", "time": "ts"},
        {"id": "evf", "path": "ev.parquet", "time": "ts", "filter": SOURCE_FILTER},
    ]
    write_project(
        root,
        {"r.yaml": spec("rollups", sources, [k.spec() for k in EV_KPIS])},
        {"ev": events_df()},
        history=HISTORY,
    )
    doc = evaluated(request, root, AS_OF)
    duck = Duck()
    duck.view("t", root / "ev.parquet")
    ints = {"tier": "CAST(tier AS VARCHAR)"}
    ref = Reference(
        duck, {"ev": Table("t", member_sql=ints), "evf": Table("t", SOURCE_FILTER, ints)}
    )
    return doc, ref


@pytest.mark.parametrize("k", EV_KPIS, ids=[k.id for k in EV_KPIS])
def test_totals_and_breakdowns(ev_project, k: Kpi) -> None:
    doc, ref = ev_project
    check_kpi(doc[k.id], ref, k, periods("month", HISTORY))


@pytest.mark.parametrize("k", [k for k in EV_KPIS if k.dims], ids=[k.id for k in EV_KPIS if k.dims])
def test_breakdown_members_are_those_read(ev_project, k: Kpi) -> None:
    """A member is shown when a period reads one of its rows: `old` with `window: all` and
    rolling windows that reach back to it, never `ghost` (rows without a time) unless
    `time: null`, and every member the KPI filter empties (with its value over no rows)."""
    doc, ref = ev_project
    check_members_exactly(doc[k.id], ref, k, periods("month", HISTORY))


def test_the_data_holds_the_cases(ev_project) -> None:
    doc, ref = ev_project
    con = ref.duck.con

    def one(sql: str) -> Any:
        return con.execute(sql).fetchone()[0]

    def month(y: int, m: int) -> str:
        nxt = date(y + m // 12, m % 12 + 1, 1)
        return f"ts >= TIMESTAMP '{date(y, m, 1)}' and ts < TIMESTAMP '{nxt}'"

    for y, m in EMPTY_MONTHS:
        assert one(f"select count(*) from t where {month(y, m)}") == 0
    assert one("select count(*) from t where ts < TIMESTAMP '2025-08-01'") > 100
    assert one("select max(ts) from t where ch = 'old'") < datetime(2025, 8, 1)
    assert one("select min(ts) from t where ch = 'old'") >= datetime(2025, 5, 1)
    assert one("select count(*) from t where ch = 'once'") == 1
    assert one("select count(*) from t where ch = 'ghost' and ts is not null") == 0
    assert one("select count(*) from t where ts is null") == 6
    assert one("select count(*) from t where ch is null and ts >= TIMESTAMP '2025-08-01'") > 50
    assert one(f"select count(*) from t where {month(2026, 2)} and dev = 'tablet'") == 0
    sms = f"{month(2026, 3)} and ch = 'sms'"
    assert one(f"select count(*) from t where {sms}") > 0
    assert one(f"select count(n) + count(x) from t where {sms}") == 0
    assert one(f"select count(*) from t where {month(2026, 4)}") > 0
    assert one(f"select count(x) from t where {month(2026, 4)}") == 0
    # a month's sum of `big` is beyond 64-bit integers
    assert one(f"select sum(big) from t where {month(2026, 10)}") > 2**63
    # stddev over one value: some member of some 7-day window has exactly one n
    k = next(k for k in EV_KPIS if k.id == "sdn_7days")
    counts = Kpi("c", "count(n)", "count(n)", window="7 days", dims=k.dims)
    ps = periods("month", HISTORY)
    ones = [
        (dim, m, label)
        for dim in k.dims
        for m, series in ref.by_member(counts, dim, ps).items()
        for label, v in series.items()
        if v == 1
    ]
    assert ones
    for dim, m, label in ones:
        series = {r["period"]: r["value"] for r in breakdown(doc[k.id], dim)[m]}
        assert series[label] is None, (dim, m, label)
    # `old` is read by the first rolling windows: the 3 months before September 2025
    assert "old" in ref.members(Kpi("c", "count(*)", "count(*)", window="3 months"), "ch", ps)
    assert "old" not in ref.members(Kpi("c", "count(*)", "count(*)"), "ch", ps)


def test_a_null_member_is_shown_and_counted_in_the_total(ev_project) -> None:
    """The rows whose ch is null are the member None, and the total counts them: the
    members' counts and sums add up to the total in every period (checked by hand here,
    beside the totals compared with DuckDB above)."""
    doc, _ = ev_project
    chosen = [k.id for k in EV_KPIS if k.formula in ("count(*)", "sum(n)") and "ch" in k.dims]
    assert len(chosen) >= 5
    for kpi_id in chosen:
        kpi = doc[kpi_id]
        members = breakdown(kpi, "ch")
        assert None in members, kpi_id
        assert any(r["value"] for r in members[None]), kpi_id
        for i, row in enumerate(kpi["series"]):
            parts = [s[i]["value"] for s in members.values() if s[i]["value"] is not None]
            want = sum(parts) if parts else (0 if kpi_id.startswith("cnt") else None)
            assert close(row["value"], want), (kpi_id, row["period"], row["value"], want)


def test_min_and_max_of_text_alone_are_not_a_number(tmp_path: Path) -> None:
    """Section 7.5 lets min/max read text but makes every KPI value a number: `min(name)`
    as the whole formula has no number to give. It must be refused with a diagnostic
    (at validation or evaluation), never turned into some number."""
    df = events_df(n=50)
    kpis = [
        {"id": "tmin", "source": "ev", "formula": "min(name)", "dimensions": ["ch"]},
        {"id": "tmax", "source": "ev", "formula": "max(name)", "window": "all"},
    ]
    for kpi in kpis:
        folder = tmp_path / kpi["id"]
        write_project(
            folder,
            {"s.yaml": spec("s", [{"id": "ev", "path": "ev.parquet", "time": "ts"}], [kpi])},
            {"ev": df},
            history=3,
        )
        with pytest.raises((kpispec.SpecError, kpispec.DataError)):
            evaluate_doc(str(folder), as_of=AS_OF)


# --------------------------------------------------------------------------- weeks and days

SHORT_HISTORY = 30
SHORT_AS_OF = [AS_OF, "2026-07-12"]


def short_df(seed: int = 43, n: int = 2500) -> pl.DataFrame:
    """Rows from 2025-11-01 to 2026-11-21; none in June 2026 nor 2026-08-10..08-23."""
    rng = random.Random(seed)

    def skip(ts: datetime) -> bool:
        return (ts.year, ts.month) == (2026, 6) or datetime(2026, 8, 10) <= ts < datetime(
            2026, 8, 24
        )

    times = unique_times(rng, n, datetime(2025, 11, 1), datetime(2026, 11, 21, 23), skip=skip)
    rows = [_row(rng, ts) for ts in times]
    for row in rows:
        if row["ts"] >= datetime(2026, 9, 1) and row["ch"] == "sms":
            row["ch"] = "web"  # sms stops at the end of August
        if datetime(2026, 7, 1) <= row["ts"] < datetime(2026, 7, 8):
            row["ch"] = "july"  # a member of one week only
    return pl.DataFrame(rows, schema=EV_SCHEMA)


SHORT_FORMULAS = [
    ("cnt", "count(*) + sum(n)", "count(*) + sum(n)", 1e-9),
    ("avg", "avg(x) + 0 * min(x)", "avg(x) + 0 * min(x)", 1e-9),
    ("minmax", "max(x) - min(n)", "max(x) - min(n)", 1e-9),
    ("sdm", "stddev(m)", "stddev_samp(m)", 1e-6),
    ("share", "100 * share(flag) + sum(big) / 1e18", "100 * " + share_sql("flag") + " + sum(big) / 1e18", 1e-9),
    ("ratio", "sum(amount) filter (where status = 'paid') / count(*) filter (where status <> 'open')",
     "sum(amount) filter (where status = 'paid') / nullif(count(*) filter (where status <> 'open'), 0)", 1e-9),
    ("exact", "count(distinct cid) + percentile(x, 0.5)", "count(distinct cid) + quantile_cont(x, 0.5)", 1e-9),
]  # fmt: skip
SHORT_WINDOWS = [
    ("week", "period"),
    ("week", "2 weeks"),
    ("week", "1 month"),
    ("week", "7 days"),
    ("week", "all"),
    ("day", "period"),
    ("day", "1 month"),
    ("day", "7 days"),
]
SHORT_KPIS = [
    Kpi(
        f"s{grain[0]}_{suffix}_{window.replace(' ', '')}",
        formula,
        sql,
        source="wk",
        grain=grain,
        window=window,
        dims=(("ch",), ("dev", "ch"), ())[(i + j) % 3],
        rel=rel,
    )
    for i, (suffix, formula, sql, rel) in enumerate(SHORT_FORMULAS)
    for j, (grain, window) in enumerate(SHORT_WINDOWS)
]


@pytest.fixture(scope="module", params=ENGINES)
def short_project(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("short")
    write_project(
        root,
        {
            "w.yaml": spec(
                "short",
                [{"id": "wk", "path": "wk.parquet", "time": "ts"}],
                [k.spec() for k in SHORT_KPIS],
                grain="week",
            )
        },
        {"wk": short_df()},
        history=SHORT_HISTORY,
    )
    docs = {a: evaluated(request, root, a) for a in SHORT_AS_OF}
    duck = Duck()
    duck.view("w", root / "wk.parquet")
    return docs, Reference(duck, {"wk": Table("w")})


@pytest.mark.parametrize("as_of", SHORT_AS_OF)
@pytest.mark.parametrize("k", SHORT_KPIS, ids=[k.id for k in SHORT_KPIS])
def test_weeks_and_days(short_project, k: Kpi, as_of: str) -> None:
    """Weekly and daily KPIs with rolling windows of days, weeks and a month, over weeks
    and a month without rows (as of 2026-07-12 the daily windows reach into June)."""
    docs, ref = short_project
    check_kpi(docs[as_of][k.id], ref, k, periods(k.grain, SHORT_HISTORY, as_of))


# --------------------------------------------------------------------------- derived KPIs

DERIVED_HISTORY = 14


def shop_tables(seed: int = 47) -> dict[str, pl.DataFrame]:
    """Orders by channel email/search/social/null, visits by email/search/tv/null: each
    source lacks a member of the other; no orders at all in 2026-02, no tv visits before
    2026-05 and no search orders after 2026-07."""
    rng = random.Random(seed)
    start, end = datetime(2025, 6, 1), datetime(2026, 11, 21)
    orders = unique_times(rng, 900, start, end, skip=lambda t: (t.year, t.month) == (2026, 2))
    visits = unique_times(rng, 1800, start, end)
    order_channels = []
    for t in orders:
        c = rng.choice(["email", "search", "social", None])
        order_channels.append("email" if c == "search" and t >= datetime(2026, 8, 1) else c)
    visit_channels = []
    for t in visits:
        c = rng.choice(["email", "search", "tv", None])
        visit_channels.append("search" if c == "tv" and t < datetime(2026, 5, 1) else c)
    return {
        "orders": pl.DataFrame(
            {
                "ordered_at": orders,
                "amount": [None if rng.random() < 0.1 else rng.randrange(100, 90000) / 100 for _ in orders],
                "completed": [None if rng.random() < 0.1 else rng.random() < 0.8 for _ in orders],
                "channel": order_channels,
            },
            schema={"ordered_at": pl.Datetime("us"), "amount": pl.Float64,
                    "completed": pl.Boolean, "channel": pl.String},
        ),
        "visits": pl.DataFrame(
            {"started_at": visits, "channel": visit_channels,
             "secs": [None if rng.random() < 0.1 else rng.randrange(1, 3000) for _ in visits]},
            schema={"started_at": pl.Datetime("us"), "channel": pl.String, "secs": pl.Int64},
        ),
    }  # fmt: skip


DERIVED_INPUTS = {
    "revenue": Kpi("revenue", "sum(amount) filter (where completed)",
                   "sum(amount) filter (where completed)", source="orders", time="ordered_at",
                   dims=("channel",)),
    "orders_3m": Kpi("orders_3m", "count(*) filter (where completed)",
                     "count(*) filter (where completed)", source="orders", time="ordered_at",
                     window="3 months", dims=("channel",)),
    "revenue_3m": Kpi("revenue_3m", "sum(amount) filter (where completed)",
                      "sum(amount) filter (where completed)", source="orders",
                      time="ordered_at", window="3 months", dims=("channel",)),
    "visits_3m": Kpi("visits_3m", "count(*)", "count(*)", source="visits", time="started_at",
                     window="3 months", dims=("channel",)),
    "visits_all": Kpi("visits_all", "count(*)", "count(*)", source="visits",
                      time="started_at", window="all", dims=("channel",)),
    "secs_30d": Kpi("secs_30d", "avg(secs)", "avg(secs)", source="visits", time="started_at",
                    window="30 days", dims=("channel",)),
}  # fmt: skip


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _mul(k: float, a: float | None) -> float | None:
    return None if a is None else k * a


DERIVED: dict[str, tuple[str, tuple[str, ...], Callable[..., float | None]]] = {
    "conv_3m": ("100 * orders_3m / visits_3m", ("orders_3m", "visits_3m"),
                lambda o, v: _mul(100, _div(o, v))),
    "aov_3m": ("revenue_3m / orders_3m", ("revenue_3m", "orders_3m"), _div),
    "rev_per_visit": ("revenue / visits_all", ("revenue", "visits_all"), _div),
    "rev_per_sec": ("revenue_3m / secs_30d", ("revenue_3m", "secs_30d"), _div),
    "orders_minus_visits": ("orders_3m - visits_3m + 0 * conv_3m",
                            ("orders_3m", "visits_3m", "conv_3m"),
                            lambda o, v, c: None if c is None else o - v),
}  # fmt: skip


@pytest.fixture(scope="module", params=ENGINES)
def derived_project(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("derived")
    tables = shop_tables()
    sources = [
        {"id": "orders", "path": "orders.parquet", "time": "ordered_at"},
        {"id": "visits", "path": "visits.parquet", "time": "started_at"},
    ]
    inputs = [k.spec(source_time=k.time) for k in DERIVED_INPUTS.values()]
    derived = [{"id": d, "formula": f} for d, (f, *_) in DERIVED.items()]
    write_project(
        root,
        {"shop.yaml": spec("shop", sources, inputs), "kpis.yaml": spec("ratios", [], derived)},
        tables,
        history=DERIVED_HISTORY,
    )
    duck = Duck()
    for name in tables:
        duck.view(name, root / f"{name}.parquet")
    ref = Reference(duck, {"orders": Table("orders"), "visits": Table("visits")})
    return evaluated(request, root, AS_OF), ref


def _derived_series(ref: Reference, kpi_id: str, ps: list[Period], member: Any = TOTAL) -> Series:
    """A KPI's series for the total or one member: an input from SQL (a member it never
    reads takes its value over no rows), a derived KPI from its inputs' series."""
    if kpi_id in DERIVED_INPUTS:
        k = DERIVED_INPUTS[kpi_id]
        return ref.total(k, ps) if member is TOTAL else ref.member(k, "channel", member, ps)
    _, inputs, combine = DERIVED[kpi_id]
    values = [_derived_series(ref, i, ps, member) for i in inputs]
    return {p.label: combine(*(v[p.label] for v in values)) for p in ps}


def _leaves(kpi_id: str) -> list[str]:
    if kpi_id in DERIVED_INPUTS:
        return [kpi_id]
    return [leaf for i in DERIVED[kpi_id][1] for leaf in _leaves(i)]


@pytest.mark.parametrize("kpi_id", list(DERIVED_INPUTS) + list(DERIVED))
def test_derived_kpis_over_different_member_sets(derived_project, kpi_id: str) -> None:
    """Section 7.8: a member one input never has takes that input's value over no rows
    (counts 0, sums null); a derived KPI's member with no value in any period is left out,
    every other member of an input is shown."""
    doc, ref = derived_project
    ps = periods("month", DERIVED_HISTORY)
    kpi = doc[kpi_id]
    compare(kpi["series"], _derived_series(ref, kpi_id, ps), f"{kpi_id} total")
    assert [b["dimension"] for b in kpi["breakdowns"]] == ["channel"]
    shown = breakdown(kpi, "channel")
    read = set().union(*(ref.members(DERIVED_INPUTS[i], "channel", ps) for i in _leaves(kpi_id)))
    expected = {m: _derived_series(ref, kpi_id, ps, m) for m in read}
    if kpi_id in DERIVED:
        expected = {m: s for m, s in expected.items() if any(v is not None for v in s.values())}
    assert set(shown) == set(expected), (kpi_id, set(shown), set(expected))
    for m, series in shown.items():
        compare(series, expected[m], f"{kpi_id} channel={m!r}")


def test_derived_data_has_members_of_one_side(derived_project) -> None:
    doc, ref = derived_project
    con = ref.duck.con
    assert con.execute("select count(*) from orders where channel = 'tv'").fetchone()[0] == 0
    assert con.execute("select count(*) from visits where channel = 'social'").fetchone()[0] == 0
    assert set(breakdown(doc["conv_3m"], "channel")) >= {"tv", None}
    assert "social" not in breakdown(doc["conv_3m"], "channel")  # orders / no visits: null
    tv = {r["period"]: r["value"] for r in breakdown(doc["conv_3m"], "channel")["tv"]}
    assert tv["2026-10"] == 0  # no tv order: 100 * 0 / visits


# --------------------------------------------------------------------------- grains in Oslo

OSLO = "Europe/Oslo"
OSLO_HISTORY = 30
OSLO_AS_OF = [AS_OF, "2026-04-06"]
DST_DAYS = [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)]
EDGE_TIMES = [(0, 0, 0), (0, 30, 0), (1, 59, 59), (2, 0, 0), (2, 30, 0), (2, 59, 59),
              (3, 0, 0), (23, 0, 0), (23, 59, 59)]  # fmt: skip


def oslo_tables(seed: int = 53) -> dict[str, pl.DataFrame]:
    """Naive local times from 2024-12-01 to 2026-11-21: a few a day at random, and on
    daylight-saving days and the first and last day of each month times next to midnight
    and in the hour that is skipped (March) or repeated (October)."""
    rng = random.Random(seed)
    times: list[datetime] = []
    day = date(2024, 12, 1)
    while day <= date(2026, 11, 21):
        for _ in range(rng.randrange(0, 5)):
            times.append(
                datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
            )
        edge = day in DST_DAYS or day.day == 1 or (day + timedelta(days=1)).day == 1
        if edge:
            times += [datetime(day.year, day.month, day.day, h, m, s) for h, m, s in EDGE_TIMES]
        day += timedelta(days=1)
    local = pl.DataFrame(
        {
            "ts": times,
            "v": [None if rng.random() < 0.1 else rng.randrange(-500, 5000) / 4 for _ in times],
            "cid": [rng.randrange(1, 200) for _ in times],
            "ch": [
                "dst" if t.date() in DST_DAYS else rng.choice(["a", "b", "c", None]) for t in times
            ],
            "dev": [rng.choice(["x", "y"]) for _ in times],
        },
        schema={"ts": pl.Datetime("us"), "v": pl.Float64, "cid": pl.Int64, "ch": pl.String,
                "dev": pl.String},
    )  # fmt: skip
    # instants in UTC, around local midnight (22:00-23:59 UTC is 23:00-01:59 in Oslo)
    instants = [
        datetime.combine(date(2026, 1, 1) + timedelta(days=i), datetime.min.time())
        + timedelta(hours=21, minutes=rng.randrange(0, 240))
        for i in range(330)
        for _ in range(2)
    ]
    aware = pl.DataFrame(
        {"at": instants, "v": [rng.randrange(0, 100) for _ in instants],
         "ch": [rng.choice(["a", "b", None]) for _ in instants]},
        schema={"at": pl.Datetime("us"), "v": pl.Int64, "ch": pl.String},
    ).with_columns(pl.col("at").dt.replace_time_zone("UTC"))  # fmt: skip
    return {"local": local, "aware": aware}


OSLO_FORMULAS = [
    ("cnt", "count(*)", "count(*)", 1e-9),
    ("sum", "sum(v) + 0 * avg(v)", "sum(v) + 0 * avg(v)", 1e-9),
    ("minmax", "max(v) - 2 * min(v)", "max(v) - 2 * min(v)", 1e-9),
    ("sd", "stddev(v)", "stddev_samp(v)", 1e-9),
    ("exact", "count(distinct cid) + percentile(v, 0.9)",
     "count(distinct cid) + quantile_cont(v, 0.9)", 1e-9),
]  # fmt: skip
OSLO_WINDOWS = [
    ("day", "period"),
    ("day", "7 days"),
    ("day", "1 month"),
    ("week", "period"),
    ("week", "all"),
    ("week", "1 month"),
    ("month", "period"),
    ("month", "7 days"),
    ("month", "3 months"),
    ("month", "all"),
    ("quarter", "period"),
    ("year", "period"),
]
OSLO_KPIS = [
    Kpi(
        f"o{grain[0]}_{suffix}_{window.replace(' ', '')}",
        formula,
        sql,
        source="local",
        grain=grain,
        window=window,
        dims=(("ch",), ("ch", "dev"))[(i + j) % 2],
        rel=rel,
    )
    for i, (suffix, formula, sql, rel) in enumerate(OSLO_FORMULAS)
    for j, (grain, window) in enumerate(OSLO_WINDOWS)
] + [
    Kpi(f"aw_{grain}_{window.replace(' ', '')}", "count(*) + sum(v)", "count(*) + sum(v)",
        source="aware", time="at", grain=grain, window=window, dims=("ch",))
    for grain, window in [("day", "period"), ("day", "7 days"), ("week", "period"),
                          ("month", "period"), ("month", "7 days")]
]  # fmt: skip


@pytest.fixture(scope="module", params=ENGINES)
def oslo_project(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("oslo")
    sources = [
        {"id": "local", "path": "local.parquet", "time": "ts"},
        {"id": "aware", "path": "aware.parquet", "time": "at"},
    ]
    write_project(
        root,
        {"o.yaml": spec("oslo", sources, [k.spec(source_time=k.time) for k in OSLO_KPIS])},
        oslo_tables(),
        history=OSLO_HISTORY,
        timezone=OSLO,
    )
    docs = {a: evaluated(request, root, a) for a in OSLO_AS_OF}
    # naive times are wall-clock times in Oslo; DuckDB reads a time in the skipped hour
    # as the same time an hour later and a repeated one as the later of the two, kpispec
    # as the earlier: the day (and every window bound, all at local midnight) is the same
    duck = Duck(tz=OSLO)
    duck.view("t", root / "local.parquet", ["ts"])
    duck.view("aw", root / "aware.parquet")
    return docs, Reference(duck, {"local": Table("t"), "aware": Table("aw")})


@pytest.mark.parametrize("as_of", OSLO_AS_OF)
@pytest.mark.parametrize("k", OSLO_KPIS, ids=[k.id for k in OSLO_KPIS])
def test_every_grain_in_oslo(oslo_project, k: Kpi, as_of: str) -> None:
    docs, ref = oslo_project
    check_kpi(docs[as_of][k.id], ref, k, periods(k.grain, OSLO_HISTORY, as_of))


def test_oslo_daylight_saving_days_by_hand(oslo_project) -> None:
    """The day counts of the DST days include every edge time written for them (the
    skipped hour's times too), and the 7 days before 1 November start at local midnight
    of 25 October (the DST day), not 168 hours earlier."""
    docs, ref = oslo_project
    con = ref.duck.con
    for as_of, day in ((AS_OF, "2026-10-25"), ("2026-04-06", "2026-03-29")):
        series = {r["period"]: r["value"] for r in docs[as_of]["od_cnt_period"]["series"]}
        dst = {
            r["period"]: r["value"] for r in breakdown(docs[as_of]["od_cnt_period"], "ch")["dst"]
        }
        want = con.execute(
            f"select count(*) from t where ts >= timezone('{OSLO}', TIMESTAMP '{day} 00:00')"
            f" and ts < timezone('{OSLO}', TIMESTAMP '{day} 00:00' + INTERVAL 1 DAY)"
        ).fetchone()[0]
        assert series[day] == want
        assert dst[day] >= len(EDGE_TIMES)  # every edge time of the day is on the day
    # the window [2026-10-25 00:00, 2026-11-01 00:00) local holds the 00:00 and 00:30 rows
    # of 25 October: a window of 168 hours would start at 01:00 local and miss them
    seven = {r["period"]: r["value"] for r in docs[AS_OF]["om_cnt_7days"]["series"]}
    want = con.execute(
        f"select count(*) from t where ts >= timezone('{OSLO}', TIMESTAMP '2026-10-25 00:00')"
        f" and ts < timezone('{OSLO}', TIMESTAMP '2026-11-01 00:00')"
    ).fetchone()[0]
    hours = con.execute(
        "select count(*) from t where ts >= TIMESTAMPTZ '2026-10-31 23:00:00+00'"
        " - INTERVAL 168 HOURS and ts < TIMESTAMPTZ '2026-10-31 23:00:00+00'"
    ).fetchone()[0]
    assert seven["2026-10"] == want and want > hours
