"""SMART targets: the bound in force for a period, and the status of a value against it.

A KPI's targets are a list of milestones (one for ``target:``), each with a final bound
(``min``/``max``, or ``change`` from a ``baseline``) and an optional deadline ``by``.
For a period ending at ``E`` (exclusive), the milestone in force is the first whose
deadline has not passed at ``E``; its bound glides linearly:

- from the previous milestone's bound (at the day after that one's deadline), or
- for the first milestone, from its ``baseline`` starting at ``from`` (default: the end of
  the baseline period), when it has both a baseline and a deadline;

and holds in full from the day after its deadline. Otherwise the bound holds in full.
Tolerance widens a bound into an ``at_risk`` band: a percentage of the bound, or absolute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from kpispec.periods import Period, parse_label
from kpispec.results.model import Status
from kpispec.spec.model import Direction, Gate, Kpi, Target

#: Values within this relative distance of a bound count as on it (binary floats).
EPSILON = 1e-9


@dataclass(frozen=True)
class Bound:
    """The bound in force for one period."""

    min: float | None
    max: float | None
    min_band: float  #: how far below ``min`` is still at risk
    max_band: float
    target: Target  #: the milestone in force (its gate, why and deadline)
    final_min: float | None
    final_max: float | None

    @property
    def gate(self) -> Gate:
        return self.target.gate


@dataclass(frozen=True)
class Final:
    """A milestone's final bound, resolved (a baseline computed from data if need be)."""

    target: Target
    min: float | None
    max: float | None
    baseline: float | None
    glide_from: date | None  #: where the glide from the baseline starts


def _band(bound: float | None, target: Target) -> float:
    tol = target.tolerance
    if bound is None or tol is None:
        return 0.0
    return abs(bound) * tol.value / 100 if tol.relative else abs(tol.value)


def resolve(kpi: Kpi, value_of: Callable[[Period], float | None]) -> list[Final] | None:
    """Every milestone's final bound; None when a baseline has no value in the data."""
    finals: list[Final] = []
    for target in kpi.targets:
        baseline: float | None = None
        glide_from = target.start
        if isinstance(target.baseline, str):
            period = parse_label(target.baseline)
            baseline = value_of(period)
            if baseline is None:
                return None
            glide_from = glide_from or period.end
        elif isinstance(target.baseline, float):
            baseline = target.baseline
        lo, hi = target.min, target.max
        if target.change is not None and baseline is not None:
            change = target.change
            final = (
                baseline * (1 + change.value / 100) if change.relative else baseline + change.value
            )
            if kpi.direction is Direction.HIGHER:
                lo = final
            else:
                hi = final
        finals.append(Final(target, lo, hi, baseline, glide_from))
    return finals


def _glide(start: float | None, end: float | None, fraction: float) -> float | None:
    if end is None:
        return None
    if start is None:
        return end
    return start + (end - start) * fraction


def _fraction(period_end: date, start: date, end: date) -> float:
    total = (end - start).days
    if total <= 0:
        return 1.0
    return min(1.0, max(0.0, (period_end - start).days / total))


def _day_after(day: date) -> date:
    """The end of a deadline day (ends are exclusive); ``by: 9999-12-31`` has no day after."""
    return day + timedelta(days=1) if day < date.max else day


def bound_for(period: Period, finals: list[Final]) -> Bound | None:
    """The bound in force for ``period``."""
    if not finals:
        return None
    end = period.end
    current = next(
        (i for i, f in enumerate(finals) if f.target.by is None or end <= _day_after(f.target.by)),
        None,
    )
    if current is None:
        final = finals[-1]
        lo, hi = final.min, final.max
    else:
        final = finals[current]
        lo, hi = final.min, final.max
        deadline = _day_after(final.target.by) if final.target.by else None
        if current > 0 and deadline is not None:
            prev = finals[current - 1]
            assert prev.target.by is not None
            start = _day_after(prev.target.by)
            frac = _fraction(end, start, deadline)
            lo, hi = _glide(prev.min, lo, frac), _glide(prev.max, hi, frac)
        elif (
            current == 0
            and deadline is not None
            and final.baseline is not None
            and final.glide_from
        ):
            frac = _fraction(end, final.glide_from, deadline)
            base = final.baseline
            lo = _glide(base, lo, frac)
            hi = _glide(base, hi, frac)
    target = final.target
    return Bound(lo, hi, _band(lo, target), _band(hi, target), target, final.min, final.max)


def judge(value: float | None, bound: Bound | None) -> Status:
    """The status of ``value`` against the bound in force (none: ``no_target``)."""
    if bound is None:
        return Status.NO_TARGET
    if value is None:
        return Status.NO_DATA
    statuses: list[Status] = []
    if bound.min is not None:
        eps = EPSILON * max(1.0, abs(bound.min))
        if value >= bound.min - eps:
            statuses.append(Status.MET)
        elif value >= bound.min - bound.min_band - eps:
            statuses.append(Status.AT_RISK)
        else:
            statuses.append(Status.MISSED)
    if bound.max is not None:
        eps = EPSILON * max(1.0, abs(bound.max))
        if value <= bound.max + eps:
            statuses.append(Status.MET)
        elif value <= bound.max + bound.max_band + eps:
            statuses.append(Status.AT_RISK)
        else:
            statuses.append(Status.MISSED)
    if Status.MISSED in statuses:
        return Status.MISSED
    if Status.AT_RISK in statuses:
        return Status.AT_RISK
    return Status.MET
