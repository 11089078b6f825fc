"""The typed diff: what changed between two revisions of a project, and what it does.

Built by :mod:`kpispec.diff.compare`, read by every format of ``kpispec diff`` (text,
markdown, github, json). Values are the engine's floats, statuses those of the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kpispec.diff.git import Revision
from kpispec.results import Bound, Status

VERSION = 1


class Category(StrEnum):
    """What a changed field is: part of the definition (formula, filter, source, window,
    grain, time, dimensions, unit, direction, owner), a target, or how a KPI is presented."""

    DEFINITION = "definition"
    TARGET = "target"
    METADATA = "metadata"


class Kind(StrEnum):
    """What happened to a KPI, in the order a report lists them."""

    CHANGED = "changed"  #: its definition, a target, or only its metadata changed
    INDIRECT = "indirect"  #: only something it is built on changed (a source, an input KPI)
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field, as written at each revision (None: not set there)."""

    field: str  #: ``formula``, ``target.min``, ``milestone 2.by``, ``path``, ...
    category: Category
    base: str | None
    head: str | None
    line: int | None  #: where the field is at the head (the KPI's line if it went)


@dataclass(frozen=True, slots=True)
class Side:
    """A KPI in the evaluated period at one revision."""

    period: str
    value: float | None
    status: Status
    bound: Bound | None


@dataclass(frozen=True, slots=True)
class Flip:
    """A status that differs between the revisions in one period."""

    period: str
    base: Status
    head: Status
    base_value: float | None
    head_value: float | None
    base_bound: Bound | None
    head_bound: Bound | None


@dataclass(frozen=True, slots=True)
class Mover:
    """A dimension member whose value moved (the largest moves first)."""

    dimension: str
    member: str | None
    base: float | None
    head: float | None
    difference: float | None


@dataclass(frozen=True, slots=True)
class Impact:
    """A KPI's value in one period at both revisions."""

    period: str
    base: float | None
    head: float | None
    difference: float | None  #: head - base; None when either has no value
    relative: float | None  #: the difference over |base|, in percent; None when base is 0
    movers: tuple[Mover, ...]

    @property
    def moved(self) -> bool:
        return not same_value(self.base, self.head)


@dataclass(frozen=True, slots=True)
class Format:
    """How the KPI's values read: its unit, decimals and currency, in the scorecard's locale."""

    unit: str
    decimals: int | None
    currency: str | None
    locale: str


@dataclass(frozen=True, slots=True)
class KpiChange:
    id: str
    name: str
    scorecard: str
    owner: str | None
    file: str  #: relative to the project root (at the head; at the base if removed)
    line: int
    target_line: int | None  #: the line of the target in force (at the head), if any
    kind: Kind
    format: Format
    fields: tuple[FieldChange, ...]  #: definition and metadata fields, then targets
    because: tuple[str, ...]  #: why an indirect change: ``source orders changed (path)``
    base: Side | None  #: None when not evaluated there (added, or nothing to evaluate)
    head: Side | None
    flips: tuple[Flip, ...]
    impact: tuple[Impact, ...]

    def has(self, category: Category) -> bool:
        return any(f.category is category for f in self.fields)

    @property
    def moved(self) -> bool:
        return any(i.moved for i in self.impact)


@dataclass(frozen=True, slots=True)
class SourceChange:
    id: str
    file: str
    line: int
    fields: tuple[FieldChange, ...]
    kpis: tuple[str, ...]  #: the KPIs that read it (at the head)


@dataclass(frozen=True, slots=True)
class Headline:
    changed: int  #: KPIs whose definition changed
    indirect: int
    flips: int  #: status flips, over every period compared
    targets: int  #: KPIs whose targets changed
    added: int
    removed: int
    moved: int  #: KPIs whose value moved in a period compared


@dataclass(frozen=True, slots=True)
class Diff:
    base: Revision
    head: Revision
    as_of: str
    periods: int  #: periods compared before the evaluated one
    project: tuple[FieldChange, ...]
    sources: tuple[SourceChange, ...]
    kpis: tuple[KpiChange, ...]
    headline: Headline
    project_file: str | None = None  #: kpispec.yaml at the head, relative to the root
    version: int = VERSION

    @property
    def empty(self) -> bool:
        return not (self.project or self.sources or self.kpis)


#: Two values closer than this (relative to the larger) are the same: sums of many rows
#: may differ in their last bits between two evaluations of the same data.
RELATIVE_TOLERANCE = 1e-9


def same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= RELATIVE_TOLERANCE * max(abs(a), abs(b))


def headline(kpis: tuple[KpiChange, ...]) -> Headline:
    return Headline(
        changed=sum(k.has(Category.DEFINITION) for k in kpis),
        indirect=sum(k.kind is Kind.INDIRECT for k in kpis),
        flips=sum(len(k.flips) for k in kpis),
        targets=sum(k.has(Category.TARGET) for k in kpis),
        added=sum(k.kind is Kind.ADDED for k in kpis),
        removed=sum(k.kind is Kind.REMOVED for k in kpis),
        moved=sum(k.moved for k in kpis),
    )
