"""Ids unique across the project: scorecards, sources and KPIs (E400)."""

from __future__ import annotations

from kpispec.diagnostics import Loc
from kpispec.spec.checks.context import Context


def check_ids(ctx: Context) -> None:
    """Report every repeated id; the first source and KPI of each id are the ones checked."""
    cards: dict[str, Loc] = {}
    for card in ctx.project.scorecards:
        if card.id in cards:
            ctx.out.add(
                "E400",
                f"scorecard id `{card.id}` is already used at {cards[card.id]}",
                card.loc,
                "scorecard ids are unique in the project; rename one",
            )
        cards.setdefault(card.id, card.loc)
    for source in ctx.project.all_sources():
        first = ctx.sources.setdefault(source.id, source)
        if first is not source:
            ctx.out.add(
                "E400",
                f"source id `{source.id}` is already used at {first.locs.get('id', first.loc)}",
                source.locs.get("id", source.loc),
                "source ids are unique across the project; rename one, or share one source "
                "through `sources:` in kpispec.yaml",
            )
    for kpi in ctx.project.all_kpis():
        first_kpi = ctx.kpis.setdefault(kpi.id, kpi)
        if first_kpi is not kpi:
            ctx.out.add(
                "E400",
                f"KPI id `{kpi.id}` is already used at {first_kpi.locs.get('id', first_kpi.loc)}",
                kpi.locs.get("id", kpi.loc),
                "KPI ids are unique across the project (other KPIs reference them); rename one",
            )
