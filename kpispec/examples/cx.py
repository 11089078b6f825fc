"""Sample data of the customer-experience scorecard (``specs/scorecards/cx.yaml``).

Three tables:

``surveys``
    One row per answered customer survey: when, the channel the customer was acquired
    through (the shared channel vocabulary), the country, and three optional answers:
    ``nps_score`` ("How likely are you to recommend us?", 0-10), ``csat_score`` ("How
    satisfied were you?", 1-5) and ``ces_score`` ("How easy was it to get what you
    needed?", 1-7, where 7 is very easy). Respondents skip questions, so every score is
    nullable.

``tickets``
    One row per support ticket: opened and resolved (null while still open), the
    channel it came in through (email, chat, phone) and its priority.

``customers``
    One row per customer account: signed up, churned (null while still a customer),
    segment (consumer, business), country, revenue and orders to date (DKK).

The levels follow the Danish seed article on customer engagement: an NPS between +20 and
+40 that the service programme of spring 2026 lifts by about ten points, a CSAT around
85 %, a CES around 5.5 of 7, a monthly churn of about 2 % that creeps up in the autumn
of 2026, and resolution times of hours on chat and phone and a day or two by e-mail.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from kpispec.examples import season
from kpispec.examples.tables import write_tables

CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "email",
    "direct",
    "referral",
    "display",
)
CHANNEL_WEIGHTS = (0.26, 0.2, 0.14, 0.14, 0.14, 0.07, 0.05)
#: NPS offset (points) of customers acquired through each channel
CHANNEL_NPS = {
    "organic_search": 2,
    "paid_search": -6,
    "social": -2,
    "email": 7,
    "direct": 5,
    "referral": 9,
    "display": -9,
}
COUNTRIES = ("NO", "DK", "SE", "DE")
COUNTRY_WEIGHTS = (0.34, 0.36, 0.2, 0.1)
COUNTRY_NPS = {"NO": 1, "DK": 3, "SE": -2, "DE": -7}

TICKET_CHANNELS = ("email", "chat", "phone")
PRIORITIES = ("low", "normal", "high", "urgent")

#: first day of the customer history (accounts from before the sample period)
HISTORY_START = date(2023, 1, 1)


def _lognormal(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(-sigma * sigma / 2, sigma))


def _timestamp(rng: random.Random, day: date, hours: tuple[int, ...]) -> datetime:
    return datetime(day.year, day.month, day.day, rng.choice(hours), rng.randrange(60))


# --- surveys -------------------------------------------------------------------------


def nps_level(day: date) -> float:
    """The company-wide NPS the answers are drawn around.

    About +27 until March 2026; the service programme started in April 2026 (faster
    answers on chat, free returns) lifts it towards +40 by the end of 2026. December's
    delivery delays cost a few points.
    """
    if day < date(2026, 4, 1):
        level = 27.0 + 1.5 * math.sin((day - season.START).days / 60)
    else:
        t = min(1.0, (day - date(2026, 4, 1)).days / 260)
        level = 27.5 + 13.0 * t
    if day.month == 12 and day.day >= 10:
        level -= 5
    elif day.month == 7:
        level += 2
    return level


def _survey_answer(rng: random.Random, nps: float) -> tuple[int, int, int]:
    """One respondent's NPS, CSAT and CES answers, consistent with each other."""
    detractors = max(0.05, 0.24 - 0.0032 * (nps - 25))
    promoters = nps / 100 + detractors
    u = rng.random()
    if u < promoters:
        group = "promoter"
        score = 10 if rng.random() < 0.55 else 9
    elif u < 1 - detractors:
        group = "passive"
        score = 8 if rng.random() < 0.55 else 7
    else:
        group = "detractor"
        score = rng.choices(range(7), weights=(3, 2, 3, 5, 7, 12, 16))[0]
    positive = {"promoter": 0.965, "passive": 0.86, "detractor": 0.55}[group]
    if rng.random() < positive:
        csat = 5 if rng.random() < (0.7 if group == "promoter" else 0.4) else 4
    else:
        csat = rng.choices((1, 2, 3), weights=(1, 3, 6))[0]
    mean_ces = {"promoter": 6.1, "passive": 5.4, "detractor": 4.1}[group]
    ces = min(7, max(1, round(rng.gauss(mean_ces, 1.1))))
    return score, csat, ces


