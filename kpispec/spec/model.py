"""The typed model of a project: what the specs say, with every default applied.

The model is built by :mod:`kpispec.spec.build` and is read by everything downstream
(checks, the engine). It holds no Polars objects and no parsed data; formulas stay text
(:class:`~kpispec.spec.loader.Snippet`) until :mod:`kpispec.formula` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from kpispec.diagnostics import Loc
from kpispec.spec.loader import Snippet


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Unit(StrEnum):
    NUMBER = "number"
    COUNT = "count"
    PERCENT = "percent"
    POINTS = "points"
    CURRENCY = "currency"
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"


class Direction(StrEnum):
    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"


class Gate(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    OFF = "off"


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Owner:
    name: str | None = None
    email: str | None = None
    team: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.team or self.email or ""


@dataclass(frozen=True, slots=True)
class Window:
    """``period`` (rows inside the period), ``all`` (cumulative) or a rolling window."""

    kind: str  #: "period", "all" or "rolling"
    count: int = 0
    unit: str = ""  #: "day", "week" or "month" for rolling windows

    def __str__(self) -> str:
        if self.kind == "rolling":
            return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: str  #: minute, hour, day, week

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Amount:
    """A number that is either absolute or relative (``5%``, ``+10%``)."""

    value: float
    relative: bool = False

    def __str__(self) -> str:
        value = self.value
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        if self.relative:
            return ("+" if value >= 0 else "") + text + "%"
        return text


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str | None = None
    #: Where the URL is written (for a diagnostic about it).
    loc: Loc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Join:
    """A lookup join: each row of a source gets the columns of ``source`` whose key matches."""

    source: str
    on: tuple[tuple[str, str], ...]  #: (this source's column, the joined source's column)
    loc: Loc = field(compare=False)
    locs: dict[str, Loc] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Connection:
    id: str
    url: str  #: may hold ${ENV} references, resolved when the engine connects
    loc: Loc
    description: str | None = None


@dataclass
class Source:
    id: str
    loc: Loc
    file: Path  #: the file that defines it (paths are relative to its folder)
    scorecard: str | None  #: None for a source shared by the project file
    path: str | None = None
    sql: str | None = None
    table: str | None = None  #: a table or view on the connection
    connection: str | None = None
    #: on a connection: aggregated inside the database ("database") or read into Polars
    evaluate: str = "database"
    format: str | None = None
    time: str | None = None
    timezone: str | None = None
    filter: Snippet | None = None
    columns: dict[str, ColumnType] = field(default_factory=dict)
    fresh_within: Duration | None = None
    joins: list[Join] = field(default_factory=list)
    description: str | None = None
    title: str | None = None
    locs: dict[str, Loc] = field(default_factory=dict)  #: where each key's value starts
    column_locs: dict[str, Loc] = field(default_factory=dict)  #: each declared column's key

    @property
    def query(self) -> str | None:
        """The query that reads a source on a connection: its ``sql``, or its ``table``."""
        if self.sql is not None:
            return self.sql
        return f"SELECT * FROM {self.table}" if self.table is not None else None


@dataclass
class Target:
    loc: Loc
    min: float | None = None
    max: float | None = None
    tolerance: Amount | None = None
    gate: Gate = Gate.FAIL
    why: str | None = None
    baseline: float | str | None = None  #: a number, or a period label computed from data
    change: Amount | None = None
    start: date | None = None  #: ``from``: where the glide path starts
    by: date | None = None
    locs: dict[str, Loc] = field(default_factory=dict)


@dataclass
class Kpi:
    id: str
    loc: Loc
    scorecard: str
    file: Path
    formula: Snippet
    name: str
    description: str | None = None
    owner: Owner | None = None
    group: str | None = None
    tags: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    source: str | None = None
    filter: Snippet | None = None
    #: The time column; ``inherit`` (None here plus ``time_set`` False) means the source's.
    time: str | None = None
    time_set: bool = False
    window: Window = field(default_factory=lambda: Window("period"))
    grain: Grain = Grain.MONTH
    #: How many periods its trend shows: its own ``history:``, else its scorecard's
    history: int = 12
    dimensions: list[str] = field(default_factory=list)
    unit: Unit = Unit.NUMBER
    currency: str | None = None
    decimals: int | None = None
    direction: Direction = Direction.HIGHER
    #: One target, or milestones in order of ``by``.
    targets: list[Target] = field(default_factory=list)
    locs: dict[str, Loc] = field(default_factory=dict)
    dimension_locs: list[Loc] = field(default_factory=list)  #: each item of `dimensions`

    def time_column(self, source: Source | None) -> str | None:
        """The time column in force: the KPI's own (``time: null`` is none), else its source's."""
        if self.time_set:
            return self.time
        return source.time if source is not None else None


@dataclass
class SpecTest:
    name: str
    kpi: str
    loc: Loc
    file: Path
    scorecard: str
    rows: dict[str, list[dict[str, object]] | str]
    expect: float | None
    period: str | None = None
    tolerance: float = 1e-9
    #: (dimension, member) whose value is tested instead of the total; None: the total
    member: tuple[str, str | None] | None = None
    description: str | None = None
    locs: dict[str, Loc] = field(default_factory=dict)
    row_key_locs: dict[str, Loc] = field(default_factory=dict)  #: each source key of `rows`
    row_value_locs: dict[str, Loc] = field(default_factory=dict)  #: each value of `rows`
    #: source id -> for each inline row, where each of its values starts
    row_cell_locs: dict[str, list[dict[str, Loc]]] = field(default_factory=dict)


@dataclass
class Scorecard:
    id: str
    loc: Loc
    file: Path
    title: str
    grain: Grain = Grain.MONTH
    #: How many periods trends show: its own ``history:``, else the project's
    history: int = 12
    locale: str = "en"
    currency: str = "EUR"
    description: str | None = None
    owner: Owner | None = None
    tags: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    tests: list[SpecTest] = field(default_factory=list)
    locs: dict[str, Loc] = field(default_factory=dict)  #: where each `scorecard:` value starts


@dataclass
class Project:
    root: Path
    file: Path | None  #: kpispec.yaml, or None when the defaults apply
    title: str = "KPI scorecards"
    description: str | None = None
    locale: str = "en"
    currency: str = "EUR"
    timezone: str = "UTC"
    specs: list[str] = field(default_factory=list)
    history: int = 12
    engine: str = "polars"  #: who evaluates file sources: polars, duckdb or spark
    connections: dict[str, Connection] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)  #: shared by every scorecard
    scorecards: list[Scorecard] = field(default_factory=list)
    locs: dict[str, Loc] = field(default_factory=dict)  #: where each key of kpispec.yaml starts
    name: str = "kpispec.yaml"  #: the project file as diagnostics show it
    #: ``--allow-outside-root``: the engine may read files outside the root (set by load)
    allow_outside_root: bool = False

    def all_sources(self) -> list[Source]:
        return [*self.sources, *(s for card in self.scorecards for s in card.sources)]

    def all_kpis(self) -> list[Kpi]:
        return [k for card in self.scorecards for k in card.kpis]

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.all_sources() if s.id == source_id), None)

    def kpi(self, kpi_id: str) -> Kpi | None:
        return next((k for k in self.all_kpis() if k.id == kpi_id), None)
