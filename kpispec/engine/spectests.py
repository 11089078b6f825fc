"""Run the tests that spec files carry for their own formulas (``kpispec test``).

Each test gives rows for the sources a KPI reads (inline, or a CSV file beside the spec)
and the value the KPI must give. The rows replace the sources' data and the KPI is
evaluated by the same engine as ``kpispec eval``: in the named ``period``, or, without
one, with all the rows in one period (the KPI's period that holds the earliest row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kpispec.confine import outside_root
from kpispec.diagnostics import DataError, Diagnostic, KpispecError, Loc, SpecError
from kpispec.engine.evaluate import VALUE, evaluate
from kpispec.engine.sources import BOOLEAN_WORDS, open_source, parse_instants, polars_type
from kpispec.periods import Period, parse_label, period_index
from kpispec.plan.windows import Span
from kpispec.spec.checks import CheckedProject
from kpispec.spec.loader import display_name
from kpispec.spec.model import Project, Source, SpecTest


@dataclass
class Outcome:
    test: SpecTest
    passed: bool
    actual: float | None
    message: str
    diagnostics: list[Diagnostic]

    @property
    def loc(self) -> Loc:
        return self.test.loc


def real_schema(source: Source, project: Project) -> dict[str, Any]:
    """The raw column types of the source's real data: declared ``columns:`` first, then
    the Parquet schema or the CSV header's inferred types (as ``eval`` reads them).

    A source that cannot be opened (a missing file, a database: queries are not run for
    tests) contributes only its declared columns.
    """
    schema: dict[str, Any] = {}
    if source.path is not None:
        try:
            schema = dict(open_source(source, project).schema)
        except KpispecError:
            schema = {}
    for name, kind in source.columns.items():
        schema[name] = polars_type(kind)
    return schema


def _typed(values: list[object], dtype: Any, zone: str) -> tuple[pl.Series, int | None]:
    """Test values read as a column of ``dtype``, and the index of the first that is not one.

    Timestamps of any kind become instants by the rule the engine reads text with
    (:func:`parse_instants`): an offset is an instant, anything else is local in ``zone``.
    """
    whole = dtype.is_integer()  # 3.0 is the integer 3
    text = pl.Series(
        [
            None
            if v is None
            else str(v).lower()
            if isinstance(v, bool)
            else str(int(v))
            if whole and isinstance(v, float) and v.is_integer()
            else str(v)
            for v in values
        ],
        dtype=pl.String,
    )
    if isinstance(dtype, pl.Datetime):
        typed = pl.select(parse_instants(pl.lit(text), zone, strict=False)).to_series()
    elif dtype == pl.Date:
        typed = text.str.to_date(strict=False)
    elif dtype == pl.Boolean:
        typed = text.str.to_lowercase().replace_strict(
            BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean
        )
    elif dtype == pl.String:
        typed = text
    elif dtype.is_numeric():
        bad = [i for i, v in enumerate(values) if isinstance(v, bool)]
        typed = text.cast(dtype, strict=False)
        if bad:
            return typed, bad[0]
    else:
        return pl.Series(values, strict=False), None
    failed = (text.is_not_null() & typed.is_null()).arg_true()
    return typed, int(failed[0]) if len(failed) else None


_KIND = {pl.Date: "date", pl.Boolean: "boolean", pl.String: "string"}


def _kind(dtype: Any) -> str:
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    return _KIND.get(dtype, "integer" if dtype.is_integer() else "number")


def _frame(
    test: SpecTest, source_id: str, checked: CheckedProject, schemas: dict[str, dict[str, Any]]
) -> pl.DataFrame:
    """The test's rows for one source, each column of the type the real source has.

    ``schemas`` keeps each source's real schema across the tests of one run.
    """
    rows = test.rows[source_id]
    project = checked.project
    source = project.source(source_id)
    assert source is not None
    zone = source.timezone or project.timezone
    locs: list[dict[str, Loc]]
    if isinstance(rows, str):
        path = test.file.parent / rows
        if not project.allow_outside_root:  # validation refuses it first (E410)
            loc = test.row_value_locs.get(source_id, test.loc)
            refused = outside_root(f"test data file {rows!r}", [path], project.root, loc)
            if refused is not None:
                raise SpecError([refused])
        text = _read_rows_file(path, rows, source_id, test)
        data: dict[str, list[object]] = {c: text.get_column(c).to_list() for c in text.columns}
        name = display_name(path)
        locs = [
            {c: Loc(name, i + 2, text.columns.index(c) + 1) for c in text.columns}
            for i in range(text.height)
        ]
    else:
        columns = list(dict.fromkeys(k for row in rows for k in row))
        data = {c: [row.get(c) for row in rows] for c in columns}
        locs = test.row_cell_locs.get(source_id, [])
    if source_id not in schemas:
        schemas[source_id] = real_schema(source, project)
    known = schemas[source_id]
    series = []
    for column, values in data.items():
        dtype = known.get(column)
        if dtype is None:  # a column the source does not have: typed by its values
            if all(v is None or isinstance(v, str) for v in values):
                dtype = pl.String  # text, read like a source's text (timestamps too)
            else:
                series.append(pl.Series(column, values, strict=False))
                continue
        typed, bad = _typed(values, dtype, zone)
        if bad is not None:
            at = locs[bad].get(column) if bad < len(locs) else None
            raise DataError(
                [
                    Diagnostic(
                        "D103",
                        f"test {test.name!r}: value {values[bad]!r} of column `{column}` "
                        f"(row {bad + 1} for `{source_id}`) is not a valid {_kind(dtype)}, "
                        f"the type of `{column}` in source `{source_id}`",
                        at or test.locs.get("rows", test.loc),
                        _HINTS.get(_kind(dtype), "write a value of the column's type"),
                    )
                ]
            )
        series.append(typed.alias(column))
    return pl.DataFrame(series)


def _read_rows_file(path: Path, rows: str, source_id: str, test: SpecTest) -> pl.DataFrame:
    """A test rows CSV as text columns; a ragged or unreadable file is D102 at ``rows:``."""
    try:
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            [
                Diagnostic(
                    "D102",
                    f"cannot read the test rows file {rows} of source `{source_id}`: {reason}",
                    test.row_value_locs.get(source_id, test.loc),
                    "give every row the same columns, one value per column",
                )
            ]
        ) from None


_HINTS = {
    "timestamp": "write a date (2026-10-01), a local time (2026-10-01T14:30:00) or a "
    "time with its offset (2026-10-01T12:30:00Z, 2026-10-01T14:30:00+02:00)",
    "date": "write a date as YYYY-MM-DD",
    "boolean": "write true or false",
}


def _first_day(frames: dict[str, pl.DataFrame], checked: CheckedProject) -> date | None:
    """The earliest local day (in the project's zone) of the test rows' time values."""
    days: list[date] = []
    project = checked.project
    for source_id, frame in frames.items():
        source = project.source(source_id)
        if source is None or source.time is None or source.time not in frame.columns:
            continue
        column = frame.get_column(source.time)
        if column.dtype == pl.String:
            zone = source.timezone or project.timezone
            column = pl.select(parse_instants(pl.lit(column), zone, strict=False)).to_series()
        if isinstance(column.dtype, pl.Datetime):
            if column.dtype.time_zone is None:
                column = column.dt.replace_time_zone(source.timezone or project.timezone)
            column = column.dt.convert_time_zone(project.timezone).dt.date()
        if column.dtype == pl.Date:
            first = column.min()
            if isinstance(first, date):
                days.append(first)
    return min(days) if days else None


def run_test(
    checked: CheckedProject,
    test: SpecTest,
    as_of: date,
    schemas: dict[str, dict[str, Any]] | None = None,
) -> Outcome:
    kpi = checked.kpis[test.kpi]
    grain = str(kpi.kpi.grain)
    try:
        known = {} if schemas is None else schemas
        frames = {source_id: _frame(test, source_id, checked, known) for source_id in test.rows}
        if test.period is not None:
            period = parse_label(test.period)
            evaluation = evaluate(
                checked,
                as_of=as_of,
                period=period,
                kpi_ids=[kpi.kpi.id],
                frames=frames,
                breakdowns=_breakdowns(test),
            )
        else:
            first = _first_day(frames, checked) or as_of
            period = Period(grain, period_index(grain, first))
            spans = {
                g: Span(g, period_index(g, first), period_index(g, first))
                for g in ("day", "week", "month", "quarter", "year")
            }
            evaluation = evaluate(
                checked,
                as_of=as_of,
                kpi_ids=[kpi.kpi.id],
                frames=frames,
                spans=spans,
                collapse=True,
                breakdowns=_breakdowns(test),
            )
    except DataError as exc:
        return Outcome(
            test, False, None, "the KPI could not be evaluated on the test rows", exc.diagnostics
        )
    values = evaluation.values[kpi.kpi.id]
    if test.member is None:
        row = pl.col("__dimension").is_null()
    else:
        dimension, member = test.member
        at = pl.col("__member").is_null() if member is None else pl.col("__member") == member
        row = (pl.col("__dimension") == dimension) & at
    total = values.filter(row & (pl.col("__p") == period.index))
    actual = total[VALUE].item() if total.height else None
    expect = test.expect
    if expect is None:
        passed = actual is None
    else:
        passed = (
            actual is not None and not math.isnan(actual) and abs(actual - expect) <= test.tolerance
        )
    message = "" if passed else f"expected {_show(expect)}, got {_show(actual)}"
    return Outcome(test, passed, actual, message, [])


def _breakdowns(test: SpecTest) -> frozenset[str]:
    """The dimensions a test evaluates: the one of the member it tests, else none (the
    test's rows need not hold the other dimension columns)."""
    return frozenset() if test.member is None else frozenset({test.member[0]})


def _show(value: float | None) -> str:
    if value is None:
        return "null"
    return repr(value) if not float(value).is_integer() else str(int(value))


def run_tests(
    checked: CheckedProject, *, as_of: date, scorecards: list[str] | None = None
) -> list[Outcome]:
    outcomes = []
    schemas: dict[str, dict[str, Any]] = {}
    for card in checked.project.scorecards:
        if scorecards is not None and card.id not in scorecards:
            continue
        for test in card.tests:
            if test.kpi in checked.kpis:
                outcomes.append(run_test(checked, test, as_of, schemas))
    return outcomes
