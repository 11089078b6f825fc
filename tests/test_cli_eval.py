"""`kpispec eval` and `kpispec test` end to end through the command line.

Output formats (csv, json, -o), --period and --scorecard, and the exit statuses of
docs/cli.md: 0 ok, 1 a spec test failed, 2 invalid specs or usage, 3 a data error. Data
errors name the source and a `file:line:col` of the spec, and never show a traceback.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_files
from typer.testing import CliRunner

from kpispec.cli import app

AS_OF = "2026-11-22"
runner = CliRunner()


def kpispec(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `python -m kpispec ARGS` in ``cwd``: (exit status, stdout, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "kpispec", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout, result.stderr


# ------------------------------------------------------------------ a tiny project

PROJECT = "kpispec: 1\ntimezone: UTC\nhistory: 2\n"

WEB = """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - id: visits
    source: sessions
    formula: count(*)
    unit: count
    dimensions: [channel]
  - id: conversion_rate
    source: sessions
    formula: 100 * share(converted)
    unit: percent
    target: {min: 60, tolerance: 10, by: 2026-12-31, why: More buyers}
"""

SHOP = """\
kpispec: 1
scorecard: {id: shop, owner: sales}
kpis:
  - id: pages
    source: sessions
    formula: sum(pages)
"""

SESSIONS = """\
started_at,channel,pages,converted
2026-09-05 10:00:00,search,4,true
2026-09-20 10:00:00,email,2,false
2026-10-03 10:00:00,search,1,false
2026-10-12 10:00:00,email,3,true
2026-10-20 10:00:00,email,2,true
2026-10-30 10:00:00,search,5,true
"""
#           visits (email, search)   converted    pages
# 2026-08   0 (0, 0)                 -            -
# 2026-09   2 (1, 1)                 1 of 2: 50   4 + 2 = 6
# 2026-10   4 (2, 2)                 3 of 4: 75   1 + 3 + 2 + 5 = 11
# conversion_rate: min 60, tolerance 10 -> at risk from 50 up: 50 at_risk, 75 met


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "project",
        {
            "kpispec.yaml": PROJECT,
            "web.yaml": WEB,
            "shop.yaml": SHOP,
            "data/sessions.csv": SESSIONS,
        },
    )


def eval_ok(*args: str) -> str:
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_format(tiny: Path) -> None:
    out = eval_ok(str(tiny), "--as-of", AS_OF, "--format", "csv")
    assert out.splitlines() == [
        "scorecard,kpi,period,dimension,member,value,status",
        "shop,pages,2026-09,,,6.0,no_target",
        "shop,pages,2026-10,,,11.0,no_target",
        "web,visits,2026-09,,,2.0,no_target",
        "web,visits,2026-10,,,4.0,no_target",
        "web,visits,2026-09,channel,email,1.0,",
        "web,visits,2026-10,channel,email,2.0,",
        "web,visits,2026-09,channel,search,1.0,",
        "web,visits,2026-10,channel,search,2.0,",
        "web,conversion_rate,2026-09,,,50.0,at_risk",
        "web,conversion_rate,2026-10,,,75.0,met",
    ]
    assert out.endswith("\n")


def test_csv_with_period_and_scorecard(tiny: Path) -> None:
    out = eval_ok(
        str(tiny), "--as-of", AS_OF, "-f", "csv", "--period", "2026-09", "--scorecard", "web"
    )
    # August has no rows: counts 0, the conversion rate empty (no data)
    assert out.splitlines() == [
        "scorecard,kpi,period,dimension,member,value,status",
        "web,visits,2026-08,,,0.0,no_target",
        "web,visits,2026-09,,,2.0,no_target",
        "web,visits,2026-08,channel,email,0.0,",
        "web,visits,2026-09,channel,email,1.0,",
        "web,visits,2026-08,channel,search,0.0,",
        "web,visits,2026-09,channel,search,1.0,",
        "web,conversion_rate,2026-08,,,,no_data",
        "web,conversion_rate,2026-09,,,50.0,at_risk",
    ]


def test_json_scorecard_and_period(tiny: Path) -> None:
    doc = json.loads(eval_ok(str(tiny), "--as-of", AS_OF, "-f", "json", "--scorecard", "shop"))
    assert [c["id"] for c in doc["scorecards"]] == ["shop"]
    assert doc["summary"]["kpis"] == 1
    doc = json.loads(eval_ok(str(tiny), "--as-of", AS_OF, "-f", "json", "--period", "2026-09"))
    assert [c["id"] for c in doc["scorecards"]] == ["shop", "web"]
    for card in doc["scorecards"]:
        for kpi in card["kpis"]:
            assert kpi["period"]["label"] == "2026-09"
    both = eval_ok(
        str(tiny), "--as-of", AS_OF, "-f", "csv", "--scorecard", "shop", "--scorecard", "web"
    )
    assert both == eval_ok(str(tiny), "--as-of", AS_OF, "-f", "csv")


def test_json_output_file(tiny: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out" / "nested"
    target = out_dir / "results.json"
    stdout = eval_ok(str(tiny), "--as-of", AS_OF, "--format", "json", "-o", str(target))
    assert stdout == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["results.json"]  # no temp file left
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["kpispec_results"] == 1
    assert target.read_text(encoding="utf-8") == eval_ok(
        str(tiny), "--as-of", AS_OF, "--format", "json"
    )
    # overwriting an existing file leaves no temp file behind either
    eval_ok(str(tiny), "--as-of", AS_OF, "--format", "csv", "--output", str(target))
    assert target.read_text(encoding="utf-8").startswith("scorecard,kpi,period,")
    assert sorted(p.name for p in out_dir.iterdir()) == ["results.json"]


def test_output_that_cannot_be_written_leaves_no_temp_file(tiny: Path) -> None:
    (tiny / "out").mkdir()
    status, out, err = kpispec("eval", ".", "--as-of", AS_OF, "-f", "json", "-o", "out", cwd=tiny)
    assert status != 0
    assert out == ""
    assert "Traceback" not in err
    assert [p.name for p in tiny.iterdir() if p.name.startswith(".out")] == []
    assert list((tiny / "out").iterdir()) == []


def test_output_that_cannot_be_written_is_a_usage_error(tiny: Path) -> None:
    (tiny / "out").mkdir()
    status, out, err = kpispec("eval", ".", "--as-of", AS_OF, "-f", "json", "-o", "out", cwd=tiny)
    assert "internal error" not in err
    assert status == 2
    assert out == ""
    assert "out" in err


# ------------------------------------------------------------------ exit statuses


def test_exit_0_and_table(tiny: Path) -> None:
    status, out, err = kpispec("eval", ".", "--as-of", AS_OF, cwd=tiny)
    assert status == 0, err
    # visits and pages have no target, conversion_rate 75 >= 60 is met
    assert out.splitlines()[-1] == "3 KPIs: 1 met, 0 at risk, 0 missed, 0 no data, 2 without target"
    assert "Traceback" not in out + err


def test_exit_2_invalid_specs(tiny: Path) -> None:
    (tiny / "web.yaml").write_text(WEB.replace("share(converted)", "share(convrted)"), "utf-8")
    status, out, err = kpispec("eval", ".", "--as-of", AS_OF, "-f", "csv", cwd=tiny)
    assert status == 2
    assert out == ""
    assert "web.yaml:13:26: error[E306]: unknown column `convrted`" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "22.11.2026"], "invalid --as-of date '22.11.2026'"),
        (["--period", "2026-13"], "invalid --period '2026-13'"),
        (["--scorecard", "webb"], "no scorecard `webb`"),
        (["--format", "xml"], "xml"),
    ],
)
def test_exit_2_bad_command_line(tiny: Path, args: list[str], message: str) -> None:
    status, out, err = kpispec("eval", ".", *args, cwd=tiny)
    assert status == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_exit_2_no_such_folder(tmp_path: Path) -> None:
    status, _, err = kpispec("eval", "nowhere", cwd=tmp_path)
    assert status == 2
    assert "no such file or folder: nowhere" in err


# ------------------------------------------------------------------ data errors (exit 3)

SPEC = """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - id: sessions
    path: PATH
    time: started_at
