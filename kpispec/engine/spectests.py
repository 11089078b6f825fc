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

import polars as pl

from kpispec.diagnostics import DataError, Diagnostic, Loc
from kpispec.engine.evaluate import VALUE, evaluate
from kpispec.engine.periods import Period, parse_label, period_index
from kpispec.engine.plan import Span
from kpispec.engine.sources import polars_type
from kpispec.spec.checks import CheckedProject
from kpispec.spec.model import ColumnType, SpecTest


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


def _frame(test: SpecTest, source_id: str, checked: CheckedProject) -> pl.DataFrame:
    rows = test.rows[source_id]
    source = checked.project.source(source_id)
    assert source is not None
    try:
        if isinstance(rows, str):
            frame = pl.read_csv(
                test.file.parent / rows, try_parse_dates=True, infer_schema_length=None
            )
        else:
            columns = list(dict.fromkeys(k for row in rows for k in row))
            data = {c: [row.get(c) for row in rows] for c in columns}
            frame = pl.DataFrame(data, strict=False, infer_schema_length=None)
        casts = [
            pl.col(name).cast(polars_type(kind), strict=False)
            for name, kind in source.columns.items()
            if name in frame.columns and kind not in (ColumnType.DATE, ColumnType.DATETIME)
        ]
        return frame.with_columns(casts) if casts else frame
    except (pl.exceptions.PolarsError, OSError, ValueError, TypeError) as exc:
        # a ragged CSV, a file that cannot be read, values Polars cannot put in one column,
        # a column that cannot take its declared type (text as a boolean)
        what = f"the test rows file {rows}" if isinstance(rows, str) else "the test rows"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            [
                Diagnostic(
                    "D102",
                    f"cannot read {what} of source `{source_id}`: {reason}",
                    test.row_value_locs.get(source_id, test.loc),
                    "give every row the same columns, one value per column",
                )
            ]
        ) from None


def _first_day(frames: dict[str, pl.DataFrame], checked: CheckedProject) -> date | None:
    days: list[date] = []
    for source_id, frame in frames.items():
        source = checked.project.source(source_id)
        if source is None or source.time is None or source.time not in frame.columns:
            continue
        column = frame.get_column(source.time)
        if column.dtype == pl.String:
            try:
                column = column.str.to_datetime(strict=False)
            except pl.exceptions.PolarsError:  # no format fits; evaluation says what is wrong
                continue
        if column.dtype == pl.Date or isinstance(column.dtype, pl.Datetime):
            first = column.min()
            if first is not None:
                days.append(first if type(first) is date else first.date())  # type: ignore[union-attr]
    return min(days) if days else None


def run_test(checked: CheckedProject, test: SpecTest, as_of: date) -> Outcome:
    kpi = checked.kpis[test.kpi]
    grain = str(kpi.kpi.grain)
    try:
        frames = {source_id: _frame(test, source_id, checked) for source_id in test.rows}
        if test.period is not None:
            period = parse_label(test.period)
            evaluation = evaluate(
                checked,
                as_of=as_of,
                period=period,
                kpi_ids=[kpi.kpi.id],
                frames=frames,
                breakdowns=False,
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
                breakdowns=False,
            )
    except DataError as exc:
        return Outcome(
            test, False, None, "the KPI could not be evaluated on the test rows", exc.diagnostics
        )
    values = evaluation.values[kpi.kpi.id]
    total = values.filter(pl.col("__dimension").is_null() & (pl.col("__p") == period.index))
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


def _show(value: float | None) -> str:
    if value is None:
        return "null"
    return repr(value) if not float(value).is_integer() else str(int(value))


def run_tests(
    checked: CheckedProject, *, as_of: date, scorecards: list[str] | None = None
) -> list[Outcome]:
    outcomes = []
    for card in checked.project.scorecards:
        if scorecards is not None and card.id not in scorecards:
            continue
        for test in card.tests:
            if test.kpi in checked.kpis:
                outcomes.append(run_test(checked, test, as_of))
    return outcomes
