"""The results document (`kpispec eval --format json`) against schemas/results.schema.json.

(a) the example project's document validates; (b) so does the document of a richer
project; (c) the document is deterministic, byte for byte; (d) values of a tiny project,
computed by hand; (e) `stale` and `newest` of sources with `fresh_within`.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import line_of as _line_of
from helpers import write_files
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from kpispec.cli import app

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "results.schema.json"
AS_OF = "2026-11-22"

runner = CliRunner()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(validator: Draft202012Validator, doc: Any) -> list[str]:
    return [
        f"{e.json_path}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: e.json_path)
    ]


def kpispec(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run `python -m kpispec ARGS` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "kpispec", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
    )


def eval_json(folder: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["eval", str(folder), "--as-of", AS_OF, "-f", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def line_of(text: str, needle: str) -> int:
    return _line_of(text, needle, whole=False)


def kpis_by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for card in doc["scorecards"] for k in card["kpis"]}


# ------------------------------------------------------------------ the schema itself


def _walk(node: Any, path: str = "#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_schema_is_a_strict_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://kpispec.dev/schemas/results.schema.json"
    assert schema["properties"]["kpispec_results"]["const"] == 1
    objects = 0
    for path, node in _walk(schema):
        if "properties" in node and isinstance(node["properties"], dict):
            objects += 1
            assert node.get("additionalProperties") is False, path
            assert set(node["required"]) == set(node["properties"]), path
            for name, prop in node["properties"].items():
                assert prop.get("description"), f"{path}/properties/{name} has no description"
    assert objects >= 15
    statuses = schema["$defs"]["status"]["enum"]
    assert statuses == ["met", "at_risk", "missed", "no_data", "no_target"]


def test_nullable_fields_are_typed_with_null(schema: dict[str, Any]) -> None:
    kpi = schema["$defs"]["kpi"]["properties"]
    assert kpi["value"]["type"] == ["number", "null"]
    assert kpi["description"]["type"] == ["string", "null"]
    assert kpi["target_line"]["type"] == ["integer", "null"]
    assert schema["$defs"]["source"]["type"] == ["object", "null"]
    assert schema["$defs"]["bound"]["type"] == ["object", "null"]
    assert schema["$defs"]["owner"]["type"] == ["object", "null"]


# ------------------------------------------------------------------ (a) the example project


@pytest.fixture(scope="module")
def example_doc() -> dict[str, Any]:
    result = kpispec("eval", str(ROOT / "specs"), "--as-of", AS_OF, "-f", "json")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    return json.loads(result.stdout)


def test_example_project_document_validates(
    example_doc: dict[str, Any], validator: Draft202012Validator
) -> None:
    assert errors_of(validator, example_doc) == []
    assert example_doc["kpispec_results"] == 1
    assert example_doc["as_of"] == AS_OF
    assert {"web", "acquisition", "ecommerce", "email", "social", "cx"} <= {
        c["id"] for c in example_doc["scorecards"]
    }
    assert example_doc["summary"]["kpis"] >= 30


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(extra=1), "$"),
        (lambda d: d.update(kpispec_results=2), "$.kpispec_results"),
        (lambda d: d.pop("as_of"), "$"),
        (lambda d: d.update(as_of="22.11.2026"), "$.as_of"),
        (lambda d: d.update(as_of="2026-02-30"), "$.as_of"),  # format: date
        (lambda d: d["summary"].update(ok=1), "$.summary"),
        (lambda d: d["scorecards"][0]["kpis"][0].update(status="ok"), "status"),
        (lambda d: d["scorecards"][0]["kpis"][0]["period"].update(label="Oct 2026"), "label"),
        (lambda d: d["scorecards"][0]["kpis"][0]["series"][0].update(period="2026-13"), "period"),
        (lambda d: d["scorecards"][0]["kpis"][0]["series"][0].update(value="1"), "value"),
        (lambda d: d["scorecards"][0]["kpis"][0].update(stale=None), "stale"),
        (lambda d: d["scorecards"][0]["kpis"][0]["targets"][0].update(gate="maybe"), "gate"),
        (lambda d: d["scorecards"][0]["kpis"][0]["previous"].pop("change_pct"), "previous"),
        (lambda d: d["scorecards"][0]["kpis"][0]["breakdowns"][0].update(x=[]), "breakdowns"),
    ],
)
def test_schema_rejects_a_broken_document(
    example_doc: dict[str, Any], validator: Draft202012Validator, mutate, where: str
) -> None:
    doc = copy.deepcopy(example_doc)
    mutate(doc)
    errors = errors_of(validator, doc)
    assert errors, "the schema accepted a broken document"
    assert any(where in e for e in errors), errors


# ------------------------------------------------------------------ (b) a richer project

RICH_PROJECT = """\
kpispec: 1
title: Rich project
description: Several scorecards, derived KPIs, dimensions and every kind of target.
locale: nb
currency: NOK
timezone: Europe/Oslo
history: 6
connections:
  helpdesk:
    url: sqlite:///helpdesk.db
    description: Support tickets