kpis:
  - id: pages
    source: sessions
    formula: sum(pages)
    unit: count
"""
#          line 10: "    formula: sum(pages)": `pages` starts in column 18


def spec(path: str = "data/sessions.csv", extra: str = "") -> str:
    return SPEC.replace("PATH", path).replace(
        "    time: started_at\n", "    time: started_at\n" + extra
    )


def assert_data_error(status: int, out: str, err: str, code: str, *needles: str) -> str:
    """Exit 3, the code with a `file:line:col` position, the source named, no traceback."""
    assert "Traceback" not in out + err
    assert "internal error" not in err
    assert status == 3, err
    assert out == ""
    assert re.search(rf"^[\w./-]+\.yaml:\d+:\d+: error\[{code}\]: ", err, re.M), err
    assert "source `sessions`" in err or "source `orders`" in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def run_eval(folder: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    return kpispec("eval", ".", "--as-of", AS_OF, "-f", "csv", cwd=folder, env=env)


def test_missing_data_file_is_reported_at_the_path(tmp_path: Path) -> None:
    folder = write_files(tmp_path, {"web.yaml": spec()})
    status, out, err = run_eval(folder)
    assert status != 0
    assert out == ""
    assert "Traceback" not in err
    assert "web.yaml:5:11: error[" in err
    assert "data/sessions.csv" in err


def test_missing_data_file_is_a_data_error(tmp_path: Path) -> None:
    folder = write_files(tmp_path, {"web.yaml": spec()})
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D101", "web.yaml:5:11", "data/sessions.csv")


def test_garbage_parquet_file(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path,
        {"web.yaml": spec("data/sessions.parquet"), "data/sessions.parquet": b"not parquet\n" * 4},
    )
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D102", "web.yaml:5:11", "sessions.parquet")


def test_unparseable_csv_file(tmp_path: Path) -> None:
    rows = 'started_at,pages\n2026-10-01 10:00:00,1\n2026-10-02 10:00:00,"2\n'
    folder = write_files(tmp_path, {"web.yaml": spec(), "data/sessions.csv": rows})
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D102", "web.yaml:5:11", "sessions.csv")


COLUMNS = "    columns:\n      started_at: datetime\n      pages: integer\n"
BAD_INTEGER = "started_at,pages\n2026-10-01 10:00:00,1\n2026-10-02 10:00:00,two\n"
#                                   line 1: header, line 2: first row, line 3: 'two'


def test_value_that_does_not_parse(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path, {"web.yaml": spec(extra=COLUMNS), "data/sessions.csv": BAD_INTEGER}
    )
    status, out, err = run_eval(folder)
    assert_data_error(
        status, out, err, "D103", "'two'", "`pages`", "sessions.csv", "line 3", "integer"
    )


def test_value_that_does_not_parse_points_at_its_column(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path, {"web.yaml": spec(extra=COLUMNS), "data/sessions.csv": BAD_INTEGER}
    )
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D103", "web.yaml:9:")


def test_a_bad_value_is_blamed_on_its_own_column_not_on_a_valid_boolean(tmp_path: Path) -> None:
    """`ok` holds 1 and 0, valid booleans when read; the bad value is the `x` of `pages`."""
    extra = "    columns:\n      started_at: datetime\n      ok: boolean\n      pages: integer\n"
    text = spec(extra=extra).replace("sum(pages)", "sum(pages) filter (where ok)")
    rows = "started_at,ok,pages\n2026-10-01 10:00:00,1,1\n2026-10-02 10:00:00,0,x\n"
    folder = write_files(tmp_path, {"web.yaml": text, "data/sessions.csv": rows})
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D103", "'x'", "`pages`", "line 3", "integer")
    assert "`ok`" not in err


def test_bad_datetime_value(tmp_path: Path) -> None:
    rows = "started_at,pages\n2026-10-01 10:00:00,1\n2026-10-02 10:00:00,2\nyesterday,3\n"
    folder = write_files(tmp_path, {"web.yaml": spec(extra=COLUMNS), "data/sessions.csv": rows})
    status, out, err = run_eval(folder)
    assert_data_error(
        status, out, err, "D103", "web.yaml:8:7", "'yesterday'", "`started_at`", "line 4"
    )


NDJSON = '{"started_at": "2026-10-01 10:00:00", "views": 1}\n'


def test_missing_column_of_a_json_source(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path, {"web.yaml": spec("data/sessions.ndjson"), "data/sessions.ndjson": NDJSON}
    )
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D104", "no column `pages`", "views")


def test_missing_column_points_at_the_formula(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path, {"web.yaml": spec("data/sessions.ndjson"), "data/sessions.ndjson": NDJSON}
    )
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D104", "web.yaml:10:18")


GLOB_FILES = {
    "web.yaml": spec("data/sessions-*.csv"),
    "data/sessions-1.csv": "started_at,pages\n2026-10-01 10:00:00,1\n",
    "data/sessions-2.csv": "started_at,views\n2026-10-02 10:00:00,2\n",
}


def test_glob_whose_later_file_lacks_a_column(tmp_path: Path) -> None:
    # validation reads the header of the first file only, so this passes `validate`
    folder = write_files(tmp_path, GLOB_FILES)
    assert kpispec("validate", ".", cwd=folder)[0] == 0
    status, out, err = run_eval(folder)
    assert "Traceback" not in err
    assert (status, out) == (3, "")
    assert re.search(r"^web\.yaml:\d+:\d+: error\[D10\d\]: source `sessions`", err, re.M), err


def test_glob_error_names_the_file_without_the_column(tmp_path: Path) -> None:
    folder = write_files(tmp_path, GLOB_FILES)
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D10[24]", "sessions-2.csv", "`pages`")
    assert "sessions-1.csv" not in err


def test_type_error_points_at_the_formula(tmp_path: Path) -> None:
    # "a1" might be read more than one way, so validation leaves the column's type unknown
    rows = "started_at,pages,name\n2026-10-01 10:00:00,1,a1\n"
    text = spec().replace("sum(pages)", "sum(name)")
    folder = write_files(tmp_path, {"web.yaml": text, "data/sessions.csv": rows})
    assert kpispec("validate", ".", cwd=folder)[0] == 0
    status, out, err = run_eval(folder)
    assert_data_error(status, out, err, "D105", "web.yaml:10:18: error[D105]", "text")
    assert "    formula: sum(name)\n" in err


def test_type_error_known_from_the_csv_is_a_validation_error(tmp_path: Path) -> None:
    rows = "started_at,pages,name\n2026-10-01 10:00:00,1,anna\n"
    text = spec().replace("sum(pages)", "sum(name)")
    folder = write_files(tmp_path, {"web.yaml": text, "data/sessions.csv": rows})
    status, out, _ = kpispec("validate", ".", cwd=folder)
    assert status == 2
    assert "web.yaml:10:18: error[E314]: sum needs number or boolean, but this is text" in out


SQL_PROJECT = """\
kpispec: 1
timezone: UTC
connections:
  db:
    url: URL
