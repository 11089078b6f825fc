"""The SMART lint: warnings for a KPI without owner, target, deadline or why (W600-W603)."""

from __future__ import annotations

from kpispec.spec.checks.context import Context


def check_smart(ctx: Context) -> None:
    for kpi in ctx.project.all_kpis():
        if kpi.owner is None:
            ctx.warn(
                "W600",
                f"KPI `{kpi.id}` has no owner",
                kpi.locs.get("id", kpi.loc),
                "a KPI nobody owns is a KPI nobody acts on: add `owner:` to it or to the scorecard",
            )
        if not kpi.targets:
            ctx.warn(
                "W601",
                f"KPI `{kpi.id}` has no target",
                kpi.locs.get("id", kpi.loc),
                "SMART: give it a `target:` with a bound (min/max), a deadline (by) and a reason (why)",
            )
            continue
        final = kpi.targets[-1]
        if final.by is None and "by" not in final.locs:  # an invalid `by` is an error already
            ctx.warn(
                "W602",
                f"the target of KPI `{kpi.id}` has no deadline",
                final.loc,
                "SMART targets are time-bound: add `by: YYYY-MM-DD`",
            )
        if not any(t.why for t in kpi.targets):
            ctx.warn(
                "W603",
                f"the target of KPI `{kpi.id}` does not say why",
                final.loc,
                "SMART targets are relevant: add `why:` naming the objective it serves",
            )
