"""Periods, buckets and windows: which buckets of time make up each period's window.

Rows are aggregated once per *bucket*: the coarsest period (year, quarter, month, week or
day) whose starts include every boundary the KPIs of a scan need (their periods' starts
and ends and their rolling windows' starts). A period's window is then a run of whole
buckets, so its partials are combined from the buckets' partials, never from rows again:
a window of 30 days over months reads 30 daily buckets; ``window: all`` reads every bucket
before the period's end, the buckets before the first period folded into one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpispec.periods import period_index, period_start, shift_date
from kpispec.spec.model import Window

#: bucket grains, coarsest first
BUCKET_GRAINS = ("year", "quarter", "month", "week", "day")


@dataclass(frozen=True)
class Span:
    """The periods to evaluate on one grain: indexes ``first`` to ``last``, inclusive."""

    grain: str
    first: int
    last: int

    def indexes(self) -> range:
        return range(self.first, self.last + 1)


def window_start(grain: str, index: int, window: Window) -> date | None:
    """Where the window of a period starts; None when it reaches back to the first row."""
    if window.kind == "all":
        return None
    if window.kind == "period":
        return period_start(grain, index)
    try:
        return shift_date(period_start(grain, index + 1), -window.count, window.unit)
    except (OverflowError, ValueError):  # the window reaches back before the year 1
        return None


def boundaries(span: Span, window: Window) -> set[date]:
    """Every date a bucket must start at for the windows of ``span`` to be whole buckets."""
    out = {period_start(span.grain, i) for i in range(span.first, span.last + 2)}
    for i in span.indexes():
        start = window_start(span.grain, i, window)
        if start is not None:
            out.add(start)
    return out


def bucket_grain(needed: set[date]) -> str:
    """The coarsest grain whose periods start on every date of ``needed``."""
    for grain in BUCKET_GRAINS:
        if all(period_start(grain, period_index(grain, d)) == d for d in needed):
            return grain
    return "day"  # every date starts a day


def row_bounds(span: Span, window: Window) -> tuple[date | None, date]:
    """The dates rows must lie in to count in any period of ``span``: [start, end)."""
    end = period_start(span.grain, span.last + 1)
    starts = [window_start(span.grain, i, window) for i in span.indexes()]
    if any(s is None for s in starts):
        return None, end
    return min(s for s in starts if s is not None), end


@dataclass(frozen=True)
class Mapping:
    """Which buckets each period's window holds.

    ``pairs`` are (period, bucket); buckets below ``floor`` (when it is set) count as the
    bucket ``floor - 1``: every window that reaches back to the first row holds them all,
    and every other window none.
    """

    pairs: tuple[tuple[int, int], ...]
    floor: int | None

    @property
    def one_each(self) -> bool:
        """Whether each period's window is its own bucket, of the same index, and periods
        run without a gap (``window: period`` counted in buckets of its grain)."""
        return (
            self.floor is None
            and bool(self.pairs)
            and all(p == b for p, b in self.pairs)
            and [p for p, _ in self.pairs] == list(range(self.pairs[0][0], self.pairs[-1][0] + 1))
        )


def mapping(span: Span, window: Window, bucket: str | None) -> Mapping:
    """The buckets of every period's window; ``bucket`` None: one bucket of all rows."""
    if bucket is None:
        return Mapping(tuple((p, 0) for p in span.indexes()), None)
    ranges: list[tuple[int, int | None, int]] = []
    for p in span.indexes():
        start = window_start(span.grain, p, window)
        lo = period_index(bucket, start) if start is not None else None
        ranges.append((p, lo, period_index(bucket, period_start(span.grain, p + 1))))
    floor = None
    if any(lo is None for _, lo, _ in ranges):
        floor = min(b for _, lo, hi in ranges for b in (lo, hi) if b is not None)
    pairs: list[tuple[int, int]] = []
    for p, lo, hi in ranges:
        first = lo if lo is not None else (floor if floor is not None else hi) - 1
        pairs.extend((p, b) for b in range(first, hi))
    return Mapping(tuple(pairs), floor)
