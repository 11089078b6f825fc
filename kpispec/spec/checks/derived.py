"""KPIs built from other KPIs: the same grain (E313), shared dimensions (E403)."""

from __future__ import annotations

from kpispec.spec.checks.context import CheckedKpi, Context, dimension_locs


def check_derived(ctx: Context) -> None:
    """In dependency order, so a KPI's derived dimensions are known before its users'."""
    for kpi_id in ctx.order:
        derived(ctx, ctx.checked[kpi_id])


def derived(ctx: Context, checked: CheckedKpi) -> None:
    deps = [ctx.checked[d] for d in checked.depends if d in ctx.checked]
    if not deps:
        return
    kpi = checked.kpi
    assert checked.formula is not None  # it has dependencies
    for dep in deps:
        if dep.kpi.grain != kpi.grain:
            ref = next(n for n in checked.formula.kpi_refs if n.name == dep.kpi.id)
            ctx.add_at(
                "E313",
                f"KPI `{kpi.id}` (grain {kpi.grain}) references `{dep.kpi.id}` (grain {dep.kpi.grain})",
                kpi.formula,
                ref.start,
                ref.end,
                "a KPI built from other KPIs needs their grain; set the same `grain:` on both",
            )
    shared = set(deps[0].dimensions)
    for dep in deps[1:]:
        shared &= set(dep.dimensions)
    if not kpi.dimensions:
        order = [d for dep in deps for d in dep.dimensions]
        checked.dimensions = [d for d in dict.fromkeys(order) if d in shared]
        return
    for dim, loc in zip(kpi.dimensions, dimension_locs(kpi), strict=True):
        if dim not in shared:
            ctx.out.add(
                "E403",
                f"dimension `{dim}` of KPI `{kpi.id}` is not a dimension of every KPI it references",
                loc,
                f"the KPIs it references share: {', '.join(sorted(shared)) or 'no dimension'}",
            )
