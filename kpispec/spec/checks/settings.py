"""Settings a file sets: locales, currencies, time zones (E406-E408), connection URLs (E405)."""

from __future__ import annotations

import re
from functools import cache

from kpispec.confine import database_file, outside_root
from kpispec.diagnostics import Loc
from kpispec.spec.checks.context import Context
from kpispec.spec.schema import defined_pattern
from kpispec.spec.secrets import literal_password, malformed_reference
from kpispec.suggest import did_you_mean

#: Currencies suggested for a mistyped code (suggesting every ISO code gives odd guesses).
COMMON_CURRENCIES = ("EUR", "USD", "GBP", "NOK", "DKK", "SEK", "ISK", "CHF", "PLN", "CZK", "HUF",
                     "JPY", "CNY", "INR", "AUD", "CAD", "NZD", "BRL", "MXN", "ZAR", "SGD", "HKD")  # fmt: skip


@cache
def _timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


@cache
def _locale_ok(name: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(name.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return False
    return True


def check_settings(ctx: Context) -> None:
    """Locales, currencies and time zones, where a file sets them; connection URLs."""
    project = ctx.project
    at = project.locs
    if "locale" in at:
        check_locale(ctx, project.locale, at["locale"])
    if "currency" in at:
        check_currency(ctx, project.currency, at["currency"])
    if "timezone" in at:
        check_timezone(ctx, project.timezone, at["timezone"])
    for card in project.scorecards:
        if "locale" in card.locs:
            check_locale(ctx, card.locale, card.locs["locale"])
        if "currency" in card.locs:
            check_currency(ctx, card.currency, card.locs["currency"])
    for kpi in project.all_kpis():
        if "currency" in kpi.locs and kpi.currency:
            check_currency(ctx, kpi.currency, kpi.locs["currency"])
    for conn in project.connections.values():
        check_connection_url(ctx, conn.url, conn.loc)


def check_timezone(ctx: Context, name: str, loc: Loc) -> None:
    """An IANA zone name; one the schema's pattern rejects is reported there (E204) alone."""
    if not defined_pattern("timezone").search(name):
        return
    if name not in _timezones():
        ctx.out.add(
            "E406",
            f"unknown time zone {name!r}",
            loc,
            did_you_mean(name, _timezones()) or "use an IANA name such as Europe/Oslo",
        )


def check_locale(ctx: Context, name: str, loc: Loc) -> None:
    if not _locale_ok(name):
        ctx.out.add(
            "E407", f"unknown locale {name!r}", loc, "use a locale such as en, nb, da, sv or de"
        )


def check_currency(ctx: Context, code: str, loc: Loc) -> None:
    if not re.fullmatch(r"[A-Z]{3}", code):
        return  # not the form of a code at all: the schema reports it
    if code not in _currencies():
        ctx.out.add(
            "E408",
            f"unknown currency code {code!r}",
            loc,
            did_you_mean(code, COMMON_CURRENCIES) or "use an ISO 4217 code such as EUR, NOK or DKK",
        )


def check_connection_url(ctx: Context, url: str, loc: Loc) -> None:
    if malformed_reference(url):
        ctx.out.add(
            "E405",
            "malformed ${...} reference in the connection URL",
            loc,
            "write environment variables as ${NAME}, letters, digits and _ only",
        )
    where = literal_password(url)
    if where is not None:
        ctx.out.add(
            "E405",
            f"the connection URL holds a literal password ({where})",
            loc,
            "specs live in git: put the password (or the whole URL) in an environment "
            "variable and write ${WAREHOUSE_URL}",
        )
    if "${" not in url and not ctx.allow_outside_root:
        # a ${...} URL is judged when it is resolved, just before connecting
        database = database_file(url, ctx.project.root)
        if database is not None:
            refused = outside_root(
                "the database file of the connection", [database], ctx.project.root, loc
            )
            if refused is not None:
                ctx.out.items.append(refused)
