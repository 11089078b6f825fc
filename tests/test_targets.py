"""Targets and statuses, with every expected bound computed by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import kpispec
from kpispec.engine.targets import bound_for, judge, resolve
from kpispec.periods import parse_label
from kpispec.results import to_dict
from kpispec.spec.load import load
from kpispec.spec.model import Kpi


def kpi_with(tmp_path: Path, target: dict, direction: str = "higher_is_better") -> Kpi:
    key = "targets" if isinstance(target, list) else "target"
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "t", "title": "T", "owner": "me"},
        "sources": [{"id": "s", "path": "s.csv", "time": "at"}],
        "kpis": [
            {"id": "k", "source": "s", "formula": "count(*)", "direction": direction, key: target}
        ],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    loaded = load(tmp_path, data=False)
    assert [d for d in loaded.diagnostics if d.is_error] == []
    return loaded.checked.kpis["k"].kpi


def status(
    kpi: Kpi, period: str, value: float | None, data: dict[str, float] | None = None
) -> tuple[str, float | None, float | None]:
    finals = resolve(kpi, lambda p: (data or {}).get(p.label))
    bound = bound_for(parse_label(period), finals) if finals is not None else None
    return judge(value, bound), bound.min if bound else None, bound.max if bound else None


def test_min_with_relative_tolerance(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"min": 3.3, "tolerance": "5%"})
    # at risk down to 3.3 - 5% of 3.3 = 3.135
    assert status(kpi, "2026-10", 3.5)[0] == "met"
    assert status(kpi, "2026-10", 3.3)[0] == "met"
    assert status(kpi, "2026-10", 3.2)[0] == "at_risk"
    assert status(kpi, "2026-10", 3.14)[0] == "at_risk"
    assert status(kpi, "2026-10", 3.13)[0] == "missed"
    assert status(kpi, "2026-10", None)[0] == "no_data"


def test_max_with_absolute_tolerance(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"max": 40, "tolerance": 2}, "lower_is_better")
    assert status(kpi, "2026-10", 38)[0] == "met"
    assert status(kpi, "2026-10", 41.5)[0] == "at_risk"  # within 40 + 2
    assert status(kpi, "2026-10", 42.5)[0] == "missed"


def test_range(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"min": 4, "max": 6, "tolerance": "10%"})
    # bands: 4 - 0.4 = 3.6 below, 6 + 0.6 = 6.6 above
    assert [status(kpi, "2026-10", v)[0] for v in (3.5, 3.7, 5, 6.5, 6.7)] == [
        "missed", "at_risk", "met", "at_risk", "missed",
    ]  # fmt: skip


def test_relative_change_from_a_number(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"baseline": 3.0, "change": "+10%"})
    # 3.0 * 1.10 = 3.3 as a lower bound; no `from`: the bound holds in full
    st, lo, hi = status(kpi, "2026-10", 3.29)
    assert (st, hi) == ("missed", None)
    assert lo == pytest.approx(3.3)


def test_change_gives_an_upper_bound_when_lower_is_better(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"baseline": 40, "change": "-10%"}, "lower_is_better")
    st, lo, hi = status(kpi, "2026-10", 35)
    assert st == "met" and lo is None and hi == pytest.approx(36)


def test_absolute_change(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"baseline": 4.2, "change": 0.5})
    assert status(kpi, "2026-10", 4.6)[1] == pytest.approx(4.7)


def test_glide_path_is_met_before_the_deadline(tmp_path: Path) -> None:
    kpi = kpi_with(
        tmp_path,
        {
            "baseline": {"period": "2026-09"},
            "change": "+10%",
            "from": "2026-10-01",
            "by": "2026-12-31",
        },
    )
    data = {"2026-09": 3.0}
    # final 3.3; glide from 2026-10-01 to 2027-01-01 (92 days)
    # October ends 2026-11-01: 31/92 of the way: 3.0 + 0.3 * 31 / 92 = 3.101086...
    st, lo, _ = status(kpi, "2026-10", 3.15, data)
    assert lo == pytest.approx(3.0 + 0.3 * 31 / 92)
    assert st == "met"  # on track, although 3.15 < 3.3
    # November ends 2026-12-01: 61/92
    assert status(kpi, "2026-11", 3.15, data) == (
        "missed",
        pytest.approx(3.0 + 0.3 * 61 / 92),
        None,
    )
    # December ends on the deadline: the full 3.3; later periods keep it
    assert status(kpi, "2026-12", 3.3, data)[1:] == (pytest.approx(3.3), None)
    assert status(kpi, "2027-03", 3.2, data) == ("missed", pytest.approx(3.3), None)
    # before the glide starts the bound is the baseline
    assert status(kpi, "2026-08", 3.0, data)[1] == pytest.approx(3.0)


def test_baseline_period_without_data_means_no_target(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, {"baseline": {"period": "2026-09"}, "change": "+10%"})
    assert status(kpi, "2026-10", 3.0, {})[0] == "no_target"


def test_milestones_glide_from_one_to_the_next(tmp_path: Path) -> None:
    kpi = kpi_with(tmp_path, [{"min": 200, "by": "2026-03-31"}, {"min": 1000, "by": "2026-06-30"}])
    # before the first deadline its bound holds
    assert status(kpi, "2026-01", 250)[:2] == ("met", 200)
    assert status(kpi, "2026-03", 150)[:2] == ("missed", 200)
    # April ends 2026-05-01: from 200 at 2026-04-01 to 1000 at 2026-07-01 (91 days), 30 days in
    assert status(kpi, "2026-04", 300)[1] == pytest.approx(200 + 800 * 30 / 91)
    assert status(kpi, "2026-06", 999)[:2] == ("missed", pytest.approx(1000))
    assert status(kpi, "2026-09", 1000)[:2] == ("met", pytest.approx(1000))


def test_gate_of_the_target_in_force(tmp_path: Path) -> None:
    kpi = kpi_with(
        tmp_path, [{"min": 1, "by": "2026-03-31", "gate": "warn"}, {"min": 2, "by": "2026-06-30"}]
    )
    finals = resolve(kpi, lambda p: None)
    assert finals is not None
    assert str(bound_for(parse_label("2026-02"), finals).gate) == "warn"
    assert str(bound_for(parse_label("2026-05"), finals).gate) == "fail"


def test_statuses_end_to_end(tmp_path: Path) -> None:
    """Monthly sessions; conversion in Sept 3/10 = 30 %, Oct 4/12 = 33.3 %."""
    rows = ["at,converted"]
    rows += [f"2026-09-{d:02d} 12:00:00,{'true' if d <= 3 else 'false'}" for d in range(1, 11)]
    rows += [f"2026-10-{d:02d} 12:00:00,{'true' if d <= 4 else 'false'}" for d in range(1, 13)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = {
        "kpispec": 1,
        "scorecard": {"id": "c", "title": "C", "owner": "me"},
        "sources": [{"id": "s", "path": "s.csv", "time": "at"}],
        "kpis": [
            # +10 % on September's 30 % -> 33 %, gliding over October to November (61 days):
            # October's bound is 30 + 3 * 31/61 = 31.52...; 33.33 meets it
            {"id": "glide", "source": "s", "formula": "100 * share(converted)",
             "target": {"baseline": {"period": "2026-09"}, "change": "+10%", "by": "2026-11-30", "why": "w"}},
            {"id": "at_risk", "source": "s", "formula": "100 * share(converted)",
             "target": {"min": 34, "tolerance": "5%", "by": "2026-12-31", "why": "w"}},
            {"id": "missed", "source": "s", "formula": "100 * share(converted)",
             "target": {"min": 40, "by": "2026-12-31", "why": "w"}},
            {"id": "none", "source": "s", "formula": "count(*)"},
            {"id": "empty", "source": "s", "formula": "avg(1) filter (where converted and not converted)",
             "target": {"min": 1, "by": "2026-12-31", "why": "w"}},
        ],
    }  # fmt: skip
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    doc = to_dict(kpispec.evaluate(tmp_path, as_of="2026-11-22"))
    kpis = {k["id"]: k for k in doc["scorecards"][0]["kpis"]}
    assert kpis["glide"]["period"]["label"] == "2026-10"
    assert kpis["glide"]["value"] == pytest.approx(100 * 4 / 12)
    assert kpis["glide"]["bound"]["min"] == pytest.approx(30 + 3 * 31 / 61)
    assert kpis["glide"]["status"] == "met"
    assert kpis["at_risk"]["status"] == "at_risk"  # 33.3 >= 34 - 1.7
    assert kpis["missed"]["status"] == "missed"
    assert kpis["none"]["status"] == "no_target"
    assert kpis["none"]["value"] == 12
    assert kpis["empty"]["status"] == "no_data"
    assert doc["summary"] == {
        "kpis": 5, "met": 1, "at_risk": 1, "missed": 1, "no_data": 1, "no_target": 1, "stale": 0,
    }  # fmt: skip
