"""Lookup joins (`joins:` on a source), on every engine, against DuckDB SQL written here.

The data is the shape of the New York flights data: flights (a time, a tail number, a
carrier, a distance, a delay), planes by tail number (seats, model, a manufacturer code),
manufacturers by code (a country), carriers by a composite key (code and region). Some
flights have a tail number no plane has, some have none at all (null), and one plane's
manufacturer is unknown. Every expected value is a DuckDB query with the LEFT JOINs written
out (docs/language.md, section 5.8), one per KPI, period and member.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import write_files
from test_engine_rollups import ENGINES, evaluated
from test_engine_vs_duckdb import AS_OF, Duck, breakdown, periods, spec, write_project

import kpispec


def tables() -> dict[str, pl.DataFrame]:
    rng = random.Random(7)
    tails = [f"N{i}" for i in range(12)]
    planes = pl.DataFrame(
        {
            "tailnum": tails[:10],  # N10 and N11 fly but are not in the planes table
            "seats": [rng.choice([50, 150, 180, 300]) for _ in range(10)],
            "model": [rng.choice(["A320", "B737", "E175"]) for _ in range(10)],
            "maker": ["AB", "BO", "EM", "AB", "BO", "XX", "AB", "BO", "EM", "AB"],  # XX: unknown
        }
    )
    makers = pl.DataFrame({"code": ["AB", "BO", "EM"], "country": ["FR", "US", "BR"]})
    carriers = pl.DataFrame(
        {
            "code": ["AA", "AA", "UA", "DL"],
            "region": ["domestic", "international", "domestic", "domestic"],
            "name": ["American", "American Intl", "United", "Delta"],
        }
    )
    start = datetime(2026, 7, 1)
    rows = []
    for _ in range(600):
        rows.append(
            {
                "ts": start + timedelta(seconds=rng.randrange(123 * 86400)),
                "tailnum": rng.choice([*tails, None]),
                "carrier": rng.choice(["AA", "UA", "DL", "ZZ"]),
                "region": rng.choice(["domestic", "international"]),
                "distance": float(rng.randrange(100, 3000)),
                "delay": rng.choice([None, *range(-10, 120, 7)]),
            }
        )
    return {
        "flights": pl.DataFrame(rows),
        "planes": planes,
        "makers": makers,
        "carriers": carriers,
    }


SOURCES = [
    {
        "id": "flights",
        "path": "flights.parquet",
        "time": "ts",
        "joins": [
            {"source": "planes", "on": "tailnum"},
            {"source": "carriers", "on": {"carrier": "code", "region": "region"}},
        ],
    },
    {
        "id": "planes",
        "path": "planes.parquet",
        "joins": [{"source": "makers", "on": {"maker": "code"}}],
    },
    {"id": "makers", "path": "makers.parquet"},
    {"id": "carriers", "path": "carriers.parquet"},
]
KPIS = [
    {"id": "seats_per_flight", "source": "flights", "formula": "avg(planes.seats)",
     "dimensions": ["planes.model", "carriers.name"]},
    {"id": "seat_miles", "source": "flights", "formula": "sum(planes.seats * distance)"},
    {"id": "us_built", "source": "flights", "formula": "count(*)",
     "filter": "planes.makers.country = 'US'", "dimensions": ["carriers.name"]},
    {"id": "late_a320", "source": "flights",
     "formula": "count(*) filter (where delay > 15 and planes.model = 'A320')"},
    {"id": "unknown_plane", "source": "flights", "formula": "count(*) filter (where planes.seats is null)"},
    {"id": "by_country", "source": "flights", "formula": "count(*)",
     "dimensions": ["planes.makers.country"]},
]  # fmt: skip

JOINED = """
create view j as
select f.*, p.seats, p.model, m.country, c.name
from f
left join p on f.tailnum = p.tailnum
left join m on p.maker = m.code
left join c on f.carrier = c.code and f.region = c.region
"""


@pytest.fixture(scope="module", params=ENGINES)
def joined(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("joins")
    write_project(root, {"f.yaml": spec("flights", SOURCES, KPIS)}, tables(), history=4)
    duck = Duck()
    for view, name in (("f", "flights"), ("p", "planes"), ("m", "makers"), ("c", "carriers")):
        duck.view(view, root / f"{name}.parquet")
    duck.con.execute(JOINED)
    return evaluated(request, root, AS_OF), duck


CASES = [
    ("seats_per_flight", "avg(seats)", None),
    ("seat_miles", "sum(seats * distance)", None),
    ("us_built", "count(*)", "country = 'US'"),
    ("late_a320", "count(*) filter (where delay > 15 and model = 'A320')", None),
    ("unknown_plane", "count(*) filter (where seats is null)", None),
    ("by_country", "count(*)", None),
]


@pytest.mark.parametrize(("kpi_id", "agg", "where"), CASES)
def test_joined_columns_in_formulas_and_filters(
    joined, kpi_id: str, agg: str, where: str | None
) -> None:
    kpis, duck = joined
    expected = duck.series(agg, periods("month", 4), table="j", where=where)
    got = {p["period"]: p["value"] for p in kpis[kpi_id]["series"]}
    for label, value in expected.items():
        assert got[label] == pytest.approx(value, rel=1e-9), (kpi_id, label)


@pytest.mark.parametrize(
    ("kpi_id", "dimension", "column"),
    [
        ("seats_per_flight", "planes.model", "model"),
        ("seats_per_flight", "carriers.name", "name"),
        ("us_built", "carriers.name", "name"),
        ("by_country", "planes.makers.country", "country"),
    ],
)
def test_a_dimension_from_a_joined_source(joined, kpi_id: str, dimension: str, column: str) -> None:
    kpis, duck = joined
    agg, where = next((a, w) for k, a, w in CASES if k == kpi_id)
    members = breakdown(kpis[kpi_id], dimension)
    ps = periods("month", 4)
    values = [r[0] for r in duck.con.execute(f"select distinct {column} from j").fetchall()]
    for member in values:
        cond = f"{column} is null" if member is None else f"{column} = '{member}'"
        expected = duck.series(agg, ps, table="j", where=" and ".join(filter(None, [where, cond])))
        if all(v in (None, 0) for v in expected.values()):
            continue  # a member only filtered-out rows have
        got = {p["period"]: p["value"] for p in members[member]}
        for label, value in expected.items():
            if value is None:
                assert got[label] in (None, 0.0), (dimension, member, label)
            else:
                assert got[label] == pytest.approx(value, rel=1e-9), (dimension, member, label)
    # rows without a match are kept: the flights of N10, N11 and of no tail number count
    total = duck.value(
        "select count(*) from j where model is null and ts >= '2026-10-01' and ts < '2026-11-01'"
    )
    assert total > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_key_held_twice_is_a_data_error(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    data = tables()
    data["planes"] = pl.concat([data["planes"], data["planes"].head(1)])
    write_project(tmp_path, {"f.yaml": spec("flights", SOURCES, KPIS[1:2])}, data)
    if engine == "postgres":
        request.getfixturevalue("warehouse").move(tmp_path)
    with pytest.raises(kpispec.DataError) as caught:
        kpispec.evaluate(tmp_path, as_of=AS_OF, engine="polars" if engine == "postgres" else engine)
    (d,) = caught.value.diagnostics
    assert d.code == "D112"
    assert "source `flights`: joins `planes` on tailnum" in d.message
    assert "2 rows have tailnum = 'N0'" in d.message


def test_joins_in_a_spec_test(tmp_path: Path) -> None:
    test = {
        "name": "seats per flight averages the known planes",
        "kpi": "seats_per_flight",
        "rows": {
            "flights": [
                {"ts": "2026-10-01T10:00:00", "tailnum": "A", "carrier": "AA", "region": "x"},
                {"ts": "2026-10-02T10:00:00", "tailnum": "B", "carrier": "AA", "region": "x"},
                {"ts": "2026-10-03T10:00:00", "tailnum": "C", "carrier": "AA", "region": "x"},
            ],
            "planes": [{"tailnum": "A", "seats": 100, "model": "m", "maker": "AB"},
                       {"tailnum": "B", "seats": 200, "model": "m", "maker": "AB"}],
        },
        "expect": 150,
    }  # fmt: skip
    card = spec("flights", SOURCES, KPIS[:1])
    card["tests"] = [test]
    write_project(tmp_path, {"f.yaml": card}, tables())
    run = kpispec.test(tmp_path)
    assert [o.passed for o in run.outcomes] == [True], run.lines()


@pytest.mark.parametrize(
    ("change", "code", "text"),
    [
        ({"joins": [{"source": "plane", "on": "tailnum"}]}, "E401", "did you mean `planes`?"),
        ({"joins": [{"source": "planes", "on": "tail"}]}, "E306", "did you mean `tailnum`?"),
    ],
)
def test_wrong_joins_are_reported(
    tmp_path: Path, change: dict[str, Any], code: str, text: str
) -> None:
    sources = [{**SOURCES[0], **change}, *SOURCES[1:]]
    write_project(tmp_path, {"f.yaml": spec("flights", sources, KPIS[1:2])}, tables())
    report = kpispec.validate(tmp_path)
    found = [d for d in report.diagnostics if d.code == code]
    assert found and any(text in (d.hint or "") for d in found), report.diagnostics


def test_joined_columns_are_checked_by_name_and_type(tmp_path: Path) -> None:
    kpis = [
        {"id": "a", "source": "flights", "formula": "sum(planes.seat)"},
        {"id": "b", "source": "flights", "formula": "sum(planes.model)"},
    ]
    write_project(tmp_path, {"f.yaml": spec("flights", SOURCES, kpis)}, tables())
    report = kpispec.validate(tmp_path)
    by_code = {d.code: d for d in report.diagnostics if d.is_error}
    assert "did you mean `planes.seats`?" in (by_code["E306"].hint or "")
    assert "E314" in by_code  # sum of text: the joined column's type is known


def test_a_cycle_of_joins(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "data/a.csv": "k\n1\n",
            "c.yaml": "kpispec: 1\nscorecard: {id: c, title: C}\nsources:\n"
            "  - {id: a, path: data/a.csv, joins: [{source: b, on: k}]}\n"
            "  - {id: b, path: data/a.csv, joins: [{source: c2, on: k}]}\n"
            "  - {id: c2, path: data/a.csv, joins: [{source: a, on: k}]}\n"
            "kpis:\n  - {id: n, source: a, formula: count(*)}\n",
        },
    )
    report = kpispec.validate(tmp_path)
    (cycle,) = [d for d in report.diagnostics if d.code == "E416"]
    assert "source joins form a cycle: a -> b -> c2 -> a" in cycle.message


# ------------------------------------------------------------------ edge cases


def _project(
    tmp_path: Path, files: dict[str, str], sources: str, kpis: str, tests: str = ""
) -> Path:
    write_files(
        tmp_path,
        {
            **files,
            "s.yaml": "kpispec: 1\nscorecard: {id: s, title: S}\nsources:\n" + sources
            + "kpis:\n" + kpis + tests,
        },
    )  # fmt: skip
    return tmp_path


def test_keys_of_two_types_are_refused_alike(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,k,amount\n2026-10-01,1,10\n2026-10-02,2,20\n",
         "data/l.csv": "k,grp\n1,G1\n01,G1b\n2,G2\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: l, on: k}]}\n"
        "  - {id: l, path: data/l.csv, columns: {k: string}}\n",
        "  - {id: n, source: f, formula: count(*), dimensions: [l.grp]}\n",
    )  # fmt: skip
    report = kpispec.validate(root)
    (problem,) = [d for d in report.diagnostics if d.code == "E314"]
    assert "join key `k` is number but `k` is text" in problem.message


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_large_integer_ids_of_two_integer_types_match_exactly(tmp_path: Path, engine: str) -> None:
    from datetime import date

    base = 1234567890123456768  # beyond 2**53: a float would make the three ids one
    (tmp_path / "data").mkdir()
    pl.DataFrame(
        {"at": [date(2026, 10, 1)] * 3, "uid": [base, base + 1, base + 2], "amount": [1, 10, 100]},
        schema={"at": pl.Date, "uid": pl.Int64, "amount": pl.Int64},
    ).write_parquet(tmp_path / "data" / "f.parquet")
    pl.DataFrame({"uid": [base, base + 1, base + 2], "seg": ["A", "B", "C"]},
                 schema={"uid": pl.UInt64, "seg": pl.String}).write_parquet(tmp_path / "data" / "u.parquet")  # fmt: skip
    root = _project(
        tmp_path, {},
        "  - {id: f, path: data/f.parquet, time: at, joins: [{source: u, on: uid}]}\n"
        "  - {id: u, path: data/u.parquet}\n",
        "  - {id: total, source: f, formula: sum(amount), dimensions: [u.seg]}\n",
    )  # fmt: skip
    doc = kpispec.evaluate(root, as_of="2026-11-02", engine=engine)
    ((_, k),) = list(doc.kpis())
    assert k.value == 111
    assert {m.member: m.value for m in k.breakdowns[0].members} == {"A": 1, "B": 10, "C": 100}


def test_a_source_joined_twice_is_refused(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,o,d\n2026-10-01,a,b\n", "data/ap.csv": "code,country\na,X\nb,Y\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: ap, on: {o: code}}, "
        "{source: ap, on: {d: code}}]}\n  - {id: ap, path: data/ap.csv}\n",
        "  - {id: n, source: f, formula: count(*), dimensions: [ap.country]}\n",
    )  # fmt: skip
    report = kpispec.validate(root)
    assert any(d.code == "E400" and "joins `ap` twice" in d.message for d in report.diagnostics)


def test_a_source_filter_may_read_joined_columns(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,k\n2026-10-01,a\n2026-10-02,b\n2026-10-03,a\n",
         "data/l.csv": "k,grp\na,G1\nb,G2\n"},
        "  - {id: f, path: data/f.csv, time: at, filter: \"l.grp = 'G1'\", joins: [{source: l, on: k}]}\n"
        "  - {id: l, path: data/l.csv}\n",
        "  - {id: n, source: f, formula: count(*)}\n",
    )  # fmt: skip
    for engine in ("polars", "duckdb"):
        doc = kpispec.evaluate(root, as_of="2026-11-02", engine=engine)
        assert [k.value for _, k in doc.kpis()] == [2]


def test_spec_tests_without_key_columns_and_members_of_derived_kpis(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,k,ch\n2026-10-01,a,x\n", "data/l.csv": "k,grp\na,G\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: l, on: k}]}\n"
        "  - {id: l, path: data/l.csv}\n",
        "  - {id: n, source: f, formula: count(*), dimensions: [l.grp, ch]}\n"
        "  - {id: mix, formula: 100 * n / total(n)}\n",
        "tests:\n"
        "  - {name: lookup rows without the key match nothing, kpi: n, "
        "rows: {f: [{at: 2026-10-01, k: a}], l: [{grp: G}]}, expect: 1}\n"
        "  - {name: a derived KPI's member, kpi: mix, member: {ch: b}, "
        "rows: {f: [{at: 2026-10-01, ch: a}, {at: 2026-10-02, ch: b}]}, expect: 50}\n",
    )  # fmt: skip
    run = kpispec.test(root)
    assert [o.passed for o in run.outcomes] == [True, True], run.lines()


def test_kpispec_sql_says_when_polars_joins(tmp_path: Path) -> None:
    import duckdb

    (tmp_path / "data").mkdir()
    con = duckdb.connect(str(tmp_path / "data" / "w.duckdb"))
    con.execute("create table lookup(k varchar, grp varchar)")
    con.close()
    write_files(
        tmp_path,
        {"kpispec.yaml": "kpispec: 1\nconnections:\n  w: {url: 'duckdb:///data/w.duckdb'}\n"},
    )
    root = _project(
        tmp_path,
        {"data/f.csv": "at,k\n2026-10-01,a\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: l, on: k}]}\n"
        "  - {id: l, table: lookup, connection: w}\n",
        "  - {id: n, source: f, formula: count(*)}\n",
    )  # fmt: skip
    text = kpispec.sql(kpispec.load(root), "duckdb", as_of="2026-11-02")
    assert "-- source `f`: it joins a source held elsewhere" in text


def test_a_repeated_date_key_is_shown_as_a_date(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,day\n2026-10-01,2026-10-02\n",
         "data/cal.csv": "day,holiday\n2026-10-02,no\n2026-10-02,yes\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: cal, on: day}]}\n"
        "  - {id: cal, path: data/cal.csv}\n",
        "  - {id: n, source: f, formula: count(*)}\n",
    )  # fmt: skip
    with pytest.raises(kpispec.DataError) as caught:
        kpispec.evaluate(root, as_of="2026-11-02")
    assert "2 rows have day = 2026-10-02" in caught.value.diagnostics[0].message


def test_a_bad_value_in_a_joined_source_names_its_line(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"data/f.csv": "at,k\n2026-10-01,a\n", "data/l.csv": "k,vip\na,yes\nb,no\n"},
        "  - {id: f, path: data/f.csv, time: at, joins: [{source: l, on: k}]}\n"
        "  - {id: l, path: data/l.csv, columns: {vip: boolean}}\n",
        "  - {id: n, source: f, formula: count(*) filter (where l.vip)}\n",
    )
    with pytest.raises(kpispec.DataError) as caught:
        kpispec.evaluate(root, as_of="2026-11-02")
    (d,) = caught.value.diagnostics
    assert d.code == "D103" and "of l.csv (line 2) is not a valid boolean" in d.message, d
