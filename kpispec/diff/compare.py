"""Compare two loaded revisions of a project: first their specs, then their values.

:func:`changes` reads only the specs and says which KPIs must be evaluated (those whose
definition, targets or inputs changed, and the added and removed ones): a KPI that is the
same at both revisions has the same values on the same data, so it is never evaluated.
:func:`assemble` then puts the two evaluations side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpispec.diff import fields as f
from kpispec.diff.git import Revision
from kpispec.diff.model import (
    Category,
    Diff,
    FieldChange,
    Flip,
    Format,
    Impact,
    Kind,
    KpiChange,
    Mover,
    Side,
    SourceChange,
    headline,
    same_value,
)
from kpispec.results import Kpi as ResultKpi
from kpispec.results import MemberPoint, Results, Status
from kpispec.spec.checks import CheckedProject
from kpispec.spec.loader import display_name
from kpispec.spec.model import Kpi, Project

_UNJUDGED = {Status.NO_TARGET, Status.NO_DATA}
#: How many members of each dimension a report names per period: those that moved most.
MOVERS = 3


@dataclass
class _Planned:
    """A KPI's spec changes, before anything is evaluated."""

    id: str
    kind: Kind
    fields: list[FieldChange] = field(default_factory=list)
    because: list[str] = field(default_factory=list)


@dataclass
class Changes:
    """What the specs say changed; the KPIs each revision must evaluate."""

    project: tuple[FieldChange, ...]
    sources: tuple[SourceChange, ...]
    kpis: list[_Planned]
    evaluate_base: list[str]
    evaluate_head: list[str]


def _field_changes(base: f.Fields, head: f.Fields, default_line: int) -> list[FieldChange]:
    out = []
    for name, b, h in f.changed(base, head):
        either = h or b
        assert either is not None  # a field is on one side at least
        out.append(
            FieldChange(
                name,
                either.category,
                b.shown if b else None,
                h.shown if h else None,
                h.line if h is not None else default_line,
            )
        )
    return out


def _empty() -> Project:
    """No project: what a revision without spec files is compared as."""
    return Project(root=Path("."), file=None)


def changes(base: CheckedProject | None, head: CheckedProject | None) -> Changes:
    """Compare the specs of two revisions (None: no project there)."""
    bp = base.project if base is not None else _empty()
    hp = head.project if head is not None else _empty()
    project = tuple(
        _field_changes(f.project_fields(bp), f.project_fields(hp), 1)
        if base is not None and head is not None
        else []
    )
    zone_changed = any(c.field == "timezone" for c in project)
    head_sources = {s.id: s for s in hp.all_sources()}
    base_sources = {s.id: s for s in bp.all_sources()}
    readers: dict[str, list[str]] = {}
    for kpi in hp.all_kpis():
        if kpi.source:
            readers.setdefault(kpi.source, []).append(kpi.id)
    sources = []
    changed_sources: dict[str, list[str]] = {}  # source id -> the definition fields changed
    for sid, source in head_sources.items():
        was = base_sources.get(sid)
        if was is None:
            continue  # a new source: its KPIs are new, or their `source:` changed
        fields = _field_changes(
            f.source_fields(was, bp), f.source_fields(source, hp), source.loc.line
        )
        if fields:
            sources.append(
                SourceChange(
                    sid,
                    display_name(source.file, hp.root),
                    source.loc.line,
                    tuple(fields),
                    tuple(readers.get(sid, ())),
                )
            )
            moved = [c.field for c in fields if c.category is Category.DEFINITION]
            if moved:
                changed_sources[sid] = moved
    # a source that joins a changed source reads other rows too
    grown = True
    while grown:
        grown = False
        for sid, source in head_sources.items():
            if sid in changed_sources:
                continue
            moved = [j.source for j in source.joins if j.source in changed_sources]
            if moved:
                changed_sources[sid] = [f"joined source {', '.join(moved)} changed"]
                grown = True
    base_kpis = {k.id: k for k in bp.all_kpis()}
    head_kpis = {k.id: k for k in hp.all_kpis()}
    planned: dict[str, _Planned] = {}
    touched: set[str] = set()  # KPIs whose values may differ: their inputs see it
    order = head.order if head is not None else []
    for kid in order:
        kpi = head_kpis[kid]
        old = base_kpis.get(kid)
        if old is None:
            planned[kid] = _Planned(kid, Kind.ADDED)
            touched.add(kid)
            continue
        fields = _field_changes(f.kpi_fields(old, bp), f.kpi_fields(kpi, hp), kpi.loc.line)
        fields += _field_changes(f.target_fields(old), f.target_fields(kpi), kpi.loc.line)
        because = []
        if kpi.source in changed_sources and old.source == kpi.source:
            because.append(
                f"source {kpi.source} changed ({', '.join(changed_sources[kpi.source])})"
            )
        if zone_changed:
            because.append(f"the project's time zone changed ({bp.timezone} → {hp.timezone})")
        assert head is not None
        inputs = [d for d in head.kpis[kid].depends if d in touched]
        if inputs:
            because.append(
                ("input " if len(inputs) == 1 else "inputs ") + ", ".join(inputs) + " changed"
            )
        if fields or because:
            kind = Kind.CHANGED if fields else Kind.INDIRECT
            planned[kid] = _Planned(kid, kind, fields, because)
            if because or any(c.field in f.VALUE_FIELDS for c in fields):
                touched.add(kid)
    removed = [k for k in base_kpis if k not in head_kpis]
    for kid in removed:
        planned[kid] = _Planned(kid, Kind.REMOVED)
    kpis = [planned[k] for k in order if k in planned] + [planned[k] for k in removed]
    judged = [p.id for p in kpis if p.kind is not Kind.REMOVED and _needs_values(p)]
    return Changes(
        project,
        tuple(sources),
        kpis,
        evaluate_base=[p.id for p in kpis if p.id in base_kpis and _needs_values(p)],
        evaluate_head=judged,
    )


