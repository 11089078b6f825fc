"""Confinement: a spec reads nothing outside the project, and SQL sources only read.

What a case.toml of tests/hostile/ cannot say is tested here: the real PostgreSQL server
(tests/pg.py) after a query that tries to write, the Python API, a file that turns into
an outside symlink between validation and evaluation, and the glob walker against
:func:`glob.glob` as the oracle.
"""

from __future__ import annotations

import glob
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import evaluate_doc
from pg import PostgresServer, running_server

import kpispec
from kpispec.confine import escape, glob_paths
from kpispec.engine.spectests import run_tests
from kpispec.spec.load import load

AS_OF = "2026-02-01"
PROJECT = "kpispec: 1\ntitle: Confined\ntimezone: UTC\n"
SQL_PROJECT = PROJECT + 'connections:\n  db:\n    url: "{url}"\n'
SQL_SPEC = """kpispec: 1
scorecard: {{id: web, title: Web, owner: growth}}
sources:
  - id: sessions
    connection: db
    time: started_at
    sql: "{sql}"
kpis:
  - {{id: visitors, source: sessions, formula: count(*)}}
"""
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


def sql_project(folder: Path, url: str, sql: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kpispec.yaml").write_text(SQL_PROJECT.format(url=url))
    (folder / "web.yaml").write_text(SQL_SPEC.format(sql=sql))
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
        evaluate_doc(root, as_of=AS_OF)
    assert codes(refused) == ["E410"]
    assert "data/b.csv is a symlink to" in refused.value.diagnostics[0].message
    doc = evaluate_doc(root, as_of=AS_OF, allow_outside_root=True)
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
        evaluate_doc(loaded, as_of=AS_OF)
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


# --------------------------------------------------------------------------- SQLite, DuckDB


def sqlite_rows(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("create table sessions (started_at text)")
        conn.executemany("insert into sessions values (?)", [("2026-01-05",)] * n)
    conn.close()
    return path


def count_sqlite(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("select count(*) from sessions").fetchone()[0])
    finally:
        conn.close()


def test_sqlite_reads_and_refuses_to_write(tmp_path: Path) -> None:
    root = tmp_path / "project"
    db = sqlite_rows(root / "data" / "s.db", 4)
    sql_project(root, "sqlite:///data/s.db", "select started_at from sessions")
    assert january(evaluate_doc(root, as_of=AS_OF)) == 4
    for sql in [
        "insert into sessions values ('2026-01-09') returning started_at",
        "delete from sessions returning started_at",
        "select 1 as started_at; delete from sessions",
    ]:
        sql_project(root, "sqlite:///data/s.db", sql)
        with pytest.raises(kpispec.DataError) as refused:
            evaluate_doc(root, as_of=AS_OF)
        assert codes(refused) == ["D109"], sql
        assert count_sqlite(db) == 4


def test_sqlite_url_options_cannot_reopen_the_file_for_writing(tmp_path: Path) -> None:
    root = tmp_path / "project"
    sqlite_rows(root / "data" / "s.db", 1)
    sql_project(root, "sqlite:///data/new.db?mode=rwc&", "select 1 as started_at")
    with pytest.raises(kpispec.DataError) as refused:
        evaluate_doc(root, as_of=AS_OF)
    assert codes(refused) == ["D106"]
    assert sorted(p.name for p in (root / "data").iterdir()) == ["s.db"]


def test_duckdb_file_is_read_only_and_cannot_reach_files(tmp_path: Path) -> None:
    import duckdb

    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    conn = duckdb.connect(str(root / "data" / "s.duckdb"))
    conn.execute(
        "create table sessions as select date '2026-01-05' + i::integer as started_at from range(3) t(i)"
    )
    conn.close()
    sql_project(root, "duckdb:///data/s.duckdb", "select started_at from sessions")
    assert january(evaluate_doc(root, as_of=AS_OF)) == 3
    (tmp_path / "outside.csv").write_text("started_at\n2026-01-05\n")
    for sql in [
        "create table t as select 1 as started_at",
        f"select * from read_csv('{tmp_path / 'outside.csv'}')",
        f"copy sessions to '{tmp_path / 'stolen.csv'}'",
        "attach ':memory:' as m",
    ]:
        sql_project(root, "duckdb:///data/s.duckdb", sql)
        with pytest.raises(kpispec.DataError) as refused:
            evaluate_doc(root, as_of=AS_OF)
        assert codes(refused) == ["D109"], sql
    assert not (tmp_path / "stolen.csv").exists()
    check = duckdb.connect(str(root / "data" / "s.duckdb"), read_only=True)
    assert check.execute("select count(*) from information_schema.tables").fetchone() == (1,)
    check.close()


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with running_server() as server:
        with server.connect() as conn:
            conn.execute("create table sessions (started_at timestamptz not null)")
            conn.execute("create sequence ids")
            conn.execute(
                "insert into sessions select timestamptz '2026-01-05 12:00+00' + i * interval '1 hour' "
                "from generate_series(0, 4) as i"
            )
        yield server


def pg_state(pg: PostgresServer) -> tuple[list[str], int, int]:
    with pg.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' order by 1"
            )
        ]
        (rows,) = conn.execute("select count(*) from sessions").fetchone()
        (last,) = conn.execute("select last_value from ids").fetchone()
    return tables, rows, last


