"""Periods as Polars expressions: the engine's side of :mod:`kpispec.periods`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def index_expr(grain: str, local: pl.Expr) -> pl.Expr:
    """The period index of a time zone-aware (local) datetime expression."""
    import polars as pl

    if grain == "year":
        return local.dt.year().cast(pl.Int64)
    if grain == "quarter":
        return local.dt.year().cast(pl.Int64) * 4 + local.dt.quarter().cast(pl.Int64) - 1
    if grain == "month":
        return local.dt.year().cast(pl.Int64) * 12 + local.dt.month().cast(pl.Int64) - 1
    days = local.dt.date().cast(pl.Int64) + _EPOCH_ORDINAL
    if grain == "week":
        return (days - 1) // 7
    return days


def index_of_days(grain: str, days: pl.Expr) -> pl.Expr:
    """The period index of a day given as days since 1970-01-01 (an integer expression):
    days and weeks by arithmetic, longer periods through the date (no time of day or time
    zone to take apart, which is what makes ``dt.year()`` of a timestamp slower)."""
    import polars as pl

    if grain == "day":
        return days + _EPOCH_ORDINAL
    if grain == "week":
        return (days + _EPOCH_ORDINAL - 1) // 7
    return index_expr(grain, days.cast(pl.Int32).cast(pl.Date))
