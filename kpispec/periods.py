"""Periods and their labels: one calendar and one label grammar for every stage.

A period is an integer *index* on its grain's calendar, so that "the next period",
"twelve periods back" and "which periods does this row belong to" are arithmetic:

- year: the year; quarter: ``year * 4 + quarter - 1``; month: ``year * 12 + month - 1``;
- week (ISO, Monday first): ``(ordinal of its Monday - 1) // 7``; day: the date's ordinal.

Periods start at local midnight in the project's time zone; ends are exclusive. A label
names a period: ``2026``, ``2026-Q3``, ``2026-09``, ``2026-W41``, ``2026-10-05``; the
checker, the engine and the reports all read labels here. Pure: no Polars, no specs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month", "quarter", "year")
#: The calendar kpispec evaluates on: as-of dates and period labels lie in these years.
FIRST_YEAR, LAST_YEAR = 1000, 9000
#: At most this many periods of one grain in one evaluation (history, the period a year
#: earlier and baseline periods together): about 11 years of days, 333 years of months.
MAX_PERIODS = 4000
#: One label of each grain, for hints.
EXAMPLE_LABELS = {
    "day": "2026-10-05",
    "week": "2026-W41",
    "month": "2026-09",
    "quarter": "2026-Q3",
    "year": "2026",
}


@dataclass(frozen=True)
class Period:
    grain: str
    index: int

    @property
    def start(self) -> date:
        return period_start(self.grain, self.index)

    @property
    def end(self) -> date:
        """The first day after the period (ends are exclusive)."""
        return period_start(self.grain, self.index + 1)

    @property
    def label(self) -> str:
        return period_label(self.grain, self.index)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def shift(self, n: int) -> Period:
        return Period(self.grain, self.index + n)

    def __str__(self) -> str:
        return self.label


def period_index(grain: str, day: date) -> int:
    """The index of the period of ``grain`` that holds ``day``."""
    if grain == "year":
        return day.year
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "week":
        return (day.toordinal() - day.weekday() - 1) // 7
    return day.toordinal()


@functools.lru_cache(maxsize=65536)  # pure, and asked for each period of each KPI
def period_start(grain: str, index: int) -> date:
    if grain == "year":
        return date(index, 1, 1)
    if grain == "quarter":
        return date(index // 4, (index % 4) * 3 + 1, 1)
    if grain == "month":
        return date(index // 12, index % 12 + 1, 1)
    if grain == "week":
        return date.fromordinal(index * 7 + 1)
    return date.fromordinal(index)


@functools.lru_cache(maxsize=65536)
def period_label(grain: str, index: int) -> str:
    start = period_start(grain, index)
    if grain == "year":
        return f"{start.year:04d}"
    if grain == "quarter":
        return f"{start.year:04d}-Q{index % 4 + 1}"
    if grain == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if grain == "week":
        iso = start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    return start.isoformat()


#: The label grammar: the grain a label is written in, and its numbers.
_LABELS = [
    ("year", re.compile(r"^(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
]


def label_grain(label: str) -> str | None:
    """The grain a label is written in (``2026-09`` is a month), valid or not."""
    return next((grain for grain, pattern in _LABELS if pattern.match(label)), None)


def well_formed(label: str) -> bool:
    """Whether a label has the form of one: month 01-12, week 01-53 (real or not)."""
    for grain, pattern in _LABELS:
        m = pattern.match(label)
        if m is None:
            continue
        parts = [int(g) for g in m.groups()]
        if grain in ("month", "day"):
            return 1 <= parts[1] <= 12
        if grain == "week":
            return 1 <= parts[1] <= 53
        return True
    return False


def in_calendar(label: str) -> bool:
    """Whether a label names a real period in the years kpispec accepts."""
    try:
        parse_user_label(label)
    except ValueError:
        return False
    return True


def parse_label(label: str) -> Period:
    """``2026-10`` -> the month October 2026. Raises ValueError for anything else."""
    label = str(label).strip()
    for grain, pattern in _LABELS:
        m = pattern.match(label)
        if m is None:
            continue
        parts = [int(g) for g in m.groups()]
        if parts[0] < 1:
            break
        if grain == "year":
            return Period(grain, parts[0])
        if grain == "quarter":
            return Period(grain, parts[0] * 4 + parts[1] - 1)
        if grain == "month":
            if not 1 <= parts[1] <= 12:
                break
            return Period(grain, parts[0] * 12 + parts[1] - 1)
        try:
            if grain == "week":
                monday = date.fromisocalendar(parts[0], parts[1], 1)
                return Period(grain, period_index("week", monday))
            return Period(grain, date(parts[0], parts[1], parts[2]).toordinal())
        except ValueError:  # week 53 of a year with 52, or 2026-02-30
            break
    raise ValueError(f"not a period label: {label!r}")


def check_date(day: date) -> None:
    """Raise ValueError for a date a user may not name: outside the years kpispec accepts.

    The bounds leave room on both sides for what evaluation computes from such a date
    (120 periods of history, a year earlier, rolling windows of up to 100 years).
    """
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR}")


def parse_user_label(label: str) -> Period:
    """A period label a user wrote (--period, a baseline or test period): within the years."""
    period = parse_label(label)
    check_date(period.start)
    return period


def as_grain(period: Period, grain: str) -> Period:
    """The period of ``grain`` that holds the start of ``period``."""
    return Period(grain, period_index(grain, period.start))


def last_complete(grain: str, as_of: date) -> Period:
    """The last period that ended on or before the start of ``as_of``."""
    return Period(grain, period_index(grain, as_of) - 1)


def year_earlier(period: Period) -> Period:
    """The same period a year before: same month/quarter, same ISO week, same date."""
    grain = period.grain
    if grain == "year":
        return period.shift(-1)
    if grain == "quarter":
        return period.shift(-4)
    if grain == "month":
        return period.shift(-12)
    start = period.start
    if grain == "week":
        iso = start.isocalendar()
        week = min(iso.week, date(iso.year - 1, 12, 28).isocalendar().week)
        return Period(grain, period_index(grain, date.fromisocalendar(iso.year - 1, week, 1)))
    try:
        return Period(grain, start.replace(year=start.year - 1).toordinal())
    except ValueError:  # 29 February
        return Period(grain, date(start.year - 1, 2, 28).toordinal())


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def shift_date(day: date, count: int, unit: str) -> date:
    """``day`` moved by ``count`` days, weeks or months (month ends clamp)."""
    if unit == "day":
        return day + timedelta(days=count)
    if unit == "week":
        return day + timedelta(weeks=count)
    month = day.year * 12 + day.month - 1 + count
    year, month0 = divmod(month, 12)
    first_next = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last = (first_next - timedelta(days=1)).day
    return date(year, month0 + 1, min(day.day, last))
