"""The type-checking pass of validation: formulas against the kinds of their columns.

The kinds come from ``columns:``, else the Parquet schema, else a CSV sample
(:mod:`kpispec.spec.columns`); a column of unknown kind (a SQL source, no data read)
checks nothing. One call from the checker, after every formula is analysed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from kpispec.diagnostics import Diagnostic
from kpispec.formula.analysis import FormulaInfo, Level, Problem
from kpispec.formula.kinds import Kind
from kpispec.formula.types import check_types
from kpispec.spec.columns import DECLARED_KINDS, KnownColumns
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Kpi, Project, Source


class Analysed(Protocol):
    """A KPI with its analysed formula and filter (the checker's CheckedKpi)."""

    @property
    def kpi(self) -> Kpi: ...
    @property
    def formula(self) -> FormulaInfo | None: ...
    @property
    def filter(self) -> FormulaInfo | None: ...


def located(problem: Problem, snippet: Snippet) -> Diagnostic:
    """A formula problem (offsets in its text) at its file, line and column."""
    loc = snippet.range_loc(problem.start, problem.end)
    return Diagnostic(problem.code, problem.message, loc, problem.hint, length=loc.length)


def source_kinds(source: Source, read: KnownColumns | None, kpis: Iterable[Kpi]) -> dict[str, Kind]:
    """The kinds the engine reads the source's columns as, where they are sure.

    A time column the reader takes for text is parsed as timestamps by the engine when
    a KPI reads it as its time, so its kind is left unknown.
    """
    kinds = dict(read.kinds) if read is not None else {}
    kinds.update((name, DECLARED_KINDS[t]) for name, t in source.columns.items())
    times = {source.time} | {k.time for k in kpis if k.time_set}
    for name in times:
        if name is not None and name not in source.columns and kinds.get(name) is Kind.TEXT:
            del kinds[name]
    return kinds


def type_errors(
    project: Project,
    checked: Mapping[str, Analysed],
    source_filters: Mapping[str, FormulaInfo],
    read: Mapping[str, KnownColumns],
) -> list[Diagnostic]:
    """Type errors of every KPI's formula and filter and of every source filter.

    ``read`` holds the columns read from the data, by source id.
    """
    by_source: dict[str, list[Kpi]] = {}
    for entry in checked.values():
        by_source.setdefault(entry.kpi.source or "", []).append(entry.kpi)
    sources = {s.id: s for s in project.all_sources()}  # the last of an id, as analysed
    kinds = {
        sid: source_kinds(s, read.get(sid), by_source.get(sid, ())) for sid, s in sources.items()
    }
    out: list[Diagnostic] = []
    for source in sources.values():
        info = source_filters.get(source.id)
        if info is not None and source.filter is not None:
            found = check_types(info, Level.FILTER, kinds[source.id])
            out.extend(located(p, source.filter) for p in found)
    for entry in checked.values():
        kpi = entry.kpi
        columns = kinds.get(kpi.source or "", {})
        if entry.formula is not None:
            found = check_types(entry.formula, Level.KPI, columns)
            out.extend(located(p, kpi.formula) for p in found)
        if entry.filter is not None and kpi.filter is not None:
            found = check_types(entry.filter, Level.FILTER, columns)
            out.extend(located(p, kpi.filter) for p in found)
    return out
