"""Right on real data: New York time, date-only values, and test rows typed like the source.

The flights are a real public data set (nycflights13, tests/fixtures/nycflights13/). Every
expected number is counted here by hand from the data set's own local columns (year,
month, day in New York time) with the csv module, never by kpispec.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import evaluate_doc, line_of, write_files

FLIGHTS = Path(__file__).resolve().parent / "fixtures" / "nycflights13" / "flights_ewr_ua.csv"
ZONE = "America/New_York"
#: the three blocks of days in the extract: (last day, days in the block)
BLOCKS = [date(2013, 3, 2), date(2013, 3, 11), date(2013, 11, 4)]


def _flights() -> list[dict[str, str]]:
    with FLIGHTS.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _local_day(row: dict[str, str]) -> str:
    return f"{int(row['year']):04d}-{int(row['month']):02d}-{int(row['day']):02d}"


def _by_hand() -> Counter[str]:
    """Flights per New York day, from the data set's own local date columns."""
    return Counter(_local_day(row) for row in _flights())


def _records() -> list[dict[str, object]]:
    """Each flight with a date-only `date` and a naive local `local` (both New York time)."""
    out: list[dict[str, object]] = []
    for row in _flights():
        day = _local_day(row)
        local = f"{day} {int(row['hour']):02d}:{int(row['minute']):02d}:00"
        out.append({"date": day, "local": local, "time_hour": row["time_hour"]})
    return out


def _project(tmp: Path, fmt: str, time: str) -> Path:
    records = _records()
    data: str | bytes
    if fmt == "csv":
        lines = ["date,local,time_hour"] + [
            f"{r['date']},{r['local']},{r['time_hour']}" for r in records
        ]
        data = "\n".join(lines) + "\n"
    elif fmt == "ndjson":
        data = "".join(json.dumps(r) + "\n" for r in records)
    else:
        data = json.dumps(records)
    return write_files(
        tmp,
        {
            "kpispec.yaml": f"kpispec: 1\ntimezone: {ZONE}\nhistory: 3\n",
            f"data/flights.{fmt}": data,
            "flights.yaml": (
                "kpispec: 1\n"
                "scorecard: {id: flights, title: Flights, grain: day}\n"
                "sources:\n"
                f"  - {{id: flights, path: data/flights.{fmt}, time: {time}}}\n"
                "kpis:\n"
                "  - {id: departures, source: flights, formula: count(*)}\n"
            ),
        },
    )


def _daily(root: Path) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for last in BLOCKS:
        doc = evaluate_doc(root, period=last.isoformat())
        (kpi,) = doc["scorecards"][0]["kpis"]
        out.update({p["period"]: p["value"] for p in kpi["series"]})
    return out


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
@pytest.mark.parametrize("time", ["date", "local", "time_hour"])
def test_flights_per_new_york_day(tmp_path: Path, fmt: str, time: str) -> None:
    """Date-only, naive local and UTC-instant times all put a flight on its New York day
    (the DST days 2013-03-10 and 2013-11-03 included), in every text format."""
    expected = _by_hand()
    assert len(expected) == 9 and sum(expected.values()) == 1087
    assert _daily(_project(tmp_path, fmt, time)) == {d: float(n) for d, n in expected.items()}


def test_date_only_text_is_local_midnight_not_utc(tmp_path: Path) -> None:
    """`2013-03-01` in New York is 05:00 UTC that day: never the day before."""
    root = write_files(
        tmp_path,
        {
            "kpispec.yaml": f"kpispec: 1\ntimezone: {ZONE}\nhistory: 3\n",
            "data/f.ndjson": '{"d": "2013-03-01"}\n{"d": "2013-03-01"}\n{"d": "2013-03-02"}\n',
            "f.yaml": (
                "kpispec: 1\nscorecard: {id: f, grain: day}\n"
                "sources: [{id: f, path: data/f.ndjson, time: d}]\n"
                "kpis: [{id: n, source: f, formula: count(*)}]\n"
            ),
        },
    )
    doc = evaluate_doc(root, period="2013-03-02")
    series = {p["period"]: p["value"] for p in doc["scorecards"][0]["kpis"][0]["series"]}
    assert series == {"2013-02-28": 0.0, "2013-03-01": 2.0, "2013-03-02": 1.0}


