"""`sql:` sources end to end, on real databases: PostgreSQL, SQLite and DuckDB.

PostgreSQL is a real server that this module starts for the session (tests/pg.py; each
pytest-xdist worker starts its own). The same sessions-like rows go into each database:
time zone-aware and naive timestamps, a channel, a nullable boolean, a decimal amount
with NULLs, a nullable integer and a uuid, including rows on month boundaries that land in
another month when the time zone is handled wrongly. The expected values are computed
here from the rows themselves, and for PostgreSQL also by an SQL aggregate query run on
the same database, never by kpispec.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from helpers import evaluate_doc
from pg import PostgresServer, free_port, running_server

import kpispec

ROOT = Path(__file__).resolve().parents[1]
OSLO = ZoneInfo("Europe/Oslo")
AS_OF = "2026-11-22"  # month grain: the evaluated period is 2026-10
HISTORY = 5
PERIODS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]  # 2026-06 has no rows
PG_ENV = "KPISPEC_TEST_PG_URL"


# --------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class Row:
    id: int
    started_at: datetime  #: aware (UTC); a timestamptz column
    local_started: datetime  #: naive, wall-clock time in Europe/Oslo; a timestamp column
    channel: str | None
    converted: bool | None
    amount: Decimal | None  #: numeric(12, 2)
    pageviews: int | None
    visitor_id: UUID | None  #: a uuid column; visitors come back in other sessions


def make_rows() -> list[Row]:
    rng = random.Random(20261122)
    first = datetime(2026, 7, 1, tzinfo=OSLO).astimezone(UTC)
    span = int((datetime(2026, 11, 20, tzinfo=UTC) - first).total_seconds())
    visitors = random.Random(7)
    pool = [UUID(int=visitors.getrandbits(128)) for _ in range(45)]
    rows = []
    for i in range(1, 121):
        started = first + timedelta(seconds=rng.randrange(span))
        local = datetime(2026, 7, 1) + timedelta(seconds=rng.randrange(span))
        converted = rng.choices([True, False, None], [3, 6, 1])[0]
        amount = None
        if converted and rng.random() < 0.85:
            amount = Decimal(rng.randrange(100, 250_000)) / 100
        rows.append(
            Row(
                i,
                started,
                local,
                rng.choices(["email", "paid", "organic", None], [3, 3, 3, 1])[0],
                converted,
                amount,
                rng.choice([None, 1, 2, 3, 5, 8, 13]),
                visitors.choice([None, *pool]),
            )
        )

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(UTC)

    # Month boundaries: each row is in another month when read in UTC (or its naive time
    # is read as UTC) than in Europe/Oslo, which is where the periods are.
    edges = [
        (at("2026-06-30T22:30:00+00:00"), "2026-07-01 00:30:00"),  # July 1 in Oslo (CEST)
        (at("2026-07-31T22:15:00+00:00"), "2026-08-31 23:59:59"),  # August 1 in Oslo
        (at("2026-09-30T22:00:00+00:00"), "2026-10-01 00:00:00"),  # October 1, 00:00 sharp
        (at("2026-10-31T22:59:59+00:00"), "2026-10-31 23:30:00"),  # October 31, 23:59:59
        (at("2026-10-31T23:30:00+00:00"), "2026-09-30 23:30:00"),  # November 1 (CET)
    ]
    for n, (started, local) in enumerate(edges):
        rows.append(
            Row(
                1000 + n,
                started,
                datetime.fromisoformat(local),
                ["paid", "email", None, "paid", "organic"][n],
                [True, True, False, True, None][n],
                [Decimal("1000.01"), Decimal("0.10"), None, Decimal("2500.50"), Decimal("7")][n],
                [3, None, 1, 2, 4][n],
                pool[n],
            )
        )
    return rows


ROWS = make_rows()


def month_of_aware(row: Row) -> str:
    return row.started_at.astimezone(OSLO).strftime("%Y-%m")


def month_of_naive(row: Row) -> str:
    return row.local_started.strftime("%Y-%m")


def expected(rows: list[Row], month: Callable[[Row], str] = month_of_aware) -> dict[str, Any]:
    """Every KPI of SPEC, computed by hand from the rows: {kpi: {period: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for period in PERIODS:
        these = [r for r in rows if month(r) == period]
        amounts = [r.amount for r in these if r.amount is not None]
        known = [r.converted for r in these if r.converted is not None]
        views = [r.pageviews for r in these if r.pageviews is not None]
        paid = [r.amount for r in these if r.channel == "paid" and r.amount is not None]
        values = {
            "sessions": len(these),
            "conversion_rate": 100 * sum(known) / len(known) if known else None,
            "revenue": float(sum(amounts)) if amounts else None,
            "avg_amount": float(sum(amounts) / len(amounts)) if amounts else None,
            "amounts_known": len(amounts),
            "paid_revenue": float(sum(paid)) if paid else None,
            "median_amount": float(statistics.median(amounts)) if amounts else None,
            "avg_pageviews": sum(views) / len(views) if views else None,
            "revenue_per_session": float(sum(amounts)) / len(these) if amounts else None,
        }
        for kpi, value in values.items():
            out.setdefault(kpi, {})[period] = value
    return out


def expected_local_sessions(rows: list[Row]) -> dict[str, int]:
    return {p: sum(month_of_naive(r) == p for r in rows) for p in PERIODS}


def expected_visitors(rows: list[Row], month: Callable[[Row], str]) -> dict[str, int]:
    """count(distinct visitor_id) per period."""
    return {
        p: len({r.visitor_id for r in rows if month(r) == p and r.visitor_id is not None})
        for p in PERIODS
    }


def expected_by_channel(
    rows: list[Row], month: Callable[[Row], str] = month_of_aware
) -> dict[str | None, dict[str, float | None]]:
    """conversion_rate per channel (NULL is a member, as in SQL's GROUP BY)."""
    out: dict[str | None, dict[str, float | None]] = {}
    for channel in {r.channel for r in rows}:
        for period in PERIODS:
            known = [
                r.converted
                for r in rows
                if r.channel == channel and month(r) == period and r.converted is not None
            ]
            out.setdefault(channel, {})[period] = 100 * sum(known) / len(known) if known else None
    return out


def test_the_rows_cover_what_the_tests_claim() -> None:
    """The data really has what makes the tests bite: NULLs, edges, an empty month."""
    by_month = expected(ROWS)
    assert by_month["sessions"]["2026-06"] == 0
    assert all(by_month["sessions"][p] > 10 for p in PERIODS[1:])
    assert any(r.amount is None and r.converted for r in ROWS)
    assert any(r.converted is None for r in ROWS)
    assert any(r.channel is None for r in ROWS)
    assert any(r.pageviews is None for r in ROWS)
    assert any(r.visitor_id is None for r in ROWS)
    visitors = expected_visitors(ROWS, month_of_aware)
    assert all(0 < visitors[p] < by_month["sessions"][p] for p in PERIODS[1:])  # repeats
    utc_month = {p: sum(r.started_at.strftime("%Y-%m") == p for r in ROWS) for p in PERIODS}
    assert utc_month != by_month["sessions"]  # reading in UTC would give other numbers

    def naive_as_utc(row: Row) -> str:
        return row.local_started.replace(tzinfo=UTC).astimezone(OSLO).strftime("%Y-%m")

    wrong = {p: sum(naive_as_utc(r) == p for r in ROWS) for p in PERIODS}
    assert wrong != expected_local_sessions(ROWS)  # so would naive times read as UTC


# --------------------------------------------------------------------------- the project

PROJECT = """\
kpispec: 1
title: SQL sources
timezone: Europe/Oslo
history: {history}
connections:
  warehouse:
    url: "{url}"
"""

SPEC = """\
kpispec: 1
scorecard: {{id: web, title: Web, owner: growth, grain: month}}
sources:
  - id: sessions
    sql: {sql}
    connection: warehouse
    time: {time}
{columns}kpis:
  - id: sessions
    source: sessions
    formula: count(*)
    unit: count
  - id: conversion_rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    dimensions: [channel]
  - id: revenue
    source: sessions
    formula: sum(amount)
  - id: avg_amount
    source: sessions
    formula: avg(amount)
  - id: amounts_known
    source: sessions
    formula: count(amount)
  - id: paid_revenue
    source: sessions
    formula: sum(amount) filter (where channel = 'paid')
  - id: median_amount
    source: sessions
    formula: median(amount)
  - id: avg_pageviews
    source: sessions
    formula: avg(pageviews)
  - id: revenue_per_session
    formula: revenue / sessions
  - id: sessions_local
    source: sessions
    formula: count(*)
    time: local_started
"""

# SQLite has no timestamp, boolean or decimal types: the spec declares them.
SQLITE_COLUMNS = """\
    columns:
      started_at: datetime
      local_started: datetime
      converted: boolean
      amount: number
"""


def write_project(
    folder: Path,
    url: str,
    *,
    sql: str = "select * from sessions",
    columns: str = "",
    time: str = "started_at",
) -> Path:
    """A project whose scorecard has every KPI of SPEC on one `sql:` source."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpispec.yaml").write_text(PROJECT.format(history=HISTORY, url=url))
    (folder / "web.yaml").write_text(SPEC.format(sql=sql, columns=columns, time=time))
    return folder


def series(doc: dict[str, Any], kpi: str) -> dict[str, float | None]:
    (card,) = doc["scorecards"]
    (found,) = [k for k in card["kpis"] if k["id"] == kpi]
    return {entry["period"]: entry["value"] for entry in found["series"]}


def breakdown(doc: dict[str, Any], kpi: str, dimension: str) -> dict[Any, dict[str, Any]]:
    (card,) = doc["scorecards"]
    (found,) = [k for k in card["kpis"] if k["id"] == kpi]
    (dim,) = [d for d in found["breakdowns"] if d["dimension"] == dimension]
    return {m["member"]: {e["period"]: e["value"] for e in m["series"]} for m in dim["members"]}


def approx(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if v is None else pytest.approx(v, rel=1e-9, abs=1e-9) for k, v in values.items()}


def assert_all_kpis(doc: dict[str, Any], month: Callable[[Row], str] = month_of_aware) -> None:
    """Every KPI of SPEC, per period, as computed by hand (`month` places a row)."""
    want = expected(ROWS, month)
    assert [e["period"] for e in doc["scorecards"][0]["kpis"][0]["series"]] == PERIODS
    for kpi, by_period in want.items():
        assert series(doc, kpi) == approx(by_period), kpi
    assert series(doc, "sessions_local") == expected_local_sessions(ROWS)


def assert_channel_breakdown(
    doc: dict[str, Any], month: Callable[[Row], str] = month_of_aware
) -> None:
    want = expected_by_channel(ROWS, month)
    got = breakdown(doc, "conversion_rate", "channel")
    assert set(got) == set(want)
    for member, by_period in want.items():
        assert got[member] == approx(by_period), member


# --------------------------------------------------------------------------- PostgreSQL

PG_TABLE = """
create table sessions (
    id integer primary key,
    started_at timestamptz not null,
    local_started timestamp not null,
    channel text,
    converted boolean,
    amount numeric(12, 2),
    pageviews integer,
    visitor_id uuid
)
"""


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this process, with the rows in table `sessions`."""
    with running_server() as server:
        with server.connect() as conn:
            # Rows come back in the session's zone (+05:30), never the project's.
            conn.execute(f"alter database {server.dbname} set timezone to 'Asia/Kolkata'")
            conn.execute(PG_TABLE)
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into sessions values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            r.id,
                            r.started_at,
                            r.local_started,
                            r.channel,
                            r.converted,
                            r.amount,
                            r.pageviews,
                            r.visitor_id,
                        )
                        for r in ROWS
                    ],
                )
        yield server


