"""Unicode sparklines (▁▂▃▄▅▆▇█) for Markdown and terminals."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled between the smallest and the largest; gaps for nulls."""
    known = [v for v in values if v is not None]
    if not known:
        return GAP * len(values)
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(GAP)
        elif span == 0:
            out.append(BARS[len(BARS) // 2])
        else:
            out.append(BARS[min(len(BARS) - 1, int((v - low) / span * len(BARS)))])
    return "".join(out)
