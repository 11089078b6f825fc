"""`kpispec check`, the CI gate, end to end through the command line; and the CI files.

Every run is `python -m kpispec check ...` in a subprocess, on small projects written into
``tmp_path``, evaluated as of 2026-11-15 so that the judged period is October 2026. Every
expected value and status is worked out by hand next to the data.

Exit statuses (docs/cli.md): 0 every gated target met or at risk, 1 a `gate: fail`
target missed (or at risk with `--fail-on at_risk`), 2 invalid specs or usage, 3 a data
or source error. The formats: text, json, junit, github (workflow commands escaped as
GitHub's toolkit escapes them), markdown, several at once with `--junit/--markdown/--json
FILE`, and the step summary appended to `$GITHUB_STEP_SUMMARY`.

The CI files that ship with kpispec are checked here too: action.yml (a composite GitHub
Action), .pre-commit-hooks.yaml, and the examples of docs/ci.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers import line_of, write_files

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin folder, which holds `kpispec`
AS_OF = "2026-11-15"  # the last month that ended by then: October 2026
FORMATS = ["text", "json", "junit", "github", "markdown"]


# ------------------------------------------------------------------ helpers


@dataclass
class Run:
    code: int
    out: str
    err: str
    raw: bytes  #: standard output as written, byte for byte


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without GitHub's variables (the suite may itself run in Actions)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(extra)
    return env


def check(*args: str, cwd: Path, **env: str) -> Run:
    """Run `python -m kpispec check ARGS` in ``cwd``; output decoded without newline changes."""
    result = subprocess.run(
        [sys.executable, "-m", "kpispec", "check", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        timeout=120,
    )
    out, err = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert "Traceback" not in err, err
    return Run(result.returncode, out, err, result.stdout)


def verdict_of(run: Run) -> dict:  # type: ignore[type-arg]
    return json.loads(run.out)["verdict"]


def kpis_of(run: Run) -> dict[str, dict]:  # type: ignore[type-arg]
    doc = json.loads(run.out)
    return {k["id"]: k for card in doc["scorecards"] for k in card["kpis"]}


# ------------------------------------------------------------------ the project

PROJECT = "kpispec: 1\ntimezone: UTC\nhistory: 3\n"

SESSIONS = """\
started_at,channel,pages,converted
2026-09-05 10:00:00,search,4,true
2026-09-20 10:00:00,email,2,false
2026-10-03 10:00:00,search,1,false
2026-10-12 10:00:00,email,3,true
2026-10-20 10:00:00,email,2,true
2026-10-30 10:00:00,search,5,true
"""
# By hand, for October 2026 (the judged period) and September (the previous one):
#                       2026-09                  2026-10
# sessions              2                        4
# converted             1 of 2 -> 50 %           3 of 4 -> 75 %
# avg(pages)            (4 + 2) / 2 = 3          (1 + 3 + 2 + 5) / 4 = 2.75
# share(pages = 1)      0 of 2 -> 0 %            1 of 4 -> 25 %
# share(search)         1 of 2 -> 50 %           2 of 4 -> 50 %
# email sessions        1                        2

WEB = """\
kpispec: 1
scorecard: {id: web, title: Web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - id: visits
    name: Visits
    source: sessions
    formula: count(*)
    unit: count
  - id: conversion_rate
    name: Conversion rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    target:
      min: 60
      by: 2026-12-31
      why: More buyers
  - id: pages_per_session
    name: Pages per session
    source: sessions
    formula: avg(pages)
    target:
      min: 3
      tolerance: 10%
  - id: bounce_rate
    name: Bounce <script>alert(1)</script> | rate
    source: sessions
    formula: 100 * share(pages = 1)
    unit: percent
    direction: lower_is_better
    target:
      max: 20
      tolerance: 1
"""
# visits               4, no target                                   -> skipped
# conversion_rate      75 >= 60                                        -> met, passes
# pages_per_session    2.75 < 3, but >= 3 - 10 % = 2.7                 -> at_risk (gate fail)
# bounce_rate          25 > 20 + 1                                     -> missed (gate fail): FAILS

SHOP = """\
kpispec: 1
scorecard: {id: shop, title: Shop, owner: sales}
kpis:
  - id: search_share
    name: Search share
    source: sessions
    formula: 100 * share(channel = 'search')
    unit: percent
    target: {min: 70, gate: warn, by: 2026-12-31, why: Be found}
  - id: email_sessions
    name: E-mail sessions
    source: sessions
    formula: count(*) filter (where channel = 'email')
    unit: count
    target: {max: 1, gate: off}
"""
# search_share         50 < 70, no tolerance                           -> missed, gate warn: warns
# email_sessions       2 > 1                                           -> missed, gate off: passes
#
# Whole project: 6 KPIs, 1 met, 1 at risk, 3 missed, 0 no data, 1 no target.
# With --fail-on missed (default): fails bounce_rate; warns pages_per_session, search_share.

#: the line each KPI's CI messages point at: its target's mapping (the first key of a block
#: mapping, the `target: {...}` line of a flow mapping), or the KPI itself without target
LINES = {
    "visits": ("web.yaml", line_of(WEB, "- id: visits")),
    "conversion_rate": ("web.yaml", line_of(WEB, "min: 60")),
    "pages_per_session": ("web.yaml", line_of(WEB, "min: 3")),
    "bounce_rate": ("web.yaml", line_of(WEB, "max: 20")),
    "search_share": (
        "shop.yaml",
        line_of(SHOP, "target: {min: 70, gate: warn, by: 2026-12-31, why: Be found}"),
    ),
    "email_sessions": ("shop.yaml", line_of(SHOP, "target: {max: 1, gate: off}")),
}


def make_project(folder: Path, web: str = WEB, shop: str = SHOP) -> Path:
    return write_files(
        folder,
        {
            "kpispec.yaml": PROJECT,
            "web.yaml": web,
            "shop.yaml": shop,
            "data/sessions.csv": SESSIONS,
        },
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project in ``tmp_path/project``; runs use cwd ``tmp_path`` and path ``project``."""
    return make_project(tmp_path / "project")


@pytest.fixture
def passing(tmp_path: Path) -> Path:
    """The project with bounce_rate's bound at 30: 25 <= 30 is met, nothing gated is missed."""
    return make_project(tmp_path / "project", web=WEB.replace("max: 20", "max: 30"))


# ------------------------------------------------------------------ exit statuses


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_0_when_every_gated_target_is_met_or_at_risk(passing: Path, fmt: str) -> None:
    # pages_per_session is at risk behind gate: fail, search_share missed behind gate: warn,
    # email_sessions missed behind gate: off: none of them fails the job.
    run = check("project", "--as-of", AS_OF, "--format", fmt, cwd=passing.parent)
    assert run.code == 0, run.err
    assert run.out


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_1_when_a_gated_target_is_missed(project: Path, fmt: str) -> None:
    run = check("project", "--as-of", AS_OF, "--format", fmt, cwd=project.parent)
    assert run.code == 1, run.err
    assert "bounce_rate" in run.out or "Bounce" in run.out


INVALID_SPECS = {
    "unknown column": (WEB.replace("share(converted)", "share(convertd)"), "E306"),
    "bad YAML": (WEB.replace("    unit: count\n", "    unit: [count\n"), "E103"),
    "min above max": (WEB.replace("min: 60", "min: 60\n      max: 50"), "E500"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(INVALID_SPECS))
def test_exit_2_for_invalid_specs(tmp_path: Path, case: str, fmt: str) -> None:
    web, code = INVALID_SPECS[case]
    make_project(tmp_path / "project", web=web)
    run = check("project", "--as-of", AS_OF, "--format", fmt, cwd=tmp_path)
    assert run.code == 2
    assert f"[{code}]" in run.err
    assert "web.yaml:" in run.err
    assert run.out == ""  # no half report on standard output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "sometimes"], "--fail-on cannot be 'sometimes'"),
        (["--format", "xml"], "'xml' is not one of"),
        (["--as-of", "2026-02-30"], "invalid --as-of date"),
        (["--period", "2026-13"], "invalid --period"),
        (["--scorecard", "nope"], "no scorecard `nope`"),
        (["--no-such-option"], "No such option"),
    ],
)
def test_exit_2_for_usage_errors(project: Path, args: list[str], message: str) -> None:
    run = check("project", "--as-of", AS_OF, *args, cwd=project.parent)
    assert run.code == 2
    assert message in run.err