@pytest.fixture
def pg_project(pg: PostgresServer, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(PG_ENV, pg.url)
    return write_project(tmp_path / "project", "${" + PG_ENV + "}")


def test_postgres_server_is_real(pg: PostgresServer) -> None:
    with pg.connect() as conn:
        version, user, zone = conn.execute(
            "select version(), current_user, current_setting('TimeZone')"
        ).fetchone()
        count = conn.execute("select count(*) from sessions").fetchone()[0]
    assert version.startswith("PostgreSQL ")
    assert user == pg.user
    assert zone == "Asia/Kolkata"
    assert count == len(ROWS)


def test_postgres_expected_values_agree_with_sql(pg: PostgresServer) -> None:
    """The hand-computed values are the ones PostgreSQL's own aggregates give."""
    query = """
        select to_char(started_at at time zone 'Europe/Oslo', 'YYYY-MM') as period,
               count(*),
               100.0 * avg(case when converted then 1 when not converted then 0 end),
               sum(amount), avg(amount), count(amount),
               sum(amount) filter (where channel = 'paid'),
               percentile_cont(0.5) within group (order by amount),
               avg(pageviews)
        from sessions group by 1
    """
    with pg.connect() as conn:
        rows = {r[0]: r[1:] for r in conn.execute(query).fetchall()}
        local = dict(
            conn.execute(
                "select to_char(local_started, 'YYYY-MM'), count(*) from sessions group by 1"
            ).fetchall()
        )
    names = [
        "sessions",
        "conversion_rate",
        "revenue",
        "avg_amount",
        "amounts_known",
        "paid_revenue",
        "median_amount",
        "avg_pageviews",
    ]
    want = expected(ROWS)
    for period in PERIODS:
        got = rows.get(period, (0, None, None, None, 0, None, None, None))
        for name, value in zip(names, got, strict=True):
            value = None if value is None else float(value)
            assert approx({period: want[name][period]}) == {period: value}, (name, period)
        assert local.get(period, 0) == expected_local_sessions(ROWS)[period]


def test_postgres_every_kpi(pg_project: Path) -> None:
    doc = evaluate_doc(pg_project, as_of=AS_OF)
    assert_all_kpis(doc)


def test_postgres_dimension_breakdown(pg_project: Path) -> None:
    doc = evaluate_doc(pg_project, as_of=AS_OF)
    assert_channel_breakdown(doc)


def test_postgres_url_from_parts(pg: PostgresServer, tmp_path: Path, monkeypatch) -> None:
    """User and password as separate ${ENV} references inside the URL (docs 5.3)."""
    monkeypatch.setenv("KPISPEC_TEST_PG_USER", pg.user)
    monkeypatch.setenv("KPISPEC_TEST_PG_PASSWORD", pg.password)
    url = (
        "postgresql://${KPISPEC_TEST_PG_USER}:${KPISPEC_TEST_PG_PASSWORD}"
        f"@{pg.host}:{pg.port}/{pg.dbname}"
    )
    folder = write_project(
        tmp_path / "project", url, sql="select * from sessions where channel = 'paid'"
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert series(doc, "sessions") == expected([r for r in ROWS if r.channel == "paid"])["sessions"]


# --------------------------------------------------------------------------- SQLite


def sqlite_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "create table sessions (id integer primary key, started_at text, "
            "local_started text, channel text, converted integer, amount real, pageviews integer, "
            "visitor_id text)"
        )
        conn.executemany(
            "insert into sessions values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.started_at.isoformat(),  # 2026-09-30T22:00:00+00:00
                    r.local_started.isoformat(sep=" "),  # 2026-10-01 00:00:00
                    r.channel,
                    None if r.converted is None else int(r.converted),
                    None if r.amount is None else float(r.amount),
                    r.pageviews,
                    None if r.visitor_id is None else str(r.visitor_id),
                )
                for r in ROWS
            ],
        )
    conn.close()
    return path


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    sqlite_file(folder / "data" / "sessions.db")
    return folder


