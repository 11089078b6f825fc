"""Build the typed results model (:mod:`kpispec.results`) from an evaluation.

This is where each period's bound in force is found and its value judged
(:mod:`kpispec.engine.targets`); the model only carries the statuses. The same inputs and
as-of date give the same model, and so the same document, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, SupportsFloat

from kpispec import __version__
from kpispec import results as r
from kpispec.engine.targets import Bound, bound_for, judge, resolve
from kpispec.periods import Period, year_earlier
from kpispec.spec.checks import CheckedKpi, CheckedProject
from kpispec.spec.loader import display_name
from kpispec.spec.model import Owner, Scorecard, Source, Target

if TYPE_CHECKING:
    from kpispec.engine.evaluate import Evaluation

#: dimension (None for the total) -> member -> period index -> value
Split = dict[str | None, dict[str | None, dict[int, float | None]]]


def _number(value: SupportsFloat | None) -> float | None:
    """A Polars number (int, float or Decimal) as a float; NaN and infinities are no value."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _owner(owner: Owner | None) -> r.Owner | None:
    return None if owner is None else r.Owner(owner.name, owner.email, owner.team)


def _target(target: Target) -> r.Target:
    tol = target.tolerance
    return r.Target(
        min=target.min,
        max=target.max,
        tolerance=str(tol) if tol is not None else None,
        gate=r.Gate(str(target.gate)),
        why=target.why,
        baseline=target.baseline,
        change=str(target.change) if target.change is not None else None,
        start=target.start.isoformat() if target.start else None,
        by=target.by.isoformat() if target.by else None,
        line=target.loc.line,
    )


def _source(source: Source | None, engines: dict[str, str]) -> r.Source | None:
    if source is None:
        return None
    return r.Source(
        id=source.id,
        title=source.title,
        description=source.description,
        path=source.path,
        sql=source.sql,
        connection=source.connection,
        time=source.time,
        filter=source.filter.text if source.filter else None,
        fresh_within=str(source.fresh_within) if source.fresh_within else None,
        table=source.table,
        engine=engines.get(source.id, "polars"),
    )


def _bound(bound: Bound | None) -> r.Bound | None:
    if bound is None:
        return None
    return r.Bound(
        min=_number(bound.min),
        max=_number(bound.max),
        at_risk_min=_number(bound.min - bound.min_band) if bound.min is not None else None,
        at_risk_max=_number(bound.max + bound.max_band) if bound.max is not None else None,
    )


def _change(value: float | None, other: float | None, period: Period) -> r.Change:
    change = value - other if value is not None and other is not None else None
    pct = change / abs(other) * 100 if change is not None and other not in (None, 0.0) else None
    return r.Change(period.label, other, _number(change), _number(pct))