def surveys(rng: random.Random) -> pl.DataFrame:
    rows: dict[str, list[object]] = {
        k: [] for k in ("answered_at", "channel", "country", "nps_score", "csat_score", "ces_score")
    }
    for day in season.days():
        volume = season.growth(day, 32, 44, date(2026, 6, 30)) * season.seasonality(day)
        n = max(0, round(volume * _lognormal(rng, 0.12)))
        for _ in range(n):
            channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
            country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
            nps = nps_level(day) + CHANNEL_NPS[channel] + COUNTRY_NPS[country]
            score, csat, ces = _survey_answer(rng, nps)
            rows["answered_at"].append(_timestamp(rng, day, tuple(range(7, 23))))
            rows["channel"].append(channel)
            rows["country"].append(country)
            rows["nps_score"].append(score if rng.random() < 0.93 else None)
            rows["csat_score"].append(csat if rng.random() < 0.85 else None)
            rows["ces_score"].append(ces if rng.random() < 0.62 else None)
    return pl.DataFrame(
        rows,
        schema={
            "answered_at": pl.Datetime("us"),
            "channel": pl.String,
            "country": pl.String,
            "nps_score": pl.Int8,
            "csat_score": pl.Int8,
            "ces_score": pl.Int8,
        },
    ).sort("answered_at")


# --- tickets -------------------------------------------------------------------------

#: median resolution hours and spread per channel
RESOLUTION = {"email": (17.0, 0.75), "chat": (2.2, 0.9), "phone": (3.5, 1.0)}
PRIORITY_FACTOR = {"low": 1.6, "normal": 1.0, "high": 0.6, "urgent": 0.3}


def _backlog(day: date) -> float:
    """E-mail backlogs: Black Week and Christmas, and the short-staffed autumn of 2026."""
    factor = 1.0
    bf = season.black_friday(day.year)
    if bf - timedelta(days=5) <= day <= bf + timedelta(days=7):
        factor *= 1.5
    if day.month == 12 and day.day >= 15:
        factor *= 1.35
    if date(2026, 9, 14) <= day <= date(2026, 11, 8):  # two agents on leave, queue builds
        factor *= 1.3
    if day.month == 7:
        factor *= 1.2
    return factor


def tickets(rng: random.Random) -> pl.DataFrame:
    rows: dict[str, list[object]] = {
        k: [] for k in ("opened_at", "resolved_at", "channel", "priority")
    }
    now = datetime(season.END.year, season.END.month, season.END.day, 23, 59)
    for day in season.days():
        volume = season.growth(day, 48, 62, date(2026, 6, 30)) * season.seasonality(day)
        n = max(0, round(volume * _lognormal(rng, 0.15)))
        for _ in range(n):
            channel = rng.choices(TICKET_CHANNELS, (0.5, 0.32, 0.18))[0]
            priority = rng.choices(PRIORITIES, (0.25, 0.55, 0.16, 0.04))[0]
            hours: tuple[int, ...] = (
                7,
                8,
                9,
                10,
                11,
                12,
                13,
                14,
                15,
                16,
                17,
                18,
                19,
                20,
                21,
                22,
                23,
                0,
                6,
            )
            if channel != "email":
                hours = tuple(range(8, 21))
            opened = _timestamp(rng, day, hours) + timedelta(seconds=rng.randrange(60))
            median, sigma = RESOLUTION[channel]
            factor = PRIORITY_FACTOR[priority]
            if channel == "email":
                factor *= _backlog(day)
            if day.weekday() >= 5 and channel == "email":
                factor *= 1.6  # the weekend queue waits for Monday
            hours_taken = median * factor * math.exp(rng.gauss(0, sigma))
            hours_taken = max(0.05, hours_taken)
            done = opened + timedelta(seconds=round(hours_taken * 3600))
            abandoned = rng.random() < 0.004  # never resolved
            # never resolved, or still open at the end of the data
            resolved = None if abandoned or done > now else done
            rows["opened_at"].append(opened)
            rows["resolved_at"].append(resolved)
            rows["channel"].append(channel)
            rows["priority"].append(priority)
    df = pl.DataFrame(
        rows,
        schema={
            "opened_at": pl.Datetime("us"),
            "resolved_at": pl.Datetime("us"),
            "channel": pl.String,
            "priority": pl.String,
        },
    ).sort("opened_at")
    return df.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("ticket_id"), pl.all())


