"""Formula types: the registry, validation's type check, and its agreement with the engine."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

import kpispec
from kpispec.engine.polars.compile import AggregateCompiler, RowCompiler
from kpispec.engine.polars.lower import AGGREGATE_LOWERING, ROW_LOWERING
from kpispec.engine.polars.typed import CompileError
from kpispec.formula.analysis import Level, analyze
from kpispec.formula.functions import FUNCTIONS, Role
from kpispec.formula.kinds import Kind
from kpispec.formula.nodes import Call
from kpispec.formula.parser import parse
from kpispec.formula.types import check_types
from kpispec.spec.columns import csv_kinds, polars_kind
from kpispec.spec.load import load
from tests.helpers import write_files

PROJECT = "kpispec: 1\ntimezone: UTC\n"


def spec(formula: str, source: str = "{id: s, path: s.csv, time: at}") -> str:
    return (
        "kpispec: 1\nscorecard: {id: t, title: T}\n"
        f"sources:\n  - {source}\n"
        f"kpis:\n  - id: k\n    source: s\n    formula: {formula}\n"
    )


def errors(folder: Path, *, data: bool = True) -> list[tuple[str, int, int]]:
    loaded = load(folder, data=data)
    return [(d.code, d.loc.line, d.loc.col) for d in loaded.diagnostics if d.is_error]


def test_every_function_has_one_polars_lowering_of_its_role() -> None:
    assert not set(ROW_LOWERING) & set(AGGREGATE_LOWERING)
    # total() is KPI-level only: the KPI stage takes its argument on the total row
    kpi_level = {name for name, fn in FUNCTIONS.items() if fn.role is Role.TOTAL}
    assert kpi_level == {"total"}
    assert set(ROW_LOWERING) | set(AGGREGATE_LOWERING) | kpi_level == set(FUNCTIONS)
    for name, fn in FUNCTIONS.items():
        assert (name in AGGREGATE_LOWERING) is fn.aggregate, name


CSV = "at,n,name,ok,day\n2026-01-05,1,anna,true,2026-01-01\n2026-01-06,2.5,bo,false,2026-01-02\n"


@pytest.mark.parametrize(
    ("formula", "at"),
    [
        ("sum(name)", "name"),
        ("avg(name)", "name"),
        ("100 * share(n)", "n)"),
        ("count(*) filter (where name = 1)", "name ="),
        ("count(*) filter (where n > day)", "n >"),
        ("sum(n) filter (where name like 'a%') + sum(n + name)", "name)"),
        ("sum(n) filter (where n like 'a%')", "n like"),
        ("max(n) + sum(date_diff('day', day, n))", "n))"),
        ("sum(case when ok then n else name end)", "case"),
        ("date_diff('day', day, n)", None),  # a row function at KPI level: E303 first
    ],
)
def test_type_errors_at_the_argument(tmp_path: Path, formula: str, at: str | None) -> None:
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(formula), "s.csv": CSV})
    found = errors(tmp_path)
    if at is None:
        assert {c for c, _, _ in found} == {"E303"}
    else:
        col = len("    formula: ") + 1 + formula.index(at)
        assert found == [("E314", 8, col)]


@pytest.mark.parametrize(
    "formula",
    [
        "avg(ok)",  # booleans average as 0 and 1, as the engine computes them
        "sum(ok)",
        "count(*) filter (where name > 'a')",
        "count(distinct name)",
        "count(*) filter (where day >= '2026-01-02' and name in ('anna', 'bo'))",
        "sum(date_diff('day', day, at))",
        "share(name is null)",
    ],
)
def test_well_typed_formulas_validate_and_evaluate(tmp_path: Path, formula: str) -> None:
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec(formula), "s.csv": CSV})
    assert errors(tmp_path) == []
    kpispec.evaluate(tmp_path, as_of="2026-02-01")


def test_avg_of_a_boolean_is_its_share_of_true(tmp_path: Path) -> None:
    rows = "at,ok\n2026-01-05,true\n2026-01-06,false\n2026-01-07,true\n2026-01-08,true\n"
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec("avg(ok)"), "s.csv": rows})
    assert errors(tmp_path) == []
    results = kpispec.evaluate(tmp_path, as_of="2026-02-01")
    [k] = results.scorecards[0].kpis
    assert k.value == pytest.approx(3 / 4)


def test_parquet_schema_types_the_columns(tmp_path: Path) -> None:
    source = "{id: s, path: s.parquet, time: at}"
    write_files(tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec("sum(name)", source)})
    pl.DataFrame({"at": [date(2026, 1, 5)], "name": ["1"]}).write_parquet(tmp_path / "s.parquet")
    assert errors(tmp_path) == [("E314", 8, 18)]


def test_declared_type_wins_over_the_csv(tmp_path: Path) -> None:
    rows = "at,n\n2026-01-05,x1\n"  # text in the file, declared a number: a data error later
    source = "{id: s, path: s.csv, time: at, columns: {n: number, at: date}}"
    write_files(
        tmp_path, {"kpispec.yaml": PROJECT, "s.yaml": spec("sum(n)", source), "s.csv": rows}
    )
    assert errors(tmp_path) == []
    source = "{id: s, path: s.csv, time: at, columns: {n: string}}"
    write_files(tmp_path, {"s.yaml": spec("sum(n)", source), "s.csv": "at,n\n2026-01-05,1\n"})
    assert errors(tmp_path) == [("E314", 8, 18)]
    assert errors(tmp_path, data=False) == [("E314", 8, 18)]


def test_a_sql_source_checks_nothing(tmp_path: Path) -> None:
    project = PROJECT + "connections:\n  db: {url: 'sqlite:///db.sqlite'}\n"
    source = "{id: s, connection: db, sql: 'select * from t', time: at}"
    write_files(tmp_path, {"kpispec.yaml": project, "s.yaml": spec("sum(name) + share(n)", source)})
    assert errors(tmp_path) == []


def test_a_text_time_column_is_not_text(tmp_path: Path) -> None:
    # a time the reader leaves as text is parsed as a timestamp by the engine
    rows = "at,n\n05.01.2026 10:00,1\n"
    write_files(
        tmp_path,
        {
            "kpispec.yaml": PROJECT,
            "s.yaml": spec("count(*) filter (where at > '2026-01-01')"),
            "s.csv": rows,
        },
    )
    assert errors(tmp_path) == []


# ---------------------------------------------------------------- agreement with the engine

FRAME = pl.DataFrame(
    {
        "n": [1, 2],
        "x": [1.5, None],
        "t": ["a", "b"],
        "b": [True, False],
        "d": [date(2026, 1, 1), date(2026, 1, 2)],
        "ts": [datetime(2026, 1, 1, 10), datetime(2026, 1, 2, 11)],
        "z": [None, None],
    }
)
COLUMNS = list(FRAME.columns)
ROW_FORMULAS = [
    "{a} = {c}",
    "{a} < '2026-01-01'",
    "{a} in (1, 'x')",
    "{a} between {c} and 3",
    "{a} + 1",
    "not {a}",
    "-{a}",
    "{a} and {c}",
    "{a} like 'a%'",
    "case when {a} then 1 else {c} end",
    "case {a} when 1 then 'one' end",
    "coalesce({a}, {c})",
    "nullif({a}, {c})",
    "abs({a})",
    "round({a}, 1)",
    "least({a}, {c})",
    "date_diff('day', {a}, {c})",
    "{a} is null",
]
AGGREGATES = ["sum", "avg", "min", "max", "median", "stddev", "share", "count", "first"]


def _engine_rejects(formula: str) -> bool:
    tree = parse(formula)
    schema = {name: FRAME.schema[name] for name in COLUMNS}
    rows = RowCompiler(schema, "UTC")
    try:
        if isinstance(tree, Call) and FUNCTIONS[tree.name].aggregate:
            AggregateCompiler(rows, "ts", None).compile(tree)
        else:
            rows.visit(tree)
    except CompileError:
        return True
    return False


def _cases() -> list[str]:
    out = []
    for a in COLUMNS:
        for c in ("n", "t", "d", "ts", "b", "z", "'2026-01-02'", "2"):
            out.extend(f.format(a=a, c=c) for f in ROW_FORMULAS)
        out.extend(f"{agg}({a})" for agg in AGGREGATES)
        out.append(f"percentile({a}, 0.5)")
    return list(dict.fromkeys(out))


def test_validation_and_the_engine_judge_types_alike() -> None:
    """With the kinds of a Polars frame, validate rejects exactly what the engine rejects."""
    kinds = {name: polars_kind(FRAME.schema[name]) for name in COLUMNS}
    disagree = []
    for formula in _cases():
        tree = parse(formula)
        agg = isinstance(tree, Call) and FUNCTIONS[tree.name].aggregate
        info = analyze(tree, Level.KPI if agg else Level.ROW)
        assert not info.problems, (formula, info.problems)
        checked = bool(check_types(info, Level.KPI if agg else Level.ROW, kinds))
        if checked != _engine_rejects(formula):
            disagree.append(formula)
    assert disagree == []


# ---------------------------------------------------------------- the CSV sample


@pytest.mark.parametrize(
    "values",
    [
        ["1", "2", "-3"],
        ["1", "2.5", "1e3"],
        ["true", "False"],
        ["2026-01-05", "2026-02-28"],
        ["2026-01-05 10:00:00", "2026-01-05T11:30:00.5"],
        ["web", "1"],
        ["web", "app"],
        ["", "x"],
        ["NaN", "1"],
        ["1", "true"],
        ["2026-13-45"],
        ["12,5"],
        ["+1"],
        ["1.", ".5", "1e5", "01", "-0"],
        ["TRUE", "false"],
        ["2026-01-05T10:00:00Z"],
        ["inf", "-inf"],
        ["NA", "3"],
        ["99999999999999999999"],
    ],
)
def test_csv_kinds_are_the_kinds_polars_reads(values: list[str]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["c", "pad"])
    writer.writerows([v, "p"] for v in values)
    frame = pl.read_csv(io.StringIO(text.getvalue()).read().encode(), try_parse_dates=True)
    reader = csv.reader(io.StringIO(text.getvalue()))
    header = next(reader)
    claimed = csv_kinds(header, reader).get("c")
    if claimed is not None:
        assert claimed is polars_kind(frame.schema["c"]), (values, frame.schema["c"])
    assert claimed is not Kind.UNKNOWN
