"""Words for a judged KPI, shared by every CI format: its value, bound, deadline, owner."""

from __future__ import annotations

from kpispec.formatting import kpi_bound, kpi_value
from kpispec.results import ATTENTION, Gate, Kpi, Scorecard


def value_text(kpi: Kpi, value: float | None, locale: str) -> str:
    return kpi_value(kpi, value, locale)


def bound_text(kpi: Kpi, locale: str) -> str:
    return kpi_bound(kpi, kpi.bound, locale, between="to") or "no target"


def sentence(card: Scorecard, kpi: Kpi) -> str:
    """``Conversion rate 2026-10: 2.9% (target ≥ 3.3% by 2026-12-31; missed)``."""
    locale = card.locale
    value = value_text(kpi, kpi.value, locale)
    parts = []
    if kpi.bound is not None:
        parts.append(f"target {bound_text(kpi, locale)}")
        if kpi.deadline:
            parts[0] += f" by {kpi.deadline}"
    status = kpi.status.words
    if kpi.gate is Gate.OFF and kpi.status in ATTENTION:
        status += " (gate off)"  # reported only: never read as passing
    parts.append(status)
    if kpi.stale:
        parts.append("stale data")
    return f"{kpi.name} {kpi.period.label}: {value} ({'; '.join(parts)})"


def spec_place(kpi: Kpi) -> tuple[str, int]:
    """The spec file and the line a CI message points at: the target, else the KPI."""
    return kpi.file, kpi.target_line or kpi.line
