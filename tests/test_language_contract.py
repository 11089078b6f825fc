"""Every example of the language definition validates, with its data present."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from kpispec.spec.load import load

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "spec-language.md"
CONTRACT = SHARED if SHARED.is_file() else HERE / "fixtures" / "spec-language.md"


def blocks() -> list[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)


def errors(folder: Path, data: bool = True) -> list[str]:
    loaded = load(folder, data=data)
    return [f"{d.loc}: {d.code} {d.message}" for d in loaded.diagnostics if d.is_error]


def test_the_definition_has_the_examples_this_test_knows() -> None:
    found = blocks()
    assert len(found) == 5
    assert found[0].startswith("# kpispec.yaml")
    assert "scorecard:" in found[1]


def test_project_file_and_spec_file(tmp_path: Path) -> None:
    project, spec = blocks()[0], blocks()[1]
    (tmp_path / "kpispec.yaml").write_text(project, encoding="utf-8")
    (tmp_path / "specs" / "data").mkdir(parents=True)
    (tmp_path / "specs" / "web.yaml").write_text(spec, encoding="utf-8")
    pl.DataFrame(
        {
            "started_at": ["2026-10-01 10:00:00"],
            "country": ["NO"],
            "converted": [True],
            "channel": ["search"],
            "device": ["mobile"],
        }
    ).write_parquet(tmp_path / "specs" / "data" / "sessions.parquet")
    assert errors(tmp_path) == []


FORMULA_COLUMNS = (
    "at,clicks,impressions,nps_score,csat_score,ces_score,amount,completed,visitor_id,"
    "churned_at,signed_up_at\n"
)


def test_every_formula_example(tmp_path: Path) -> None:
    chunks = re.split(r"\n(?=formula:)", blocks()[2])
    formulas = [yaml.safe_load(c) for c in chunks if c.strip().startswith("formula:")]
    assert len(formulas) == 8
    kpis = [
        {"id": "revenue", "source": "events", "formula": "sum(amount)"},
        {"id": "ad_spend", "source": "events", "formula": "sum(clicks) * 0.5"},
    ]
    for i, item in enumerate(formulas):
        kpi = {"id": f"k{i}", "source": "events", "formula": item["formula"]}
        if "period_start" in item["formula"]:
            kpi["time"] = None
        if not re.search(r"\w\(", item["formula"]):
            del kpi["source"]
        kpis.append(kpi)
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "everyday", "title": "Everyday KPIs"},
        "sources": [{"id": "events", "path": "events.csv", "time": "at"}],
        "kpis": kpis,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (tmp_path / "events.csv").write_text(FORMULA_COLUMNS, encoding="utf-8")
    assert errors(tmp_path) == []


def test_every_target_example(tmp_path: Path) -> None:
    text = blocks()[3]
    parts = [p for p in re.split(r"\n(?=targets?:)", text) if p.strip()]
    assert len(parts) == 3
    kpis = []
    for i, part in enumerate(parts):
        kpis.append(
            {"id": f"k{i}", "source": "events", "formula": "count(*)", **yaml.safe_load(part)}
        )
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "targets", "title": "Targets"},
        "sources": [{"id": "events", "path": "events.csv", "time": "at"}],
        "kpis": kpis,
    }
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(spec, sort_keys=False).replace("'", ""), encoding="utf-8"
    )
    (tmp_path / "events.csv").write_text("at\n", encoding="utf-8")
    assert errors(tmp_path) == []


def test_the_test_example(tmp_path: Path) -> None:
    tests = yaml.safe_load(blocks()[4])["tests"]
    spec = (
        "kpispec: 1\n"
        "scorecard: {id: cx, title: Customer experience}\n"
        "sources:\n  - {id: survey, path: survey.csv, time: answered_at}\n"
        "kpis:\n"
        "  - id: nps\n    source: survey\n"
        "    formula: 100 * (share(nps_score >= 9) - share(nps_score <= 6))\n"
    )
    (tmp_path / "spec.yaml").write_text(spec + blocks()[4], encoding="utf-8")
    (tmp_path / "survey.csv").write_text("answered_at,nps_score\n", encoding="utf-8")
    assert tests[0]["expect"] == 25
    assert errors(tmp_path) == []


@pytest.mark.parametrize("data", [True, False])
def test_the_example_project_is_clean(root: Path, data: bool) -> None:
    loaded = load(root / "specs", data=data)
    assert [str(d.loc) + " " + d.code for d in loaded.diagnostics] == []
    assert len(loaded.checked.project.all_kpis()) >= 3