"""
SQL_SPEC = """\
kpispec: 1
scorecard: {id: shop, owner: sales}
sources:
  - id: orders
    sql: select ordered_at, amount from orders
    connection: db
    time: ordered_at
kpis:
  - id: revenue
    source: orders
    formula: sum(amount)
    unit: currency
"""


def sql_project(folder: Path, url: str) -> Path:
    return write_files(
        folder, {"kpispec.yaml": SQL_PROJECT.replace("URL", url), "shop.yaml": SQL_SPEC}
    )


def test_sqlite_database_works(tmp_path: Path) -> None:
    folder = sql_project(tmp_path, "sqlite:///shop.db")
    db = sqlite3.connect(folder / "shop.db")
    db.execute("create table orders (ordered_at text, amount real)")
    db.executemany(
        "insert into orders values (?, ?)",
        [("2026-10-02 10:00:00", 10.5), ("2026-10-20 10:00:00", 4.5), ("2026-09-01 10:00:00", 1)],
    )
    db.commit()
    db.close()
    status, out, err = run_eval(folder)
    assert status == 0, err
    assert out.splitlines()[-1] == "shop,revenue,2026-10,,,15.0,no_target"  # 10.5 + 4.5


def test_unreachable_sqlite_database(tmp_path: Path) -> None:
    folder = sql_project(tmp_path, "sqlite:///missing.db")
    status, out, err = run_eval(folder)
    assert_data_error(
        status, out, err, "D106", "kpispec.yaml:5:10", "connection `db`", "missing.db"
    )
    assert not (folder / "missing.db").exists()  # not created by trying


def test_unreachable_sqlite_database_says_why(tmp_path: Path) -> None:
    folder = sql_project(tmp_path, "sqlite:///missing.db")
    status, out, err = run_eval(folder)
    assert (status, out) == (3, "")
    first = err.splitlines()[0].lower()
    assert any(word in first for word in ("no such", "not found", "does not exist")), first


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgresql_server(tmp_path: Path) -> None:
    folder = sql_project(tmp_path, f"postgresql://kpi@127.0.0.1:{unused_port()}/shop")
    status, out, err = run_eval(folder)
    # connection refused, or (without psycopg installed) the missing driver
    assert_data_error(status, out, err, "D106", "kpispec.yaml:5:10")
    assert "connection `db`" in err or "driver" in err


def test_unset_environment_variable_in_url(tmp_path: Path) -> None:
    folder = sql_project(tmp_path, "postgresql://kpi:${KPISPEC_TEST_UNSET_PW}@127.0.0.1/shop")
    env = {k: v for k, v in os.environ.items() if k != "KPISPEC_TEST_UNSET_PW"}
    assert kpispec("validate", ".", cwd=folder, env=env)[0] == 0
    status, out, err = run_eval(folder, env=env)
    assert_data_error(
        status, out, err, "D108", "KPISPEC_TEST_UNSET_PW is not set", "connection `db`"
    )


# ------------------------------------------------------------------ kpispec test

TESTED = """\
kpispec: 1
scorecard: {id: web, owner: growth}
sources:
  - {id: sessions, path: data/sessions.csv, time: started_at}
