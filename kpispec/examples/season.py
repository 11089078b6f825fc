"""Calendar effects shared by the sample data: growth, weekdays, summer dip, Black Friday, Christmas.

Everything here is deterministic: the sample data is the same on every machine.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

START = date(2025, 7, 1)  #: the first day of the sample data
END = date(2026, 11, 21)  #: the last day (the example is evaluated as of 2026-11-22)
SEED = 20261122


def days(start: date = START, end: date = END) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def black_friday(year: int) -> date:
    """The fourth Friday of November."""
    first = date(year, 11, 1)
    first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def seasonality(day: date) -> float:
    """A multiplier around 1.0 for traffic and sales on ``day``.

    Weekends are quieter for B2B-ish traffic, July dips (summer holidays), the week of
    Black Friday peaks, and December builds up to Christmas and drops after it.
    """
    factor = 1.0
    factor *= (0.85, 1.0, 1.0, 1.0, 0.95, 0.8, 0.75)[day.weekday()]
    if day.month == 7:
        factor *= 0.7
    elif day.month == 8 and day.day <= 10:
        factor *= 0.85
    bf = black_friday(day.year)
    if bf - timedelta(days=3) <= day <= bf + timedelta(days=3):  # Black Week, Cyber Monday
        factor *= 1.9 if day == bf else 1.5
    if day.month == 12:
        if day.day <= 22:
            factor *= 1.25 + 0.02 * day.day
        elif day.day <= 26:
            factor *= 0.6
        else:
            factor *= 0.8
    return factor


def growth(day: date, start_level: float, end_level: float, ramp_end: date) -> float:
    """A smooth S-curve from ``start_level`` at START to ``end_level`` at ``ramp_end``."""
    total = (ramp_end - START).days
    t = min(1.0, max(0.0, (day - START).days / total))
    s = 0.5 - 0.5 * math.cos(math.pi * t)
    return start_level + (end_level - start_level) * s
