"""Build the typed model from loaded YAML documents: every language default lives here.

The builder is tolerant: a value of the wrong type (already reported by the schema) is
replaced by its default, so that the semantic checks can still look at the rest of the
file and report every problem in one run.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from kpispec.diagnostics import Loc
from kpispec.spec.loader import Document, PathKey
from kpispec.spec.model import (
    Amount,
    ColumnType,
    Connection,
    Direction,
    Duration,
    Gate,
    Grain,
    Join,
    Kpi,
    Link,
    Owner,
    Project,
    Scorecard,
    Source,
    SpecTest,
    Target,
    Unit,
    Window,
)

# ---------------------------------------------------------------- the defaults
DEFAULT_TITLE = "KPI scorecards"
DEFAULT_LOCALE = "en"
DEFAULT_CURRENCY = "EUR"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_HISTORY = 12
DEFAULT_GRAIN = Grain.MONTH
DEFAULT_UNIT = Unit.NUMBER
DEFAULT_DIRECTION = Direction.HIGHER
DEFAULT_GATE = Gate.FAIL
DEFAULT_WINDOW = Window("period")
DEFAULT_TEST_TOLERANCE = 1e-9

_WINDOW = re.compile(r"^\s*(?:(period|all)|([1-9][0-9]*)\s*(day|week|month)s?)\s*$")
_DURATION = re.compile(r"^\s*([1-9][0-9]*)\s*(minute|hour|day|week)s?\s*$")
_AMOUNT = re.compile(r"^\s*([+-]?[0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$")


def parse_window(text: Any) -> Window | None:
    m = _WINDOW.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    if m.group(1):
        return Window(m.group(1))
    return Window("rolling", int(m.group(2)), m.group(3))


def parse_duration(text: Any) -> Duration | None:
    m = _DURATION.match(text) if isinstance(text, str) else None
    return Duration(int(m.group(1)), m.group(2)) if m else None


def parse_amount(value: Any) -> Amount | None:
    """``5`` -> absolute 5; ``"5%"``/``"+10%"`` -> relative."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Amount(float(value))
    m = _AMOUNT.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    return Amount(float(m.group(1)), relative=bool(m.group(2)))


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _enum(kind: Any, value: Any, default: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        return default


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _num(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return (
        [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        if isinstance(value, list)
        else []
    )


class _Context:
    """A document and a path inside it: where each key's value starts."""

    def __init__(self, doc: Document, path: PathKey) -> None:
        self.doc = doc
        self.path = path
        self.data: dict[str, Any] = self.at(path)

    def at(self, path: PathKey) -> Any:
        value: Any = self.doc.data
        for part in path:
            value = value[part]
        return value

    def locs(self) -> dict[str, Any]:
        return {key: self.doc.loc((*self.path, key)) for key in self.data}

    def key_locs(self, key: str) -> dict[str, Any]:
        """Where each key of the mapping under ``key`` starts."""
        value = self.data.get(key)
        if not isinstance(value, dict):
            return {}
        return {k: self.doc.key_loc((*self.path, key, k)) for k in value}

    def value_locs(self, key: str) -> dict[str, Any]:
        """Where each value of the mapping under ``key`` starts."""
        value = self.data.get(key)
        if not isinstance(value, dict):
            return {}
        return {k: self.doc.loc((*self.path, key, k)) for k in value}

    def item_locs(self, key: str) -> list[Any]:
        """Where each item of the list under ``key`` starts."""
        value = self.data.get(key)
        if not isinstance(value, list):
            return []
        return [self.doc.loc((*self.path, key, i)) for i in range(len(value))]

    def snippet(self, key: str) -> Any:
        if not isinstance(self.data.get(key), str):
            return None
        return self.doc.snippet((*self.path, key))


def build_owner(value: Any) -> Owner | None:
    if isinstance(value, str) and value.strip():
        return Owner(name=value.strip())
    if isinstance(value, dict):
        owner = Owner(
            name=_str(value, "name"), email=_str(value, "email"), team=_str(value, "team")
        )
        return owner if owner.label else None
    return None


def build_source(doc: Document, path: PathKey, scorecard: str | None) -> Source | None:
    ctx = _Context(doc, path)
    data = ctx.data
    source_id = _str(data, "id")
    if source_id is None:
        return None
    columns = data.get("columns")
    return Source(
        id=source_id,
        loc=doc.loc(path),
        file=doc.path,
        scorecard=scorecard,
        path=_str(data, "path"),
        sql=_str(data, "sql"),
        table=_str(data, "table"),
        connection=_str(data, "connection"),
        evaluate=_str(data, "evaluate") or "database",
        format=_str(data, "format"),
        time=_str(data, "time"),
        timezone=_str(data, "timezone"),
        filter=ctx.snippet("filter"),
        columns={
            str(k): _enum(ColumnType, v, ColumnType.STRING)
            for k, v in (columns.items() if isinstance(columns, dict) else ())
        },
        fresh_within=parse_duration(data.get("fresh_within")),
        joins=build_joins(doc, path),
        description=_str(data, "description"),
        title=_str(data, "title"),
        locs=ctx.locs(),
        column_locs=ctx.key_locs("columns"),
    )


def build_joins(doc: Document, path: PathKey) -> list[Join]:
    """A source's ``joins:``: ``on`` as pairs (this column, the joined source's column)."""
    out = []
    for i, _ in _dicts(_Context(doc, path).data.get("joins")):
        ctx = _Context(doc, (*path, "joins", i))
        data = ctx.data
        source, on = _str(data, "source"), data.get("on")
        pairs: list[tuple[str, str]] = []
        if isinstance(on, str):
            pairs = [(on, on)]
        elif isinstance(on, list):
            pairs = [(c, c) for c in on if isinstance(c, str)]
        elif isinstance(on, dict):
            pairs = [(str(k), v) for k, v in on.items() if isinstance(v, str)]
        if source is not None and pairs:
            out.append(Join(source, tuple(pairs), doc.loc((*path, "joins", i)), ctx.locs()))
    return out


def build_target(doc: Document, path: PathKey) -> Target:
    ctx = _Context(doc, path)
    data = ctx.data
    baseline = data.get("baseline")
    locs = ctx.locs()
    if isinstance(baseline, dict) and "period" in baseline:
        locs["baseline"] = doc.loc((*path, "baseline", "period"))
    if isinstance(baseline, dict):
        period = baseline.get("period")
        baseline = str(period) if isinstance(period, str | int) else None
    elif isinstance(baseline, bool) or not isinstance(baseline, int | float):
        baseline = None
    else:
        baseline = float(baseline)
    return Target(
        loc=doc.loc(path),
        min=_num(data, "min"),
        max=_num(data, "max"),
        tolerance=parse_amount(data.get("tolerance")),
        gate=_enum(Gate, data.get("gate"), DEFAULT_GATE),
        why=_str(data, "why"),
        baseline=baseline,
        change=parse_amount(data.get("change")),
        start=parse_date(data.get("from")),
        by=parse_date(data.get("by")),
        locs=locs,
    )


def build_kpi(doc: Document, path: PathKey, card: Scorecard) -> Kpi | None:
    ctx = _Context(doc, path)
    data = ctx.data
    kpi_id = _str(data, "id")
    formula = ctx.snippet("formula")
    if kpi_id is None or formula is None:
        return None
    if isinstance(data.get("targets"), list):
        targets = [build_target(doc, (*path, "targets", i)) for i, _ in _dicts(data["targets"])]
    elif isinstance(data.get("target"), dict):
        targets = [build_target(doc, (*path, "target"))]
    else:
        targets = []
    links = []
    given = data.get("links")
    for i, item in enumerate(given if isinstance(given, list) else []):
        if isinstance(item, str):
            links.append(Link(url=item, loc=doc.loc((*path, "links", i))))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            loc = doc.loc((*path, "links", i, "url"))
            links.append(Link(url=item["url"], title=_str(item, "title"), loc=loc))
    decimals = data.get("decimals")
    return Kpi(
        id=kpi_id,
        loc=doc.loc(path),
        scorecard=card.id,
        file=doc.path,
        formula=formula,
        name=_str(data, "name") or kpi_id.replace("_", " ").capitalize(),
        description=_str(data, "description"),
        owner=build_owner(data.get("owner")) or card.owner,
        group=_str(data, "group"),
        tags=_strings(data.get("tags")),
        links=links,
        source=_str(data, "source"),
        filter=ctx.snippet("filter"),
        time=_str(data, "time"),
        time_set="time" in data,
        window=parse_window(data.get("window")) or DEFAULT_WINDOW,
        grain=_enum(Grain, data.get("grain"), card.grain),
        history=_history(data.get("history"), card.history),
        dimensions=_strings(data.get("dimensions")),
        unit=_enum(Unit, data.get("unit"), DEFAULT_UNIT),
        currency=_str(data, "currency") or card.currency,
        decimals=decimals if isinstance(decimals, int) and not isinstance(decimals, bool) else None,
        direction=_enum(Direction, data.get("direction"), DEFAULT_DIRECTION),
        targets=targets,
        locs=ctx.locs(),
        dimension_locs=ctx.item_locs("dimensions"),
    )


def build_test(doc: Document, path: PathKey, card: Scorecard) -> SpecTest | None:
    ctx = _Context(doc, path)
    data = ctx.data
    name, kpi_id = _str(data, "name"), _str(data, "kpi")
    if name is None or kpi_id is None:
        return None
    rows: dict[str, list[dict[str, object]] | str] = {}
    cells: dict[str, list[dict[str, Loc]]] = {}
    given = data.get("rows")
    for source_id, value in given.items() if isinstance(given, dict) else ():
        if isinstance(value, str):
            rows[source_id] = value
        elif isinstance(value, list):
            kept = _dicts(value)
            rows[source_id] = [r for _, r in kept]
            cells[source_id] = [
                {k: doc.loc((*path, "rows", source_id, i, k)) for k in r} for i, r in kept
            ]
    expect = data.get("expect")
    tolerance = _num(data, "tolerance")
    period = data.get("period")
    given_member = data.get("member")
    member = None
    if isinstance(given_member, dict) and len(given_member) == 1:
        ((dimension, value),) = given_member.items()
        if isinstance(value, str | None):
            member = (str(dimension), value)
    return SpecTest(
        name=name,
        kpi=kpi_id,
        loc=doc.loc(path),
        file=doc.path,
        scorecard=card.id,
        rows=rows,
        expect=float(expect)
        if isinstance(expect, int | float) and not isinstance(expect, bool)
        else None,
        period=str(period) if isinstance(period, str | int) else None,
        tolerance=tolerance if tolerance is not None else DEFAULT_TEST_TOLERANCE,
        member=member,
        description=_str(data, "description"),
        locs=ctx.locs(),
        row_key_locs=ctx.key_locs("rows"),
        row_value_locs=ctx.value_locs("rows"),
        row_cell_locs=cells,
    )


def _history(value: object, inherited: int) -> int:
    """A ``history:`` as written (the schema bounds it), else the one it inherits."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return inherited


def build_scorecard(doc: Document, project: Project) -> Scorecard | None:
    data = doc.data if isinstance(doc.data, dict) else {}
    head = data.get("scorecard")
    if not isinstance(head, dict) or _str(head, "id") is None:
        return None
    card = Scorecard(
        id=head["id"],
        loc=doc.loc(("scorecard",)),
        file=doc.path,
        title=_str(head, "title") or head["id"].replace("_", " ").capitalize(),
        grain=_enum(Grain, head.get("grain"), DEFAULT_GRAIN),
        history=_history(head.get("history"), project.history),
        locale=_str(head, "locale") or project.locale,
        currency=_str(head, "currency") or project.currency,
        description=_str(head, "description"),
        owner=build_owner(head.get("owner")),
        tags=_strings(head.get("tags")),
        locs=_Context(doc, ("scorecard",)).locs(),
    )
    for i, _ in _dicts(data.get("sources")):
        source = build_source(doc, ("sources", i), card.id)
        if source is not None:
            card.sources.append(source)
    for i, _ in _dicts(data.get("kpis")):
        kpi = build_kpi(doc, ("kpis", i), card)
        if kpi is not None:
            card.kpis.append(kpi)
    for i, _ in _dicts(data.get("tests")):
        test = build_test(doc, ("tests", i), card)
        if test is not None:
            card.tests.append(test)
    return card


def build_project(root: Path, doc: Document | None) -> Project:
    """The project with its defaults; ``doc`` is kpispec.yaml when there is one."""
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    specs = data.get("specs")
    history = data.get("history")
    project = Project(
        root=root,
        file=doc.path if doc is not None else None,
        title=_str(data, "title") or DEFAULT_TITLE,
        description=_str(data, "description"),
        locale=_str(data, "locale") or DEFAULT_LOCALE,
        currency=_str(data, "currency") or DEFAULT_CURRENCY,
        timezone=_str(data, "timezone") or DEFAULT_TIMEZONE,
        specs=[specs] if isinstance(specs, str) else _strings(specs),
        engine=_str(data, "engine") or "polars",
        history=_history(history, DEFAULT_HISTORY),
    )
    if doc is None:
        return project
    project.name = doc.name
    project.locs = _Context(doc, ()).locs()
    connections = data.get("connections")
    for conn_id, conn in connections.items() if isinstance(connections, dict) else ():
        if isinstance(conn, dict) and isinstance(conn.get("url"), str):
            project.connections[conn_id] = Connection(
                id=conn_id,
                url=conn["url"],
                loc=doc.loc(("connections", conn_id, "url")),
                description=_str(conn, "description"),
            )
    for i, _ in _dicts(data.get("sources")):
        source = build_source(doc, ("sources", i), None)
        if source is not None:
            project.sources.append(source)
    return project