kpis:
  - id: bounce_rate
    source: sessions
    formula: 100 * share(pages = 1)
    unit: percent
tests:
  - name: one of two sessions bounces
    kpi: bounce_rate
    rows:
      sessions:
        - {started_at: 2026-10-01, pages: 1}
        - {started_at: 2026-10-02, pages: 3}
    expect: 50
"""
FAILING = """\
  - name: the November row is not in October
    kpi: bounce_rate
    period: 2026-10
    rows:
      sessions:
        - {started_at: 2026-10-01, pages: 1}
        - {started_at: 2026-10-02, pages: 3}
        - {started_at: 2026-10-03, pages: 3}
        - {started_at: 2026-11-03, pages: 1}
    expect: 50
"""


@pytest.fixture
def tested(tmp_path: Path) -> Path:
    return write_files(
        tmp_path, {"web.yaml": TESTED, "data/sessions.csv": "started_at,pages\n2026-10-01,1\n"}
    )


def test_spec_tests_pass(tested: Path) -> None:
    status, out, err = kpispec("test", ".", cwd=tested)
    assert status == 0, out + err
    assert out.splitlines() == [
        "PASS web.yaml:11:5: one of two sessions bounces (bounce_rate)",
        "1 passed, 0 failed",
    ]


def test_spec_test_fails_with_expected_and_actual(tested: Path) -> None:
    (tested / "web.yaml").write_text(TESTED + FAILING, encoding="utf-8")
    status, out, err = kpispec("test", ".", cwd=tested)
    assert status == 1, out + err
    lines = out.splitlines()
    assert lines[0] == "PASS web.yaml:11:5: one of two sessions bounces (bounce_rate)"
    assert lines[1] == "FAIL web.yaml:18:5: the November row is not in October (bounce_rate)"
    # one of the three October sessions bounces: 33.33 %, not 50
    assert re.fullmatch(r"\s+expected 50, got 33\.3333+\d*", lines[2]), lines[2]
    assert lines[-1] == "1 passed, 1 failed"


def test_spec_tests_of_invalid_specs(tested: Path) -> None:
    (tested / "web.yaml").write_text(TESTED.replace("kpi: bounce_rate", "kpi: bounce_rat"), "utf-8")
    status, out, err = kpispec("test", ".", cwd=tested)
    assert status == 2
    assert (
        "web.yaml:12:10: error[E414]: test 'one of two sessions bounces' names unknown KPI" in err
    )
    assert "Traceback" not in out + err