def test_exit_2_for_a_path_that_does_not_exist(tmp_path: Path) -> None:
    run = check("nowhere", "--as-of", AS_OF, cwd=tmp_path)
    assert run.code == 2
    assert "no such file or folder: nowhere" in run.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_3_when_a_data_file_is_missing(project: Path, fmt: str) -> None:
    (project / "data" / "sessions.csv").unlink()
    run = check("project", "--as-of", AS_OF, "--format", fmt, cwd=project.parent)
    assert run.code == 3
    assert "[D101]" in run.err
    assert "no file matches 'data/sessions.csv'" in run.err
    assert run.out == ""  # no report of KPIs that could not be computed


def test_exit_3_when_a_value_does_not_parse(project: Path) -> None:
    # `pages` holds text in one row: avg(pages) cannot be computed. "3x" could be read
    # more than one way, so validation leaves the type to the data (a plain word such as
    # "three" makes the column text already for validation: E314, exit 2)
    (project / "data" / "sessions.csv").write_text(
        SESSIONS.replace("2026-10-12 10:00:00,email,3,", "2026-10-12 10:00:00,email,3x,"),
        encoding="utf-8",
    )
    run = check("project", "--as-of", AS_OF, cwd=project.parent)
    assert run.code == 3
    assert "error[D1" in run.err
    assert "project/web.yaml:" in run.err


# ------------------------------------------------------------------ --fail-on and gate:


@pytest.mark.parametrize(
    ("fail_on", "code", "failures", "warnings"),
    [
        ("missed", 1, ["bounce_rate"], ["pages_per_session", "search_share"]),
        ("at_risk", 1, ["bounce_rate", "pages_per_session"], ["search_share"]),
        ("never", 0, [], ["bounce_rate", "pages_per_session", "search_share"]),
    ],
)
def test_fail_on_decides_what_fails(
    project: Path, fail_on: str, code: int, failures: list[str], warnings: list[str]
) -> None:
    # gate: warn (search_share, missed) only ever warns; gate: off (email_sessions, missed)
    # only reports: neither is a failure or a warning whatever --fail-on says.
    run = check(
        "project", "--as-of", AS_OF, "--format", "json", "--fail-on", fail_on, cwd=project.parent
    )
    assert run.code == code
    verdict = verdict_of(run)
    assert verdict["passed"] is (code == 0)
    assert verdict["fail_on"] == fail_on
    assert sorted(verdict["failures"]) == failures
    assert sorted(verdict["warnings"]) == warnings


