"""The library behind the commands: what kpispec.validate, check and test return."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_files

import kpispec
from kpispec.periods import in_calendar, label_grain, parse_label, well_formed
from kpispec.runs import CHECK_FORMATS

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "example"
AS_OF = "2026-11-22"

UNOWNED = """\
kpispec: 1
scorecard: {id: web}
kpis:
  - id: visits
    formula: 1 + 1
    unit: count
"""


@pytest.mark.parametrize("fmt", CHECK_FORMATS)
def test_check_renders_what_the_command_prints(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    run = kpispec.check("specs", as_of=AS_OF)
    status, printed = (GOLDEN / f"check.{fmt}").read_text(encoding="utf-8").split("\n", 1)
    assert run.render(fmt) == printed
    assert status == ("exit 0" if run.passed else "exit 1")


def test_validate_names_a_missing_path_before_reading_any(tmp_path: Path) -> None:
    write_files(tmp_path, {"web.yaml": UNOWNED})
    with pytest.raises(kpispec.SpecError) as caught:
        kpispec.validate([tmp_path, tmp_path / "nowhere"])
    [d] = caught.value.diagnostics
    assert (d.code, d.message) == ("E100", f"no such file or folder: {tmp_path / 'nowhere'}")


def test_two_paths_of_one_project_report_each_diagnostic_once(tmp_path: Path) -> None:
    write_files(tmp_path, {"web.yaml": UNOWNED})
    once = kpispec.validate(tmp_path)
    twice = kpispec.validate([tmp_path, tmp_path / "web.yaml"])
    assert [d.code for d in once.diagnostics] == ["W600", "W601"]  # no owner, no target
    assert twice.diagnostics == once.diagnostics
    assert (twice.kpis, twice.scorecards) == (1, 1)
    assert twice.summary() == "valid: 1 KPI in 1 scorecard (2 warnings)"
    strict = kpispec.validate(tmp_path, strict=True)
    assert (strict.ok, strict.summary()) == (False, "invalid: 2 errors")


def test_a_test_run_counts_every_test_of_the_project_once() -> None:
    loaded = kpispec.load(ROOT / "specs")
    count = sum(len(card.tests) for card in loaded.checked.project.scorecards)
    run = kpispec.test([loaded, ROOT / "specs"], as_of=AS_OF)
    assert len(run.outcomes) == count > 0
    assert run.lines()[-1] == f"{count} passed, 0 failed"


@pytest.mark.parametrize(
    ("label", "grain", "formed", "real"),
    [
        ("2026", "year", True, True),
        ("2026-Q4", "quarter", True, True),
        ("2026-13", "month", False, False),
        ("2026-02-30", "day", True, False),  # the form of a date, not a date
        ("2025-W53", "week", True, False),  # 2025 has 52 ISO weeks
        ("2026-W53", "week", True, True),  # 2026 has 53
        ("2026-W54", "week", False, False),
        ("0999-01", "month", True, False),  # before the years kpispec accepts
        ("2026-Q5", None, False, False),
    ],
)
def test_one_grammar_of_period_labels(
    label: str, grain: str | None, formed: bool, real: bool
) -> None:
    assert label_grain(label) == grain
    assert well_formed(label) is formed
    assert in_calendar(label) is real
    if real:
        assert parse_label(label).label == label
