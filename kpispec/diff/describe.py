"""Words for a diff, shared by its text, Markdown and GitHub formats."""

from __future__ import annotations

from kpispec.diff.model import (
    Category,
    Diff,
    Flip,
    Format,
    Headline,
    Impact,
    Kind,
    KpiChange,
    Mover,
)
from kpispec.formatting import format_change, format_percent_change, format_value
from kpispec.results import Bound, Status

#: Statuses from the best to the worst, to say whether a flip is for the better.
RANK = {Status.MET: 0, Status.AT_RISK: 1, Status.NO_DATA: 2, Status.MISSED: 3, Status.NO_TARGET: 4}


def value(fmt: Format, v: float | None) -> str:
    return format_value(v, fmt.unit, fmt.locale, decimals=fmt.decimals, currency=fmt.currency)


def change(fmt: Format, v: float | None) -> str:
    """A signed difference in the KPI's unit: ``+€1,419``, ``−0.4 pp``."""
    return format_change(v, fmt.unit, fmt.locale, fmt.decimals, fmt.currency)


def difference(fmt: Format, impact: Impact) -> str:
    return change(fmt, impact.difference)


def movers(fmt: Format, moved: tuple[Mover, ...]) -> str:
    """``channel: direct +€1,499, email +€316; device: mobile +€1,430``."""
    parts: dict[str, list[str]] = {}
    for m in moved:
        member = m.member if m.member is not None else "(none)"
        shift = (
            change(fmt, m.difference)
            if m.difference is not None
            else f"{value(fmt, m.base)} → {value(fmt, m.head)}"
        )
        parts.setdefault(m.dimension, []).append(f"{member} {shift}")
    return "; ".join(f"{dim}: {', '.join(items)}" for dim, items in parts.items())


def relative(fmt: Format, impact: Impact) -> str:
    if impact.relative is None:
        return "–"
    return format_percent_change(impact.relative, fmt.locale)


def bound(fmt: Format, b: Bound | None) -> str:
    """``≥ 3.3%``, ``≤ 40.0%``, ``4.00 to 6.00``; ``no target`` without one."""
    if b is None or (b.min is None and b.max is None):
        return "no target"
    if b.min is not None and b.max is not None:
        return f"{value(fmt, b.min)} to {value(fmt, b.max)}"
    if b.min is not None:
        return f"≥ {value(fmt, b.min)}"
    return f"≤ {value(fmt, b.max)}"


def pair(base: str, head: str) -> str:
    """``base → head``, or the one text when both are the same."""
    return base if base == head else f"{base} → {head}"


def worse(flip: Flip) -> bool:
    """A flip for the worse: further from met (a target gone counts as neither)."""
    if Status.NO_TARGET in (flip.base, flip.head):
        return False
    if flip.head is Status.NO_DATA:
        return True  # the KPI lost its value: worse whatever it was
    return RANK[flip.head] > RANK[flip.base]


def flip_words(flip: Flip) -> str:
    return f"{flip.base.words} → {flip.head.words}"


def what(kpi: KpiChange) -> str:
    """``definition, target`` — what changed about a KPI, in a few words."""
    if kpi.kind in (Kind.ADDED, Kind.REMOVED):
        return kpi.kind.value
    parts = []
    if kpi.has(Category.DEFINITION):
        parts.append("definition")
    if kpi.has(Category.TARGET):
        parts.append("target")
    if kpi.because:
        parts.append("indirect")
    if kpi.has(Category.METADATA) and not parts:
        parts.append("metadata")
    return ", ".join(parts)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def headline(h: Headline) -> str:
    """``2 KPIs changed, 1 indirectly, 1 status flip, 1 target changed, 0 added, 0 removed``."""
    return ", ".join(
        [
            _count(h.changed, "KPI changed", "KPIs changed"),
            f"{h.indirect} indirectly",
            _count(h.flips, "status flip"),
            _count(h.targets, "target changed", "targets changed"),
            f"{h.added} added",
            f"{h.removed} removed",
        ]
    )


def title(diff: Diff) -> str:
    return f"KPI diff: {diff.base.label} → {diff.head.label}"


def evaluated(kpi: KpiChange) -> str:
    """``71,953 € → 75,311 € (met → met)`` for the evaluated period."""
    fmt = kpi.format
    b, h = kpi.base, kpi.head
    if b is None and h is None:
        return ""
    if b is None or h is None:
        side = b or h
        assert side is not None
        return f"{value(fmt, side.value)} ({side.status.words})"
    return (
        f"{pair(value(fmt, b.value), value(fmt, h.value))} ({pair(b.status.words, h.status.words)})"
    )
