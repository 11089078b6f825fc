"""KPIs built from KPIs: the order to compute them in, and every cycle once (E308)."""

from __future__ import annotations

from kpispec.spec.checks.context import Context


def check_cycles(ctx: Context) -> None:
    """Set ``ctx.order``: KPI ids in dependency order; every cycle is reported once, in full."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(kpi_id: str) -> None:
        state[kpi_id] = 1
        stack.append(kpi_id)
        for dep in ctx.checked[kpi_id].depends:
            if dep not in ctx.checked:
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    cycle_error(ctx, cycle)
            elif state.get(dep) is None:
                visit(dep)
        stack.pop()
        state[kpi_id] = 2
        order.append(kpi_id)

    for kpi_id in ctx.checked:
        if kpi_id not in state:
            visit(kpi_id)
    ctx.order = order


def cycle_error(ctx: Context, cycle: list[str]) -> None:
    first = ctx.checked[cycle[0]]
    assert first.formula is not None  # it references the next KPI of the cycle
    ref = next(n for n in first.formula.kpi_refs if n.name == cycle[1])
    ctx.add_at(
        "E308",
        f"KPI references form a cycle: {' -> '.join(cycle)}",
        first.kpi.formula,
        ref.start,
        ref.end,
        "a KPI cannot depend on itself; compute one of them from the data instead",
    )