#: Rows around the clock changes, each written naive (New York time) or as an instant,
#: with the New York day it belongs to, worked out by hand.
DST_ROWS = [
    ("2013-03-09 23:59:59", "2013-03-09"),
    ("2013-03-10T04:59:59Z", "2013-03-09"),  # 23:59:59 EST
    ("2013-03-10", "2013-03-10"),
    ("2013-03-10T05:00:00Z", "2013-03-10"),  # 00:00 EST
    ("2013-03-10 01:59:00", "2013-03-10"),
    ("2013-03-10 02:30:00", "2013-03-10"),  # does not exist: 03:30 EDT
    ("2013-03-10 23:59:59", "2013-03-10"),
    ("2013-03-11T03:59:59Z", "2013-03-10"),  # 23:59:59 EDT
    ("2013-03-11T04:00:00Z", "2013-03-11"),
    ("2013-03-11T00:00:00-04:00", "2013-03-11"),
    ("2013-11-03", "2013-11-03"),
    ("2013-11-03T04:00:00Z", "2013-11-03"),  # 00:00 EDT
    ("2013-11-03T03:59:59Z", "2013-11-02"),  # 23:59:59 EDT on the 2nd
    ("2013-11-03 01:30:00", "2013-11-03"),  # happens twice
    ("2013-11-03T06:30:00Z", "2013-11-03"),  # the second 01:30 (EST)
    ("2013-11-03 23:59:59", "2013-11-03"),
    ("2013-11-04T04:59:59Z", "2013-11-03"),  # 23:59:59 EST
    ("2013-11-04T05:00:00+0000", "2013-11-04"),
    ("2013-11-04", "2013-11-04"),
]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_rows_around_the_clock_changes(tmp_path: Path, fmt: str) -> None:
    """One column mixing naive times, dates and instants: each value by its own form."""
    records = [{"at": at} for at, _ in DST_ROWS]
    data = {
        "csv": "at\n" + "".join(f"{r['at']}\n" for r in records),
        "ndjson": "".join(json.dumps(r) + "\n" for r in records),
        "json": json.dumps(records),
    }[fmt]
    root = write_files(
        tmp_path,
        {
            "kpispec.yaml": f"kpispec: 1\ntimezone: {ZONE}\nhistory: 3\n",
            f"data/t.{fmt}": data,
            "t.yaml": (
                "kpispec: 1\nscorecard: {id: t, grain: day}\n"
                f"sources: [{{id: t, path: data/t.{fmt}, time: at}}]\n"
                "kpis: [{id: n, source: t, formula: count(*)}]\n"
            ),
        },
    )
    expected = Counter(day for _, day in DST_ROWS)
    assert _daily_at(root, ["2013-03-11", "2013-11-04"]) == {
        d: float(n) for d, n in expected.items()
    }


