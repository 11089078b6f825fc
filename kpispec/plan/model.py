"""The logical plan of one source, as data: inputs, partials, groups, scans, row passes.

    source rows ─filter─▶ scan: rows by (bucket, every dimension) ─▶ partials
                                    └─▶ per group: buckets → periods (its windows)
                                          └─▶ roll-ups: (period, member) per dimension, (period)
                          row pass: rows placed in their periods ─▶ exact aggregates

A *group* is the KPIs of a source that share a time column, a grain and a window; a
*scan* computes the partials of every group on one time column in one pass over the rows;
a *row pass* computes a group's aggregates that do not decompose, from rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from kpispec.formula.analysis import FormulaInfo
from kpispec.formula.nodes import Call, Node
from kpispec.plan.partials import Op
from kpispec.plan.windows import Mapping, Span
from kpispec.spec.checks import CheckedKpi
from kpispec.spec.loader import Snippet
from kpispec.spec.model import Source, Window


@dataclass(frozen=True, eq=False)
class Input:
    """A value read from each row: ``arg`` (None: the row itself) where ``conditions`` hold."""

    column: str
    arg: Node | None
    conditions: tuple[Node, ...]
    text: str  #: how the specs write it, for the plan's description


@dataclass(frozen=True, eq=False)
class Partial:
    column: str
    op: Op
    input: Input


@dataclass(eq=False)
class Aggregate:
    """One aggregate call of one KPI, and the partials it is finished from (None: exact)."""

    column: str
    kpi: CheckedKpi
    call: Call
    partials: tuple[Partial, ...] | None

    @property
    def is_count(self) -> bool:
        """Whether it is 0, not null, over no rows."""
        return self.call.name == "count"

    @property
    def text(self) -> str:
        return self.kpi.kpi.formula.text[self.call.start : self.call.end]


@dataclass(eq=False)
class Group:
    """KPIs of one source that share a time column, a grain and a window."""

    number: int
    time: str | None  #: the time column (None: every row is in every period)
    grain: str
    window: Window
    span: Span
    kpis: list[CheckedKpi] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    #: whether rows need their period's variables (period_start ...) before aggregating
    period_rows: bool = False
    #: the bucket grain its rows are counted in (None: all rows in one bucket), and which
    #: buckets each period's window holds; a scanned group's are its scan's
    bucket: str | None = None
    mapping: Mapping | None = None

    @property
    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(d for k in self.kpis for d in k.dimensions))

    @property
    def exact(self) -> list[Aggregate]:
        return [a for a in self.aggregates if a.partials is None]

    @property
    def decomposed(self) -> list[Aggregate]:
        return [a for a in self.aggregates if a.partials is not None]


@dataclass(eq=False)
class Scan:
    """One pass over a source's rows: partials by bucket of ``time`` and dimension members."""

    number: int
    time: str | None  #: None: all rows in one bucket
    bucket: str | None
    start: date | None  #: rows from this local date (None: from the first row)
    end: date | None  #: to this one, exclusive
    groups: list[Group] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    partials: list[Partial] = field(default_factory=list)

    @property
    def dimensions(self) -> list[str]:
        """The grouping of the scan: every dimension of its groups (the finest needed)."""
        return list(dict.fromkeys(d for g in self.groups for d in g.dimensions))


@dataclass(eq=False)
class SourcePlan:
    source: Source
    filter: FormulaInfo | None  #: the source's own filter, applied to every row first
    filter_text: Snippet | None
    columns: list[str]  #: the columns read
    groups: list[Group]
    scans: list[Scan]
    collapse: bool = False  #: every row in every period, whatever its time

    @property
    def row_groups(self) -> list[Group]:
        """Groups with aggregates that read rows (a row pass each)."""
        return [g for g in self.groups if g.exact]

    def describe(self) -> list[str]:
        """The plan in words: which partials, which groupings, which windows."""
        kpis = sum(len(g.kpis) for g in self.groups)
        out = [
            f"source `{self.source.id}`: {_count(kpis, 'KPI')}, {_count(len(self.scans), 'scan')}, "
            f"{_count(len(self.row_groups), 'row pass', 'row passes')}"
        ]
        if self.filter_text is not None:
            out.append(f"  every row: where {self.filter_text.text.strip()}")
        for scan in self.scans:
            where = "all rows" if scan.time is None else f"`{scan.time}` in {scan.bucket}s"
            bounds = (
                ""
                if scan.time is None
                else f", from {scan.start or 'the first row'} to {scan.end} (exclusive)"
            )
            keys = ", ".join(["bucket", *scan.dimensions])
            out.append(f"  scan {scan.number}: {where}{bounds}; group by ({keys})")
            for p in scan.partials:
                out.append(f"    {p.column} = {p.op}({p.input.text})")
            for group in scan.groups:
                out.extend(_describe_group(group, scan))
        for group in self.row_groups:
            where = "all rows" if group.time is None else f"`{group.time}`"
            out.append(
                f"  row pass, group {group.number}: {where}, {_periods(group)}; "
                f"groupings: {_groupings(group)}"
            )
            for a in group.exact:
                out.append(f"    {a.column} = {a.text}  [{a.kpi.kpi.id}]")
        return out


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _periods(group: Group) -> str:
    n = group.span.last - group.span.first + 1
    return f"{_count(n, group.grain)}, window {group.window}"


def _groupings(group: Group) -> str:
    return ", ".join(["(period)", *(f"(period, {d})" for d in group.dimensions)])


def _describe_group(group: Group, scan: Scan) -> list[str]:
    assert group.mapping is not None
    pairs = group.mapping.pairs
    reads = "one bucket each" if group.mapping.one_each else f"{len(pairs)} (period, bucket) pairs"
    if group.mapping.floor is not None:
        reads += ", the buckets before the first folded into one"
    out = [
        f"    group {group.number}: {_periods(group)}: {reads}; rolled up to {_groupings(group)}"
    ]
    for a in group.decomposed:
        assert a.partials is not None
        parts = ", ".join(p.column for p in a.partials)
        out.append(f"      {a.column} = {a.text} from {parts}  [{a.kpi.kpi.id}]")
    return out