sources:
  - id: orders
    path: specs/data/orders.csv
    time: ordered_at
    fresh_within: 2 days
    columns: {ordered_at: datetime, amount: number, completed: boolean}
"""

RICH_SHOP = """\
kpispec: 1
scorecard:
  id: shop
  title: Shop
  owner: shop-team
  tags: [sales]
sources:
  - id: ads
    path: data/ads.csv
    time: day
    title: Ad spend
    description: Daily spend per channel.
    filter: spend >= 0
kpis:
  - id: revenue
    description: Completed orders, **in kroner**.
    group: Money
    source: orders
    formula: sum(amount) filter (where completed)
    unit: currency
    decimals: 0
    dimensions: [channel, country]
    tags: [money]
    links: [https://example.com/rev, {title: Definition, url: "https://example.com/def"}]
    target: {baseline: {period: 2026-08}, change: +10%, from: 2026-09-01, by: 2026-12-31, why: Grow}
  - id: ad_spend
    source: ads
    formula: sum(spend)
    unit: currency
    dimensions: [channel]
    direction: lower_is_better
    target: {max: 100, tolerance: 5, gate: warn, by: 2026-12-31, why: Budget}
  - id: roas
    name: Return on ad spend
    formula: revenue / ad_spend
    decimals: 2
    target: {min: 4, max: 50, gate: off, why: Pay back}
  - id: orders_to_date
    source: orders
    window: all
    formula: count(*)
    unit: count
    targets:
      - {min: 2, by: 2026-06-30, why: Start}
      - {min: 10, by: 2026-12-31, gate: warn}
  - id: rolling_orders
    source: orders
    window: 2 months
    filter: completed
    formula: count(*)
    unit: count
  - id: big_orders
    source: orders
    formula: count(*) filter (where amount > 100)
    unit: count
    target: {baseline: 1, min: 5, from: 2026-07-01, by: 2026-12-31, tolerance: 10%}
"""

RICH_SUPPORT = """\
kpispec: 1
scorecard:
  id: support
  title: Customer support
  description: Tickets and how fast we answer them.
  owner: {team: support}
  locale: en_GB
  currency: GBP
  tags: [support, service]
sources:
  - id: tickets
    sql: select opened_at, resolved_at, priority, csat from tickets
    connection: helpdesk
    time: opened_at
    fresh_within: 12 hours
    columns: {resolved_at: datetime, csat: integer}
kpis:
  - id: tickets_opened
    name: Tickets opened
    group: Volume
    source: tickets
    formula: count(*)
    unit: count
    dimensions: [priority]
    window: 3 weeks
    targets:
      - {max: 10, by: 2026-09-30, why: Fewer problems}
      - {max: 5, tolerance: 20%, by: 2026-12-31, gate: warn, why: Even fewer}
  - id: resolution_hours
    source: tickets
    formula: avg(date_diff('hour', opened_at, resolved_at))
    unit: hours
    direction: lower_is_better
    target: {baseline: 24, change: -6, from: 2026-09-01, by: 2026-12-31, why: Answer faster}
  - id: csat
    source: tickets
    formula: 100 * share(csat >= 4)
    unit: percent
    target: {baseline: {period: 2025-01}, change: +5%, by: 2026-12-31, why: Happier customers}
  - id: tickets_per_order
    formula: tickets_opened / orders_to_date
    decimals: 3
"""

RICH_WEEKLY = """\
kpispec: 1
scorecard: {id: weekly, grain: week, owner: {name: Ola, email: ola@example.com}}
kpis:
  - id: weekly_orders
    source: orders
    formula: count(*)
    unit: count
    target: {min: 1}
  - id: quarterly_avg
    source: orders
    grain: quarter
    formula: avg(amount)
    target: {max: 1000, by: 2027-03-31}
  - id: daily_orders
    source: orders
    grain: day
    formula: count(*)
  - id: yearly_orders
    source: orders
    grain: year
    time: null
    formula: count(*) filter (where ordered_at >= period_start and ordered_at < period_end)
"""

RICH_ORDERS = """\
ordered_at,amount,completed,channel,country
2026-08-03 10:00:00,50,true,email,NO
2026-08-20 10:00:00,150,true,search,SE
2026-09-02 10:00:00,200,true,email,NO
2026-09-15 10:00:00,80,false,search,NO
2026-10-05 10:00:00,120,true,search,DK
2026-10-25 10:00:00,30,true,,NO
2026-11-20 10:00:00,99,true,email,NO
"""

RICH_ADS = """\
day,channel,spend
2026-08-01,email,10
2026-09-01,email,20
2026-09-02,search,30
2026-10-01,search,40
2026-10-02,email,-5
"""

TICKETS = [
    ("2026-09-03 08:00:00", "2026-09-03 20:00:00", "high", 5),
    ("2026-09-28 08:00:00", "2026-09-29 14:00:00", "low", 3),
    ("2026-10-10 09:00:00", "2026-10-10 21:00:00", "low", 4),
    ("2026-10-29 09:00:00", "2026-10-30 09:00:00", "high", None),
    ("2026-11-21 09:00:00", None, "low", None),
]


def write_rich_project(folder: Path) -> Path:
    write_files(
        folder,
        {
            "kpispec.yaml": RICH_PROJECT,
            "specs/shop.yaml": RICH_SHOP,
            "specs/support.yaml": RICH_SUPPORT,
            "specs/weekly.yaml": RICH_WEEKLY,
            "specs/data/orders.csv": RICH_ORDERS,
            "specs/data/ads.csv": RICH_ADS,
        },
    )
    db = sqlite3.connect(folder / "helpdesk.db")
    db.execute("create table tickets (opened_at text, resolved_at text, priority text, csat int)")
    db.executemany("insert into tickets values (?, ?, ?, ?)", TICKETS)
    db.commit()
    db.close()
    return folder


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rich_project(tmp_path_factory.mktemp("rich"))


@pytest.fixture(scope="module")
def rich_doc(rich: Path) -> dict[str, Any]:
    return eval_json(rich)


def test_rich_project_document_validates(
    rich_doc: dict[str, Any], validator: Draft202012Validator
) -> None:
    assert errors_of(validator, rich_doc) == []
    assert [c["id"] for c in rich_doc["scorecards"]] == ["shop", "support", "weekly"]
    kpis = kpis_by_id(rich_doc)
    assert len(kpis) == 14
    # every kind of target, derived KPIs and every grain made it into the document
    assert kpis["revenue"]["targets"][0]["baseline"] == "2026-08"
    assert kpis["revenue"]["targets"][0]["change"] == "+10%"
    assert kpis["big_orders"]["targets"][0]["baseline"] == 1.0
    assert len(kpis["orders_to_date"]["targets"]) == 2
    assert kpis["roas"]["depends_on"] == ["revenue", "ad_spend"]
    assert kpis["roas"]["source"] is None
    assert kpis["tickets_opened"]["source"]["sql"].startswith("select opened_at")
    assert kpis["tickets_opened"]["source"]["connection"] == "helpdesk"
    assert kpis["revenue"]["source"]["fresh_within"] == "2 days"
    assert {k["grain"] for k in kpis.values()} == {"day", "week", "month", "quarter", "year"}
    assert {k["status"] for k in kpis.values()} >= {"met", "missed", "no_target"}


def test_rich_project_document_is_consistent(rich_doc: dict[str, Any]) -> None:
    history = rich_doc["project"]["history"]
    assert history == 6
    statuses = ("met", "at_risk", "missed", "no_data", "no_target")
    all_kpis = []
    for card in rich_doc["scorecards"]:
        kpis = card["kpis"]
        all_kpis.extend(kpis)
        counts = {s: sum(k["status"] == s for k in kpis) for s in statuses}
        stale = sum(k["stale"] for k in kpis)
        assert card["summary"] == {"kpis": len(kpis), **counts, "stale": stale}
        for kpi in kpis:
            periods = [p["period"] for p in kpi["series"]]
            assert len(periods) == history
            assert periods[-1] == kpi["period"]["label"]
            assert kpi["series"][-1]["value"] == kpi["value"]
            assert kpi["series"][-1]["status"] == kpi["status"]
            assert kpi["previous"]["period"] == periods[-2]
            assert [b["dimension"] for b in kpi["breakdowns"]] == kpi["dimensions"]
            for breakdown in kpi["breakdowns"]:
                members = [m["member"] for m in breakdown["members"]]
                named = [m for m in members if m is not None]
                assert named == sorted(named)
                assert None not in members or members[-1] is None
                for member in breakdown["members"]:
                    assert [p["period"] for p in member["series"]] == periods
                    assert member["series"][-1]["value"] == member["value"]
            for a, b in zip(kpi["series"], kpi["series"][1:], strict=False):
                assert a["end"] == b["start"]
    counts = {s: sum(k["status"] == s for k in all_kpis) for s in statuses}
    assert rich_doc["summary"] == {
        "kpis": len(all_kpis),
        **counts,
        "stale": sum(k["stale"] for k in all_kpis),
    }


def test_rich_project_values_by_hand(rich_doc: dict[str, Any]) -> None:
    kpis = kpis_by_id(rich_doc)
    # revenue, baseline = August 2026 = 50 + 150 = 200; +10% -> final bound 220, gliding
    # from 2026-09-01 to the end of 2026-12-31 (122 days). October ends 2026-11-01:
    # 61 days in, half way: 200 + 20 * 61 / 122 = 210. October's completed orders:
    # 120 + 30 = 150 -> missed.
    revenue = kpis["revenue"]
    assert revenue["value"] == 150.0
    assert revenue["bound"]["min"] == pytest.approx(210.0)
    assert revenue["status"] == "missed"
    # newest order 2026-11-20 10:00: within 2 days of the start of the as-of date 2026-11-22
    assert revenue["stale"] is False
    channel = revenue["breakdowns"][0]
    assert [m["member"] for m in channel["members"]] == ["email", "search", None]
    assert [m["value"] for m in channel["members"]] == [None, 120.0, 30.0]
    # milestones: min 2 by 2026-06-30, then min 10 by 2026-12-31: October is 123 of the
    # 184 days from 2026-07-01 to 2027-01-01: 2 + 8 * 123 / 184 = 7.3478...
    to_date = kpis["orders_to_date"]
    assert to_date["value"] == 6.0
    assert to_date["bound"]["min"] == pytest.approx(2 + 8 * 123 / 184)
    assert (to_date["gate"], to_date["why"]) == ("warn", None)
    # roas = revenue / ad_spend = 150 / 40 (the -5 row fails the source filter)
    assert kpis["roas"]["value"] == pytest.approx(3.75)
    assert kpis["roas"]["bound"] == {
        "min": 4.0,
        "max": 50.0,
        "at_risk_min": 4.0,
        "at_risk_max": 50.0,
    }
    # resolution hours: baseline 24, change -6 -> max 18, half way in October -> 21;
    # October tickets took 12 h and 24 h -> 18 -> met
    hours = kpis["resolution_hours"]
    assert hours["value"] == 18.0
    assert hours["bound"]["max"] == pytest.approx(21.0)
    assert hours["status"] == "met"
    # a baseline period without data: the bound cannot be computed
    assert kpis["csat"]["status"] == "no_target"
    assert kpis["csat"]["bound"] is None
    # tickets in the 3 weeks before 2026-11-01: only the one of 2026-10-29 (high)
    opened = kpis["tickets_opened"]
    assert opened["value"] == 1.0
    assert [(m["member"], m["value"]) for m in opened["breakdowns"][0]["members"]] == [
        ("high", 1.0),
        ("low", 0.0),
    ]
    assert kpis["weekly_orders"]["period"] == {
        "label": "2026-W46",
        "start": "2026-11-09",
        "end": "2026-11-16",
    }
    assert kpis["quarterly_avg"]["period"]["label"] == "2026-Q3"
    assert kpis["quarterly_avg"]["value"] == 120.0  # (50 + 150 + 200 + 80) / 4
    assert kpis["daily_orders"]["period"]["label"] == "2026-11-21"
    assert kpis["yearly_orders"]["period"]["label"] == "2025"


# ------------------------------------------------------------------ (c) determinism


def test_same_inputs_give_byte_identical_documents(rich: Path, tmp_path: Path) -> None:
    args = ("eval", str(rich), "--as-of", AS_OF, "--format", "json")
    runs = []
    for seed in ("0", "0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = kpispec(*args, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr.decode()
        runs.append(result.stdout)
    assert runs[0].endswith(b"\n")
    assert all(run == runs[0] for run in runs[1:])
    # the file written with -o holds the same bytes
    out = tmp_path / "results.json"
    assert kpispec(*args, "-o", str(out)).returncode == 0
    assert out.read_bytes() == runs[0]


# ------------------------------------------------------------------ (d) values by hand

TINY_PROJECT = """\
kpispec: 1
title: Tiny
timezone: UTC
history: 4
"""

TINY_SPEC = """\
kpispec: 1
scorecard:
  id: web
  title: Web
  owner: growth
sources:
  - id: sessions
    path: data/sessions.csv
    time: started_at
    columns: {started_at: datetime, pages: integer, converted: boolean}
kpis:
  - id: visits
    source: sessions
    formula: count(*)
    unit: count
    target:
      baseline: {period: 2026-09}
      change: +50%
      from: 2026-10-01
      by: 2026-10-31
      why: Grow traffic
  - id: conversion_rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    dimensions: [channel]
    target: {min: 60, tolerance: 10%, gate: warn, by: 2026-12-31, why: More buyers}
  - id: pages_per_session
    source: sessions
    formula: avg(pages)
    direction: lower_is_better
    target: {max: 2.5, tolerance: 1, by: 2026-12-31, why: Faster answers}
"""

# Six sessions, deliberately not in time or channel order. With --as-of 2026-11-22 the
# evaluated month is 2026-10 and history 4 gives 2026-07, 2026-08, 2026-09, 2026-10.
TINY_ROWS = """\
started_at,channel,pages,converted
2026-09-05 10:00:00,search,4,true
2026-10-03 10:00:00,search,1,false
2025-10-15 10:00:00,email,2,true
2026-09-20 10:00:00,email,2,false
2026-10-12 10:00:00,email,3,true
2026-10-30 10:00:00,ads,5,true
"""
#            rows   converted   pages
# 2025-10    1      1 of 1      2
# 2026-07    0      -           -
# 2026-08    0      -           -
# 2026-09    2      1 of 2      4, 2
# 2026-10    3      2 of 3      1, 3, 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_files(
        tmp_path_factory.mktemp("tiny"),
        {"kpispec.yaml": TINY_PROJECT, "web.yaml": TINY_SPEC, "data/sessions.csv": TINY_ROWS},
    )


@pytest.fixture(scope="module")
def tiny_doc(tiny: Path) -> dict[str, Any]:
    return eval_json(tiny)


def test_tiny_document_validates(tiny_doc: dict[str, Any], validator) -> None:
    assert errors_of(validator, tiny_doc) == []


def test_tiny_header(tiny_doc: dict[str, Any]) -> None:
    assert tiny_doc["kpispec_results"] == 1
    assert tiny_doc["as_of"] == AS_OF
    assert tiny_doc["generator"].startswith("kpispec ")
    assert tiny_doc["project"] == {
        "title": "Tiny",
        "description": None,
        "locale": "en",
        "currency": "EUR",
        "timezone": "UTC",
        "history": 4,
    }
    # visits met (3 >= 3), conversion met (66.7 >= 60), pages at risk (3 > 2.5 but <= 3.5)
    assert tiny_doc["summary"] == {
        "kpis": 3,
        "met": 2,
        "at_risk": 1,
        "missed": 0,
        "no_data": 0,
        "no_target": 0,
        "stale": 0,
    }
    card = tiny_doc["scorecards"][0]
    assert (card["id"], card["title"], card["file"]) == ("web", "Web", "web.yaml")
    assert card["line"] == line_of(TINY_SPEC, "  id: web")
    assert card["owner"] == {"name": "growth", "email": None, "team": None}
    assert [k["id"] for k in card["kpis"]] == ["visits", "conversion_rate", "pages_per_session"]


def test_tiny_series_has_history_periods_and_empty_periods(tiny_doc: dict[str, Any]) -> None:
    visits = kpis_by_id(tiny_doc)["visits"]
    assert visits["period"] == {"label": "2026-10", "start": "2026-10-01", "end": "2026-11-01"}
    series = visits["series"]
    assert len(series) == 4  # kpispec.yaml history: 4
    assert [(p["period"], p["start"], p["end"]) for p in series] == [
        ("2026-07", "2026-07-01", "2026-08-01"),
        ("2026-08", "2026-08-01", "2026-09-01"),
        ("2026-09", "2026-09-01", "2026-10-01"),
        ("2026-10", "2026-10-01", "2026-11-01"),
    ]
    # months without rows: a count is 0, every other value null (no data)
    assert [p["value"] for p in series] == [0.0, 0.0, 2.0, 3.0]
    conversion = kpis_by_id(tiny_doc)["conversion_rate"]["series"]
    assert [p["value"] for p in conversion[:2]] == [None, None]
    assert [p["status"] for p in conversion[:2]] == ["no_data", "no_data"]
    pages = kpis_by_id(tiny_doc)["pages_per_session"]["series"]
    assert [p["value"] for p in pages] == [None, None, 3.0, 3.0]


def test_tiny_previous_and_year_ago(tiny_doc: dict[str, Any]) -> None:
    kpis = kpis_by_id(tiny_doc)
    # visits: October 3, September 2 (+1, +50 %), October 2025 1 (+2, +200 %)
    assert kpis["visits"]["value"] == 3.0
    assert kpis["visits"]["previous"] == {
        "period": "2026-09",
        "value": 2.0,
        "change": 1.0,
        "change_pct": 50.0,
    }
    assert kpis["visits"]["year_ago"] == {
        "period": "2025-10",
        "value": 1.0,
        "change": 2.0,
        "change_pct": 200.0,
    }
    # conversion: October 2 of 3 = 66.67 %, September 1 of 2 = 50 %, October 2025 100 %
    conv = kpis["conversion_rate"]
    assert conv["value"] == pytest.approx(200 / 3)
    assert conv["previous"]["period"] == "2026-09"
    assert conv["previous"]["value"] == 50.0
    assert conv["previous"]["change"] == pytest.approx(50 / 3)  # 66.67 - 50
    assert conv["previous"]["change_pct"] == pytest.approx(100 / 3)  # 16.67 / 50
    assert conv["year_ago"]["value"] == 100.0
    assert conv["year_ago"]["change"] == pytest.approx(-100 / 3)
    assert conv["year_ago"]["change_pct"] == pytest.approx(-100 / 3)
    # pages per session: October (1 + 3 + 5) / 3 = 3, September (4 + 2) / 2 = 3, 2025-10: 2
    pages = kpis["pages_per_session"]
    assert pages["value"] == 3.0
    assert pages["previous"] == {
        "period": "2026-09",
        "value": 3.0,
        "change": 0.0,
        "change_pct": 0.0,
    }
    assert pages["year_ago"] == {
        "period": "2025-10",
        "value": 2.0,
        "change": 1.0,
        "change_pct": 50.0,
    }


def test_tiny_breakdowns_sorted(tiny_doc: dict[str, Any]) -> None:
    conv = kpis_by_id(tiny_doc)["conversion_rate"]
    assert conv["dimensions"] == ["channel"]
    assert len(conv["breakdowns"]) == 1
    channel = conv["breakdowns"][0]
    assert channel["dimension"] == "channel"
    # the CSV lists search, email, ads; members come sorted
    assert [m["member"] for m in channel["members"]] == ["ads", "email", "search"]
    # October: ads 1 of 1, email 1 of 1, search 0 of 1; September: email 0 of 1, search 1 of 1
    by_member = {m["member"]: m for m in channel["members"]}
    assert by_member["ads"]["value"] == 100.0
    assert by_member["email"]["value"] == 100.0
    assert by_member["search"]["value"] == 0.0
    assert [(p["period"], p["value"]) for p in by_member["email"]["series"]] == [
        ("2026-07", None),
        ("2026-08", None),
        ("2026-09", 0.0),
        ("2026-10", 100.0),
    ]
    assert [p["value"] for p in by_member["search"]["series"]] == [None, None, 100.0, 0.0]
    assert [p["value"] for p in by_member["ads"]["series"]] == [None, None, None, 100.0]
    for kpi_id in ("visits", "pages_per_session"):
        assert kpis_by_id(tiny_doc)[kpi_id]["breakdowns"] == []


def test_tiny_change_target_glides_to_its_deadline(tiny_doc: dict[str, Any]) -> None:
    visits = kpis_by_id(tiny_doc)["visits"]
    # baseline September = 2 visits; +50 % -> final min 3. The glide runs from 2026-10-01
    # to the end of 2026-10-31: October (ending 2026-11-01) must reach the full 3, every
    # month ending on or before 2026-10-01 the baseline 2.
    assert visits["targets"] == [
        {
            "min": None,
            "max": None,
            "tolerance": None,
            "gate": "fail",
            "why": "Grow traffic",
            "baseline": "2026-09",
            "change": "+50%",
            "from": "2026-10-01",
            "by": "2026-10-31",
            "line": line_of(TINY_SPEC, "baseline: {period: 2026-09}"),
        }
    ]
    assert visits["bound"] == {"min": 3.0, "max": None, "at_risk_min": 3.0, "at_risk_max": None}
    assert visits["status"] == "met"
    assert [p["bound"]["min"] for p in visits["series"]] == [2.0, 2.0, 2.0, 3.0]
    # 0 < 2 with no tolerance: missed; 2 >= 2 and 3 >= 3: met
    assert [p["status"] for p in visits["series"]] == ["missed", "missed", "met", "met"]
    assert (visits["gate"], visits["deadline"], visits["why"]) == (
        "fail",
        "2026-10-31",
        "Grow traffic",
    )
    assert visits["target_line"] == line_of(TINY_SPEC, "baseline: {period: 2026-09}")


def test_tiny_smart_fields_and_lines(tiny_doc: dict[str, Any]) -> None:
    kpis = kpis_by_id(tiny_doc)
    conv = kpis["conversion_rate"]
    target_line = line_of(TINY_SPEC, "target: {min: 60")
    assert conv["line"] == line_of(TINY_SPEC, "- id: conversion_rate")
    assert conv["file"] == "web.yaml"
    assert conv["targets"] == [
        {
            "min": 60.0,
            "max": None,
            "tolerance": "+10%",
            "gate": "warn",
            "why": "More buyers",
            "baseline": None,
            "change": None,
            "from": None,
            "by": "2026-12-31",
            "line": target_line,
        }
    ]
    # min 60, 10 % tolerance: at risk down to 54. September 50 is missed, October met.
    assert conv["bound"] == {"min": 60.0, "max": None, "at_risk_min": 54.0, "at_risk_max": None}
    assert conv["status"] == "met"
    assert [p["status"] for p in conv["series"]] == ["no_data", "no_data", "missed", "met"]
    assert (conv["gate"], conv["deadline"], conv["why"], conv["target_line"]) == (
        "warn",
        "2026-12-31",
        "More buyers",
        target_line,
    )
    pages = kpis["pages_per_session"]
    assert pages["line"] == line_of(TINY_SPEC, "- id: pages_per_session")
    assert pages["target_line"] == line_of(TINY_SPEC, "target: {max: 2.5")
    assert pages["targets"][0]["tolerance"] == "1"
    # max 2.5 and an absolute tolerance of 1: 3 is at risk (up to 3.5)
    assert pages["bound"] == {"min": None, "max": 2.5, "at_risk_min": None, "at_risk_max": 3.5}
    assert pages["status"] == "at_risk"
    assert pages["direction"] == "lower_is_better"
    assert pages["decimals"] is None


def test_tiny_kpi_definition_fields(tiny_doc: dict[str, Any]) -> None:
    conv = kpis_by_id(tiny_doc)["conversion_rate"]
    assert conv["name"] == "Conversion rate"  # from the id
    assert conv["owner"] == {"name": "growth", "email": None, "team": None}
    assert (conv["unit"], conv["currency"], conv["grain"], conv["window"]) == (
        "percent",
        "EUR",
        "month",
        "period",
    )
    assert conv["formula"] == "100 * share(converted)"
    assert conv["time"] == "started_at"
    assert conv["source"] == {
        "id": "sessions",
        "title": None,
        "description": None,
        "path": "data/sessions.csv",
        "sql": None,
        "table": None,
        "connection": None,
        "engine": "polars",
        "time": "started_at",
        "filter": None,
        "fresh_within": None,
    }
    assert (conv["stale"], conv["newest"]) == (False, None)


def test_tiny_named_period(tiny: Path, validator) -> None:
    doc = eval_json(tiny, "--period", "2026-09")
    assert errors_of(validator, doc) == []
    visits = kpis_by_id(doc)["visits"]
    assert visits["period"]["label"] == "2026-09"
    assert [p["period"] for p in visits["series"]] == ["2026-06", "2026-07", "2026-08", "2026-09"]
    assert visits["value"] == 2.0
    assert visits["previous"] == {
        "period": "2026-08",
        "value": 0.0,
        "change": 2.0,
        "change_pct": None,
    }
    assert visits["year_ago"]["period"] == "2025-09"


def test_target_amounts_are_not_rounded(tmp_path: Path) -> None:
    spec = TINY_SPEC.replace("tolerance: 10%", "tolerance: 12.3456789%").replace(
        "tolerance: 1,", "tolerance: 0.1234567,"
    )
    spec = spec.replace("change: +50%", "change: 2500000")
    folder = write_files(
        tmp_path, {"kpispec.yaml": TINY_PROJECT, "web.yaml": spec, "data/sessions.csv": TINY_ROWS}
    )
    kpis = kpis_by_id(eval_json(folder))
    assert kpis["conversion_rate"]["targets"][0]["tolerance"] == "+12.3456789%"
    assert kpis["pages_per_session"]["targets"][0]["tolerance"] == "0.1234567"
    assert kpis["visits"]["targets"][0]["change"] == "2500000"


# ------------------------------------------------------------------ (e) stale sources

FRESH_SPEC = """\
kpispec: 1
scorecard: {id: feeds, owner: data-team}
sources:
  - {id: old_feed, path: old.csv, time: at, fresh_within: 2 days}
  - {id: new_feed, path: new.csv, time: at, fresh_within: 2 days}
  - {id: plain_feed, path: new.csv, time: at}
kpis:
  - {id: old_rows, source: old_feed, formula: count(*), unit: count}
  - {id: new_rows, source: new_feed, formula: count(*), unit: count}
  - {id: plain_rows, source: plain_feed, formula: count(*), unit: count}
"""

# --as-of 2026-11-22 (UTC). old.csv's newest row up to the as-of date is 2026-11-18 12:00:
# 3.5 days before the as-of date starts (4.5 before it ends), more than 2 days: stale. Its
# row of 2026-11-30 comes after the as-of date and does not count. new.csv's newest row,
# 2026-11-21 12:00, is 12 hours before the as-of date starts (1.5 days before it ends),
# within 2 days: fresh.
OLD_ROWS = "at,n\n2026-11-10 09:00:00,1\n2026-11-18 12:00:00,2\n2026-11-30 08:00:00,3\n"
NEW_ROWS = "at,n\n2026-11-01 09:00:00,1\n2026-11-21 12:00:00,2\n"


def test_stale_and_fresh_sources(tmp_path: Path, validator) -> None:
    folder = write_files(
        tmp_path,
        {
            "kpispec.yaml": "kpispec: 1\ntimezone: UTC\n",
            "feeds.yaml": FRESH_SPEC,
            "old.csv": OLD_ROWS,
            "new.csv": NEW_ROWS,
        },
    )
    doc = eval_json(folder)
    assert errors_of(validator, doc) == []
    kpis = kpis_by_id(doc)
    assert (kpis["old_rows"]["stale"], kpis["old_rows"]["newest"]) == (
        True,
        "2026-11-18T12:00:00+00:00",
    )
    assert (kpis["new_rows"]["stale"], kpis["new_rows"]["newest"]) == (
        False,
        "2026-11-21T12:00:00+00:00",
    )
    assert (kpis["plain_rows"]["stale"], kpis["plain_rows"]["newest"]) == (False, None)
    assert kpis["old_rows"]["source"]["fresh_within"] == "2 days"
    assert doc["summary"]["stale"] == 1
    assert doc["scorecards"][0]["summary"]["stale"] == 1


def test_yesterdays_daily_data_is_fresh_within_a_day(tmp_path: Path) -> None:
    # as-of 2026-11-22: the newest day, 2026-11-21, starts exactly 1 day before the
    # as-of date starts; no row can be newer without being from the as-of date itself.
    folder = write_files(
        tmp_path,
        {
            "kpispec.yaml": "kpispec: 1\ntimezone: Europe/Oslo\n",
            "daily.yaml": (
                "kpispec: 1\nscorecard: {id: daily, owner: data-team}\nsources:\n"
                "  - {id: loads, path: loads.csv, time: day, fresh_within: 1 day}\n"
                "kpis:\n  - {id: loaded, source: loads, formula: count(*), unit: count}\n"
            ),
            "loads.csv": "day,n\n2026-11-20,1\n2026-11-21,2\n",
        },
    )
    loaded = kpis_by_id(eval_json(folder))["loaded"]
    assert loaded["newest"] == "2026-11-21T00:00:00+01:00"
    assert loaded["stale"] is False


def test_docs_csv_example_is_what_kpispec_writes(tiny: Path) -> None:
    """docs/results.md shows the CSV of the tiny project above; keep the page honest."""
    page = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in page.split("```text\n")[1:]]
    example = next(b for b in blocks if b.startswith("scorecard,kpi,") and b.count("\n") > 1)
    result = runner.invoke(app, ["eval", str(tiny), "--as-of", AS_OF, "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == example