WRITES = [
    "create table stolen (a int)",
    "create table stolen (a int); commit; select now() as started_at",
    "commit; create table stolen (a int); commit; select now() as started_at",
    "select now() as started_at; commit; create table stolen (a int)",
    "commit; set default_transaction_read_only = off; create table stolen (a int)",
    "insert into sessions values (now()) returning started_at",
    "with d as (delete from sessions returning started_at) select * from d",
    "select nextval('ids') as n, now() as started_at",
    "copy sessions to stdout",
    "select 1) as a; commit; create table stolen (a int); select * from (select 1",
]


@pytest.mark.parametrize("sql", WRITES)
def test_postgres_query_cannot_write(
    pg: PostgresServer, sql: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = pg_state(pg)
    assert before == (["sessions"], 5, 1)
    monkeypatch.setenv("KPISPEC_TEST_PG_URL", pg.url)
    root = sql_project(tmp_path / "project", "${KPISPEC_TEST_PG_URL}", sql.replace('"', '\\"'))
    with pytest.raises(kpispec.DataError) as refused:
        evaluate_doc(root, as_of=AS_OF)
    (d,) = refused.value.diagnostics
    assert d.code in ("D109", "D107"), d
    assert d.loc.line == 7 and d.loc.file.endswith("web.yaml")
    assert d.message.startswith("source `sessions`: ")
    assert pg_state(pg) == before


@pytest.mark.parametrize("sql", [s for s in WRITES if not s.startswith("select 1)")])
def test_postgres_write_attempts_are_named_as_such(
    pg: PostgresServer, sql: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPISPEC_TEST_PG_URL", pg.url)
    root = sql_project(tmp_path / "project", "${KPISPEC_TEST_PG_URL}", sql)
    with pytest.raises(kpispec.DataError) as refused:
        evaluate_doc(root, as_of=AS_OF)
    assert codes(refused) == ["D109"], refused.value.diagnostics[0].message


def test_postgres_reads_in_a_read_only_transaction(
    pg: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPISPEC_TEST_PG_URL", pg.url)
    sql = "select started_at from sessions where current_setting('transaction_read_only') = 'on'"
    root = sql_project(tmp_path / "project", "${KPISPEC_TEST_PG_URL}", sql)
    assert january(evaluate_doc(root, as_of=AS_OF)) == 5


def test_cli_names_the_source_and_exits_3(pg: PostgresServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    root = sql_project(tmp_path / "project", "${KPISPEC_TEST_PG_URL}", WRITES[2])
    env = {**os.environ, "KPISPEC_TEST_PG_URL": pg.url, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", str(root), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "web.yaml:7:10: error[D109]: source `sessions`: the query may only read" in done.stderr
    assert pg.password not in done.stdout + done.stderr
    assert pg_state(pg) == (["sessions"], 5, 1)


def test_a_glob_lists_no_folder_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.csv").write_text("")
    (root / "link").symlink_to(tmp_path / "elsewhere")
    # a folder outside is given itself, never listed, so escape() refuses it by name
    assert glob_paths(root, "../**/*.csv", within=root) == [root / ".."]
    assert glob_paths(root, str(tmp_path / "**" / "*.csv"), within=root) == [tmp_path]
    assert glob_paths(root, "link/*.csv", within=root) == [root / "link"]
    assert glob_paths(root, "*/*.csv", within=root) == [root / "data" / "a.csv", root / "link"]
    assert glob_paths(root, "link/*.csv") == [root / "link" / "b.csv"]
