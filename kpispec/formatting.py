"""Locale-aware formatting of KPI values (Babel): numbers, percentages, currencies, durations.

The value shown is exactly the number the formula returned: ``unit: percent`` adds the
locale's percent sign, it never multiplies by 100.
"""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpispec.results import Bound, Kpi

DEFAULT_DECIMALS = {"count": 0, "percent": 1, "points": 1, "currency": 2}
UNIT_SUFFIX = {"seconds": "s", "minutes": "min", "hours": "h", "days": "d"}


@cache
def _locale(name: str) -> Any:
    from babel import Locale

    return Locale.parse(name.replace("-", "_"))


@cache
def _pattern(pattern: str, decimals: int) -> Any:
    """The parsed Babel pattern with ``decimals`` fraction digits (parsing is most of the
    cost of formatting a number)."""
    from babel.numbers import parse_pattern

    return parse_pattern(_with_decimals(pattern, decimals))


@cache
def _with_decimals(pattern: str, decimals: int) -> str:
    """A Babel number pattern with exactly ``decimals`` fraction digits."""
    digits = "." + "0" * decimals if decimals > 0 else ""
    parts = []
    for part in pattern.split(";"):  # a positive and an optional negative pattern
        part = re.sub(r"\.[0#]+", "", part)
        i = part.rfind("0")
        parts.append(part if i < 0 else part[: i + 1] + digits + part[i + 1 :])
    return ";".join(parts)


@contextmanager
def _exact(decimals: int) -> Iterator[None]:
    """A decimal context wide enough for any float: Babel rounds with the current context,
    whose default 28 digits fail on values of 1e28 and more."""
    with decimal.localcontext() as context:
        context.prec = 320 + decimals  # 1.8e308 has 309 digits before the point
        context.Emax = decimal.MAX_EMAX
        context.Emin = decimal.MIN_EMIN
        yield


def decimals_for(unit: str, decimals: int | None, value: float) -> int:
    if decimals is not None:
        return decimals
    if unit in DEFAULT_DECIMALS:
        return DEFAULT_DECIMALS[unit]
    return 0 if float(value).is_integer() else 2


@functools.lru_cache(maxsize=65536)  # a value is shown on several pages of a site
def format_number(value: float | None, locale: str, decimals: int = 2) -> str:
    from babel.numbers import format_decimal

    if value is None:
        return "–"
    pattern = _pattern(_locale(locale).decimal_formats[None].pattern, decimals)
    with _exact(decimals):
        return format_decimal(value, format=pattern, locale=_locale(locale))


@functools.lru_cache(maxsize=65536)
def format_value(
    value: float | None,
    unit: str,
    locale: str,
    *,
    decimals: int | None = None,
    currency: str | None = None,
) -> str:
    """A KPI value as a reader sees it: ``40.1%`` (en), ``40,1 %`` (nb), ``1 234,50 kr``."""
    if value is None:
        return "–"
    d = decimals_for(unit, decimals, value)
    loc = _locale(locale)
    if unit == "percent":
        from babel.numbers import format_percent

        pattern = _pattern(loc.percent_formats[None].pattern, d)
        with _exact(d + 2):
            # divided as a decimal: the float division would show 1e28 as 9,999...,000 %
            share = decimal.Decimal(repr(float(value))) / 100
            return format_percent(share, format=pattern, locale=loc)
    if unit == "currency" and currency:
        from babel.numbers import format_currency

        pattern = _pattern(loc.currency_formats["standard"].pattern, d)
        with _exact(d):
            return format_currency(
                value, currency, format=pattern, locale=loc, currency_digits=False
            )
    text = format_number(value, locale, d)
    if unit == "points":
        return text + " pts" if locale.startswith("en") else text + " p."
    suffix = UNIT_SUFFIX.get(unit)
    return f"{text} {suffix}" if suffix else text


def format_change(
    change: float | None,
    unit: str,
    locale: str,
    decimals: int | None = None,
    currency: str | None = None,
) -> str:
    """A signed change in the KPI's unit: ``+1.2 pp`` for percentages (percentage points),
    ``−120,50 kr`` for a currency, ``+3`` for a count."""
    if change is None:
        return "–"
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    if unit == "percent":
        d = decimals_for(unit, decimals, change)
        return f"{sign}{format_number(abs(change), locale, d)} pp"
    return sign + format_value(abs(change), unit, locale, decimals=decimals, currency=currency)


def format_percent_change(pct: float, locale: str) -> str:
    """A relative change in the locale's percent format: ``+4.6%``, ``−3,3 %``."""
    sign = "+" if pct > 0 else "−" if pct < 0 else "±"
    return sign + format_value(abs(pct), "percent", locale, decimals=1)


# ---------------------------------------------------------------- a KPI of the results


def kpi_value(kpi: Kpi, value: float | None, locale: str) -> str:
    """A value of ``kpi`` in its unit and the locale."""
    return format_value(value, kpi.unit, locale, decimals=kpi.decimals, currency=kpi.currency)


def kpi_bound(kpi: Kpi, bound: Bound | None, locale: str, *, between: str = "–") -> str:
    """A bound in force: ``≥ 3.3%``, ``≤ 40.0%`` or ``4.00 – 6.00``; empty without one."""
    if bound is None:
        return ""
    lo, hi = bound.min, bound.max
    if lo is not None and hi is not None:
        return f"{kpi_value(kpi, lo, locale)} {between} {kpi_value(kpi, hi, locale)}"
    if lo is not None:
        return f"≥ {kpi_value(kpi, lo, locale)}"
    if hi is not None:
        return f"≤ {kpi_value(kpi, hi, locale)}"
    return ""


def kpi_owner(kpi: Kpi) -> str:
    """The name an owner goes by: name, else team, else e-mail."""
    return kpi.owner.shown if kpi.owner else ""
