"""The example project on every SQL engine, the SQL text of every dialect, and their errors.

DuckDB and Spark (local mode, a real JVM) read the example's Parquet files themselves;
PostgreSQL (a real server) holds the example's rows in tables read as `table:` sources.
Each gives the results document the Polars engine gives, to 1e-9 and status for status.
The SQL text of each dialect is golden (tests/golden/sql/); the DuckDB text, run by
DuckDB, gives the aggregates the Polars engine computes for the same plan.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from helpers import evaluate_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpispec
from kpispec.diagnostics import DataError

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
AS_OF = "2026-11-22"
GOLDEN = ROOT / "tests" / "golden" / "sql"
DIALECTS = ["duckdb", "postgres", "spark", "bigquery", "snowflake", "trino"]


def same(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two results documents differ (numbers to 1e-9 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in same(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items, {len(b)} items"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} {b}"]
    return [] if a == b else [f"{path}: {a!r} {b!r}"]


@pytest.fixture(scope="module")
def polars_doc() -> dict[str, Any]:
    return evaluate_doc(SPECS, as_of=AS_OF)


def named_engines(doc: dict[str, Any], engine: str = "polars") -> dict[str, Any]:
    """The document with every source's engine said to be ``engine`` (after checking that
    each names one): documents of two engines are identical but for it."""
    out = json.loads(json.dumps(doc))
    for card in out["scorecards"]:
        for kpi in card["kpis"]:
            if kpi["source"] is not None:
                assert kpi["source"]["engine"] in ("polars", "duckdb", "postgres", "spark")
                kpi["source"]["engine"] = engine
    return out


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_the_example_on_an_engine_reading_the_files(polars_doc, engine: str) -> None:
    doc = evaluate_doc(SPECS, as_of=AS_OF, engine=engine)
    engines = {k["source"]["engine"] for c in doc["scorecards"] for k in c["kpis"] if k["source"]}
    assert engines == {engine}
    assert same(polars_doc, named_engines(doc)) == []
    statuses = [k["status"] for c in doc["scorecards"] for k in c["kpis"]]
    assert {"met", "at_risk", "missed"} <= set(statuses)


def test_the_example_in_postgresql_tables(polars_doc, warehouse, tmp_path: Path) -> None:
    project = tmp_path / "specs"
    shutil.copytree(SPECS, project)
    warehouse.move(project)
    text = (project / "scorecards" / "web.yaml").read_text(encoding="utf-8")
    assert "table: p" in text and "path:" not in text
    doc = evaluate_doc(project, as_of=AS_OF)
    kpis_of = [k for c in doc["scorecards"] for k in c["kpis"] if k["source"]]
    assert {k["source"]["engine"] for k in kpis_of} == {"postgres"}
    assert all(k["source"]["table"].startswith("p") for k in kpis_of)
    # the sources say where their rows are (and the rewritten files' lines moved); every
    # KPI's numbers and statuses are as the Polars engine has them
    numbers = ["value", "status", "bound", "previous", "year_ago", "stale", "newest", "series",
               "breakdowns", "period"]  # fmt: skip

    def kpis(d: dict[str, Any]) -> list[dict[str, Any]]:
        return [{n: k[n] for n in numbers} for c in d["scorecards"] for k in c["kpis"]]

    assert same(kpis(polars_doc), kpis(doc)) == []
    assert [c["summary"] for c in doc["scorecards"]] == [
        c["summary"] for c in polars_doc["scorecards"]
    ]
    explained = kpispec.explain(kpispec.load(project), as_of=AS_OF)
    assert "(postgres engine)" in explained and "GROUPING SETS" in explained


def test_eval_engine_duckdb_on_the_command_line(polars_doc) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", "specs", "--engine", "duckdb", "-f", "json",
         "--as-of", AS_OF],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert same(polars_doc, named_engines(json.loads(done.stdout))) == []


def sql_text(dialect: str) -> str:
    text = kpispec.sql(kpispec.load(SPECS), dialect, as_of=AS_OF)
    return text.replace(str(SPECS), "<specs>")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_text_of_each_dialect_is_golden(dialect: str) -> None:
    """Regenerate after an intended change: python tests/golden/sql/make.py"""
    assert sql_text(dialect) == (GOLDEN / f"{dialect}.sql").read_text(encoding="utf-8")


def test_the_duckdb_text_gives_the_polars_engines_aggregates() -> None:
    from kpispec.engine.evaluate import _aggregates, run_queries
    from kpispec.engine.joins import with_joins
    from kpispec.engine.polars.scans import lower
    from kpispec.engine.sources import open_source
    from kpispec.engine.sql.query import group_query
    from kpispec.engine.sql.run import written
    from kpispec.options import parse_as_of

    loaded = kpispec.load(SPECS)
    checked = loaded.checked
    runs = written(checked, "duckdb", as_of=parse_as_of(AS_OF))
    con = duckdb.connect()
    compared = 0
    for run in runs:
        opened = with_joins(open_source(run.plan.source, checked.project), checked.project)
        polars_plan = lower(run.plan, opened)
        [frames], _ = run_queries([polars_plan], {})
        expected = _aggregates(polars_plan, frames)
        for group in run.plan.groups:
            text = run.text(group_query(run.target, run.plan, group))
            cursor = con.execute(text)
            names = [d[0] for d in cursor.description]
            got = pl.DataFrame(
                cursor.fetchall(), schema=names, orient="row", infer_schema_length=None
            )
            keys = ["__p", "__dimension", "__member"]
            want = expected[group.number]
            assert got.height == want.height, (run.plan.source.id, group.number)
            joined = got.join(want, on=keys, how="full", nulls_equal=True, suffix="_polars")
            for a in group.aggregates:
                # the total and the KPI's own dimensions (the SQL computes every aggregate
                # for each dimension of its group; the shared stage keeps the KPI's own)
                own = joined.filter(
                    pl.col("__dimension").is_null()
                    | pl.col("__dimension").is_in(list(a.kpi.dimensions))
                )
                pairs = zip(own[a.column], own[a.column + "_polars"], strict=True)
                for x, y in pairs:
                    if a.is_count:  # a count over no rows is 0 (the grid fills it in)
                        x, y = x or 0, y or 0
                    if isinstance(y, float) or isinstance(x, float):
                        assert (x is None and y is None) or math.isclose(x, y, rel_tol=1e-9), a.text
                    else:
                        assert x == y, a.text
                compared += 1
    assert compared >= 40


def test_a_dialect_without_an_exact_percentile_leaves_it_out_and_says_where() -> None:
    text = sql_text("trino")
    assert "APPROX_PERCENTILE" not in text.upper()
    assert "-- left out, at specs/scorecards/cx.yaml:240:14: trino has no exact percentile" in text
    assert "PERCENTILE(" in sql_text("spark").upper()  # Spark's exact percentile


def test_sql_for_one_kpi(tmp_path: Path) -> None:
    text = kpispec.sql(kpispec.load(SPECS), "postgres", as_of=AS_OF, kpis=["resolution_time"])
    assert text.startswith("-- source `tickets`: 1 KPI in 1 query (postgres)")
    assert "AT TIME ZONE 'Europe/Oslo'" in text
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", "sql", "specs", "--kpi", "resolution_tme"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error[E001]: no KPI `resolution_tme`" in done.stderr
    assert "did you mean `resolution_time`" in done.stderr.lower()


def _table_project(tmp_path: Path, warehouse, table: str, extra: str = "") -> Path:
    root = tmp_path / "p"
    root.mkdir(parents=True)
    (root / "kpispec.yaml").write_text(
        "kpispec: 1\nconnections:\n  warehouse:\n    url: ${KPISPEC_TEST_WAREHOUSE_URL}\n",
        encoding="utf-8",
    )
    (root / "s.yaml").write_text(
        f"""kpispec: 1
