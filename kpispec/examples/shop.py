"""Sample data of the web shop: shopping carts and orders (``carts.parquet``, ``orders.parquet``).

Every cart is created in a session of the shop; about three in ten reach the checkout,
and each checked-out cart becomes one order a few minutes later. An order is completed
or cancelled (payment declined, out of stock); a completed order may be returned within
the 30 days after delivery, and only returns registered by :data:`season.END` are in the
data (the newest orders have not had their full return window yet).

The volumes follow the web sessions (``web.py``): about 100-150 visitors a day until the
growth drive of July 2026 takes the shop towards 1,000 a day, about one session in ten
puts something in a cart and about 3 % of the sessions end in an order. Calendar effects
come from :mod:`kpispec.examples.season`. The story the numbers tell:

* the average order value is about 80 EUR, higher in Black Week and December (gift
  baskets) and lower in the January sale; with the checkout redesign of 2026-10-01 come
  product bundles and free shipping over 99 EUR, the start of the plan to "raise AOV
  10 % in three months";
* carts are abandoned more often on mobile and from social and display ads; the growth
  drive's colder paid traffic pushes abandonment up over the autumn of 2026, more than
  the checkout redesign wins back;
* returns run at 8-9 % of completed orders, higher in Germany, and rise in October 2026
  (a sizing problem in the autumn clothing range).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from kpispec.examples import season
from kpispec.examples.tables import write_tables

CHANNELS = ("organic_search", "paid_search", "social", "email", "direct", "referral", "display")
#: share of carts per channel before and after the growth drive (which buys paid traffic)
CHANNEL_WEIGHTS = (27, 15, 5, 14, 30, 5, 4)
CHANNEL_WEIGHTS_DRIVE = (23, 21, 9, 11, 26, 5, 5)
#: how the channel changes the order value (e-mail and direct buyers are regulars)
CHANNEL_AOV = {
    "organic_search": 1.0,
    "paid_search": 0.97,
    "social": 0.88,
    "email": 1.1,
    "direct": 1.08,
    "referral": 1.0,
    "display": 0.92,
}
#: share of carts abandoned per channel, relative to the overall level
CHANNEL_ABANDON = {
    "organic_search": 0.0,
    "paid_search": 0.02,
    "social": 0.08,
    "email": -0.07,
    "direct": -0.05,
    "referral": 0.0,
    "display": 0.09,
}
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_WEIGHTS = (51, 42, 7)
DEVICE_ABANDON = {"mobile": 0.06, "desktop": -0.08, "tablet": 0.01}
COUNTRIES = ("NO", "DK", "SE", "DE")
COUNTRY_WEIGHTS = (46, 22, 22, 10)
COUNTRY_RETURN = {"NO": 0.9, "DK": 0.95, "SE": 0.95, "DE": 1.45}

#: hour of day a cart is created (evenings are busiest)
HOUR_WEIGHTS = (
    *(1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2.5, 4, 5, 5, 5.5),  # 00-11 h
    *(6, 5.5, 5, 5, 5.5, 6, 6.5, 7.5, 8.5, 8, 5.5, 2.5),  # 12-23 h
)

DRIVE_START = date(2026, 7, 1)  #: the growth drive of the web team starts
REDESIGN = date(2026, 10, 1)  #: checkout redesign, product bundles, free shipping over 99 EUR
SIZING_PROBLEM = (date(2026, 9, 26), date(2026, 11, 5))  #: the autumn range that runs small


def _visitors(day: date) -> float:
    """Visitors on an average day around ``day`` (as in the web sessions)."""
    base = season.growth(day, 105.0, 152.0, date(2026, 6, 30))
    x = (day - date(2026, 9, 8)).days / 24.0
    drive = 960.0 / (1.0 + math.exp(-x)) if day >= DRIVE_START else 0.0
    return base + drive


def _drive(day: date) -> float:
    """How far the growth drive has got, from 0 before it to 1 after 75 days."""
    return max(0.0, min(1.0, (day - DRIVE_START).days / 75))


def _aov_factor(day: date) -> float:
    """Calendar effect on the order value."""
    factor = 1.0
    bf = season.black_friday(day.year)
    if bf - timedelta(days=3) <= day <= bf + timedelta(days=3):
        factor *= 1.1
    if day.month == 12 and day.day <= 22:
        factor *= 1.12 + 0.004 * day.day
    if day.month == 1 and day.day <= 15:
        factor *= 0.92  # January sale
    if day >= REDESIGN:
        # the bundles ramp up: +7 % in the first weeks, +10 % once the range is complete
        weeks = (day - REDESIGN).days / 7
        factor *= 1.0 + min(0.10, 0.07 + 0.004 * weeks)
    return factor


def _abandon_level(day: date) -> float:
    """Overall share of carts abandoned on ``day``, before channel and device."""
    level = season.growth(day, 0.715, 0.695, date(2026, 6, 30))
    level += 0.035 * _drive(day)  # colder traffic from the drive
    bf = season.black_friday(day.year)
    if bf - timedelta(days=3) <= day <= bf + timedelta(days=3):
        level -= 0.04  # shoppers arrive decided
    if day.month == 12 and day.day <= 22:
        level -= 0.02
    if day >= REDESIGN:
        level -= 0.012
    return level


def _return_probability(day: date, country: str, channel: str) -> float:
    p = 0.082 * COUNTRY_RETURN[country]
    if channel == "social":
        p *= 1.15  # impulse buys
    if day.month == 12 or (day.month == 1 and day.day <= 10):
        p *= 1.12  # gifts that did not fit
    if SIZING_PROBLEM[0] <= day <= SIZING_PROBLEM[1]:
        p *= 1.42
    return p


def _pick(rng: random.Random, values: tuple[str, ...], weights: Sequence[float]) -> str:
    return rng.choices(values, weights)[0]


def generate(out: Path) -> list[Path]:
    """Write ``carts.parquet`` and ``orders.parquet`` into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(season.SEED + 201)
    end_of_data = datetime.combine(season.END + timedelta(days=1), datetime.min.time())

    carts: dict[str, list[object]] = {
        k: [] for k in ("cart_id", "created_at", "channel", "device", "checked_out")
    }
    orders: dict[str, list[object]] = {
        k: []
        for k in (
            "order_id",
            "ordered_at",
            "customer_id",
            "channel",
            "device",
            "country",
            "amount",
            "status",
            "returned",
            "returned_at",
        )
    }
    customers = 0
    cart_id = 100_000

    for day in season.days():
        drive = _drive(day)
        cart_rate = 0.095 + (0.01 if day >= REDESIGN else 0.0)  # carts per session
        level = _visitors(day) * 1.12 * season.seasonality(day) * cart_rate
        n_carts = max(0, round(rng.gauss(level, math.sqrt(level))))
        channel_weights = [
            a + (b - a) * drive for a, b in zip(CHANNEL_WEIGHTS, CHANNEL_WEIGHTS_DRIVE, strict=True)
        ]
        abandon = _abandon_level(day)
        aov_factor = _aov_factor(day)
        midnight = datetime.combine(day, datetime.min.time())
        times = sorted(
            midnight
            + timedelta(hours=rng.choices(range(24), HOUR_WEIGHTS)[0], seconds=rng.randrange(3600))
            for _ in range(n_carts)
        )
        for created_at in times:
            cart_id += 1
            channel = _pick(rng, CHANNELS, channel_weights)
            device = _pick(rng, DEVICES, DEVICE_WEIGHTS)
            p_abandon = abandon + CHANNEL_ABANDON[channel] + DEVICE_ABANDON[device]
            checked_out = rng.random() >= p_abandon
            if checked_out:
                ordered_at = created_at + timedelta(
                    minutes=rng.randint(2, 35), seconds=rng.randrange(60)
                )
                # a checkout after the end of the data is not known yet
                checked_out = ordered_at < end_of_data
            carts["cart_id"].append(cart_id)
            carts["created_at"].append(created_at)
            carts["channel"].append(channel)
            carts["device"].append(device)
            carts["checked_out"].append(checked_out)
            if not checked_out:
                continue

            # returning customers: 35 % of orders come from someone who bought before
            if customers and rng.random() < 0.35:
                customer_id = 10_000 + rng.randrange(customers)
            else:
                customers += 1
                customer_id = 10_000 + customers - 1
            country = _pick(rng, COUNTRIES, COUNTRY_WEIGHTS)
            mean = 80.0 * aov_factor * CHANNEL_AOV[channel] * (1.03 if device == "desktop" else 1.0)
            sigma = 0.55
            amount = rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)
            amount = round(min(max(amount, 9.9), 1200.0), 2)
            status = "cancelled" if rng.random() < 0.035 else "completed"
            returned_at = None
            if status == "completed" and rng.random() < _return_probability(day, country, channel):
                # delivery in 2-4 days, then up to 30 days to send it back
                back = ordered_at + timedelta(days=rng.randint(2, 4) + rng.triangular(1, 30, 6))
                returned_at = back.replace(microsecond=0) if back < end_of_data else None
            orders["order_id"].append(0)
            orders["ordered_at"].append(ordered_at)
            orders["customer_id"].append(customer_id)
            orders["channel"].append(channel)
            orders["device"].append(device)
            orders["country"].append(country)
            orders["amount"].append(amount)
            orders["status"].append(status)
            orders["returned"].append(returned_at is not None)
            orders["returned_at"].append(returned_at)

    carts_df = pl.DataFrame(
        carts,
        schema={
            "cart_id": pl.Int64,
            "created_at": pl.Datetime("us"),
            "channel": pl.String,
            "device": pl.String,
            "checked_out": pl.Boolean,
        },
    ).sort("created_at")

    orders_df = pl.DataFrame(
        orders,
        schema={
            "order_id": pl.Int64,
            "ordered_at": pl.Datetime("us"),
            "customer_id": pl.Int64,
            "channel": pl.String,
            "device": pl.String,
            "country": pl.String,
            "amount": pl.Float64,
            "status": pl.String,
            "returned": pl.Boolean,
            "returned_at": pl.Datetime("us"),
        },
    ).sort("ordered_at")
    # number the orders in the order they were placed
    orders_df = orders_df.with_columns(
        pl.int_range(500_001, 500_001 + orders_df.height, dtype=pl.Int64).alias("order_id")
    )
    return write_tables(out, {"carts": carts_df, "orders": orders_df})
