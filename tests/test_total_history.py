"""`total()` (share of total) and `history:` per scorecard and KPI, on every engine.

The data: 400 orders from 2026-07-01 to 2026-10-31 with a channel (web, app, a null
channel, and `display`, which only has rows in July and August), an amount and a status.
Every expected share is computed by DuckDB SQL written here from docs/language.md
(section 7.11): a member's aggregate over the rows its period reads, divided by the same
aggregate over every row the period reads; the total row's share is 100. A small
hand-computed case pins the arithmetic itself.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import evaluate_doc, write_files
from test_engine_rollups import ENGINES, evaluated
from test_engine_vs_duckdb import AS_OF, Duck, breakdown, periods, spec, write_project

import kpispec

CHANNELS = ["web", "app", None, "display"]


def orders() -> pl.DataFrame:
    rng = random.Random(14)
    start = datetime(2026, 7, 1)
    rows = []
    for _ in range(400):
        at = start + timedelta(seconds=rng.randrange(123 * 86400))
        channel = rng.choice(CHANNELS[:3]) if at >= datetime(2026, 9, 1) else rng.choice(CHANNELS)
        rows.append(
            {
                "ts": at,
                "channel": channel,
                "amount": round(rng.uniform(5, 200), 2),
                "status": rng.choice(["done", "done", "cancelled"]),
            }
        )
    return pl.DataFrame(rows)


SHARE = "100 * count(*) / total(count(*))"
DONE = "sum(amount) filter (where status = 'done')"
KPIS = [
    {"id": "mix", "source": "o", "formula": SHARE, "dimensions": ["channel"], "unit": "percent"},
    {
        "id": "revenue_share",
        "source": "o",
        "formula": f"100 * {DONE} / total({DONE})",
        "dimensions": ["channel"],
    },
    {
        "id": "mix_2m",
        "source": "o",
        "formula": SHARE,
        "dimensions": ["channel"],
        "window": "2 months",
    },
    {"id": "orders", "source": "o", "formula": "count(*)", "dimensions": ["channel"]},
    {"id": "orders_share", "formula": "100 * orders / total(orders)", "dimensions": ["channel"]},
    {
        "id": "done_mix",
        "source": "o",
        "formula": SHARE,
        "filter": "status = 'done'",
        "dimensions": ["channel"],
    },
]


@pytest.fixture(scope="module", params=ENGINES)
def shares(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("total")
    write_project(
        root,
        {"o.yaml": spec("shop", [{"id": "o", "path": "o.parquet", "time": "ts"}], KPIS)},
        {"o": orders()},
        history=4,
    )
    duck = Duck()
    duck.view("t", root / "o.parquet")
    return evaluated(request, root, AS_OF), duck


def _member(channel: str | None) -> str:
    return "channel is null" if channel is None else f"channel = '{channel}'"


def _share(
    duck: Duck, agg: str, channel: str | None, window: str = "period", where: str | None = None
):
    ps = periods("month", 4)
    part = duck.series(
        agg, ps, window=window, where=" and ".join(filter(None, [where, _member(channel)]))
    )
    whole = duck.series(agg, ps, window=window, where=where)
    return {
        label: None if not whole[label] or part[label] is None else 100 * part[label] / whole[label]
        for label in whole
    }


def _got(kpi: dict[str, Any], channel: str | None) -> dict[str, float | None]:
    return {p["period"]: p["value"] for p in breakdown(kpi, "channel")[channel]}


@pytest.mark.parametrize(
    ("kpi_id", "agg", "window", "where"),
    [
        ("mix", "count(*)", "period", None),
        ("revenue_share", "sum(amount) filter (where status = 'done')", "period", None),
        ("mix_2m", "count(*)", "2 months", None),
        ("orders_share", "count(*)", "period", None),
        ("done_mix", "count(*)", "period", "status = 'done'"),
    ],
)
def test_total_gives_each_members_share(
    shares, kpi_id: str, agg: str, window: str, where: str | None
) -> None:
    kpis, duck = shares
    kpi = kpis[kpi_id]
    for channel in CHANNELS:
        expected = _share(duck, agg, channel, window, where)
        got = _got(kpi, channel)
        for label, value in expected.items():
            if kpi_id == "revenue_share" and value is None and got[label] is not None:
                raise AssertionError((channel, label, got[label]))
            if value is None:
                # a member without rows in a period: count shares are 0 (0 / total), sums null
                assert got[label] in (None, 0.0), (channel, label, got[label])
            else:
                assert got[label] == pytest.approx(value, rel=1e-9), (kpi_id, channel, label)
    # the total row: the whole over the whole
    assert all(p["value"] == pytest.approx(100.0) for p in kpi["series"]), kpi["series"]


def test_a_member_without_rows_in_a_period_has_share_zero(shares) -> None:
    kpis, duck = shares
    display = _got(kpis["mix"], "display")
    assert display["2026-09"] == 0.0 and display["2026-10"] == 0.0
    assert display["2026-08"] == pytest.approx(
        100
        * duck.value(
            "select count(*) filter (where channel = 'display') / count(*) from t "
            "where ts >= '2026-08-01' and ts < '2026-09-01'"
        )
    )
    # the shares of a period add up to 100 over its members (the null member included)
    for label in ("2026-08", "2026-09", "2026-10"):
        assert sum(_got(kpis["mix"], c)[label] or 0 for c in CHANNELS) == pytest.approx(100)


def test_total_by_hand(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "data/s.csv": "day,ch\n2026-10-01,web\n2026-10-02,web\n2026-10-03,app\n"
            "2026-10-04,web\n2026-09-04,app\n",
            "mix.yaml": "kpispec: 1\nscorecard: {id: mix, title: Mix}\nsources:\n"
            "  - {id: s, path: data/s.csv, time: day}\nkpis:\n"
            "  - {id: share, source: s, formula: 100 * count(*) / total(count(*)), "
            "dimensions: [ch]}\n",
        },
    )
    doc = evaluate_doc(str(tmp_path), as_of="2026-11-03")
    (kpi,) = [k for card in doc["scorecards"] for k in card["kpis"]]
    members = {m["member"]: m["series"][-2:] for m in kpi["breakdowns"][0]["members"]}
    # September: one app session of one; October: one app and three web sessions of four
    assert [p["value"] for p in members["app"]] == [100.0, 25.0]
    assert [p["value"] for p in members["web"]] == [0.0, 75.0]
    assert kpi["value"] == 100.0


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("sum(total(count(*)))", "E304"),
        ("total(5)", "E309"),
        ("total(count(*)) filter (where ch = 'web')", "E312"),
        ("total(count(*), count(*))", "E302"),
    ],
)
def test_total_where_it_cannot_be(tmp_path: Path, formula: str, code: str) -> None:
    write_files(
        tmp_path,
        {
            "data/s.csv": "day,ch\n2026-10-01,web\n",
            "mix.yaml": "kpispec: 1\nscorecard: {id: mix, title: Mix}\nsources:\n"
            "  - {id: s, path: data/s.csv, time: day}\nkpis:\n"
            f'  - {{id: k, source: s, formula: "{formula}"}}\n'
            "  - {id: f, source: s, formula: count(*), filter: total(count(*)) > 1}\n",
        },
    )
    report = kpispec.validate(tmp_path)
    codes = {d.code for d in report.diagnostics if d.is_error}
    assert code in codes and "E305" in codes, report.diagnostics


# ------------------------------------------------------------------ history


@pytest.fixture(scope="module", params=ENGINES)
def histories(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    root = tmp_path_factory.mktemp("history")
    card = spec(
        "shop",
        [{"id": "o", "path": "o.parquet", "time": "ts"}],
        [
            {"id": "monthly", "source": "o", "formula": "count(*)"},
            {"id": "daily", "source": "o", "formula": "count(*)", "grain": "day", "history": 10},
            {
                "id": "quarterly",
                "source": "o",
                "formula": "count(*)",
                "grain": "quarter",
                "history": 2,
            },
            {"id": "derived", "formula": "daily * 2", "grain": "day", "history": 3},
        ],
    )
    card["scorecard"]["history"] = 5
    other = spec(
        "other",
        [{"id": "o2", "path": "o.parquet", "time": "ts"}],
        [{"id": "project_default", "source": "o2", "formula": "count(*)"}],
    )
    write_project(root, {"o.yaml": card, "p.yaml": other}, {"o": orders()}, history=7)
    duck = Duck()
    duck.view("t", root / "o.parquet")
    return evaluated(request, root, "2026-11-01"), duck


def test_history_per_kpi_scorecard_and_project(histories) -> None:
    kpis, duck = histories
    labels = {k: [p["period"] for p in kpi["series"]] for k, kpi in kpis.items()}
    assert labels["monthly"] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert labels["daily"] == [f"2026-10-{d}" for d in range(22, 32)]
    assert labels["quarterly"] == ["2026-Q2", "2026-Q3"]
    assert labels["derived"] == ["2026-10-29", "2026-10-30", "2026-10-31"]
    assert len(labels["project_default"]) == 7 and labels["project_default"][-1] == "2026-10"
    for point in kpis["daily"]["series"]:
        day = point["period"]
        expected = duck.value(
            f"select count(*) from t where ts >= '{day}' and ts < date '{day}' + interval 1 day"
        )
        assert point["value"] == expected, day
    assert kpis["derived"]["series"][-1]["value"] == 2 * kpis["daily"]["series"][-1]["value"]
    q3 = duck.value("select count(*) from t where ts >= '2026-07-01' and ts < '2026-10-01'")
    assert kpis["quarterly"]["series"][-1]["value"] == q3


def test_a_chart_of_one_period_says_so(tmp_path: Path) -> None:
    write_files(
        tmp_path / "p",
        {
            "data/s.csv": "day,ch\n2026-10-01,web\n",
            "mix.yaml": "kpispec: 1\nscorecard: {id: mix, title: Mix, history: 1}\nsources:\n"
            "  - {id: s, path: data/s.csv, time: day}\nkpis:\n"
            "  - {id: n, name: Visits, source: s, formula: count(*)}\n",
        },
    )
    kpispec.publish(tmp_path / "p", tmp_path / "site", as_of="2026-11-03")
    page = (tmp_path / "site" / "kpi" / "n.html").read_text(encoding="utf-8")
    assert "Visits: one period, Oct 2026" in page
    assert "1 periods" not in page
