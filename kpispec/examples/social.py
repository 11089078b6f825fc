"""Sample data of the social-media scorecard (``specs/scorecards/social.yaml``).

Two tables:

``social_posts``
    One row per post on the brand's four profiles (instagram, facebook, linkedin,
    tiktok): when it was posted, its interactions (likes, comments, shares), reach, views,
    link clicks, the money spent boosting it (NOK, 0 for organic posts) and the number of
    followers the profile had when it was posted.

``followers``
    A daily snapshot per network: the number of followers at the end of each day.

The levels follow the seed article on social-media KPIs: engagement rates of a few
per cent per post (TikTok higher, Facebook lower), three to five posts a week per
profile, a cost per click of a few kroner, reach well above the follower count only on
TikTok. Cost per click climbs in the autumn of 2026, when the Black Friday auctions get
crowded; engagement improves slowly with a new content plan.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from kpispec.examples import season
from kpispec.examples.tables import write_tables

NETWORKS = ("instagram", "facebook", "linkedin", "tiktok")

#: followers at START, and the net daily gain at START and at the end of the ramp
FOLLOWERS_START = {"instagram": 8400, "facebook": 12600, "linkedin": 3200, "tiktok": 1700}
DAILY_GAIN = {
    "instagram": (11.0, 17.0),
    "facebook": (3.0, 1.0),
    "linkedin": (4.5, 7.0),
    "tiktok": (7.0, 26.0),
}
#: posts per week (a normal week outside the summer)
POSTS_PER_WEEK = {"instagram": 4.0, "facebook": 3.2, "linkedin": 2.6, "tiktok": 3.6}
#: interactions per follower per post (before noise), split into likes/comments/shares
ENGAGEMENT = {"instagram": 0.042, "facebook": 0.019, "linkedin": 0.032, "tiktok": 0.068}
SPLIT = {
    "instagram": (0.86, 0.09, 0.05),
    "facebook": (0.70, 0.15, 0.15),
    "linkedin": (0.78, 0.10, 0.12),
    "tiktok": (0.80, 0.07, 0.13),
}
#: organic reach per follower, views per reached person, organic click-through rate
REACH = {"instagram": 0.30, "facebook": 0.10, "linkedin": 0.22, "tiktok": 1.5}
VIEWS = {"instagram": 1.5, "facebook": 1.3, "linkedin": 1.4, "tiktok": 1.2}
CTR = {"instagram": 0.004, "facebook": 0.010, "linkedin": 0.012, "tiktok": 0.003}
#: boosting: share of posts boosted, people reached per NOK, NOK per paid click
BOOST_SHARE = {"instagram": 0.30, "facebook": 0.32, "linkedin": 0.12, "tiktok": 0.15}
PAID_REACH_PER_NOK = {"instagram": 25.0, "facebook": 30.0, "linkedin": 6.0, "tiktok": 35.0}
PAID_CPC = {"instagram": 5.2, "facebook": 4.4, "linkedin": 12.5, "tiktok": 3.4}
BUDGETS = (300, 500, 750, 1000, 1500, 2500)
POST_COLUMNS = (
    "posted_at",
    "network",
    "likes",
    "comments",
    "shares",
    "reach",
    "views",
    "clicks",
    "spend",
    "followers",
)


def _lognormal(rng: random.Random, sigma: float) -> float:
    """A multiplier with mean 1."""
    return math.exp(rng.gauss(-sigma * sigma / 2, sigma))


def _cpc_factor(day: date) -> float:
    """Auction pressure: Q4 is dearer, and autumn 2026 dearer than autumn 2025."""
    factor = 1.0
    if day.month in (10, 11, 12):
        factor *= 1.18 if day.year == 2025 else 1.34
    elif day.year == 2026 and day.month == 9:
        factor *= 1.12
    return factor


def _engagement_trend(day: date) -> float:
    """The content plan of 2026 (more video, questions to the audience) lifts engagement."""
    return season.growth(day, 0.93, 1.08, date(2026, 10, 15))


def followers_table(rng: random.Random) -> dict[str, dict[date, int]]:
    ramp_end = date(2026, 9, 30)
    counts: dict[str, dict[date, int]] = {}
    for network in NETWORKS:
        level = float(FOLLOWERS_START[network])
        start_gain, end_gain = DAILY_GAIN[network]
        series: dict[date, int] = {}
        for day in season.days():
            gain = season.growth(day, start_gain, end_gain, ramp_end)
            gain *= 0.75 + 0.25 * season.seasonality(day)
            if date(2025, 11, 17) <= day <= date(2025, 11, 30):  # Black Week giveaway
                gain *= 2.2
            if date(2026, 9, 7) <= day <= date(2026, 9, 20):  # autumn campaign
                gain *= 1.8
            level += gain + rng.gauss(0, 2.0 + 0.25 * abs(gain))
            series[day] = round(level)
        counts[network] = series
    return counts


def generate(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(season.SEED + 401)
    followers = followers_table(rng)

    follower_rows: dict[str, list[object]] = {"date": [], "network": [], "followers": []}
    for day in season.days():
        for network in NETWORKS:
            follower_rows["date"].append(day)
            follower_rows["network"].append(network)
            follower_rows["followers"].append(followers[network][day])

    rng = random.Random(season.SEED + 402)
    posts: dict[str, list[object]] = {k: [] for k in POST_COLUMNS}
    for day in season.days():
        for network in NETWORKS:
            rate = POSTS_PER_WEEK[network] / 7
            weekday = day.weekday()
            if network == "linkedin":
                rate *= (1.3, 1.3, 1.3, 1.2, 1.0, 0.2, 0.2)[weekday] / 0.93
            elif weekday >= 5:
                rate *= 0.8
            if day.month == 7:
                rate *= 0.55
            elif day.month == 11 and 10 <= day.day <= 30:  # Black Week campaign
                rate *= 1.35
            elif day.month == 12 and day.day <= 22:
                rate *= 1.2
            n = 1 if rng.random() < min(rate, 0.95) else 0
            if n and network in ("instagram", "tiktok") and rng.random() < 0.06:
                n = 2
            for _ in range(n):
                if network == "linkedin":
                    hour = rng.choice((7, 8, 8, 9, 10, 12, 13, 15))
                else:
                    hour = rng.choice((8, 11, 12, 15, 17, 18, 19, 19, 20, 21))
                posted_at = datetime(day.year, day.month, day.day, hour, rng.randrange(60))
                prev = followers[network].get(day - timedelta(days=1), FOLLOWERS_START[network])
                base_followers = prev

                boosted = rng.random() < BOOST_SHARE[network] * (
                    1.5 if day.month in (11, 12) else 1.0
                )
                spend = rng.choice(BUDGETS) if boosted else 0

                organic_reach = base_followers * REACH[network] * _lognormal(rng, 0.5)
                paid_reach = spend * PAID_REACH_PER_NOK[network] * _lognormal(rng, 0.3)
                reach = round(organic_reach + paid_reach)

                rate_eng = ENGAGEMENT[network] * _engagement_trend(day)
                interactions = base_followers * rate_eng * _lognormal(rng, 0.3)
                interactions += paid_reach * 0.004 * _lognormal(rng, 0.3)
                pl_, pc, _ps = SPLIT[network]
                likes = round(interactions * pl_ * _lognormal(rng, 0.1))
                comments = round(interactions * pc * _lognormal(rng, 0.3))
                shares = round(interactions * (1 - pl_ - pc) * _lognormal(rng, 0.35))

                views = round(reach * VIEWS[network] * _lognormal(rng, 0.15))
                clicks = organic_reach * CTR[network] * _lognormal(rng, 0.4)
                if spend:
                    cpc = PAID_CPC[network] * _cpc_factor(day) * _lognormal(rng, 0.2)
                    clicks += spend / cpc
                posts["posted_at"].append(posted_at)
                posts["network"].append(network)
                posts["likes"].append(likes)
                posts["comments"].append(comments)
                posts["shares"].append(shares)
                posts["reach"].append(reach)
                posts["views"].append(views)
                posts["clicks"].append(round(clicks))
                posts["spend"].append(float(spend))
                posts["followers"].append(base_followers)

    social_posts = pl.DataFrame(
        posts,
        schema={
            "posted_at": pl.Datetime("us"),
            "network": pl.String,
            "likes": pl.Int32,
            "comments": pl.Int32,
            "shares": pl.Int32,
            "reach": pl.Int32,
            "views": pl.Int32,
            "clicks": pl.Int32,
            "spend": pl.Float64,
            "followers": pl.Int32,
        },
    ).sort("posted_at", "network")
    social_posts = social_posts.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("post_id"), pl.all()
    )
    followers_df = pl.DataFrame(
        follower_rows, schema={"date": pl.Date, "network": pl.String, "followers": pl.Int32}
    ).sort("date", "network")

    return write_tables(out, {"social_posts": social_posts, "followers": followers_df})
