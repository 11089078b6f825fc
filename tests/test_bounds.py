"""Bounded resources and no internal errors: each limit is tested on both of its sides.

Values are computed by hand in the comments. Everything runs through the Python API,
which may raise only KpispecError subclasses.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from helpers import evaluate_doc, write_files

import kpispec
from kpispec.diagnostics import DataError, KpispecError, SpecError
from kpispec.engine.spectests import run_tests
from kpispec.formatting import format_value
from kpispec.formula.parser import MAX_DEPTH, MAX_TREE_DEPTH, parse
from kpispec.formula.tokens import FormulaSyntaxError
from kpispec.report.svg import Scale
from kpispec.report.views import MAX_MEMBERS, breakdown_view
from kpispec.results import Breakdown, Member, MemberPoint, from_json

CSV = "at,x,ch\n2026-01-05,1,a\n2026-01-20,2,b\n2026-02-05,4,a\n"
PROJECT = "kpispec: 1\ntimezone: UTC\n"


def spec(kpis: str, sources: str = "  - {id: s, path: s.csv, time: at}\n", tests: str = "") -> str:
    return f"kpispec: 1\nscorecard: {{id: t, title: T}}\nsources:\n{sources}kpis:\n{kpis}{tests}"


def project(tmp_path: Path, kpis: str, csv: str = CSV, **more: str | bytes) -> Path:
    files: dict[str, str | bytes] = {"kpispec.yaml": PROJECT, "s.yaml": spec(kpis), "s.csv": csv}
    files.update(more)
    return write_files(tmp_path, files)


def kpi(formula: str, extra: str = "") -> str:
    return f"  - {{id: k, source: s, formula: '{formula}'{extra}}}\n"


def value_of(doc: dict, kpi_id: str = "k") -> float | None:
    return next(k["value"] for c in doc["scorecards"] for k in c["kpis"] if k["id"] == kpi_id)


def codes(exc: pytest.ExceptionInfo[KpispecError]) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


# ---------------------------------------------------------------- formulas


def test_nesting_limit_on_both_sides() -> None:
    assert MAX_DEPTH == 64  # the documented limit (docs/language.md 7.4)
    parse("(" * 63 + "sum(x)" + ")" * 63)  # 63 parentheses + the call's argument = 64
    with pytest.raises(FormulaSyntaxError, match="nests too deeply"):
        parse("(" * 64 + "sum(x)" + ")" * 64)
    parse("-" * 63 + "sum(x)")
    with pytest.raises(FormulaSyntaxError, match="nests too deeply"):
        parse("-" * 64 + "sum(x)")


def test_tree_depth_limit_on_both_sides() -> None:
    assert MAX_TREE_DEPTH == 256
    # n terms: n - 1 operators above the first sum, the sum, its column = n + 1 levels
    parse(" + ".join(["sum(x)"] * 255))
    with pytest.raises(FormulaSyntaxError, match="too deep"):
        parse(" + ".join(["sum(x)"] * 256))
    with pytest.raises(FormulaSyntaxError, match="too deep") as exc:
        parse(" + ".join(["sum(x)"] * 300))
    # it underlines the start of the chain, the first 300 - 256 = 44 terms: 44 * 6
    # characters of sum(x) and 43 * 3 of " + "
    assert (exc.value.start, exc.value.end) == (0, 44 * 6 + 43 * 3)


def test_a_thousand_term_sum_is_a_diagnostic_not_a_recursion_error(tmp_path: Path) -> None:
    project(tmp_path, kpi(" + ".join(["sum(x)"] * 1000)))
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E300"]
    loc = exc.value.diagnostics[0].loc
    assert (loc.line, loc.col) == (6, 34)  # `  - {id: k, source: s, formula: '` is 33 long


def test_a_long_chain_below_the_limit_evaluates(tmp_path: Path) -> None:
    # 250 times sum(x) in January 2026: 250 * (1 + 2) = 750
    project(tmp_path, kpi(" + ".join(["sum(x)"] * 250)))
    assert value_of(evaluate_doc(tmp_path, as_of="2026-02-01")) == 750


@pytest.mark.parametrize(
    "literal", ["9223372036854775808", "18446744073709551617", "9" * 5000, "1e999"]
)
def test_number_literals_beyond_their_type(tmp_path: Path, literal: str) -> None:
    project(tmp_path, kpi(f"sum(x) + {literal}"))
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E300"]


def test_integer_arithmetic_does_not_wrap(tmp_path: Path) -> None:
    """9223372036854775807 + 1 is 2**63 (in floating point), not -2**63."""
    kpis = (
        kpi("9223372036854775807 + count(*)", "")  # January: 2 rows -> 2**63 + 1 ~ 2**63
        + "  - {id: m, source: s, formula: 'max(big) + max(big)'}\n"
        + "  - {id: n, source: s, formula: '-min(big) * 1'}\n"
    )
    csv = "at,x,ch,big\n2026-01-05,1,a,9223372036854775807\n2026-01-06,1,a,-9223372036854775808\n"
    write_files(
        tmp_path,
        {
            "kpispec.yaml": PROJECT,
            "s.yaml": spec(kpis, "  - {id: s, path: s.csv, time: at, columns: {big: integer}}\n"),
            "s.csv": csv,
        },
    )
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    assert value_of(doc, "k") == 2.0**63
    assert value_of(doc, "m") == 2.0**64  # (2**63 - 1) * 2, rounded to a double
    assert value_of(doc, "n") == 2.0**63  # -(-2**63), which no 64-bit integer holds


def test_round_with_absurd_digits(tmp_path: Path) -> None:
    # January: (1 + 2) / 3 = 1; rounding to 1e300 decimals changes nothing
    project(tmp_path, kpi("round(sum(x) / 3, 1e300)"))
    assert value_of(evaluate_doc(tmp_path, as_of="2026-02-01")) == 1


# ---------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("!!float abc", "E106"),
        ("!!int abc", "E106"),
        ("!!int ''", "E106"),
        ("9" * 5000, "E205"),
        ("9223372036854775808", "E205"),
        ("0x10000000000000000", "E205"),
    ],
)
def test_yaml_scalars_that_are_not_what_they_say(tmp_path: Path, value: str, code: str) -> None:
    project(tmp_path, f"  - {{id: k, source: s, formula: sum(x), decimals: {value}}}\n")
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert code in codes(exc)


def test_largest_yaml_integer_is_read(tmp_path: Path) -> None:
    project(
        tmp_path,
        "  - {id: k, source: s, formula: sum(x), target: {min: 9223372036854775807, by: 2026-12-31}}\n",
    )
    loaded = kpispec.load(tmp_path)
    assert loaded.checked.kpis["k"].kpi.targets[0].min == float(2**63 - 1)


def test_rows_of_the_wrong_type(tmp_path: Path) -> None:
    tests = "tests:\n  - {name: a, kpi: k, rows: oops, expect: 1}\n"
    write_files(
        tmp_path,
        {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), tests=tests), "s.csv": CSV},
    )
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E202"]


def test_a_ragged_test_csv_fails_its_test(tmp_path: Path) -> None:
    tests = "tests:\n  - {name: a, kpi: k, period: 2026-01, rows: {s: r.csv}, expect: 1}\n"
    write_files(
        tmp_path,
        {
            "kpispec.yaml": PROJECT,
            "s.yaml": spec(kpi("sum(x)"), tests=tests),
            "s.csv": CSV,
            "r.csv": "at,x\n2026-01-05,1,3,4\n",
        },
    )
    loaded = kpispec.load(tmp_path)
    [outcome] = run_tests(loaded.checked, as_of=kpispec.api.parse_as_of("2026-03-01"))
    assert not outcome.passed
    assert [d.code for d in outcome.diagnostics] == ["D102"]


# ---------------------------------------------------------------- dates and periods


@pytest.mark.parametrize(
    ("as_of", "period", "ok"),
    [
        ("0001-01-01", None, False),
        ("0999-12-31", None, False),
        ("1000-01-01", None, True),
        ("9000-12-31", None, True),
        ("9001-01-01", None, False),
        ("9999-12-31", None, False),
        ("2026-03-01", "9999-12-31", False),
        ("2026-03-01", "9000-12", True),
        ("2026-03-01", "0999", False),
    ],
)
def test_the_calendar_on_both_sides(
    tmp_path: Path, as_of: str, period: str | None, ok: bool
) -> None:
    project(tmp_path, kpi("sum(x)"))
    if ok:
        evaluate_doc(tmp_path, as_of=as_of, period=period)
    else:
        with pytest.raises(SpecError) as exc:
            evaluate_doc(tmp_path, as_of=as_of, period=period)
        assert codes(exc) == ["E001"]


def test_far_as_of_with_a_baseline_is_bounded(tmp_path: Path) -> None:
    """--as-of 9000 with a baseline in 2026: 83,699 months would be computed; E508."""
    project(
        tmp_path,
        kpi("sum(x)", ", target: {baseline: {period: 2026-01}, change: +10%, by: 2026-12-31}"),
    )
    kpispec.load(tmp_path)  # valid: the baseline is near the deadline
    with pytest.raises(SpecError) as exc:
        evaluate_doc(tmp_path, as_of="9000-12-31")
    assert codes(exc) == ["E508"]
    assert "83,699 months" in exc.value.diagnostics[0].message  # 9000-11 - 2026-01 + 1


@pytest.mark.parametrize(("day", "ok"), [("2016-01-19", True), ("2016-01-18", False)])
def test_the_period_limit_on_both_sides(tmp_path: Path, day: str, ok: bool) -> None:
    """From 2016-01-19 to 2026-12-31 are 4,000 days (inclusive); one day earlier, 4,001."""
    target = (
        f", grain: day, target: {{baseline: {{period: '{day}'}}, change: +10%, by: 2026-12-31}}"
    )
    project(tmp_path, kpi("sum(x)", target))
    if ok:
        kpispec.load(tmp_path)
    else:
        with pytest.raises(SpecError) as exc:
            kpispec.load(tmp_path)
        assert codes(exc) == ["E508"]


def test_baseline_in_the_year_one_with_time_null(tmp_path: Path) -> None:
    """This aborted Polars (a native allocation failure) while validate said valid."""
    write_files(
        tmp_path,
        {
            "kpispec.yaml": PROJECT,
            "s.yaml": spec(
                kpi(
                    "sum(x)",
                    ", target: {baseline: {period: '0001-01'}, change: +10%, by: 2026-12-31}",
                ),
                "  - {id: s, path: s.csv, time: null}\n",
            ),
            "s.csv": CSV,
        },
    )
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E506"]


def test_huge_durations(tmp_path: Path) -> None:
    sources = "  - {id: s, path: s.csv, time: at, fresh_within: 99999999999999 days}\n"
    write_files(
        tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), sources), "s.csv": CSV}
    )
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    assert value_of(doc) == 3  # 1 + 2 in January, and never stale
    assert not doc["scorecards"][0]["kpis"][0]["stale"]
    project(tmp_path, kpi("sum(x)", ", window: 1201 months"))
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E205"]
    project(tmp_path, kpi("sum(x)", ", window: 1200 months"))
    assert value_of(evaluate_doc(tmp_path, as_of="2026-02-01")) == 3


# ---------------------------------------------------------------- data


@pytest.mark.parametrize("csv", ["at,x,ch\n", "at,x,ch\n2026-01-05,,a\n", "at,x,ch\n,,\n"])
def test_csv_without_values_is_no_data(tmp_path: Path, csv: str) -> None:
    project(tmp_path, kpi("sum(x)", ", target: {min: 1, by: 2026-12-31}"), csv=csv)
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    [k] = doc["scorecards"][0]["kpis"]
    assert (k["value"], k["status"]) == (None, "no_data")


@pytest.mark.parametrize("times", [[20260105, 20260106], [1.5, 2.5], [True, False]])
def test_parquet_time_column_of_numbers_is_an_error(tmp_path: Path, times: list) -> None:
    sources = "  - {id: s, path: s.parquet, time: at}\n"
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), sources)})
    pl.DataFrame({"at": times, "x": [1, 2]}).write_parquet(tmp_path / "s.parquet")
    with pytest.raises(DataError) as exc:
        evaluate_doc(tmp_path, as_of="2026-02-01")
    assert codes(exc) == ["D105"]
    assert "`at`" in exc.value.diagnostics[0].message


@pytest.mark.parametrize("value", [1e28, 1e300, 1.7976931348623157e308])
def test_huge_values_are_formatted(value: float) -> None:
    text = format_value(value, "number", "en", decimals=0)
    # the shortest decimal that reads back as the double, as repr() writes it: 1e+28
    assert text.replace(",", "") == format(Decimal(repr(value)), "f")
    assert format_value(value, "percent", "nb", decimals=1).endswith("%")
    assert format_value(value, "currency", "da", currency="EUR").endswith("€")


def test_huge_values_through_eval_check_and_build(tmp_path: Path) -> None:
    # the largest x in January is 2; doubling 1e30 is exact in binary floating point
    project(tmp_path, kpi("max(x) * 1e30", ", unit: currency, target: {min: 1, by: 2026-12-31}"))
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    assert value_of(doc) == 2e30
    kpispec.render(doc, tmp_path / "site")
    page = (tmp_path / "site" / "kpi" / "k.html").read_text("utf-8")
    assert "2,000,000,000,000,000,000,000,000,000,000.00" in page


def test_chart_scale_of_equal_huge_values() -> None:
    scale = Scale([9.2e18, 9.2e18], 0, 100)
    assert scale.y(9.2e18) == 50  # the middle, not a division by zero
    scale = Scale([-1.7e308, 1.7e308], 0, 100)
    assert 0 < scale.y(0.0) < 100


# ---------------------------------------------------------------- file names


def test_a_file_name_too_long(tmp_path: Path) -> None:
    sources = "  - {id: s, path: " + "a" * 300 + ".csv, time: at}\n"
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), sources)})
    kpispec.load(tmp_path, data=False)
    with pytest.raises(KpispecError):
        evaluate_doc(tmp_path, as_of="2026-02-01")
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path / ("b" * 300))
    assert codes(exc) == ["E100"]


def test_a_spec_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    project(tmp_path, kpi("sum(x)"))
    os.rename(tmp_path / "s.yaml", os.path.join(os.fsencode(tmp_path), b"\xff.yaml"))
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    assert doc["scorecards"][0]["kpis"][0]["file"] == "\ufffd.yaml"
    kpispec.render(doc, tmp_path / "site")


# ---------------------------------------------------------------- reports


def test_breakdown_is_capped_on_the_site(tmp_path: Path) -> None:
    # members m0..m119 with value i; the 50 largest are m119..m70; the rest sum to
    # 0 + 1 + ... + 69 = 69 * 70 / 2 = 2415
    saved = Path(__file__).parent / "golden" / "example" / "eval.json"
    results = from_json(saved.read_text(encoding="utf-8").split("\n", 1)[1])
    _, some_kpi = next(results.kpis())
    count = replace(some_kpi, unit="count", decimals=None, currency=None)
    members = tuple(
        Member(f"m{i}", float(i), (MemberPoint("2026-01", float(i)),)) for i in range(120)
    )
    view = breakdown_view(count, Breakdown("who", members), "en")
    rows = view.members
    assert len(rows) == MAX_MEMBERS + 1 == 51
    assert [r.member for r in rows[:2]] == ["m119", "m118"]
    assert rows[-1].member == "70 other members"
    assert rows[-1].value == "2,415"
    assert view.note is not None and "50 largest of 120" in view.note
    rate = breakdown_view(replace(count, unit="percent"), Breakdown("who", members), "en")
    assert rate.members[-1].value == ""  # a sum of rates means nothing
    small = breakdown_view(count, Breakdown("who", members[:50]), "en")
    assert len(small.members) == 50 and small.note is None
    assert [r.member for r in small.members[:2]] == ["m0", "m1"]  # the document's order


def test_many_members_make_a_small_page_and_a_full_document(tmp_path: Path) -> None:
    rows = "".join(f"2026-01-{1 + i % 28:02d},{i},m{i}\n" for i in range(3000))
    project(tmp_path, kpi("count(*)", ", unit: count, dimensions: [ch]"), csv="at,x,ch\n" + rows)
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    [k] = doc["scorecards"][0]["kpis"]
    assert len(k["breakdowns"][0]["members"]) == 3000
    kpispec.render(doc, tmp_path / "site")
    page = (tmp_path / "site" / "kpi" / "k.html").read_text("utf-8")
    assert page.count("<tr><td>m") == 50
    assert "2,950 other members" in page
    assert len(page) < 100_000


# ---------------------------------------------------------------- validate scales


def test_validate_is_linear_in_its_diagnostics(tmp_path: Path) -> None:
    """20,000 unknown keys: about 60 s when de-duplication was quadratic, 2 s now; the bound
    is generous for a shared machine and still far below the quadratic time."""
    lines = [
        "kpispec: 1",
        "scorecard: {id: c, title: C, owner: o}",
        "kpis:",
        "  - id: k",
        "    formula: '1'",
    ]
    lines += [f"    unknown_key_{i}: 1" for i in range(20_000)]
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "c.yaml": "\n".join(lines) + "\n"})
    from typer.testing import CliRunner

    from kpispec.cli import app

    started = time.monotonic()
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "invalid: 20000 errors" in result.output
    assert elapsed < 20, elapsed


def test_a_glob_matching_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    sources = "  - {id: s, path: 'd/*.csv', time: at}\n"
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), sources)})
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.csv").write_text(CSV)
    Path(os.fsdecode(os.path.join(os.fsencode(tmp_path / "d"), b"\xff.csv"))).write_text(CSV)
    with pytest.raises(DataError) as exc:
        evaluate_doc(tmp_path, as_of="2026-02-01")
    assert codes(exc) == ["D102"]
    assert "\ufffd.csv: its name is not UTF-8" in exc.value.diagnostics[0].message


def test_charts_of_the_largest_doubles() -> None:
    from kpispec.report.svg import bullet, nice_ticks, series_chart

    biggest = 1.7976931348623157e308
    # the axis from -1.8e308 to 1.8e308 in steps of 1e308: three ticks, not an endless loop
    assert nice_ticks(-biggest, biggest) == ([-1e308, 0.0, 1e308], 0)
    assert nice_ticks(0, 10) == ([0.0, 2.5, 5.0, 7.5, 10.0], 1)
    for svg_text in (
        series_chart(["a", "b"], [biggest, -biggest], *[[None, None]] * 4, "l", ["a", "b"]),
        bullet(biggest, -biggest, None, None, None, "met", "l"),
        bullet(9.2e18, 9.2e18, None, None, None, "met", "l"),
    ):
        assert "inf" not in svg_text and "nan" not in svg_text


def test_a_deadline_on_the_last_day_python_knows(tmp_path: Path) -> None:
    project(tmp_path, kpi("sum(x)", ", target: {min: 1, by: 9999-12-31}"))
    doc = evaluate_doc(tmp_path, as_of="2026-02-01")
    assert doc["scorecards"][0]["kpis"][0]["status"] == "met"  # 3 >= 1


def test_a_nul_character_in_a_source_path(tmp_path: Path) -> None:
    sources = '  - {id: s, path: "a\\0.csv", time: at}\n'
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(kpi("sum(x)"), sources)})
    with pytest.raises(SpecError) as exc:
        kpispec.load(tmp_path)
    assert codes(exc) == ["E204"]