def test_fail_on_at_risk_turns_an_at_risk_gated_kpi_into_exit_1(passing: Path) -> None:
    # pages_per_session: 2.75 against min 3 with tolerance 10 % (down to 2.7): at risk
    assert check("project", "--as-of", AS_OF, cwd=passing.parent).code == 0
    run = check(
        "project", "--as-of", AS_OF, "--fail-on", "at_risk", "-f", "json", cwd=passing.parent
    )
    assert run.code == 1
    assert verdict_of(run)["failures"] == ["pages_per_session"]
    assert kpis_of(run)["pages_per_session"]["status"] == "at_risk"
    assert kpis_of(run)["pages_per_session"]["value"] == pytest.approx(2.75)


def test_fail_on_never_turns_a_miss_into_exit_0(project: Path) -> None:
    run = check("project", "--as-of", AS_OF, "--fail-on", "never", cwd=project.parent)
    assert run.code == 0
    assert run.out.splitlines()[-1] == (
        "kpispec check passed: 0 failing, 3 warning, 1 passing, 1 missed (gate off), "
        "1 without target (fail on: never)"
    )


@pytest.mark.parametrize("fail_on", ["missed", "at_risk", "never"])
def test_gate_warn_and_gate_off_never_fail(project: Path, fail_on: str) -> None:
    # the shop scorecard alone: search_share missed behind gate: warn, email_sessions missed
    # behind gate: off
    run = check(
        "project",
        *("--as-of", AS_OF, "--scorecard", "shop", "--fail-on", fail_on, "-f", "json"),
        cwd=project.parent,
    )
    assert run.code == 0
    kpis = kpis_of(run)
    assert (kpis["search_share"]["status"], kpis["search_share"]["gate"]) == ("missed", "warn")
    assert (kpis["email_sessions"]["status"], kpis["email_sessions"]["gate"]) == ("missed", "off")
    assert verdict_of(run)["warnings"] == ["search_share"]


FRESH = """\
kpispec: 1
scorecard: {id: fresh, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at, fresh_within: FRESH}
kpis:
  - id: conversion_rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    target: {min: 60}
  - id: tv_pages
    source: sessions
    formula: sum(pages) filter (where channel = 'tv')
    target: {min: 1}
"""
# The newest session is 2026-10-30 10:00, 15 days and 14 hours before 2026-11-15:
# stale with fresh_within 2 days, fresh with 30 days.
# conversion_rate: 75 >= 60: met. tv_pages: no tv sessions, no value: no_data.


@pytest.mark.parametrize(("fresh_within", "stale"), [("2 days", True), ("30 days", False)])
@pytest.mark.parametrize("fail_on", ["missed", "at_risk"])
def test_stale_sources_and_missing_data_never_fail(
    tmp_path: Path, fresh_within: str, stale: bool, fail_on: str
) -> None:
    folder = write_files(
        tmp_path / "project",
        {
            "kpispec.yaml": PROJECT,
            "fresh.yaml": FRESH.replace("FRESH", fresh_within),
            "data/sessions.csv": SESSIONS,
        },
    )
    args = ("project", "--as-of", AS_OF, "--fail-on", fail_on)
    run = check(*args, "-f", "json", cwd=folder.parent)
    assert run.code == 0
    kpis = kpis_of(run)
    assert kpis["conversion_rate"]["status"] == "met"
    assert kpis["conversion_rate"]["stale"] is stale
    assert kpis["tv_pages"]["status"] == "no_data"
    assert json.loads(run.out)["summary"]["stale"] == (2 if stale else 0)
    verdict = verdict_of(run)
    assert verdict["failures"] == []
    assert verdict["warnings"] == (["conversion_rate", "tv_pages"] if stale else ["tv_pages"])

    text = check(*args, cwd=folder.parent)
    assert text.code == 0
    lines = text.out.splitlines()
    met_line = next(line for line in lines if "/conversion_rate:" in line)
    if stale:
        assert met_line.startswith("WARN fresh/conversion_rate: ")
        assert "met; stale data)" in met_line
    else:
        assert met_line.startswith("ok   fresh/conversion_rate: ")
        assert "stale" not in met_line


# ------------------------------------------------------------------ the formats


