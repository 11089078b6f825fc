"""The typed results: frozen dataclasses for everything a report or the gate reads.

Values are carried exactly as the engine produced them (floats, or ``None`` for no value);
dates and period labels are kept as the ISO text the document writes, so that a document
read back (:func:`kpispec.results.from_json`) and written again is the same, byte for byte.
Statuses are judged upstream (``kpispec.engine.targets``); the model only carries them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

VERSION = 1


class Status(StrEnum):
    """A value judged against the bound in force (``$defs/status`` of the schema)."""

    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"

    @property
    def words(self) -> str:
        """``at risk``: the status as plain English words."""
        return self.value.replace("_", " ")


#: Every status, in the order a summary counts them.
STATUSES = tuple(Status)
#: Statuses that need a look: outside the bound, or without a value behind a target.
ATTENTION = (Status.MISSED, Status.AT_RISK, Status.NO_DATA)
#: The order pages list KPIs in: the worst first.
STATUS_ORDER = {
    Status.MISSED: 0,
    Status.AT_RISK: 1,
    Status.NO_DATA: 2,
    Status.MET: 3,
    Status.NO_TARGET: 4,
}


class Gate(StrEnum):
    """What a miss does in ``kpispec check``."""

    FAIL = "fail"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Owner:
    name: str | None
    email: str | None
    team: str | None

    @property
    def shown(self) -> str:
        """The name an owner goes by: name, else team, else e-mail."""
        return self.name or self.team or self.email or ""


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """One target (milestone) as written in the spec; amounts as normalised text."""

    min: float | None
    max: float | None
    tolerance: str | None
    gate: Gate
    why: str | None
    baseline: float | str | None  #: a number, a period label, or none
    change: str | None
    start: str | None  #: ``from:`` (a keyword in Python)
    by: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str | None
    description: str | None
    path: str | None
    sql: str | None
    connection: str | None
    time: str | None
    filter: str | None
    fresh_within: str | None
    table: str | None = None
    #: who aggregated its rows: polars, or the SQL engine (duckdb, postgres, spark)
    engine: str = "polars"


@dataclass(frozen=True, slots=True)
class Bound:
    """The bound in force for a period, with the edges of the ``at_risk`` band."""

    min: float | None
    max: float | None
    at_risk_min: float | None
    at_risk_max: float | None


@dataclass(frozen=True, slots=True)
class Change:
    """The KPI's value compared with that of another period."""

    period: str
    value: float | None
    change: float | None
    change_pct: float | None


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: str  #: first day, ISO
    end: str  #: first day after (ends are exclusive)


@dataclass(frozen=True, slots=True)
class Point:
    """One period of a KPI's history, judged."""

    period: str
    start: str
    end: str
    value: float | None
    status: Status
    bound: Bound | None


@dataclass(frozen=True, slots=True)
class MemberPoint:
    period: str
    value: float | None


@dataclass(frozen=True, slots=True)
class Member:
    member: str | None  #: None for rows where the dimension is null
    value: float | None
    series: tuple[MemberPoint, ...]


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimension: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Kpi:
    id: str
    name: str
    description: str | None
    owner: Owner | None
    group: str | None
    tags: tuple[str, ...]
    links: tuple[Link, ...]
    unit: str
    currency: str | None
    decimals: int | None
    direction: str
    grain: str
    window: str
    time: str | None
    dimensions: tuple[str, ...]
    source: Source | None
    formula: str
    filter: str | None
    depends_on: tuple[str, ...]
    file: str
    line: int
    targets: tuple[Target, ...]
    period: Period
    value: float | None
    status: Status
    bound: Bound | None
    gate: Gate | None
    deadline: str | None
    why: str | None
    target_line: int | None
    previous: Change
    year_ago: Change
    stale: bool
    newest: str | None
    series: tuple[Point, ...]
    breakdowns: tuple[Breakdown, ...]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"


@dataclass(frozen=True, slots=True)
class Summary:
    """How many KPIs have each status, and how many are stale."""

    kpis: int
    met: int
    at_risk: int
    missed: int
    no_data: int
    no_target: int
    stale: int

    def count(self, status: Status) -> int:
        return {
            Status.MET: self.met,
            Status.AT_RISK: self.at_risk,
            Status.MISSED: self.missed,
            Status.NO_DATA: self.no_data,
            Status.NO_TARGET: self.no_target,
        }[status]


def summarize(kpis: Iterable[Kpi]) -> Summary:
    counts = dict.fromkeys(STATUSES, 0)
    total = stale = 0
    for kpi in kpis:
        counts[kpi.status] += 1
        total += 1
        stale += kpi.stale
    return Summary(
        total,
        counts[Status.MET],
        counts[Status.AT_RISK],
        counts[Status.MISSED],
        counts[Status.NO_DATA],
        counts[Status.NO_TARGET],
        stale,
    )


@dataclass(frozen=True, slots=True)
class Scorecard:
    id: str
    title: str
    description: str | None
    owner: Owner | None
    grain: str
    locale: str
    currency: str
    tags: tuple[str, ...]
    file: str
    line: int
    summary: Summary
    kpis: tuple[Kpi, ...]


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    title: str
    description: str | None
    locale: str
    currency: str
    timezone: str
    history: int


@dataclass(frozen=True, slots=True)
class Results:
    """The results of one evaluation: the one hand-off from the engine to every output."""

    generator: str
    as_of: str
    project: ProjectInfo
    summary: Summary
    scorecards: tuple[Scorecard, ...]
    version: int = VERSION

    def kpis(self) -> Iterator[tuple[Scorecard, Kpi]]:
        """Every KPI with its scorecard, in document order."""
        for card in self.scorecards:
            for kpi in card.kpis:
                yield card, kpi