def _needs_values(p: _Planned) -> bool:
    """Whether a report on the KPI shows values: not for a change of presentation alone."""
    return p.kind is not Kind.CHANGED or any(c.category is not Category.METADATA for c in p.fields)


def _side(kpi: ResultKpi | None) -> Side | None:
    if kpi is None:
        return None
    return Side(kpi.period.label, kpi.value, kpi.status, kpi.bound)


def _movers(base: ResultKpi, head: ResultKpi, period: str) -> tuple[Mover, ...]:
    moves = []
    base_dims = {b.dimension: b for b in base.breakdowns}
    for breakdown in head.breakdowns:
        old = base_dims.get(breakdown.dimension)
        if old is None:
            continue
        before = {m.member: _at(m.series, period) for m in old.members}
        after = {m.member: _at(m.series, period) for m in breakdown.members}
        for member in [*after, *(m for m in before if m not in after)]:
            b, h = before.get(member), after.get(member)
            if same_value(b, h):
                continue
            diff = h - b if h is not None and b is not None else None
            moves.append(Mover(breakdown.dimension, member, b, h, diff))
    # a member that appears or goes moved by its whole value
    moves.sort(key=lambda m: -abs((m.head or 0.0) - (m.base or 0.0)))
    out: list[Mover] = []
    for dim in dict.fromkeys(m.dimension for m in moves):
        out.extend([m for m in moves if m.dimension == dim][:MOVERS])
    return tuple(out)


def _at(series: tuple[MemberPoint, ...], period: str) -> float | None:
    return next((p.value for p in series if p.period == period), None)


def _impact(base: ResultKpi, head: ResultKpi, periods: int) -> tuple[Impact, ...]:
    base_points = {p.period: p for p in base.series}
    out = []
    for point in head.series[-(periods + 1) :]:
        old = base_points.get(point.period)
        b = old.value if old is not None else None
        h = point.value
        diff = h - b if h is not None and b is not None else None
        relative = 100 * diff / abs(b) if diff is not None and b else None
        if same_value(b, h):
            diff, relative = (0.0, 0.0) if b is not None else (None, None)
        movers = _movers(base, head, point.period) if not same_value(b, h) else ()
        out.append(Impact(point.period, b, h, diff, relative, movers))
    return tuple(out)


def _flips(base: ResultKpi, head: ResultKpi, periods: int) -> tuple[Flip, ...]:
    base_points = {p.period: p for p in base.series}
    out = []
    for point in head.series[-(periods + 1) :]:
        old = base_points.get(point.period)
        if old is None or old.status is point.status:
            continue
        if {old.status, point.status} <= _UNJUDGED:
            continue  # neither judges a value against a bound
        out.append(
            Flip(
                point.period,
                old.status,
                point.status,
                old.value,
                point.value,
                old.bound,
                point.bound,
            )
        )
    return tuple(out)


def assemble(
    base_rev: Revision,
    head_rev: Revision,
    as_of: str,
    periods: int,
    planned: Changes,
    base: CheckedProject | None,
    head: CheckedProject | None,
    base_results: Results | None,
    head_results: Results | None,
) -> Diff:
    """The diff: the spec changes with the values of both revisions."""
    results = {
        "base": {k.id: (card, k) for card, k in base_results.kpis()} if base_results else {},
        "head": {k.id: (card, k) for card, k in head_results.kpis()} if head_results else {},
    }
    kpis = []
    for p in planned.kpis:
        side = "base" if p.kind is Kind.REMOVED else "head"
        project = base if side == "base" else head
        assert project is not None
        spec: Kpi = project.kpis[p.id].kpi
        b = results["base"].get(p.id)
        h = results["head"].get(p.id)
        either = h or b
        card, shown = either if either is not None else (None, None)
        locale = card.locale if card is not None else project.project.locale
        impact: tuple[Impact, ...] = ()
        flips: tuple[Flip, ...] = ()
        if b is not None and h is not None and b[1].grain == h[1].grain:
            impact = _impact(b[1], h[1], periods)
            flips = _flips(b[1], h[1], periods)
        # another grain: no period of one revision is a period of the other, so values are
        # compared in the evaluated period of each (base and head below), not per period
        kpis.append(
            KpiChange(
                id=p.id,
                name=spec.name,
                scorecard=spec.scorecard,
                owner=spec.owner.label if spec.owner else None,
                file=display_name(spec.file, project.project.root),
                line=spec.loc.line,
                target_line=shown.target_line if shown is not None else None,
                kind=p.kind,
                format=Format(
                    str(spec.unit),
                    spec.decimals,
                    shown.currency if shown is not None else spec.currency,
                    locale,
                ),
                fields=tuple(p.fields),
                because=tuple(p.because),
                base=_side(b[1] if b else None),
                head=_side(h[1] if h else None),
                flips=flips,
                impact=impact,
            )
        )
    done = tuple(kpis)
    return Diff(
        base=base_rev,
        head=head_rev,
        as_of=as_of,
        periods=periods,
        project=planned.project,
        sources=planned.sources,
        kpis=done,
        headline=headline(done),
        project_file=(
            display_name(head.project.file, head.project.root)
            if head is not None and head.project.file is not None
            else None
        ),
    )
