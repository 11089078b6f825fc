"""Sample data of e-mail marketing: one row per campaign send (``email_sends.parquet``).

Columns: ``sent_at`` (naive local time), ``campaign``, ``segment`` (``subscribers``,
``customers``, ``win-back``) and the counts the e-mail platform reports for the send:
``delivered``, ``opens`` (unique opens), ``clicks`` (unique clicks) and ``unsubscribes``.

The programme:

* ``newsletter`` to the newsletter subscribers every Tuesday morning;
* ``customer_offers`` to customers every Thursday and ``new_arrivals`` to customers on
  the first Wednesday of the month;
* ``win_back`` to customers who have not bought for a year, on the second Monday of the
  month;
* seasonal campaigns: ``summer_sale`` (early July), ``black_week`` (the days around
  Black Friday, with a teaser the week before) and ``christmas`` (December);
* from October 2026 a second weekly send to subscribers, ``weekend_deals`` on Fridays:
  more clicks in total, but lower open rates and more unsubscribes.

The lists are small and grow slowly (about 4,000 subscribers and 1,500 customers in 2025)
until the web team's growth drive of July 2026 doubles the subscriber list by November.
Open rates are about 25 % for subscribers, 38 % for customers and 15 % for lapsed
customers; click rates 1-6 % of delivered e-mails; unsubscribes 0.1-0.6 %. The extra
Friday e-mail pulls the October 2026 open rate down and pushes unsubscribes up.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from kpispec.examples import season
from kpispec.examples.tables import write_tables

DRIVE_START = date(2026, 7, 1)  #: the growth drive of the web team
WEEKEND_DEALS_START = date(2026, 10, 1)  #: a second weekly e-mail to subscribers

#: per segment: opens, clicks and unsubscribes per delivered e-mail
RATES = {
    "subscribers": (0.25, 0.023, 0.0018),
    "customers": (0.38, 0.05, 0.0009),
    "win-back": (0.15, 0.012, 0.006),
}
#: per campaign: multipliers of the open, click and unsubscribe rates
CAMPAIGN = {
    "newsletter": (1.0, 1.0, 1.0),
    "customer_offers": (1.0, 1.0, 1.0),
    "new_arrivals": (1.04, 1.1, 0.9),
    "win_back": (1.0, 1.0, 1.0),
    "summer_sale": (0.92, 1.15, 1.1),
    "black_week": (1.12, 1.6, 1.2),
    "christmas": (1.06, 1.3, 1.1),
    "weekend_deals": (0.86, 0.88, 1.4),
}


def _list_size(segment: str, day: date) -> float:
    """Recipients of a send to ``segment`` on ``day``.

    The lists grow slowly until the web team's growth drive (July 2026) brings many new
    visitors, some of whom sign up for the newsletter or buy and become customers.
    """
    x = (day - date(2026, 9, 20)).days / 20.0
    drive = 1.0 / (1.0 + math.exp(-x)) if day >= DRIVE_START else 0.0
    if segment == "subscribers":
        return season.growth(day, 4_200, 5_400, date(2026, 6, 30)) + 4_000 * drive
    if segment == "customers":
        return season.growth(day, 1_500, 2_300, date(2026, 6, 30)) + 1_100 * drive
    return season.growth(day, 380, 520, date(2026, 6, 30)) + 80 * drive


def _schedule(day: date) -> list[tuple[str, str, time]]:
    """The sends of ``day``: (campaign, segment, time)."""
    sends: list[tuple[str, str, time]] = []
    weekday = day.weekday()
    bf = season.black_friday(day.year)
    black_week = bf - timedelta(days=3) <= day <= bf + timedelta(days=3)
    if weekday == 1 and not black_week:
        sends.append(("newsletter", "subscribers", time(9, 0)))
    if weekday == 3 and not black_week:
        sends.append(("customer_offers", "customers", time(10, 0)))
    if weekday == 2 and day.day <= 7:
        sends.append(("new_arrivals", "customers", time(11, 0)))
    if weekday == 0 and 8 <= day.day <= 14:
        sends.append(("win_back", "win-back", time(13, 0)))
    if weekday == 4 and day >= WEEKEND_DEALS_START and not black_week:
        sends.append(("weekend_deals", "subscribers", time(15, 0)))
    if day.month == 7 and day.day in (2, 9):
        sends.append(("summer_sale", "subscribers", time(8, 0)))
        sends.append(("summer_sale", "customers", time(8, 30)))
    if day in (bf - timedelta(days=8), bf - timedelta(days=3), bf, bf + timedelta(days=3)):
        sends.append(("black_week", "subscribers", time(7, 0)))
        sends.append(("black_week", "customers", time(7, 30)))
    if day.month == 12 and day.day in (3, 10, 17):
        sends.append(("christmas", "subscribers", time(8, 0)))
        sends.append(("christmas", "customers", time(8, 30)))
    return sends


def generate(out: Path) -> list[Path]:
    """Write ``email_sends.parquet`` into ``out`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(season.SEED + 301)
    rows: dict[str, list[object]] = {
        k: []
        for k in ("sent_at", "campaign", "segment", "delivered", "opens", "clicks", "unsubscribes")
    }
    for day in season.days():
        for campaign, segment, at in _schedule(day):
            open_rate, click_rate, unsub_rate = RATES[segment]
            f_open, f_click, f_unsub = CAMPAIGN[campaign]
            if day.month == 7 or (day.month == 8 and day.day <= 10):
                f_open *= 0.9  # holidays: read later or never
            if day >= WEEKEND_DEALS_START and segment == "subscribers":
                f_unsub *= 1.2  # two e-mails a week tire some readers
            sent = _list_size(segment, day) * rng.uniform(0.97, 1.0)
            delivered = round(sent * rng.uniform(0.982, 0.992))
            opens = round(delivered * open_rate * f_open * rng.gauss(1.0, 0.04))
            clicks = round(delivered * click_rate * f_click * rng.gauss(1.0, 0.08))
            unsubscribes = round(delivered * unsub_rate * f_unsub * rng.gauss(1.0, 0.12))
            rows["sent_at"].append(
                datetime.combine(day, at) + timedelta(seconds=rng.randrange(120))
            )
            rows["campaign"].append(campaign)
            rows["segment"].append(segment)
            rows["delivered"].append(delivered)
            rows["opens"].append(opens)
            rows["clicks"].append(min(clicks, opens))
            rows["unsubscribes"].append(max(unsubscribes, 0))
    df = pl.DataFrame(
        rows,
        schema={
            "sent_at": pl.Datetime("us"),
            "campaign": pl.String,
            "segment": pl.String,
            "delivered": pl.Int64,
            "opens": pl.Int64,
            "clicks": pl.Int64,
            "unsubscribes": pl.Int64,
        },
    ).sort("sent_at")
    return write_tables(out, {"email_sends": df})