def _daily_at(root: Path, lasts: list[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for last in lasts:
        doc = evaluate_doc(root, period=last)
        out.update({p["period"]: p["value"] for p in doc["scorecards"][0]["kpis"][0]["series"]})
    return out


# ------------------------------------------------------- spec-test rows take the source's types


def _kpispec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kpispec", *args], cwd=cwd, capture_output=True, text=True
    )


CHURN_SPEC = """\
kpispec: 1
scorecard: {id: cx, title: Customers}
sources:
  - {id: customers, path: data/customers.parquet, time: null}
  - {id: signups, path: data/signups.csv, time: signed_up}
kpis:
  - id: churned
    source: customers
    formula: count(*) filter (where churned_at >= period_start and churned_at < period_end)
  - id: spend
    source: customers
    formula: sum(spend) filter (where churned_at >= period_start and churned_at < period_end)
  - id: signed_up
    source: signups
    formula: count(*) filter (where plan = 'pro')
tests:
  - name: a date-only churn is local midnight, inside its month
    kpi: churned
    period: 2026-10
    rows:
      customers:
        - {churned_at: 2026-10-01}
        - {churned_at: 2026-09-30}
        - {churned_at: 2026-11-01}
    expect: 1
  - name: naive and Z timestamps mix, each read by its own form
    kpi: churned
    period: 2026-10
    rows:
      customers:
        - {churned_at: "2026-10-31T23:30:00"}
        - {churned_at: "2026-11-01T03:30:00Z"}
        - {churned_at: "2026-11-01T04:30:00Z"}
        - {churned_at: "2026-10-01T03:59:59Z"}
        - {churned_at: "2026-10-01T00:00:00-04:00"}
    expect: 3
  - name: numbers given as text take the column's number type
    kpi: spend
    period: 2026-10
    rows:
      customers:
        - {churned_at: 2026-10-05, spend: "12.5"}
        - {churned_at: 2026-10-06, spend: 30}
    expect: 42.5
  - name: rows from a CSV file take the Parquet types too
    kpi: churned
    period: 2026-10
    rows:
      customers: rows/churn.csv
    expect: 2
  - name: a CSV-backed source types the rows by its header
    kpi: signed_up
    rows:
      signups:
        - {signed_up: 2026-10-03, plan: pro}
        - {signed_up: 2026-10-04, plan: free}
        - {signed_up: 2026-10-05, plan: pro}
    expect: 2
"""


def _churn_project(tmp: Path, spec: str = CHURN_SPEC) -> Path:
    root = write_files(
        tmp,
        {
            "kpispec.yaml": f"kpispec: 1\ntimezone: {ZONE}\n",
            "cx.yaml": spec,
            "data/signups.csv": "signed_up,plan\n2026-09-01,pro\n",
            "rows/churn.csv": "churned_at,spend\n2026-10-01,1\n2026-10-31 23:59:59,2\n"
            "2026-11-01T04:00:00Z,3\n",
        },
    )
    pl.DataFrame(
        {
            "customer": [1, 2],
            "churned_at": [None, datetime(2026, 9, 12, 8, 0, 0)],
            "spend": [10.0, 20.0],
        },
        schema={"customer": pl.Int64, "churned_at": pl.Datetime("us"), "spend": pl.Float64},
    ).write_parquet(root / "data" / "customers.parquet")
    return root


def test_spec_test_rows_take_parquet_timestamp_types(tmp_path: Path) -> None:
    root = _churn_project(tmp_path)
    schema = pl.read_parquet_schema(root / "data" / "customers.parquet")
    assert schema["churned_at"] == pl.Datetime("us")  # a real timestamp column
    result = _kpispec("test", ".", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "5 passed, 0 failed"
    assert "D105" not in result.stdout


def test_a_test_value_that_is_no_timestamp_is_an_error_at_its_row(tmp_path: Path) -> None:
    spec = CHURN_SPEC + (
        "  - name: a broken row\n"
        "    kpi: churned\n"
        "    period: 2026-10\n"
        "    rows:\n"
        "      customers:\n"
        "        - {churned_at: 2026-10-02}\n"
        "        - {churned_at: 2026-13-01}\n"
        "    expect: 1\n"
    )
    root = _churn_project(tmp_path, spec)
    result = _kpispec("test", ".", cwd=root)
    assert result.returncode == 1
    line = line_of(spec, "- {churned_at: 2026-13-01}")
    col = spec.splitlines()[line - 1].index("2026-13-01") + 1
    assert f"cx.yaml:{line}:{col}: error[D103]" in result.stdout
    assert "'2026-13-01' of column `churned_at` (row 2 for `customers`)" in result.stdout
    assert "not a valid timestamp" in result.stdout
    assert result.stdout.splitlines()[-1] == "5 passed, 1 failed"


# ------------------------------------------------- comparisons with periods before the first row

VISITS = {
    "kpispec.yaml": "kpispec: 1\ntimezone: America/New_York\n",
    # first row 2025-11-15; nothing in 2026-08; 3 rows in 2026-09, 5 in 2026-10
    "data/visits.csv": "at,n\n"
    + "2025-11-15T10:00:00,1\n" * 2
    + "2026-09-10T10:00:00,1\n" * 3
    + "2026-10-05T10:00:00,1\n" * 5,
    "web.yaml": """\
kpispec: 1
scorecard: {id: web, title: Web}
sources:
  - {id: visits, path: data/visits.csv, time: at}
kpis:
  - {id: visits, source: visits, formula: count(*)}
  - {id: doubled, formula: 2 * visits}
  - id: grown_from_before
    source: visits
    formula: count(*)
    target: {baseline: {period: 2025-10}, change: +10%}
  - id: grown_from_first
    source: visits
    formula: count(*)
    target: {baseline: {period: 2025-11}, change: +100%}
""",
}


def _kpis(root: Path, *, as_of: str | None = None, period: str | None = None) -> dict[str, Any]:
    doc = evaluate_doc(root, as_of=as_of, period=period)
    return {k["id"]: k for card in doc["scorecards"] for k in card["kpis"]}


def test_a_period_before_the_first_row_is_no_data_when_compared(tmp_path: Path) -> None:
    """October 2026 (5) against October 2025, before the first row (2025-11-15): no data,
    so no change (it used to say +5 against 0). By hand: previous September is 3 (+2)."""
    kpis = _kpis(write_files(tmp_path, VISITS), as_of="2026-11-02")
    visits = kpis["visits"]
    assert visits["value"] == 5.0
    assert visits["year_ago"] == {
        "period": "2025-10",
        "value": None,
        "change": None,
        "change_pct": None,
    }
    assert visits["previous"] == {
        "period": "2026-09",
        "value": 3.0,
        "change": 2.0,
        "change_pct": pytest.approx(200 / 3),
    }
    doubled = kpis["doubled"]  # built from visits: the same first row
    assert doubled["value"] == 10.0
    assert doubled["year_ago"]["change"] is None
    assert doubled["previous"]["change"] == 4.0
    # a baseline before the first row has no value: no bound, not "+10% of 0"
    assert kpis["grown_from_before"]["status"] == "no_target"
    assert kpis["grown_from_before"]["bound"] is None
    # the month holding the first row is data (2 rows): bound 2 * (1 + 100%) = 4, 5 meets it
    assert kpis["grown_from_first"]["bound"]["min"] == 4.0
    assert kpis["grown_from_first"]["status"] == "met"


def test_an_empty_period_after_the_first_row_is_zero(tmp_path: Path) -> None:
    """August 2026 has no rows but lies after the first row: a real 0, so +3 in September."""
    kpis = _kpis(write_files(tmp_path, VISITS), period="2026-09")
    assert kpis["visits"]["previous"]["value"] == 0.0
    assert kpis["visits"]["previous"]["change"] == 3.0
    # the series is what was computed: 2025-10 shows its count of 0
    series = {p["period"]: p["value"] for p in kpis["visits"]["series"]}
    assert series["2025-10"] == 0.0 and series["2025-11"] == 2.0


# ------------------------------------------------------------- first/last with tied times

TIED = [  # (time, balance): three rows tie on the latest time, two on the earliest
    ("2026-10-01T08:00:00", 4.0),
    ("2026-10-01T08:00:00", 2.0),
    ("2026-10-15T12:00:00", 3.0),
    ("2026-10-31T18:00:00", 5.0),
    ("2026-10-31T18:00:00", 9.0),
    ("2026-10-31T18:00:00", 7.0),
]


@pytest.mark.parametrize("seed", range(6))
def test_first_and_last_break_ties_by_value_not_file_order(tmp_path: Path, seed: int) -> None:
    """By hand: the latest rows hold 5, 9, 7, so last is 9; the earliest 4 and 2: first is 2.
    The rows are shuffled over three files of a glob, differently for each seed."""
    import random

    rows = TIED[:]
    random.Random(seed).shuffle(rows)
    files = {
        f"data/b-{i}.csv": "at,balance\n" + "".join(f"{t},{v}\n" for t, v in rows[i::3])
        for i in range(3)
    }
    root = write_files(
        tmp_path,
        {
            **files,
            "kpispec.yaml": "kpispec: 1\ntimezone: America/New_York\n",
            "b.yaml": (
                "kpispec: 1\nscorecard: {id: b}\n"
                "sources: [{id: b, path: data/b-*.csv, time: at}]\n"
                "kpis:\n"
                "  - {id: closing, source: b, formula: last(balance)}\n"
                "  - {id: opening, source: b, formula: first(balance)}\n"
            ),
        },
    )
    kpis = _kpis(root, period="2026-10")
    assert (kpis["closing"]["value"], kpis["opening"]["value"]) == (9.0, 2.0)


# ------------------------------------------------ --explain --scorecard, validate FILE counts

TWO_CARDS = {
    "kpispec.yaml": "kpispec: 1\n",
    "data/visits.csv": "at,n\n2026-10-01,1\n",
    "data/orders.csv": "at,n\n2026-10-01,1\n",
    "data/tickets.csv": "at,n\n2026-10-01,1\n",
    "web.yaml": (
        "kpispec: 1\nscorecard: {id: web}\n"
        "sources: [{id: visits, path: data/visits.csv, time: at}]\n"
        "kpis:\n"
        "  - {id: visits, source: visits, formula: count(*)}\n"
        "  - {id: orders_per_visit, formula: orders / visits}\n"
    ),
    "shop.yaml": (
        "kpispec: 1\nscorecard: {id: shop}\n"
        "sources:\n"
        "  - {id: orders, path: data/orders.csv, time: at}\n"
        "  - {id: tickets, path: data/tickets.csv, time: at}\n"
        "kpis:\n"
        "  - {id: orders, source: orders, formula: count(*)}\n"
        "  - {id: tickets, source: tickets, formula: count(*)}\n"
    ),
}


def test_explain_plans_only_the_chosen_scorecard_and_its_inputs(tmp_path: Path) -> None:
    """web reads visits and (through orders_per_visit) orders; never tickets."""
    root = write_files(tmp_path, TWO_CARDS)
    run = _kpispec(
        "eval", ".", "--explain", "--scorecard", "web", "--as-of", "2026-11-02", cwd=root
    )
    assert run.returncode == 0, run.stderr
    heads = {line for line in run.stdout.splitlines() if line.startswith("# source")}
    assert heads == {
        "# source `visits`: 1 KPI in 1 query",
        "# source `orders`: 1 KPI in 1 query",
    }
    everything = _kpispec("eval", ".", "--explain", "--as-of", "2026-11-02", cwd=root)
    assert sum(line.startswith("# source") for line in everything.stdout.splitlines()) == 3


def test_validate_a_file_counts_that_file(tmp_path: Path) -> None:
    """Each KPI has no owner and no target: two warnings per KPI of the files named."""
    root = write_files(tmp_path, TWO_CARDS)

    def summary(*paths: str) -> str:
        return _kpispec("validate", *paths, cwd=root).stderr.splitlines()[-1]

    assert summary("shop.yaml") == "valid: 2 KPIs in 1 scorecard (4 warnings)"
    assert summary("web.yaml") == "valid: 2 KPIs in 1 scorecard (4 warnings)"
    assert summary("web.yaml", "shop.yaml") == "valid: 4 KPIs in 2 scorecards (8 warnings)"
    assert summary(".") == "valid: 4 KPIs in 2 scorecards (8 warnings)"


# ------------------------------------------------------------------ YAML indentation hints


@pytest.mark.parametrize(
    ("text", "loc", "hint"),
    [
        (  # a key one level too deep below a `key: value`
            "kpispec: 1\nscorecard:\n  id: web\n  title: Web\n    owner: growth\n",
            (5, 5),
            "`owner:` is indented deeper than `title:` on line 4",
        ),
        (  # the same below a list item's first key
            "kpis:\n  - id: visits\n      name: Visits\n",
            (3, 7),
            "`name:` is indented deeper than `id:` on line 2",
        ),
        (  # a value that holds ': ' on its own line: quoting is the fix
            "kpispec: 1\nscorecard:\n  title: Goal: 5%\n",
            (3, 14),
            "a value holding ': ' must be quoted",
        ),
    ],
)
def test_yaml_indentation_hints(text: str, loc: tuple[int, int], hint: str) -> None:
    from kpispec.spec.loader import LoadError, load_string

    with pytest.raises(LoadError) as caught:
        load_string(text, "web.yaml")
    diagnostic = caught.value.diagnostic
    assert (diagnostic.code, diagnostic.loc.line, diagnostic.loc.col) == ("E103", *loc)
    assert diagnostic.hint is not None and diagnostic.hint.startswith(hint)


def test_a_dedented_owner_block_is_told_to_indent_not_listed_allowed_keys() -> None:
    """`owner:` empty and its `email:` at the KPI's level (`name` is a KPI key too)."""
    from kpispec.spec.loader import load_string
    from kpispec.spec.schema import SPEC_SCHEMA, validate_document

    text = (
        "kpispec: 1\nscorecard: {id: web}\nkpis:\n"
        "  - id: visits\n    formula: 1\n    owner:\n    email: kari@example.com\n"
    )
    found = {
        (d.code, d.loc.line, d.loc.col): d.hint
        for d in validate_document(load_string(text, "web.yaml"), SPEC_SCHEMA)
    }
    assert found[("E200", 7, 5)] == (
        "`email` is a key of `owner:` (line 6), written at its level: indent it under "
        "`owner:` by two more spaces"
    )


def test_a_bad_timestamp_among_mixed_forms_is_named_by_its_line(tmp_path: Path) -> None:
    """Instants, naive times and dates are all valid; only line 5 is not a time."""
    root = write_files(
        tmp_path,
        {
            "kpispec.yaml": f"kpispec: 1\ntimezone: {ZONE}\n",
            "data/e.csv": "at,n\n2026-10-01T10:00:00Z,1\n2026-10-02 10:00:00,1\n2026-10-03,1\n"
            "not-a-time,1\n",
            "e.yaml": (
                "kpispec: 1\nscorecard: {id: e}\n"
                "sources: [{id: e, path: data/e.csv, time: at, columns: {at: datetime}}]\n"
                "kpis: [{id: n, source: e, formula: count(*)}]\n"
            ),
        },
    )
    run = _kpispec("eval", ".", "--as-of", "2026-11-02", cwd=root)
    assert run.returncode == 3
    assert "value 'not-a-time' in column `at` of e.csv (line 5) is not a valid datetime" in (
        run.stdout + run.stderr
    )
