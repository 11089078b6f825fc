"""Targets: consistent bounds (E500, E504, E507), baselines (E501, E506, E508), milestones (E502)."""

from __future__ import annotations

from datetime import date

from kpispec.periods import (
    EXAMPLE_LABELS,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_PERIODS,
    in_calendar,
    label_grain,
    parse_label,
    period_index,
    well_formed,
)
from kpispec.spec.checks.context import Context
from kpispec.spec.model import Kpi, Target


def check_targets(ctx: Context) -> None:
    for kpi in ctx.project.all_kpis():
        for target in kpi.targets:
            bounds(ctx, target)
            if isinstance(target.baseline, str):
                baseline_period(ctx, kpi, target, target.baseline)
        milestones(ctx, kpi)


def bounds(ctx: Context, target: Target) -> None:
    at = target.locs
    has_bound = target.min is not None or target.max is not None
    if target.min is not None and target.max is not None and target.min > target.max:
        ctx.out.add(
            "E500",
            f"target min {target.min:g} is greater than max {target.max:g}",
            at.get("min", target.loc),
            "min is the lower bound and max the upper bound of the range",
        )
    if target.change is not None and target.baseline is None:
        ctx.out.add(
            "E501",
            "`change` needs a `baseline` to change from",
            at.get("change", target.loc),
            "add baseline: 12.5, or baseline: {period: 2026-09} to compute it from the data",
        )
    if target.change is not None and has_bound:
        ctx.out.add(
            "E507",
            "a target has either a bound (`min`/`max`) or a `change`, not both",
            at.get("change", target.loc),
            "use min/max for a fixed bound, change+baseline for a relative one",
        )
    if not has_bound and target.change is None:
        ctx.out.add(
            "E504",
            "the target has no bound",
            target.loc,
            "give `min`, `max`, or `change` with a `baseline`",
        )
    if target.start is not None and target.by is not None and target.start >= target.by:
        ctx.out.add(
            "E503",
            f"`from` ({target.start}) must be before `by` ({target.by})",
            at.get("from", target.loc),
            "the glide path runs from `from` to the deadline `by`",
        )
    if target.start is not None and target.baseline is None:
        ctx.out.add(
            "E501",
            "`from` starts a glide path, which needs a `baseline`",
            at.get("from", target.loc),
            "add baseline: (a number or {period: ...}) to glide from",
        )


def baseline_period(ctx: Context, kpi: Kpi, target: Target, baseline: str) -> None:
    """A baseline computed from the data: a real period of the KPI's grain."""
    loc = target.locs.get("baseline", target.loc)
    grain = label_grain(baseline)
    example = f"name a {kpi.grain} period, e.g. {EXAMPLE_LABELS[str(kpi.grain)]}"
    if grain is None or not well_formed(baseline):
        ctx.out.add(
            "E506",
            f"invalid baseline period {baseline!r}",
            loc,
            "write a period label: 2026, 2026-Q3, 2026-09, 2026-W41 or 2026-10-05",
        )
    elif grain != kpi.grain:
        ctx.out.add(
            "E506",
            f"baseline period {baseline!r} is a {grain}, but KPI `{kpi.id}` is evaluated per {kpi.grain}",
            loc,
            example,
        )
    elif not in_calendar(baseline):
        ctx.out.add(
            "E506",
            f"baseline period {baseline!r} is not a date of the calendar "
            f"(years {FIRST_YEAR} to {LAST_YEAR})",
            loc,
            example,
        )
    elif target.by is not None:
        baseline_span(ctx, target, baseline, target.by)


def baseline_span(ctx: Context, target: Target, baseline: str, by: date) -> None:
    """The periods from a baseline to the deadline are computed together: bound them."""
    first = parse_label(baseline)
    count = period_index(first.grain, by) - first.index + 1
    if count > MAX_PERIODS:
        ctx.out.add(
            "E508",
            f"from the baseline period {baseline} to the deadline {by} are {count:,} "
            f"{first.grain}s; kpispec computes at most {MAX_PERIODS:,} periods of a grain "
            "at once",
            target.locs.get("baseline", target.loc),
            "choose a later baseline period",
        )


def milestones(ctx: Context, kpi: Kpi) -> None:
    if len(kpi.targets) < 2:
        return
    previous: Target | None = None
    for target in kpi.targets:
        if previous is not None and previous.by and target.by and target.by <= previous.by:
            ctx.out.add(
                "E502",
                f"milestones must be in order of `by`: {target.by} is not after {previous.by}",
                target.locs.get("by", target.loc),
                "list the milestones from the earliest deadline to the latest",
            )
        previous = target