# --- customers -----------------------------------------------------------------------


def _churn_hazard(day: date, tenure_days: int) -> float:
    """Probability per day that a customer leaves (about 2 % a month)."""
    monthly = 0.0185
    if tenure_days < 90:
        monthly *= 1.6  # new customers who never got going
    if day.month == 1:
        monthly *= 1.25  # cancellations after Christmas
    elif day.month in (7, 8):
        monthly *= 0.85
    if date(2026, 9, 1) <= day:
        monthly *= 1.12  # a cheaper competitor opened in the autumn of 2026
    return monthly / 30.4


MAX_HAZARD = 0.0185 * 1.6 * 1.25 * 1.12 / 30.4


def _signups_per_day(day: date) -> float:
    if day < season.START:
        return 9.5 + 3.0 * (day - HISTORY_START).days / (season.START - HISTORY_START).days
    return season.growth(day, 12.5, 17.0, date(2026, 8, 31)) * season.seasonality(day)


def customers(rng: random.Random) -> pl.DataFrame:
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "signed_up_at",
            "churned_at",
            "segment",
            "country",
            "revenue_to_date",
            "orders_to_date",
        )
    }
    end = season.END
    history = [HISTORY_START + timedelta(days=i) for i in range((end - HISTORY_START).days + 1)]
    for day in history:
        n = max(0, round(_signups_per_day(day) * _lognormal(rng, 0.2)))
        for _ in range(n):
            signed = _timestamp(rng, day, tuple(range(6, 24)))
            # churn by thinning a Poisson process of candidate days
            churned: datetime | None = None
            t = 0.0
            while True:
                t += rng.expovariate(MAX_HAZARD)
                churn_day = day + timedelta(days=int(t))
                if churn_day > end:
                    break
                if rng.random() < _churn_hazard(churn_day, int(t)) / MAX_HAZARD:
                    churned = _timestamp(rng, churn_day, tuple(range(7, 23)))
                    if churned <= signed:
                        churned = signed + timedelta(hours=1 + rng.random() * 5)
                    break
            segment = "business" if rng.random() < 0.14 else "consumer"
            country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
            months = ((churned.date() if churned else end) - day).days / 30.4
            per_month = (0.75 if segment == "business" else 0.24) * _lognormal(rng, 0.6)
            expected = per_month * months + (0.7 if rng.random() < 0.8 else 0.0)
            orders = _poisson(rng, expected)
            aov = 2300.0 if segment == "business" else 640.0
            revenue = sum(aov * _lognormal(rng, 0.45) for _ in range(orders))
            rows["signed_up_at"].append(signed)
            rows["churned_at"].append(churned)
            rows["segment"].append(segment)
            rows["country"].append(country)
            rows["revenue_to_date"].append(round(revenue, 2))
            rows["orders_to_date"].append(orders)
    df = pl.DataFrame(
        rows,
        schema={
            "signed_up_at": pl.Datetime("us"),
            "churned_at": pl.Datetime("us"),
            "segment": pl.String,
            "country": pl.String,
            "revenue_to_date": pl.Float64,
            "orders_to_date": pl.Int32,
        },
    ).sort("signed_up_at")
    return df.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("customer_id"), pl.all())


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "surveys": surveys(random.Random(season.SEED + 501)),
        "tickets": tickets(random.Random(season.SEED + 502)),
        "customers": customers(random.Random(season.SEED + 503)),
    }
    return write_tables(out, tables)