def test_text_format(project: Path) -> None:
    run = check("project", "--as-of", AS_OF, cwd=project.parent)
    assert run.code == 1
    lines = run.out.splitlines()
    # failing first, then warnings, misses behind gate: off, passing ones, those without target
    assert [line[:4] for line in lines[:-1]] == ["FAIL", "WARN", "WARN", "off ", "ok  ", "--  "]
    file, line = LINES["bounce_rate"]
    assert lines[0] == (
        "FAIL web/bounce_rate: Bounce <script>alert(1)</script> | rate 2026-10: 25.0%"
        f" (target ≤ 20.0%; missed) owner growth [project/{file}:{line}]"
    )
    file, line = LINES["search_share"]
    assert (
        "WARN shop/search_share: Search share 2026-10: 50.0%"
        f" (target ≥ 70.0% by 2026-12-31; missed) owner sales [project/{file}:{line}]"
    ) in lines
    file, line = LINES["pages_per_session"]
    assert (
        "WARN web/pages_per_session: Pages per session 2026-10: 2.75"
        f" (target ≥ 3; at risk) owner growth [project/{file}:{line}]"
    ) in lines
    # email_sessions: 2 > 1 behind gate: off is reported as missed, never as passing
    file, line = LINES["email_sessions"]
    assert lines[3] == (
        "off  shop/email_sessions: E-mail sessions 2026-10: 2"
        f" (target ≤ 1; missed (gate off)) owner sales [project/{file}:{line}]"
    )
    assert lines[-1] == (
        "kpispec check failed: 1 failing, 2 warning, 1 passing, 1 missed (gate off), "
        "1 without target (fail on: missed)"
    )


