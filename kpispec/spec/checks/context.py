"""What every check pass reads and writes: the project, what is known so far, the findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from kpispec.diagnostics import Diagnostic, Diagnostics, Loc, Severity
from kpispec.formula.analysis import FormulaInfo
from kpispec.spec.columns import KnownColumns
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Kpi, Project, Source
from kpispec.suggest import did_you_mean


@dataclass
class CheckedKpi:
    kpi: Kpi
    formula: FormulaInfo | None = None  #: None when the formula did not parse
    filter: FormulaInfo | None = None
    dimensions: list[str] = field(default_factory=list)  #: the breakdowns, derived ones included

    @property
    def depends(self) -> list[str]:
        return self.formula.kpi_ids if self.formula else []


@dataclass
class CheckedProject:
    project: Project
    kpis: dict[str, CheckedKpi]
    source_filters: dict[str, FormulaInfo]
    columns: dict[str, KnownColumns]
    diagnostics: list[Diagnostic]
    order: list[str]  #: KPI ids, every KPI after the KPIs it references

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass
class Context:
    """The shared state of one check of a project; the passes run in order over it."""

    project: Project
    data: bool  #: whether data files may be read (False for --no-data)
    allow_outside_root: bool
    out: Diagnostics = field(default_factory=Diagnostics)
    sources: dict[str, Source] = field(default_factory=dict)  #: the first source of each id
    kpis: dict[str, Kpi] = field(default_factory=dict)  #: the first KPI of each id
    columns: dict[str, KnownColumns] = field(default_factory=dict)  #: read plus declared
    file_columns: dict[str, KnownColumns] = field(default_factory=dict)  #: read only
    checked: dict[str, CheckedKpi] = field(default_factory=dict)
    source_filters: dict[str, FormulaInfo] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  #: set by the cycles pass

    def add_at(
        self, code: str, message: str, snippet: Snippet, start: int, end: int, hint: str | None
    ) -> None:
        """A diagnostic at characters ``start:end`` of a formula."""
        self.out.add(code, message, snippet.range_loc(start, end), hint)

    def warn(self, code: str, message: str, loc: Loc, hint: str) -> None:
        self.out.add(code, message, loc, hint, severity=Severity.WARNING)

    def known(self, source: Source | None) -> frozenset[str] | None:
        """The columns a source is known to have (to tell a bare column from a KPI)."""
        if source is None:
            return None
        known = self.columns.get(source.id)
        if known is not None:
            return known.names
        return frozenset(source.columns) or None

    def column_exists(
        self, name: str, source: Source, loc: Loc, what: str, length: int = 1
    ) -> None:
        known = self.columns.get(source.id)
        if known is None or name in known.names:
            return
        self.out.add(
            "E306",
            f"unknown {what} `{name}`: source `{source.id}` has no such column (read from {known.how})",
            loc,
            did_you_mean(name, known.names) or f"columns: {', '.join(sorted(known.names))}",
            length=length,
        )

    def sources_hint(self) -> str:
        names = list(self.sources)
        return f"sources: {', '.join(names)}" if names else "define a source under `sources:`"

    def result(self) -> CheckedProject:
        return CheckedProject(
            self.project,
            self.checked,
            self.source_filters,
            self.columns,
            sorted(self.out.items, key=Diagnostic.sort_key),
            self.order,
        )


def dimension_locs(kpi: Kpi) -> list[Loc]:
    """Where each dimension of a KPI is written (the `dimensions:` key if not known)."""
    locs = kpi.dimension_locs
    if len(locs) == len(kpi.dimensions):
        return locs
    return [kpi.locs.get("dimensions", kpi.loc)] * len(kpi.dimensions)
