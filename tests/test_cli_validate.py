"""`kpispec validate` and `kpispec schema` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kpispec.cli import app

runner = CliRunner()

GOOD = """\
kpispec: 1
scorecard: {id: web, title: Web, owner: growth}
sources:
  - {id: sessions, path: sessions.csv, time: started_at}
kpis:
  - id: ctr
    source: sessions
    formula: 100 * sum(clicks) / sum(impressions)
    unit: percent
    target: {min: 2, by: 2026-12-31, why: Relevant ads}
"""
CSV = "started_at,clicks,impressions\n2026-10-01,1,10\n"


def test_valid_project_exits_0(write) -> None:
    folder = write({"web.yaml": GOOD, "sessions.csv": CSV})
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "valid: 1 KPI in 1 scorecard" in result.output


def test_text_format_points_at_the_column(write, monkeypatch) -> None:
    folder = write(
        {"web.yaml": GOOD.replace("sum(impressions)", "sum(impresions)"), "sessions.csv": CSV}
    )
    monkeypatch.chdir(folder)
    result = runner.invoke(app, ["validate", "."])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == (
        "web.yaml:8:38: error[E306]: unknown column `impresions` in source `sessions` "
        "(read from the CSV header of sessions.csv)"
    )
    assert lines[2] == " 8 |     formula: 100 * sum(clicks) / sum(impresions)"
    assert lines[3] == "   | " + " " * 37 + "^" * 10
    assert lines[4] == "  = hint: did you mean `impressions`?"


def test_no_data_skips_the_column_check(write) -> None:
    folder = write({"web.yaml": GOOD.replace("sum(impressions)", "sum(impresions)")})
    assert runner.invoke(app, ["validate", str(folder), "--no-data"]).exit_code == 0
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 2  # E411: no file


def test_json_and_github_formats(write, monkeypatch) -> None:
    bad = GOOD.replace("unit: percent", "unit: percnt").replace("owner: growth", "title2: x")
    folder = write({"web.yaml": bad, "sessions.csv": CSV})
    monkeypatch.chdir(folder)
    result = runner.invoke(app, ["validate", ".", "--format", "json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["valid"] is False
    assert [(d["code"], d["line"], d["column"]) for d in doc["diagnostics"]] == [
        ("E200", 2, 34),
        ("W600", 6, 9),
        ("E203", 9, 11),
    ]
    result = runner.invoke(app, ["validate", ".", "--format", "github"])
    assert (
        "::error file=web.yaml,line=9,col=11,title=kpispec E203::`unit` cannot be" in result.stdout
    )
    assert "::warning file=web.yaml,line=6,col=9,title=kpispec W600::" in result.stdout


def test_strict_turns_warnings_into_errors(write) -> None:
    folder = write({"web.yaml": GOOD.replace(", why: Relevant ads", ""), "sessions.csv": CSV})
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(folder), "--strict"])
    assert result.exit_code == 2
    assert "error[W603]" in result.output


def test_a_single_file_is_checked_within_its_project(write) -> None:
    other = (
        "kpispec: 1\n"
        "scorecard: {id: other, title: Other, owner: growth}\n"
        "kpis:\n"
        "  - id: double_ctr\n"
        "    formula: ctr * 2\n"
        "    target: {min: 4, by: 2026-12-31, why: Test}\n"
    )
    folder = write({"web.yaml": GOOD, "other.yaml": other, "sessions.csv": CSV})
    # other.yaml references a KPI of web.yaml: fine within the project
    result = runner.invoke(app, ["validate", str(folder / "other.yaml")])
    assert result.exit_code == 0, result.output
    # ...and only that file's problems are reported
    folder.joinpath("web.yaml").write_text(
        GOOD.replace("unit: percent", "unit: pct"), encoding="utf-8"
    )
    assert runner.invoke(app, ["validate", str(folder / "other.yaml")]).exit_code == 0
    assert runner.invoke(app, ["validate", str(folder / "web.yaml")]).exit_code == 2


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_schema_command_prints_both_schemas() -> None:
    spec = json.loads(runner.invoke(app, ["schema"]).stdout)
    project = json.loads(runner.invoke(app, ["schema", "--project"]).stdout)
    assert spec["$id"].endswith("kpispec.schema.json")
    assert project["$id"].endswith("project.schema.json")


def test_version() -> None:
    from kpispec import __version__

    assert runner.invoke(app, ["--version"]).stdout.strip() == f"kpispec {__version__}"


def test_validate_does_not_import_polars(write) -> None:
    folder = write({"web.yaml": GOOD, "sessions.csv": CSV})
    code = (
        "import sys\n"
        "from kpispec.cli import app\n"
        "try:\n"
        f"    app(['validate', {str(folder)!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print('polars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_garbage_never_prints_a_traceback(write) -> None:
    folder = write({"a.yaml": b"\x00\x01binary", "b.yaml": "kpis: [\n", "c.yaml": "\xff"})
    out = subprocess.run(
        [sys.executable, "-m", "kpispec", "validate", str(folder)], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stdout.count("error[") == 3