scorecard: {{id: s, owner: me}}
sources:
  - id: events
    table: {table}
    connection: warehouse
    time: at
{extra}kpis:
  - id: n
    source: events
    formula: count(*)
""",
        encoding="utf-8",
    )
    return root


def test_a_missing_table_names_the_source_and_its_line(tmp_path: Path, warehouse) -> None:
    root = _table_project(tmp_path, warehouse, "public.no_such_table")
    with pytest.raises(DataError) as caught:
        kpispec.evaluate(root, as_of=AS_OF)
    [d] = caught.value.diagnostics
    assert d.code == "D107"
    assert "source `events`: the query failed" in d.message
    assert "no_such_table" in d.message
    assert (d.loc.line, d.loc.col) == (5, 12)
    assert warehouse.server.password not in d.message


def test_a_text_column_read_as_a_timestamp_is_refused_in_the_database(
    tmp_path: Path, warehouse
) -> None:
    with warehouse.server.connect() as conn:
        conn.execute("create table text_times (at text)")
        conn.execute("insert into text_times values ('2026-10-05 10:00:00')")
    root = _table_project(tmp_path, warehouse, "public.text_times", "    columns: {at: datetime}\n")
    with pytest.raises(DataError) as caught:
        kpispec.evaluate(root, as_of=AS_OF)
    [d] = caught.value.diagnostics
    assert d.code == "D110"
    assert "`at` is stored as String but read as datetime" in d.message
    assert "evaluate: local" in (d.hint or "")
    # with `evaluate: local` Polars reads the rows, and parses the text
    local = _table_project(
        tmp_path / "local", warehouse, "public.text_times",
        "    columns: {at: datetime}\n    evaluate: local\n",
    )  # fmt: skip
    doc = evaluate_doc(local, as_of=AS_OF, period="2026-10")
    assert doc["scorecards"][0]["kpis"][0]["value"] == 1


# --------------------------------------------------------------------------- random formulas

AGGREGATES = [
    "count(*)", "count(x)", "count(distinct k)", "sum(x)", "avg(x)", "min(x)", "max(x)",
    "stddev(x)", "median(x)", "percentile(x, 0.9)", "share(x > 2)", "sum(case when b then x end)",
    "avg(abs(x - 3))", "max(round(x * 1.5, 1))", "count(*) filter (where k = 'a')",
    "sum(x) filter (where b and x is not null)", "first(x)", "last(x)",
]  # fmt: skip


def _frame(rows: list[tuple[int, int | None, str | None, bool | None]]) -> pl.DataFrame:
    from datetime import datetime, timedelta

    start = datetime(2026, 9, 20)
    return pl.DataFrame(
        {
            "at": [start + timedelta(hours=h * 7) for h, *_ in rows],
            "x": [float(x) if x is not None else None for _, x, _, _ in rows],
            "k": [k for *_, k, _ in rows],
            "b": [b for *_, b in rows],
        },
        schema={"at": pl.Datetime("us"), "x": pl.Float64, "k": pl.String, "b": pl.Boolean},
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 400),
            st.one_of(st.none(), st.integers(-5, 9)),
            st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
            st.one_of(st.none(), st.booleans()),
        ),
        max_size=40,
    ),
    formulas=st.lists(st.sampled_from(AGGREGATES), min_size=1, max_size=4, unique=True),
    window=st.sampled_from(["period", "all", "14 days"]),
    grain=st.sampled_from(["week", "month"]),
)
def test_random_tables_and_formulas_agree_on_polars_and_duckdb(
    tmp_path_factory: pytest.TempPathFactory, rows, formulas, window: str, grain: str
) -> None:
    root = tmp_path_factory.mktemp("random")
    _frame(rows).write_parquet(root / "t.parquet")
    (root / "kpispec.yaml").write_text("kpispec: 1\ntimezone: Europe/Oslo\n", encoding="utf-8")
    kpis = "".join(
        f'  - id: k{i}\n    source: t\n    formula: "{f}"\n    window: {window}\n'
        f"    dimensions: [k]\n"
        for i, f in enumerate(formulas)
    )
    (root / "s.yaml").write_text(
        "kpispec: 1\nscorecard: {id: s, owner: me, grain: " + grain + "}\n"
        "sources:\n  - id: t\n    path: t.parquet\n    time: at\nkpis:\n" + kpis,
        encoding="utf-8",
    )
    polars_doc = evaluate_doc(root, as_of="2026-12-01")
    duckdb_doc = evaluate_doc(root, as_of="2026-12-01", engine="duckdb")
    assert same(polars_doc, named_engines(duckdb_doc)) == []


def test_the_capability_table_of_the_docs_is_the_dialects_own() -> None:
    from kpispec.engine.sql.dialects import DIALECTS

    text = (ROOT / "docs" / "engines.md").read_text(encoding="utf-8")
    for name, dialect in DIALECTS.items():
        row = f"| {name} | " + " | ".join(dialect.capabilities().values()) + " |"
        assert row in text, row


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_csv_files_read_by_the_engine_with_the_types_polars_reads(
    tmp_path: Path, engine: str
) -> None:
    (tmp_path / "kpispec.yaml").write_text("kpispec: 1\ntimezone: Europe/Oslo\n", encoding="utf-8")
    lines = ["at,day,n,x,channel,ok"]
    for i in range(60):
        ok = "" if i % 7 == 0 else str(i % 3 == 0).lower()
        x = "" if i % 5 == 0 else f"{i * 1.25}"
        lines.append(
            f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:30:00,2026-10-{1 + i % 28:02d},{i},{x},c{i % 3},{ok}"
        )
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        """kpispec: 1
scorecard: {id: s, owner: me}
sources:
  - id: t
    path: t.csv
    time: at
