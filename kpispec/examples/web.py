"""Sample data of the web and acquisition scorecards: sessions, ads and leads.

- ``sessions.parquet``: one row per web session (visitor, channel, device, country,
  campaign, landing page, pages viewed, duration, CTA click, purchase, lead form).
- ``ads.parquet``: one row per day, paid channel and campaign (impressions, clicks,
  spend in EUR); the clicks are the paid sessions of that day plus the clicks that never
  became a tracked session.
- ``leads.parquet``: one row per lead form sent (from the sessions with ``lead``), and
  when the lead became a customer, if it did by the end of the data.

The story: traffic grows slowly, from 60-100 visitors a day in the second half of 2025
(July is a summer low) to 110-120 in the first half of 2026. A growth drive starts on
2026-07-01 ("from 100 to 1,000 visitors a day within six months") with more paid
traffic and an evergreen welcome-offer landing page, and traffic climbs towards 1,000 a
day, which it reaches in 2027. A checkout and landing-page redesign ships on 2026-10-01
(conversion and calls to action improve). The many new visitors push the share of
returning visitors and the bounce rate the wrong way, and the welcome offer brings
colder leads, fewer of whom become customers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import polars as pl

from kpispec.examples import season
from kpispec.examples.tables import write_tables

#: The growth drive: paid traffic and the welcome-offer landing page start here.
DRIVE_START = date(2026, 7, 1)
#: Visitors who had been on the site before the first day of the data.
PRIOR_VISITORS = 4000
#: The checkout and landing-page redesign.
REDESIGN = date(2026, 10, 1)

CHANNELS = ("organic_search", "paid_search", "social", "email", "direct", "referral", "display")
PAID = ("paid_search", "social", "display")
DEVICES = ("mobile", "desktop", "tablet")
COUNTRIES = ("NO", "DK", "SE", "DE")

BLOG = (
    "/blog/how-to-choose-running-shoes",
    "/blog/winter-layering-guide",
    "/blog/trail-running-for-beginners",
    "/blog/care-for-wool",
    "/blog/best-hikes-in-norway",
)
PRODUCTS = ("/products/shoes", "/products/jackets", "/products/wool", "/products/accessories")

#: When in the day (local time) sessions start: quiet nights, a peak in the evening.
# fmt: off
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2.5, 4, 5, 5, 5.5,
                6, 5.5, 5, 5, 5.5, 6, 6.5, 7.5, 8.5, 8, 5.5, 2.5)
# fmt: on

#: Ad campaigns that run all year, per paid channel (weights of their traffic).
EVERGREEN = {
    "paid_search": (("brand_search", 0.45), ("generic_search", 0.55)),
    "social": (("always_on_social", 1.0),),
    "display": (("retargeting", 0.6), ("prospecting", 0.4)),
}


def seasonal_campaign(day: date) -> tuple[str, str] | None:
    """The sale campaign running on ``day`` and its landing page, if any."""
    bf = season.black_friday(day.year)
    if bf - timedelta(days=10) <= day <= bf + timedelta(days=3):
        return "black_friday", "/black-friday"
    if date(day.year, 12, 1) <= day <= date(day.year, 12, 22) and not (
        bf - timedelta(days=10) <= day <= bf + timedelta(days=3)
    ):
        return "christmas", "/lp/christmas"
    if date(day.year, 3, 16) <= day <= date(day.year, 4, 30):
        return "spring_sale", "/lp/spring-sale"
    if date(day.year, 6, 15) <= day <= date(day.year, 7, 15):
        return "summer_sale", "/lp/summer-sale"
    return None


def visitor_level(day: date) -> float:
    """Expected new-and-returning visitors on an average day around ``day``."""
    base = season.growth(day, 100.0, 130.0, date(2026, 3, 31))
    # the growth drive: a logistic climb that approaches 1,000 visitors a day in 2027
    x = (day - date(2026, 9, 8)).days / 24.0
    drive = 960.0 / (1.0 + math.exp(-x)) if day >= DRIVE_START else 0.0
    return base + drive


def channel_weights(day: date) -> list[float]:
    # organic, paid_search, social, email, direct, referral, display
    w = [0.33, 0.14, 0.11, 0.08, 0.20, 0.07, 0.07]
    if day >= DRIVE_START:
        # the drive buys traffic: paid channels grow their share over the summer
        k = min(1.0, (day - DRIVE_START).days / 75)
        w[1] += 0.07 * k
        w[2] += 0.06 * k
        w[6] += 0.05 * k
    return w


T = TypeVar("T")


def pick(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def session_time(rng: random.Random, day: date) -> datetime:
    hour = pick(rng, range(24), HOUR_WEIGHTS)
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))


def landing_page(rng: random.Random, day: date, channel: str, campaign: str | None) -> str:
    sale = seasonal_campaign(day)
    if sale is not None and campaign == sale[0]:
        return sale[1] if rng.random() < 0.8 else pick(rng, PRODUCTS, (4, 3, 2, 1))
    if day >= DRIVE_START and channel in PAID and rng.random() < 0.45:
        return "/lp/welcome-offer"
    if channel == "organic_search":
        r = rng.random()
        return (
            BLOG[rng.randrange(len(BLOG))]
            if r < 0.45
            else (pick(rng, PRODUCTS, (4, 3, 2, 1)) if r < 0.8 else "/")
        )
    if channel == "social":
        return (
            BLOG[rng.randrange(len(BLOG))]
            if rng.random() < 0.4
            else pick(rng, PRODUCTS, (4, 3, 2, 1))
        )
    if channel == "direct":
        return "/" if rng.random() < 0.75 else pick(rng, PRODUCTS, (4, 3, 2, 1))
    if channel == "referral":
        return BLOG[rng.randrange(len(BLOG))] if rng.random() < 0.5 else "/"
    if channel == "email":
        return pick(rng, PRODUCTS, (4, 3, 2, 1)) if rng.random() < 0.7 else "/"
    return pick(rng, PRODUCTS, (4, 3, 2, 1)) if rng.random() < 0.6 else "/"


def campaign_for(rng: random.Random, day: date, channel: str) -> str | None:
    sale = seasonal_campaign(day)
    if channel == "email":
        if sale is not None and rng.random() < 0.6:
            return sale[0]
        return "newsletter"
    if channel not in PAID:
        return None
    if sale is not None and rng.random() < (0.5 if channel == "social" else 0.3):
        return sale[0]
    names: list[str] = [name for name, _ in EVERGREEN[channel]]
    weights: list[float] = [weight for _, weight in EVERGREEN[channel]]
    return pick(rng, names, weights)


def generate(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(season.SEED + 101)

    cols: dict[str, list[object]] = {
        k: []
        for k in (
            "session_id",
            "started_at",
            "visitor_id",
            "returning",
            "channel",
            "device",
            "country",
            "campaign",
            "landing_page",
            "is_campaign_landing",
            "pages",
            "duration_s",
            "clicked_cta",
            "converted",
            "lead",
        )
    }
    # visitors seen before the data starts: their first session in the data is a return
    visitors: list[tuple[str, str]] = [
        (pick(rng, DEVICES, (58, 35, 7)), pick(rng, COUNTRIES, (46, 22, 22, 10)))
        for _ in range(PRIOR_VISITORS)
    ]  # index = visitor number: (device, country)
    last_seen: list[int] = [-1] * PRIOR_VISITORS  # day number of each visitor's last session
    leads: list[tuple[datetime, str, str, str]] = []
    n_session = 0
    for day_no, day in enumerate(season.days()):
        level = visitor_level(day) * season.seasonality(day)
        n = max(0, round(rng.gauss(level * 1.12, math.sqrt(level))))
        # share of sessions by visitors who have been here before: the many new visitors
        # of the growth drive push it down
        drive = max(0.0, min(1.0, (day - DRIVE_START).days / 90)) if day >= DRIVE_START else 0.0
        p_return = 0.34 - 0.09 * drive
        redesign = day >= REDESIGN
        sale = seasonal_campaign(day)
        for started in sorted(session_time(rng, day) for _ in range(n)):
            n_session += 1
            channel = pick(rng, CHANNELS, channel_weights(day))
            returning = rng.random() < p_return
            if returning:
                # recent visitors come back more often
                back = min(len(visitors) - 1, int(rng.expovariate(1 / (len(visitors) * 0.12 + 50))))
                v = len(visitors) - 1 - back
                if last_seen[v] == day_no and rng.random() < 0.7:
                    v = rng.randrange(len(visitors))
                device, country = visitors[v]
                if rng.random() < 0.15:
                    device = pick(rng, DEVICES, (58, 35, 7))
                if channel in ("display", "social") and rng.random() < 0.5:
                    channel = pick(rng, ("direct", "email", "organic_search"), (5, 3, 4))
            else:
                v = len(visitors)
                device = pick(rng, DEVICES, (58, 35, 7))
                country = pick(rng, COUNTRIES, (46, 22, 22, 10))
                visitors.append((device, country))
                last_seen.append(day_no)
            last_seen[v] = day_no
            campaign = campaign_for(rng, day, channel)
            page = landing_page(rng, day, channel, campaign)
            lp = page == "/black-friday" or page.startswith("/lp/")

            # bounce: blog posts and display ads bounce most, returning visitors least
            p_bounce = 0.375
            p_bounce += {
                "organic_search": 0.03,
                "paid_search": 0.0,
                "social": 0.08,
                "email": -0.08,
                "direct": -0.05,
                "referral": 0.04,
                "display": 0.12,
            }[channel]
            p_bounce += {"mobile": 0.05, "desktop": -0.07, "tablet": 0.0}[device]
            if page.startswith("/blog/"):
                p_bounce += 0.13
            elif lp:
                p_bounce += 0.02 if redesign else 0.06
            if returning:
                p_bounce -= 0.10
            p_bounce += 0.015 * drive  # the drive's colder traffic bounces more
            bounced = rng.random() < p_bounce
            if bounced:
                pages, duration = 1, None
            else:
                pages = 2 + min(38, int(rng.expovariate(1 / (3.4 if device == "desktop" else 2.7))))
                duration = float(round(rng.lognormvariate(math.log(34 + 26 * pages), 0.55)))

            # CTA clicks ("Buy now", "Get the offer") and purchases
            p_cta = 0.0 if bounced else 0.36 + (0.06 if lp else 0.0) + (0.03 if redesign else 0.0)
            clicked = rng.random() < p_cta
            p_buy = {
                "organic_search": 0.055,
                "paid_search": 0.075,
                "social": 0.030,
                "email": 0.11,
                "direct": 0.09,
                "referral": 0.06,
                "display": 0.025,
            }[channel]
            p_buy *= {"mobile": 0.8, "desktop": 1.35, "tablet": 1.0}[device]
            p_buy *= 1.35 if returning else 1.0
            p_buy *= 1.15 if redesign else 1.0
            p_buy *= 1.3 if sale is not None and campaign == sale[0] else 1.0
            # every purchase starts with a CTA click (about 4 engaged sessions in 10)
            converted = clicked and rng.random() < p_buy * 0.62 / 0.42
            # lead forms: mostly on the landing pages, where even a one-page visit can send one
            p_lead = {(True, False): 0.1, (True, True): 0.03, (False, False): 0.025}.get(
                (lp, bounced), 0.0
            )
            lead = rng.random() < p_lead

            cols["session_id"].append(n_session)
            cols["started_at"].append(started)
            cols["visitor_id"].append(v)
            cols["returning"].append(returning)
            cols["channel"].append(channel)
            cols["device"].append(device)
            cols["country"].append(country)
            cols["campaign"].append(campaign)
            cols["landing_page"].append(page)
            cols["is_campaign_landing"].append(lp)
            cols["pages"].append(pages)
            cols["duration_s"].append(duration)
            cols["clicked_cta"].append(clicked)
            cols["converted"].append(converted)
            cols["lead"].append(lead)
            if lead:
                at = started + timedelta(seconds=int(rng.uniform(0.3, 1.0) * (duration or 40)))
                leads.append((at, channel, page, country))

    sessions = pl.DataFrame(
        cols,
        schema={
            "session_id": pl.Int64,
            "started_at": pl.Datetime("ms"),
            "visitor_id": pl.Int64,
            "returning": pl.Boolean,
            "channel": pl.String,
            "device": pl.String,
            "country": pl.String,
            "campaign": pl.String,
            "landing_page": pl.String,
            "is_campaign_landing": pl.Boolean,
            "pages": pl.Int16,
            "duration_s": pl.Float32,
            "clicked_cta": pl.Boolean,
            "converted": pl.Boolean,
            "lead": pl.Boolean,
        },
    ).sort("started_at", "session_id")
    # ids in the order sessions start and visitors first come (as a web analytics tool
    # would hand them out; it also keeps the file small)
    first_visit = (
        sessions.group_by("visitor_id")
        .agg(pl.col("started_at").min(), pl.col("session_id").min())
        .sort("started_at", "session_id")
        .with_row_index("number", 1)
        .select("visitor_id", "number")
    )
    sessions = (
        sessions.join(first_visit, on="visitor_id", how="left", maintain_order="left")
        .with_columns(
            session_id=pl.format("s{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(7)),
            visitor_id=pl.format("v{}", pl.col("number").cast(pl.String).str.zfill(6)),
        )
        .drop("number")
    )
    return write_tables(
        out,
        {
            "sessions": sessions,
            "ads": _ads(sessions),
            "leads": _leads(leads),
            "campaigns": campaigns(),
        },
    )


#: The campaigns sessions name: (campaign, channel it is bought on, kind, objective,
#: monthly budget in EUR while it runs; None for e-mail, which is not bought per month).
CAMPAIGNS = (
    ("brand_search", "paid_search", "always_on", "conversion", 900.0),
    ("generic_search", "paid_search", "always_on", "acquisition", 1800.0),
    ("always_on_social", "social", "always_on", "acquisition", 1500.0),
    ("retargeting", "display", "always_on", "conversion", 700.0),
    ("prospecting", "display", "always_on", "awareness", 500.0),
    ("newsletter", "email", "always_on", "retention", None),
    ("spring_sale", "paid_search", "sale", "conversion", 1200.0),
    ("summer_sale", "paid_search", "sale", "conversion", 1200.0),
    ("black_friday", "paid_search", "sale", "conversion", 3000.0),
    ("christmas", "paid_search", "sale", "conversion", 2000.0),
)


def campaigns() -> pl.DataFrame:
    """The campaign lookup table: one row per campaign (a key of ``sessions.campaign``)."""
    names = ("campaign", "channel", "kind", "objective", "monthly_budget")
    return pl.DataFrame(
        {n: [row[i] for row in CAMPAIGNS] for i, n in enumerate(names)},
        schema={n: pl.Float64 if n == "monthly_budget" else pl.String for n in names},
    )


def _ads(sessions: pl.DataFrame) -> pl.DataFrame:
    """Daily ad rows per paid channel and campaign, consistent with the paid sessions."""
    rng = random.Random(season.SEED + 102)
    paid = (
        sessions.filter(pl.col("channel").is_in(PAID))
        .group_by(pl.col("started_at").dt.date().alias("date"), "channel", "campaign")
        .agg(pl.len().alias("sessions"))
    )
    counts = {
        (r["date"], r["channel"], r["campaign"]): r["sessions"] for r in paid.iter_rows(named=True)
    }
    ctr = {"paid_search": 0.045, "social": 0.012, "display": 0.0035}
    cpc = {"paid_search": 0.95, "social": 0.62, "display": 0.41}
    rows: dict[str, list[object]] = {
        k: [] for k in ("date", "channel", "campaign", "impressions", "clicks", "spend")
    }
    for day in season.days():
        sale = seasonal_campaign(day)
        for channel in PAID:
            names = [name for name, _ in EVERGREEN[channel]]
            if sale is not None:
                names.append(sale[0])
            for name in names:
                n = counts.get((day, channel, name), 0)
                # not every click becomes a tracked session (consent, bounces before load)
                clicks = round(n * rng.uniform(1.08, 1.3))
                c = (
                    ctr[channel]
                    * rng.uniform(0.85, 1.15)
                    * (1.25 if name == "brand_search" else 1.0)
                )
                # sale ads get clicked more
                c *= 1.1 if sale is not None and name == sale[0] else 1.0
                impressions = round(clicks / c) + rng.randrange(20, 200)
                price = (
                    cpc[channel]
                    * rng.uniform(0.85, 1.15)
                    * (0.6 if name == "brand_search" else 1.0)
                )
                # auctions are dearer in Black Week
                price *= 1.25 if name == "black_friday" else 1.0
                rows["date"].append(day)
                rows["channel"].append(channel)
                rows["campaign"].append(name)
                rows["impressions"].append(impressions)
                rows["clicks"].append(clicks)
                rows["spend"].append(round(clicks * price, 2))
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "channel": pl.String,
            "campaign": pl.String,
            "impressions": pl.Int64,
            "clicks": pl.Int64,
            "spend": pl.Float64,
        },
    ).sort("date", "channel", "campaign")


def _leads(leads: list[tuple[datetime, str, str, str]]) -> pl.DataFrame:
    """Leads from the lead forms; 10-20 % become customers some weeks later."""
    rng = random.Random(season.SEED + 103)
    end = datetime.combine(season.END, datetime.max.time())
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "lead_id",
            "created_at",
            "channel",
            "country",
            "landing_page",
            "became_customer_at",
        )
    }
    for i, (at, channel, page, country) in enumerate(sorted(leads)):
        p = {
            "email": 0.2,
            "direct": 0.18,
            "organic_search": 0.15,
            "referral": 0.15,
            "paid_search": 0.13,
            "social": 0.10,
            "display": 0.09,
        }[channel]
        if at.date() >= REDESIGN:
            p *= 0.8  # the autumn push of the welcome offer brings colder leads
        customer_at = None
        if rng.random() < p:
            delay = timedelta(
                days=min(70.0, rng.lognormvariate(math.log(9), 0.6)), seconds=rng.randrange(86400)
            )
            if at + delay <= end:
                customer_at = (at + delay).replace(microsecond=0)
        rows["lead_id"].append(f"L{i + 1:06d}")
        rows["created_at"].append(at)
        rows["channel"].append(channel)
        rows["country"].append(country)
        rows["landing_page"].append(page)
        rows["became_customer_at"].append(customer_at)
    return pl.DataFrame(
        rows,
        schema={
            "lead_id": pl.String,
            "created_at": pl.Datetime("ms"),
            "channel": pl.String,
            "country": pl.String,
            "landing_page": pl.String,
            "became_customer_at": pl.Datetime("ms"),
        },
    ).sort("created_at")