# Text with a UTC offset, as SQLite stores aware timestamps, must be converted (docs 5.4).


def test_sqlite_every_kpi(sqlite_db: Path) -> None:
    folder = write_project(sqlite_db, "sqlite:///data/sessions.db", columns=SQLITE_COLUMNS)
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_all_kpis(doc)


def test_sqlite_offset_text_undeclared(sqlite_db: Path) -> None:
    """The same without `columns:`: a text time column is read as a timestamp anyway."""
    folder = write_project(
        sqlite_db,
        "sqlite:///data/sessions.db",
        sql="select id, started_at from sessions",
    )
    (folder / "web.yaml").write_text(
        (folder / "web.yaml").read_text().split("  - id: conversion_rate")[0]
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert series(doc, "sessions") == expected(ROWS)["sessions"]


# Naive text timestamps: the time column is `local_started`, read in the project's zone.
SQLITE_NAIVE_COLUMNS = SQLITE_COLUMNS.replace("started_at: datetime", "started_at: string", 1)


def test_sqlite_every_kpi_naive_time(sqlite_db: Path) -> None:
    folder = write_project(
        sqlite_db, "sqlite:///data/sessions.db", columns=SQLITE_NAIVE_COLUMNS, time="local_started"
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_all_kpis(doc, month_of_naive)


def test_sqlite_dimension_breakdown(sqlite_db: Path) -> None:
    folder = write_project(
        sqlite_db, "sqlite:///data/sessions.db", columns=SQLITE_NAIVE_COLUMNS, time="local_started"
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_channel_breakdown(doc, month_of_naive)


def test_sqlite_absolute_path(tmp_path: Path) -> None:
    db = sqlite_file(tmp_path / "elsewhere" / "sessions.db")
    assert db.is_absolute()
    folder = write_project(
        tmp_path / "project", f"sqlite:///{db}", columns=SQLITE_NAIVE_COLUMNS, time="local_started"
    )
    with pytest.raises(kpispec.SpecError) as refused:  # outside the project root
        evaluate_doc(folder, as_of=AS_OF)
    assert [d.code for d in refused.value.diagnostics] == ["E410"]
    doc = evaluate_doc(folder, as_of=AS_OF, allow_outside_root=True)
    assert series(doc, "sessions") == expected_local_sessions(ROWS)


# --------------------------------------------------------------------------- DuckDB


def duckdb_file(path: Path) -> Path:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    try:
        conn.execute("set TimeZone = 'America/New_York'")
        conn.execute(
            "create table sessions (id integer primary key, started_at timestamptz not null, "
            "local_started timestamp not null, channel varchar, converted boolean, "
            "amount decimal(12, 2), pageviews integer, visitor_id uuid)"
        )
        conn.executemany(
            "insert into sessions values (?, ?::timestamptz, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.started_at.isoformat(),
                    r.local_started,
                    r.channel,
                    r.converted,
                    r.amount,
                    r.pageviews,
                    None if r.visitor_id is None else str(r.visitor_id),
                )
                for r in ROWS
            ],
        )
    finally:
        conn.close()
    return path


@pytest.fixture
def duckdb_db(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    duckdb_file(folder / "data" / "sessions.duckdb")
    return folder


def test_duckdb_file_holds_the_rows(duckdb_db: Path) -> None:
    import duckdb

    conn = duckdb.connect(str(duckdb_db / "data" / "sessions.duckdb"), read_only=True)
    try:
        count, total = conn.execute("select count(*), sum(amount) from sessions").fetchone()
    finally:
        conn.close()
    assert count == len(ROWS)
    assert total == sum(r.amount for r in ROWS if r.amount is not None)


# DuckDB's Python client turns TIMESTAMPTZ values into datetimes only with pytz installed.


def test_duckdb_every_kpi(duckdb_db: Path) -> None:
    folder = write_project(duckdb_db, "duckdb:///data/sessions.duckdb")
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_all_kpis(doc)


def test_duckdb_dimension_breakdown(duckdb_db: Path) -> None:
    folder = write_project(duckdb_db, "duckdb:///data/sessions.duckdb")
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_channel_breakdown(doc)


# Without the TIMESTAMPTZ column: naive TIMESTAMP, DECIMAL, BOOLEAN and NULLs.
DUCKDB_NAIVE_SQL = "select id, local_started, channel, converted, amount, pageviews from sessions"


def test_duckdb_every_kpi_naive_time(duckdb_db: Path) -> None:
    folder = write_project(
        duckdb_db, "duckdb:///data/sessions.duckdb", sql=DUCKDB_NAIVE_SQL, time="local_started"
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_all_kpis(doc, month_of_naive)


def test_duckdb_dimension_breakdown_naive_time(duckdb_db: Path) -> None:
    folder = write_project(
        duckdb_db, "duckdb:///data/sessions.duckdb", sql=DUCKDB_NAIVE_SQL, time="local_started"
    )
    doc = evaluate_doc(folder, as_of=AS_OF)
    assert_channel_breakdown(doc, month_of_naive)


# --------------------------------------------------------------------------- uuid columns

VISITORS_SPEC = """\
kpispec: 1
scorecard: {{id: visits, grain: month}}
sources:
  - id: sessions
    sql: {sql}
    connection: warehouse
    time: {time}
kpis:
  - id: visitors
    source: sessions
    formula: count(distinct visitor_id)
    unit: count
"""


def write_visitors_project(folder: Path, url: str, sql: str, time: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpispec.yaml").write_text(PROJECT.format(history=HISTORY, url=url))
    (folder / "visits.yaml").write_text(VISITORS_SPEC.format(sql=sql, time=time))
    return folder


def visitors_of(project: Path) -> dict[str, Any]:
    return series(evaluate_doc(project, as_of=AS_OF), "visitors")


def test_postgres_count_distinct_uuid(pg: PostgresServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(PG_ENV, pg.url)
    folder = write_visitors_project(
        tmp_path / "project",
        "${" + PG_ENV + "}",
        "select started_at, visitor_id from sessions",
        "started_at",
    )
    assert visitors_of(folder) == expected_visitors(ROWS, month_of_aware)


def test_postgres_count_distinct_uuid_as_text(
    pg: PostgresServer, tmp_path: Path, monkeypatch
) -> None:
    """The workaround: cast to text in the query."""
    monkeypatch.setenv(PG_ENV, pg.url)
    folder = write_visitors_project(
        tmp_path / "project",
        "${" + PG_ENV + "}",
        "select started_at, visitor_id::text as visitor_id from sessions",
        "started_at",
    )
    assert visitors_of(folder) == expected_visitors(ROWS, month_of_aware)


def test_cli_postgres_count_distinct_uuid_no_traceback(pg: PostgresServer, tmp_path: Path) -> None:
    """Whether kpispec supports uuid or not, it must not crash with a traceback."""
    folder = write_visitors_project(
        tmp_path / "project",
        "${" + PG_ENV + "}",
        "select started_at, visitor_id from sessions",
        "started_at",
    )
    done = run_cli(folder, {PG_ENV: pg.url, "RUST_BACKTRACE": "0"})
    output = done.stdout + done.stderr
    assert done.returncode in (0, 3), output
    assert "Traceback" not in output
    assert "panicked" not in output


def test_sqlite_count_distinct_uuid_text(sqlite_db: Path) -> None:
    folder = write_visitors_project(
        sqlite_db,
        "sqlite:///data/sessions.db",
        "select local_started, visitor_id from sessions",
        "local_started",
    )
    assert visitors_of(folder) == expected_visitors(ROWS, month_of_naive)


def test_duckdb_count_distinct_uuid(duckdb_db: Path) -> None:
    folder = write_visitors_project(
        duckdb_db,
        "duckdb:///data/sessions.duckdb",
        "select local_started, visitor_id from sessions",
        "local_started",
    )
    assert visitors_of(folder) == expected_visitors(ROWS, month_of_naive)


# --------------------------------------------------------------------------- the CLI


def run_cli(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("KPISPEC_TEST_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", str(folder), "--as-of", AS_OF, *args],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_data_error(done: subprocess.CompletedProcess, *secrets: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 3, output
    assert "source `sessions`" in done.stderr, output
    assert "Traceback" not in output
    assert "internal error" not in output
    for secret in secrets:
        assert secret not in output
    return output


def test_cli_postgres_json_matches(pg: PostgresServer, tmp_path: Path) -> None:
    folder = write_project(tmp_path / "project", "${" + PG_ENV + "}")
    done = run_cli(folder, {PG_ENV: pg.url}, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert pg.password not in done.stdout + done.stderr
    assert_all_kpis(json.loads(done.stdout))


def test_cli_postgres_wrong_password(pg: PostgresServer, tmp_path: Path) -> None:
    wrong = "wrong-" + pg.password[::-1]
    folder = write_project(tmp_path / "project", "${" + PG_ENV + "}")
    done = run_cli(folder, {PG_ENV: pg.url_with(password=wrong)})
    output = assert_clean_data_error(done, wrong, pg.password)
    assert "connection `warehouse`" in output
    assert "password authentication failed" in output


def test_cli_postgres_password_in_its_own_variable(pg: PostgresServer, tmp_path: Path) -> None:
    wrong = "Wr0ng-Secret-" + pg.password[-6:]
    url = "postgresql://" + pg.user + ":${KPISPEC_TEST_PW}@" + f"{pg.host}:{pg.port}/{pg.dbname}"
    folder = write_project(tmp_path / "project", url)
    done = run_cli(folder, {"KPISPEC_TEST_PW": wrong})
    assert_clean_data_error(done, wrong, pg.password)


def test_cli_postgres_server_down(pg: PostgresServer, tmp_path: Path) -> None:
    folder = write_project(tmp_path / "project", "${" + PG_ENV + "}")
    url = pg.url.replace(f":{pg.port}/", f":{free_port()}/")
    done = run_cli(folder, {PG_ENV: url})
    assert_clean_data_error(done, pg.password)


def test_cli_postgres_query_error(pg: PostgresServer, tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "project", "${" + PG_ENV + "}", sql="select * from no_such_table"
    )
    done = run_cli(folder, {PG_ENV: pg.url})
    output = assert_clean_data_error(done, pg.password)
    assert "no_such_table" in output
    assert "D107" in output


def test_cli_unset_environment_variable(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "project", "${" + PG_ENV + "}")
    done = run_cli(folder, {})
    output = assert_clean_data_error(done)
    assert PG_ENV in output
    assert "D108" in output


def test_cli_missing_sqlite_file(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "project", "sqlite:///data/missing.db", columns=SQLITE_COLUMNS
    )
    done = run_cli(folder, {})
    output = assert_clean_data_error(done)
    assert "missing.db" in output


def test_cli_duckdb_query_error(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    duckdb_file(folder / "data" / "sessions.duckdb")
    write_project(folder, "duckdb:///data/sessions.duckdb", sql="select * from sesions")
    done = run_cli(folder, {})
    output = assert_clean_data_error(done)
    assert "sesions" in output


@pytest.mark.parametrize(
    "separator",
    [
        "%",
        " ",
        "@",
        "#",
        ":",
        "/",
    ],
)
def test_cli_postgres_odd_password_never_printed(
    pg: PostgresServer, tmp_path: Path, separator: str
) -> None:
    """A password with URL characters in it: rejected or not, it is never printed."""
    tail = os.urandom(6).hex()
    password = "Pw" + separator + "zz" + tail  # "%zz": not a valid percent-escape
    url = "postgresql://" + pg.user + ":${KPISPEC_TEST_PW}@" + f"{pg.host}:{pg.port}/{pg.dbname}"
    folder = write_project(tmp_path / "project", url)
    done = run_cli(folder, {"KPISPEC_TEST_PW": password})
    assert_clean_data_error(done, password, tail, pg.password)