kpis:
  - {id: rows, source: t, formula: "count(*)", dimensions: [channel]}
  - {id: mean, source: t, formula: "avg(x) + sum(n) / count(x)", dimensions: [channel]}
  - {id: ok, source: t, formula: share(ok), dimensions: [channel]}
  - {id: late, source: t, formula: "count(*) filter (where day > '2026-10-20')"}
  - {id: p90, source: t, formula: "percentile(x, 0.9)"}
""",
        encoding="utf-8",
    )
    polars_doc = evaluate_doc(tmp_path, as_of="2026-11-02")
    doc = evaluate_doc(tmp_path, as_of="2026-11-02", engine=engine)
    assert same(polars_doc, named_engines(doc)) == []
    values = {k["id"]: k["value"] for k in doc["scorecards"][0]["kpis"]}
    assert values["rows"] == 60 and values["late"] == sum(1 for i in range(60) if 1 + i % 28 > 20)


def test_check_on_duckdb_gives_the_polars_verdict() -> None:
    def check(*engine: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kpispec", "check", "specs", "--as-of", AS_OF, *engine],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip

    polars, duck = check(), check("--engine", "duckdb")
    assert duck.returncode == polars.returncode == 1  # the example misses gated targets
    assert duck.stdout == polars.stdout


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_on_the_command_line(dialect: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", "sql", "specs", "--dialect", dialect, "--as-of", AS_OF],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.replace(str(SPECS), "<specs>") == sql_text(dialect)
    assert done.stdout.count("-- source `") == 11  # every source of the example


def test_a_spark_query_may_not_read_files_or_call_java(tmp_path: Path) -> None:
    secret = tmp_path / "outside.parquet"
    pl.DataFrame({"at": [datetime(2026, 10, 5)]}).write_parquet(secret)
    root = tmp_path / "p"
    root.mkdir()
    (root / "kpispec.yaml").write_text(
        "kpispec: 1\nconnections:\n  lake:\n    url: spark://local[2]\n", encoding="utf-8"
    )
    queries = [
        f"select * from parquet.`{secret}`",
        f"select * from `{secret}`",
        f"select * from read_files('{secret}')",
        f"select * from (select * from parquet.`{secret}`) as t",
        "select reflect('java.lang.System', 'getProperty', 'user.home') as at",
        "select timestamp'2026-10-05' as at; select 1 as at",
        "insert into t select timestamp'2026-10-05' as at",
    ]
    for query in queries:
        for evaluate in ("database", "local"):
            (root / "s.yaml").write_text(
                f"""kpispec: 1
scorecard: {{id: s, owner: me}}
sources:
  - id: events
    sql: "{query}"
    connection: lake
    time: at
    evaluate: {evaluate}
kpis:
  - {{id: n, source: events, formula: "count(*)"}}
""",
                encoding="utf-8",
            )
            with pytest.raises(DataError) as refused:
                kpispec.evaluate(root, as_of=AS_OF)
            [d] = refused.value.diagnostics
            assert d.code == "D109", (query, evaluate, d.message)
            assert (d.loc.line, d.loc.col) == (5, 10)
    # the same source reading a table of the session is evaluated
    (root / "s.yaml").write_text(
        """kpispec: 1
scorecard: {id: s, owner: me}
sources:
  - id: events
    sql: "select timestamp_ntz'2026-10-05 10:00:00' as at"
    connection: lake
    time: at
kpis:
  - {id: n, source: events, formula: "count(*)"}
""",
        encoding="utf-8",
    )
    doc = evaluate_doc(root, as_of=AS_OF, period="2026-10")
    assert doc["scorecards"][0]["kpis"][0]["value"] == 1