def test_json_format(project: Path) -> None:
    run = check("project", "--as-of", AS_OF, "--format", "json", cwd=project.parent)
    assert run.code == 1
    doc = json.loads(run.out)
    assert doc["as_of"] == AS_OF
    assert doc["summary"] == {
        "kpis": 6,
        "met": 1,
        "at_risk": 1,
        "missed": 3,
        "no_data": 0,
        "no_target": 1,
        "stale": 0,
    }
    assert doc["verdict"] == {
        "passed": False,
        "fail_on": "missed",
        "failures": ["bounce_rate"],
        "warnings": doc["verdict"]["warnings"],
    }
    assert sorted(doc["verdict"]["warnings"]) == ["pages_per_session", "search_share"]
    expected = {  # id: (October's value, status, gate), worked out next to SESSIONS and SHOP
        "visits": (4, "no_target", None),
        "conversion_rate": (75, "met", "fail"),
        "pages_per_session": (2.75, "at_risk", "fail"),
        "bounce_rate": (25, "missed", "fail"),
        "search_share": (50, "missed", "warn"),
        "email_sessions": (2, "missed", "off"),
    }
    kpis = kpis_of(run)
    assert sorted(kpis) == sorted(expected)
    for kpi_id, (value, status, gate) in expected.items():
        kpi = kpis[kpi_id]
        assert kpi["period"]["label"] == "2026-10"
        assert kpi["value"] == pytest.approx(value), kpi_id
        assert (kpi["status"], kpi["gate"]) == (status, gate), kpi_id
        assert (kpi["file"], kpi["target_line"] or kpi["line"]) == LINES[kpi_id], kpi_id
    # the same inputs and --as-of give the same bytes
    assert check("project", "--as-of", AS_OF, "-f", "json", cwd=project.parent).out == run.out


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_format(project: Path) -> None:
    run = check("project", "--as-of", AS_OF, "--format", "junit", cwd=project.parent)
    assert run.code == 1
    root = parse_junit(run.out)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("6", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == ["shop", "web"]  # one testsuite per scorecard
    assert (suites["web"].get("tests"), suites["web"].get("failures")) == ("4", "1")
    assert suites["web"].get("skipped") == "1"
    assert (suites["shop"].get("tests"), suites["shop"].get("failures")) == ("2", "0")
    assert suites["shop"].get("skipped") == "0"

    names = {
        "visits": "Visits (visits)",
        "conversion_rate": "Conversion rate (conversion_rate)",
        "pages_per_session": "Pages per session (pages_per_session)",
        "bounce_rate": "Bounce <script>alert(1)</script> | rate (bounce_rate)",
        "search_share": "Search share (search_share)",
        "email_sessions": "E-mail sessions (email_sessions)",
    }
    cases = {}
    for suite_name, suite in suites.items():
        for case in suite.findall("testcase"):
            assert case.get("classname") == suite_name
            kpi_id = re.fullmatch(r".* \((\w+)\)", case.get("name", ""), re.S).group(1)
            cases[kpi_id] = case
    assert sorted(cases) == sorted(names)
    for kpi_id, case in cases.items():
        file, line = LINES[kpi_id]
        assert case.get("name") == names[kpi_id]
        assert case.get("file") == f"project/{file}"
        assert case.get("line") == str(line)

    # a failure exactly for the gated miss, with the value against the bound
    failing = [k for k, c in cases.items() if c.find("failure") is not None]
    assert failing == ["bounce_rate"]
    failure = cases["bounce_rate"].find("failure")
    assert failure.get("message") == "missed: 25.0% against ≤ 20.0% in 2026-10"
    assert failure.get("type") == "missed"
    assert failure.text.endswith(f"\nproject/web.yaml:{LINES['bounce_rate'][1]}")
    # skipped exactly for the KPI without target
    skipped = [k for k, c in cases.items() if c.find("skipped") is not None]
    assert skipped == ["visits"]
    assert cases["visits"].find("skipped").get("message") == "no target"
    # warnings are not failures: they say so in system-out
    assert cases["search_share"].find("system-out").text.startswith("warning: ")
    assert cases["pages_per_session"].find("system-out").text.startswith("warning: ")


def test_junit_with_fail_on_at_risk(project: Path) -> None:
    run = check(
        "project", "--as-of", AS_OF, "-f", "junit", "--fail-on", "at_risk", cwd=project.parent
    )
    assert run.code == 1
    root = parse_junit(run.out)
    assert root.get("failures") == "2"
    failures = {
        c.get("name"): c.find("failure").get("message")
        for c in root.iter("testcase")
        if c.find("failure") is not None
    }
    assert failures == {
        "Pages per session (pages_per_session)": "at risk: 2.75 against ≥ 3 in 2026-10",
        "Bounce <script>alert(1)</script> | rate (bounce_rate)": (
            "missed: 25.0% against ≤ 20.0% in 2026-10"
        ),
    }


def test_junit_is_well_formed_whatever_the_kpi_name(tmp_path: Path) -> None:
    web = WEB.replace("name: Visits", 'name: "Visits \\e[31m red \\x01"')
    make_project(tmp_path / "project", web=web)
    run = check("project", "--as-of", AS_OF, "-f", "junit", cwd=tmp_path)
    if run.code == 2:
        return  # rejecting such a name as invalid would be fine too
    assert run.code == 1
    parse_junit(run.out)


ESCAPE_SPEC = """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - id: conversion_rate
    name: "Share 100%: new, old\\r\\nsecond line"
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    target:
      min: 90
      by: 2026-12-31
"""
# 75 < 90, no tolerance: missed, gate fail


def test_github_annotations_are_escaped_byte_for_byte(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "we,ird:dir",
        {
            "kpispec.yaml": PROJECT,
            "score,card:100%.yaml": ESCAPE_SPEC,
            "data/sessions.csv": SESSIONS,
        },
    )
    line = line_of(ESCAPE_SPEC, "min: 90")
    run = check("we,ird:dir", "--as-of", AS_OF, "--format", "github", cwd=folder.parent)
    assert run.code == 1
    # properties (file, title): % -> %25, \r -> %0D, \n -> %0A, : -> %3A, , -> %2C;
    # the message: % -> %25, \r -> %0D, \n -> %0A only
    expected = (
        f"::error file=we%2Cird%3Adir/score%2Ccard%3A100%25.yaml,line={line},"
        "title=KPI Share 100%25%3A new%2C old%0D%0Asecond line missed its target"
        "::Share 100%25: new, old%0D%0Asecond line 2026-10: 75.0%25"
        " (target \u2265 90.0%25 by 2026-12-31; missed)\n"
    )
    assert run.raw == expected.encode("utf-8")


def test_github_annotations_are_capped_at_ten_of_each_kind(tmp_path: Path) -> None:
    lines = [
        "kpispec: 1",
        "scorecard: {id: many}",
        "sources:",
        "  - {id: sessions, path: data/sessions.csv, time: started_at}",
        "kpis:",
    ]
    for n in range(1, 13):  # 12 failing KPIs: 4 sessions in October against min 10
        lines.append(
            f"  - {{id: f{n:02d}, source: sessions, formula: count(*), target: {{min: 10}}}}"
        )
    for n in range(1, 12):  # 11 warnings: the same miss behind gate: warn
        lines.append(
            f"  - {{id: w{n:02d}, source: sessions, formula: count(*),"
            " target: {min: 10, gate: warn}}"
        )
    spec = "\n".join(lines) + "\n"
    folder = write_files(
        tmp_path / "p", {"kpispec.yaml": PROJECT, "many.yaml": spec, "data/sessions.csv": SESSIONS}
    )
    run = check(".", "--as-of", AS_OF, "--format", "github", cwd=folder)
    assert run.code == 1
    expected = []
    for n in range(1, 11):
        line = line_of(
            spec, f"- {{id: f{n:02d}, source: sessions, formula: count(*), target: {{min: 10}}}}"
        )
        expected.append(
            f"::error file=many.yaml,line={line},title=KPI F{n:02d} missed its target"
            f"::F{n:02d} 2026-10: 4 (target ≥ 10; missed)"
        )
    expected.append("::error::and 2 more failing KPIs (kpispec check lists them all)")
    for n in range(1, 11):
        line = line_of(
            spec,
            f"- {{id: w{n:02d}, source: sessions, formula: count(*), target: {{min: 10, gate: warn}}}}",
        )
        expected.append(
            f"::warning file=many.yaml,line={line},title=KPI W{n:02d} missed its target"
            f"::W{n:02d} 2026-10: 4 (target ≥ 10; missed)"
        )
    expected.append("::warning::and 1 more KPI with a warning (kpispec check lists them all)")
    assert run.out.splitlines() == expected
    assert sum(line.startswith("::error file=") for line in run.out.splitlines()) == 10


def test_step_summary_is_appended_never_overwritten(project: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    original = "## Tests\n\nAll 42 tests passed.\n"
    summary.write_text(original, encoding="utf-8")
    markdown = check("project", "--as-of", AS_OF, "-f", "markdown", cwd=project.parent).out
    assert markdown.startswith("## KPI scorecard check\n")
    for _ in range(2):
        run = check(
            "project",
            *("--as-of", AS_OF, "--format", "github"),
            cwd=project.parent,
            GITHUB_STEP_SUMMARY=str(summary),
        )
        assert run.code == 1
        assert "KPI scorecard check" not in run.out  # the summary goes to the file only
    content = summary.read_text(encoding="utf-8")
    assert content == original + markdown + "\n" + markdown + "\n"


def test_report_files_are_written_together_while_stdout_gets_text(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    run = check(
        "project",
        "--as-of",
        AS_OF,
        *("--junit", str(out / "junit.xml")),
        *("--markdown", str(out / "summary.md")),
        *("--json", str(out / "results.json")),
        cwd=project.parent,
    )
    assert run.code == 1
    assert run.out == check("project", "--as-of", AS_OF, cwd=project.parent).out
    assert run.out.startswith("FAIL web/bounce_rate: ")
    for name, fmt in (("junit.xml", "junit"), ("summary.md", "markdown"), ("results.json", "json")):
        alone = check("project", "--as-of", AS_OF, "--format", fmt, cwd=project.parent)
        assert (out / name).read_text(encoding="utf-8") == alone.out, name
    parse_junit((out / "junit.xml").read_text(encoding="utf-8"))
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["verdict"][
        "failures"
    ] == ["bounce_rate"]


def cells(row: str) -> list[str]:
    """The cells of a Markdown table row, split on pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_markdown_format(project: Path) -> None:
    run = check("project", "--as-of", AS_OF, "--format", "markdown", cwd=project.parent)
    assert run.code == 1
    md = run.out
    lines = md.splitlines()
    assert lines[0] == "## KPI scorecard check"
    # counts per status: 1 met, 1 at risk, 3 missed, 0 no data, 1 no target (see SHOP)
    assert lines[2] == (
        "❌ **KPI check failed**: 1 met, 1 at risk, 3 missed, 0 no data, 1 no target"
        " of 6 KPIs (as of 2026-11-15, failing on missed)."
    )
    # the failing and at-risk KPIs first, in a table of their own
    details = lines.index("<details><summary>3 other KPIs</summary>")
    first = [cells(line) for line in lines[3:details] if line.startswith("| ") and "`" in line]
    assert first[0][0] == "Bounce &lt;script&gt;alert(1)&lt;/script&gt; \\| rate (`bounce_rate`)"
    assert sorted(c[0] for c in first[1:]) == [
        "Pages per session (`pages_per_session`)",
        "Search share (`search_share`)",
    ]
    assert first[0][1:7] == ["Web", "2026-10", "25.0%", "≤ 20.0%", "", "❌ missed"]
    assert first[0][8:] == ["▲", "growth"]  # 0 % in September, 25 % in October
    rows = {c[0].rsplit("`", 2)[1]: c for c in first}
    assert rows["pages_per_session"][1:7] == ["Web", "2026-10", "2.75", "≥ 3", "", "⚠️ at risk"]
    assert rows["pages_per_session"][8] == "▼"  # 3 in September, 2.75 in October
    assert rows["search_share"][1:7] == [
        "Shop",
        "2026-10",
        "50.0%",
        "≥ 70.0%",
        "2026-12-31",
        "❌ missed",
    ]
    assert rows["search_share"][8:] == ["=", "sales"]  # 50 % in both months
    # the rest folded away inside <details>
    assert lines[-1] == "</details>"
    rest = [cells(line) for line in lines[details:] if line.startswith("| ") and "`" in line]
    assert sorted(c[0] for c in rest) == [
        "Conversion rate (`conversion_rate`)",
        "E-mail sessions (`email_sessions`)",
        "Visits (`visits`)",
    ]
    # no raw HTML from a KPI name, and its pipe cannot break the table
    assert "<script>" not in md
    assert all(len(cells(line)) == 10 for line in lines if line.startswith("| "))


# ------------------------------------------------------------------ a git repository

GIT_SPEC = """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - id: conversion_rate
    name: Conversion rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    target:
      min: 60
      by: 2026-12-31
      why: More buyers from the traffic we already pay for
"""
# October: 75 %. First commit: min 60, met. Second commit: min 80, missed (no tolerance).


def git(*args: str, cwd: Path) -> str:
    env = clean_env(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    git("config", "user.name", "KPI Tester", cwd=repo)
    git("config", "user.email", "kpi-tester@example.com", cwd=repo)
    git("config", "commit.gpgsign", "false", cwd=repo)
    write_files(
        repo,
        {
            "README.md": "# Acme KPIs\n",
            "docs/notes.md": "Notes.\n",
            "kpis/kpispec.yaml": PROJECT,
            "kpis/web.yaml": GIT_SPEC,
            "kpis/data/sessions.csv": SESSIONS,
        },
    )
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "Conversion rate: at least 60 %", cwd=repo)
    return Path(git("rev-parse", "--show-toplevel", cwd=repo).strip())


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_a_commit_that_raises_a_target_fails_the_check_on_its_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    first = check("kpis", "--as-of", AS_OF, "--format", "github", cwd=repo)
    assert (first.code, first.out) == (0, "")  # met: no annotation at all

    spec = repo / "kpis" / "web.yaml"
    spec.write_text(GIT_SPEC.replace("min: 60", "min: 80"), encoding="utf-8")
    git("commit", "-q", "-am", "Conversion rate: at least 80 %", cwd=repo)

    committed = git("show", "HEAD:kpis/web.yaml", cwd=repo)
    line = line_of(committed, "min: 80")  # the target is a block mapping: its first key
    assert committed.splitlines()[line - 2].strip() == "target:"
    # the line the commit changed is the line the annotation points at
    diff = git("diff", "-U0", "HEAD~1", "HEAD", "--", "kpis/web.yaml", cwd=repo)
    assert re.search(rf"^@@ -{line} \+{line} @@", diff, re.M), diff

    annotation = (
        f"::error file=kpis/web.yaml,line={line},title=KPI Conversion rate missed its target"
        "::Conversion rate 2026-10: 75.0%25 (target ≥ 80.0%25 by 2026-12-31; missed)\n"
    )
    workspace = {"GITHUB_WORKSPACE": str(repo)}
    runs = [
        (repo, "kpis", {}),  # from the repository root, outside Actions
        (repo, "kpis", workspace),
        (repo / "kpis", ".", workspace),  # from subfolders, paths relative to the workspace
        (repo / "kpis" / "data", "..", workspace),
        (repo / "docs", "../kpis/web.yaml", workspace),  # a single spec file
    ]
    for cwd, path, env in runs:
        run = check(path, "--as-of", AS_OF, "--format", "github", cwd=cwd, **env)
        assert (run.code, run.out) == (1, annotation), (cwd, path, env)

    # the first commit still passes
    git("checkout", "-q", "HEAD~1", cwd=repo)
    assert check("kpis", "--as-of", AS_OF, "-f", "github", cwd=repo).code == 0


@needs_git
def test_annotations_are_relative_to_a_symlinked_workspace(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "kpis" / "web.yaml").write_text(GIT_SPEC.replace("min: 60", "min: 80"), "utf-8")
    link = tmp_path / "workspace"
    link.symlink_to(repo, target_is_directory=True)
    run = check("kpis", "--as-of", AS_OF, "-f", "github", cwd=link, GITHUB_WORKSPACE=str(link))
    assert run.code == 1
    assert run.out.startswith("::error file=kpis/web.yaml,line=")


# ------------------------------------------------------------------ action.yml

ACTION = ROOT / "action.yml"
INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")


def action() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def test_action_is_a_composite_action() -> None:
    doc = action()
    assert doc["name"] and doc["description"]
    assert set(doc["branding"]) == {"icon", "color"}
    assert doc["runs"]["using"] == "composite"
    inputs = doc["inputs"]
    assert inputs["path"]["default"] == "."
    assert inputs["as-of"]["default"] == ""
    assert inputs["fail-on"]["default"] == "missed"
    assert inputs["junit"]["default"] == "kpispec-junit.xml"
    assert inputs["python-version"]["default"] == "3.12"
    assert all(spec.get("description") for spec in inputs.values())
    steps = doc["runs"]["steps"]
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert "${{ github.action_path }}" in str(install)  # kpispec from the action's checkout
    script = check_step()["run"]
    assert "kpispec" in script and "check" in script and "--format github" in script


def check_step() -> dict:  # type: ignore[type-arg]
    return next(s for s in action()["runs"]["steps"] if s.get("id") == "check")


def test_action_inputs_are_declared_and_reach_scripts_only_through_env() -> None:
    doc = action()
    declared = set(doc["inputs"])
    used = set(INPUT_REF.findall(yaml.safe_dump(doc["runs"])))
    assert used <= declared, used - declared  # every input used is declared
    assert declared <= used, declared - used  # and every one declared is used
    for step in doc["runs"]["steps"]:
        if "run" not in step:
            continue
        assert step.get("shell") == "bash"  # composite run steps must name their shell
        assert "${{" not in step["run"], step["run"]  # no expression inside a script
        env = step.get("env", {})
        for name, value in env.items():
            # an env value is one whole expression, never a script fragment
            assert re.fullmatch(r"\$\{\{\s*[\w.-]+\s*\}\}", str(value)), (name, value)
        for variable in re.findall(r"\$\{?(INPUT_[A-Z_]+)", step["run"]):
            assert variable in env, variable


def run_action_script(cwd: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The check step of action.yml run by bash, as the runner would, with these inputs."""
    doc = action()
    step = check_step()
    values = {name: str(spec.get("default", "")) for name, spec in doc["inputs"].items()}
    values.update(inputs)
    env = clean_env(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for name, value in step["env"].items():
        match = INPUT_REF.fullmatch(value)
        if match:
            env[name] = values[match.group(1)]
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_action_script_runs_kpispec_check(tmp_path: Path) -> None:
    make_project(tmp_path / "my kpis")  # a path with a space
    result = run_action_script(tmp_path, path="my kpis", **{"as-of": AS_OF})
    assert result.returncode == 1, result.stderr
    file, line = LINES["bounce_rate"]
    assert result.stdout.startswith(f"::error file=my kpis/{file},line={line},")
    junit = parse_junit((tmp_path / "kpispec-junit.xml").read_text(encoding="utf-8"))
    assert junit.get("failures") == "1"

    passed = run_action_script(
        tmp_path, path="my kpis", junit="", **{"as-of": AS_OF, "fail-on": "never"}
    )
    assert passed.returncode == 0, passed.stderr


def test_the_action_script_does_not_run_what_inputs_say(tmp_path: Path) -> None:
    make_project(tmp_path / "project")
    result = run_action_script(
        tmp_path,
        path='$(touch pwned1)"; touch pwned2; "',
        **{"as-of": "`touch pwned3`", "fail-on": "missed; touch pwned4"},
    )
    assert result.returncode == 2
    assert not list(tmp_path.glob("pwned*"))
    result = run_action_script(tmp_path, path="--help")  # an option-like path is a path
    assert result.returncode == 2
    assert "no such file or folder: --help" in result.stderr


# ------------------------------------------------------------------ pre-commit hooks

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict]:  # type: ignore[type-arg]
    return {h["id"]: h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}


def test_pre_commit_hooks_file() -> None:
    found = hooks()
    assert sorted(found) == ["kpispec-test", "kpispec-validate"]
    assert found["kpispec-validate"]["entry"] == "kpispec validate"
    assert found["kpispec-test"]["entry"] == "kpispec test"
    for hook in found.values():
        assert hook["name"]
        assert hook["language"] == "python"
        assert hook["files"] == r"\.ya?ml$"
        assert hook["pass_filenames"] is True
        # pre-commit's matching: re.search on the path relative to the repository root
        selected = [
            path
            for path in (
                "kpis/web.yaml",
                "kpis/shop.yml",
                "web.yaml",
                "kpis/data/sessions.csv",
                "kpis/kpispec.yaml",
                "kpispec.yaml",
                ".github/workflows/kpis.yml",
                ".pre-commit-config.yaml",
                "node_modules/pkg/x.yaml",
            )
            if re.search(hook["files"], path) and not re.search(hook.get("exclude", "^$"), path)
        ]
        # hidden files and the project file are never spec files (docs/language.md 2.3)
        assert selected == ["kpis/web.yaml", "kpis/shop.yml", "web.yaml"]


TESTED_WEB = (
    WEB
    + """\
tests:
  - name: a session converts or not
    kpi: conversion_rate
    rows:
      sessions:
        - {started_at: 2026-10-01, converted: true}
        - {started_at: 2026-10-02, converted: false}
    expect: 50
"""
)
TESTED_SHOP = (
    SHOP
    + """\
tests:
  - name: search sessions count, e-mail ones do not
    kpi: search_share
    rows:
      sessions:
        - {started_at: 2026-10-01, channel: search}
        - {started_at: 2026-10-02, channel: email}
        - {started_at: 2026-10-03, channel: email}
        - {started_at: 2026-10-04, channel: search}
    expect: 50
"""
)


def run_hook(hook_id: str, *files: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a hook's entry as pre-commit does: the entry's words, then the file names."""
    entry = hooks()[hook_id]["entry"].split()
    return subprocess.run(
        [str(BIN / entry[0]), *entry[1:], *files],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("hook_id", "summary"),
    [
        ("kpispec-validate", "valid: 6 KPIs in 2 scorecards"),
        ("kpispec-test", "2 passed, 0 failed"),
    ],
)
def test_pre_commit_hooks_run_on_two_spec_files(tmp_path: Path, hook_id: str, summary: str) -> None:
    folder = make_project(tmp_path / "repo" / "kpis", web=TESTED_WEB, shop=TESTED_SHOP)
    result = run_hook(hook_id, "kpis/web.yaml", "kpis/shop.yaml", cwd=folder.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary in result.stdout + result.stderr


def test_pre_commit_hooks_fail_on_a_broken_spec_file(tmp_path: Path) -> None:
    folder = make_project(
        tmp_path / "repo" / "kpis",
        web=TESTED_WEB.replace("expect: 50", "expect: 60"),
        shop=TESTED_SHOP.replace("unit: count", "unit: counts"),
    )
    validate = run_hook("kpispec-validate", "kpis/web.yaml", "kpis/shop.yaml", cwd=folder.parent)
    assert validate.returncode == 2
    assert "kpis/shop.yaml:" in validate.stdout and "[E203]" in validate.stdout
    fixed = folder / "shop.yaml"
    fixed.write_text(TESTED_SHOP, encoding="utf-8")
    test = run_hook("kpispec-test", "kpis/web.yaml", "kpis/shop.yaml", cwd=folder.parent)
    assert test.returncode == 1
    assert "1 passed, 1 failed" in test.stdout
    assert "expected 60, got 50" in test.stdout


def test_validate_accepts_the_project_file_among_the_paths(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "repo" / "kpis")
    result = run_hook("kpispec-validate", "kpis/kpispec.yaml", "kpis/web.yaml", cwd=folder.parent)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ docs/ci.md

CI_DOC = ROOT / "docs" / "ci.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def doc_blocks() -> dict[str, object]:
    """The non-spec YAML blocks of docs/ci.md by their `# file:` name (the last one wins)."""
    found = {}
    for text in YAML_BLOCK.findall(CI_DOC.read_text(encoding="utf-8")):
        first = text.splitlines()[0]
        match = re.fullmatch(r"#\s*file:\s*(\S+).*", first)
        if match:
            found.setdefault(match.group(1), []).append(yaml.safe_load(text))
    return found


def test_ci_doc_examples_agree_with_the_action_and_the_hooks() -> None:
    blocks = doc_blocks()
    declared = set(action()["inputs"])
    uses = []
    for workflow in blocks[".github/workflows/kpis.yml"]:
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).endswith("/kpispec@v1"):
                    uses.append(step)
                    assert set(step.get("with", {})) <= declared, step
    assert uses, "docs/ci.md shows the action"
    gitlab = blocks[".gitlab-ci.yml"][0]
    job = next(j for j in gitlab.values() if isinstance(j, dict) and "script" in j)
    assert job["allow_failure"] == {"exit_codes": [1]}
    assert job["artifacts"]["reports"]["junit"] == "kpispec-junit.xml"
    config = blocks[".pre-commit-config.yaml"][0]
    ids = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert ids <= set(hooks())
