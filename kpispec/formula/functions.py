"""The functions a formula may call: their level, arity and signature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    aggregate: bool
    min_args: int
    max_args: int | None  #: None: any number
    signature: str
    star: bool = False  #: accepts ``*`` (count)
    distinct: bool = False  #: accepts ``distinct`` (count)


def _f(name: str, aggregate: bool, lo: int, hi: int | None, sig: str, **kw: bool) -> Function:
    return Function(name, aggregate, lo, hi, sig, **kw)


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        # aggregates: read the rows of a period
        _f(
            "count", True, 1, 1, "count(*), count(x) or count(distinct x)", star=True, distinct=True
        ),
        _f("sum", True, 1, 1, "sum(x)"),
        _f("avg", True, 1, 1, "avg(x)"),
        _f("min", True, 1, 1, "min(x)"),
        _f("max", True, 1, 1, "max(x)"),
        _f("median", True, 1, 1, "median(x)"),
        _f("percentile", True, 2, 2, "percentile(x, p) with p between 0 and 1"),
        _f("stddev", True, 1, 1, "stddev(x)"),
        _f("first", True, 1, 1, "first(x)"),
        _f("last", True, 1, 1, "last(x)"),
        _f("share", True, 1, 1, "share(condition)"),
        # row functions: work on one row (or on KPI-level values)
        _f("coalesce", False, 1, None, "coalesce(x, y, ...)"),
        _f("nullif", False, 2, 2, "nullif(x, y)"),
        _f("abs", False, 1, 1, "abs(x)"),
        _f("round", False, 1, 2, "round(x) or round(x, n)"),
        _f("least", False, 1, None, "least(x, y, ...)"),
        _f("greatest", False, 1, None, "greatest(x, y, ...)"),
        _f("date_diff", False, 3, 3, "date_diff('second'|'minute'|'hour'|'day', start, end)"),
    )
}

DATE_DIFF_UNITS = ("second", "minute", "hour", "day")
PERIOD_VARIABLES = ("period_start", "period_end", "period_days")