class _Builder:
    def __init__(self, checked: CheckedProject, evaluation: Evaluation) -> None:
        self.checked = checked
        self.project = checked.project
        self.evaluation = evaluation
        #: source id -> the SQL engine that aggregated it (others: polars)
        self.engines = {run.plan.source.id: run.target.dialect.name for run in evaluation.sql}
        self.freshness: dict[str, tuple[str | None, bool]] = {}  #: KPI -> (newest, stale)

    def split(self, kpi_id: str) -> Split:
        """The KPI's values read once: dimension (None for the total) -> member -> period."""
        from kpispec.engine.evaluate import VALUE

        frame = self.evaluation.values[kpi_id]
        out: Split = {}
        import polars as pl

        numbers = frame[VALUE].cast(pl.Float64)
        values = numbers.to_list()
        if (numbers.is_nan() | numbers.is_infinite()).any():  # the engine nulls them already
            values = [_number(v) for v in values]
        columns = (frame[c].to_list() for c in ("__dimension", "__member", "__p"))
        for dim, member, p, v in zip(*columns, values, strict=True):
            out.setdefault(dim, {}).setdefault(member, {})[p] = v
        return out

    def judge_freshness(self, ids: Iterable[str]) -> None:
        """Each KPI's newest time value and whether it is stale; a KPI built from stale
        KPIs is stale too."""
        wanted = set(ids)
        project = self.project
        for kpi_id in wanted:
            kpi = self.checked.kpis[kpi_id].kpi
            source = project.source(kpi.source) if kpi.source else None
            # the engine's freshness: (newest time value as ISO text, whether it is stale)
            newest = self.evaluation.newest.get(source.id) if source else None
            self.freshness[kpi_id] = newest if newest is not None else (None, False)
        stale = {k for k, (_, is_stale) in self.freshness.items() if is_stale}
        for kpi_id in self.checked.order:
            if kpi_id in wanted and any(d in stale for d in self.checked.kpis[kpi_id].depends):
                self.freshness[kpi_id] = (self.freshness[kpi_id][0], True)
                stale.add(kpi_id)

    def kpi(self, checked: CheckedKpi) -> r.Kpi:
        kpi = checked.kpi
        project = self.project
        grain = str(kpi.grain)
        period = self.evaluation.evaluated[grain]
        split = self.split(kpi.id)
        totals = split.get(None, {}).get(None, {})
        first = self.evaluation.first.get(kpi.id)

        def value_of(p: Period) -> float | None:
            return totals.get(p.index)

        def compared(p: Period) -> float | None:
            """A period compared with: before the source's first row, it has no data."""
            return None if first is not None and p.index < first else value_of(p)

        finals = resolve(kpi, compared)
        history = [period.shift(-i) for i in reversed(range(kpi.history))]
        series = []
        for p in history:
            in_force = bound_for(p, finals) if finals is not None else None
            value = value_of(p)
            series.append(
                r.Point(
                    period=p.label,
                    start=p.start.isoformat(),
                    end=p.end.isoformat(),
                    value=value,
                    status=judge(value, in_force) if kpi.targets else r.Status.NO_TARGET,
                    bound=_bound(in_force),
                )
            )
        bound = bound_for(period, finals) if finals is not None else None
        value = value_of(period)
        source = project.source(kpi.source) if kpi.source else None
        target = bound.target if bound is not None else (kpi.targets[-1] if kpi.targets else None)
        newest, stale = self.freshness.get(kpi.id, (None, False))
        return r.Kpi(
            id=kpi.id,
            name=kpi.name,
            description=kpi.description,
            owner=_owner(kpi.owner),
            group=kpi.group,
            tags=tuple(kpi.tags),
            links=tuple(r.Link(link.url, link.title) for link in kpi.links),
            unit=str(kpi.unit),
            currency=kpi.currency,
            decimals=kpi.decimals,
            direction=str(kpi.direction),
            grain=grain,
            window=str(kpi.window),
            time=kpi.time if kpi.time_set else (source.time if source else None),
            dimensions=tuple(checked.dimensions),
            source=_source(source, self.engines),
            formula=kpi.formula.text.strip(),
            filter=kpi.filter.text.strip() if kpi.filter else None,
            depends_on=tuple(checked.depends),
            file=display_name(kpi.file, project.root),
            line=kpi.loc.line,
            targets=tuple(_target(t) for t in kpi.targets),
            period=r.Period(period.label, period.start.isoformat(), period.end.isoformat()),
            value=value,
            status=judge(value, bound) if kpi.targets else r.Status.NO_TARGET,
            bound=_bound(bound),
            gate=r.Gate(str(target.gate)) if target else None,
            deadline=target.by.isoformat() if target and target.by else None,
            why=target.why if target else None,
            target_line=target.loc.line if target else None,
            previous=_change(value, compared(period.shift(-1)), period.shift(-1)),
            year_ago=_change(value, compared(year_earlier(period)), year_earlier(period)),
            stale=stale,
            newest=newest,
            series=tuple(series),
            breakdowns=self.breakdowns(checked, split, history, period),
        )

    def breakdowns(
        self, checked: CheckedKpi, split: Split, history: list[Period], period: Period
    ) -> tuple[r.Breakdown, ...]:
        out = []
        labels = [p.label for p in history]
        for dim in checked.dimensions:
            members = split.get(dim, {})
            entries = []
            for member in sorted(members, key=lambda m: (m is None, m or "")):
                by_period = members[member]
                if checked.depends and all(by_period.get(p.index) is None for p in history):
                    continue  # a member only some inputs have, without a value (ROAS of "direct")
                series = tuple(
                    r.MemberPoint(label, by_period.get(p.index))
                    for label, p in zip(labels, history, strict=True)
                )
                entries.append(r.Member(member, by_period.get(period.index), series))
            out.append(r.Breakdown(dim, tuple(entries)))
        return tuple(out)

    def scorecard(self, card: Scorecard, ids: set[str]) -> r.Scorecard:
        kpis = tuple(self.kpi(self.checked.kpis[k.id]) for k in card.kpis if k.id in ids)
        return r.Scorecard(
            id=card.id,
            title=card.title,
            description=card.description,
            owner=_owner(card.owner),
            grain=str(card.grain),
            locale=card.locale,
            currency=card.currency,
            tags=tuple(card.tags),
            file=display_name(card.file, self.project.root),
            line=card.loc.line,
            summary=r.summarize(kpis),
            kpis=kpis,
        )


def build(
    checked: CheckedProject,
    evaluation: Evaluation,
    *,
    scorecards: list[str] | None = None,
    kpi_ids: Iterable[str] | None = None,
) -> r.Results:
    """The results for the evaluated KPIs (by default every KPI of the project)."""
    project = checked.project
    builder = _Builder(checked, evaluation)
    ids = set(kpi_ids) if kpi_ids is not None else set(evaluation.values)
    ids &= set(evaluation.values)
    chosen = [
        card
        for card in project.scorecards
        if (scorecards is None or card.id in scorecards) and any(k.id in ids for k in card.kpis)
    ]
    builder.judge_freshness({k.id for card in chosen for k in card.kpis if k.id in ids})
    cards = tuple(builder.scorecard(card, ids) for card in chosen)
    return r.Results(
        generator=f"kpispec {__version__}",
        as_of=evaluation.as_of.isoformat(),
        project=r.ProjectInfo(
            title=project.title,
            description=project.description,
            locale=project.locale,
            currency=project.currency,
            timezone=project.timezone,
            history=project.history,
        ),
        summary=r.summarize(k for card in cards for k in card.kpis),
        scorecards=cards,
    )
