"""Confinement: a spec reads nothing outside the project.

What a case.toml of tests/hostile/ cannot say is tested here: the Python API, a file that
turns into an outside symlink between validation and evaluation, and the glob walker
against :func:`glob.glob` as the oracle.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

import kpispec
from kpispec.confine import escape, glob_paths
from kpispec.engine.spectests import run_tests
from kpispec.spec.load import load

AS_OF = "2026-02-01"
PROJECT = "kpispec: 1\ntitle: Confined\ntimezone: UTC\n"
FILE_SPEC = """kpispec: 1
scorecard: {{id: web, title: Web, owner: growth}}
sources:
  - {{id: sessions, path: "{path}", time: started_at}}
kpis:
  - {{id: visitors, source: sessions, formula: count(*)}}
tests:
  - name: counts the rows
    kpi: visitors
    rows: {{sessions: rows.csv}}
    expect: 2
"""


def january(doc: dict[str, object]) -> float | None:
    (card,) = doc["scorecards"]  # type: ignore[index]
    (kpi,) = card["kpis"]
    return {e["period"]: e["value"] for e in kpi["series"]}["2026-01"]  # type: ignore[no-any-return]


def csv_project(folder: Path, path: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "kpispec.yaml").write_text(PROJECT)
    (folder / "web.yaml").write_text(FILE_SPEC.format(path=path))
    (folder / "rows.csv").write_text("started_at\n2026-01-02\n2026-01-03\n")
    return folder


def codes(exc: pytest.ExceptionInfo[kpispec.KpispecError]) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


# --------------------------------------------------------------------------- paths


def test_dotdot_after_a_symlink_is_judged_where_it_really_leads(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (tmp_path / "outside" / "keep").mkdir(parents=True)
    root.mkdir()
    (root / "data").symlink_to(tmp_path / "outside" / "keep")
    found = escape(root / "data" / ".." / "secret.txt", root)
    assert found is not None
    assert found.real == tmp_path / "outside" / "secret.txt"
    assert found.link == root / "data"
    assert "through the symlink data -> " in found.describe(root)
    assert escape(root / "sub" / ".." / "x.csv", root) is None  # no link: stays inside


def test_glob_walker_agrees_with_glob_glob_without_symlinks(tmp_path: Path) -> None:
    for name in ["a.csv", "b.csv", ".hidden.csv", "x/c.csv", "x/y/d.csv", "x/.h/e.csv", "z.tsv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    for pattern in ["*.csv", "**/*.csv", "x/**/*.csv", "?.csv", "[ab].csv", ".*.csv", "**", "x/*"]:
        oracle = sorted(Path(p) for p in glob.glob(str(tmp_path / pattern), recursive=True))
        assert glob_paths(tmp_path, pattern) == oracle, pattern


def test_symlink_loops_do_not_make_the_glob_endless(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.csv").write_text("")
    for name in "abc":
        (tmp_path / "d" / name).symlink_to(".")
    assert glob_paths(tmp_path, "d/**/*.csv") == [tmp_path / "d" / "x.csv"]


def test_api_refuses_a_glob_match_that_leads_outside_and_the_flag_lifts_it(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("started_at\n2026-01-05\n2026-01-06\n2026-01-07\n")
    root = csv_project(tmp_path / "project", "data/*.csv")
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("started_at\n2026-01-05\n")
    (root / "data" / "b.csv").symlink_to(outside)
    with pytest.raises(kpispec.SpecError) as refused:
        kpispec.evaluate(root, as_of=AS_OF)
    assert codes(refused) == ["E410"]
    assert "data/b.csv is a symlink to" in refused.value.diagnostics[0].message
    doc = kpispec.evaluate(root, as_of=AS_OF, allow_outside_root=True)
    assert january(doc) == 1 + 3  # a.csv's row and the three of the outside file


def test_a_file_that_becomes_an_outside_symlink_after_validation_is_not_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "outside.csv").write_text("started_at\n2026-01-05\n")
    root = csv_project(tmp_path / "project", "data/*.csv")
    (root / "data").mkdir()
    (root / "data" / "a.csv").write_text("started_at\n2026-01-05\n")
    loaded = load(root)
    assert loaded.ok
    (root / "data" / "b.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(kpispec.SpecError) as refused:
        kpispec.evaluate(loaded, as_of=AS_OF)
    assert codes(refused) == ["E410"]


def test_test_rows_that_become_an_outside_symlink_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("started_at\n2026-01-05\n2026-01-06\n")
    root = csv_project(tmp_path / "project", "rows.csv")
    loaded = load(root)
    assert loaded.ok
    (outcome,) = run_tests(loaded.checked, as_of=kpispec.api.parse_as_of(AS_OF))
    assert outcome.passed
    (root / "rows.csv").unlink()
    (root / "rows.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(kpispec.SpecError) as refused:
        run_tests(loaded.checked, as_of=kpispec.api.parse_as_of(AS_OF))
    assert codes(refused) == ["E410"]
