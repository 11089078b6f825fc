"""Benchmark: `kpispec eval` at scale against the same KPIs hand-written in Polars and DuckDB.

Run from the repository root:

    .venv/bin/python benchmarks/bench_scale.py [--rows 10000000] [--runs 3] [--seed 42] [--files K]

It generates (once, then reuses) three tables under benchmarks/.data/, each as zstd
Parquet, over the 22 months 2025-01-01 to 2026-10-31 (UTC):

- sessions: --rows rows: `started_at`, `channel` (5 values), `clicks`, `impressions`,
  `converted`, `bounced`, `duration_s` (3 % null), `cost` (null outside the paid
  channels `ads` and `social`);
- orders: --rows / 20 rows, one per cart: `ordered_at`, `channel`, `amount`,
  `checkout_started`, `completed` (implies `checkout_started`), `returned` (implies
  `completed`);
- answers: --rows / 50 survey answers: `answered_at`, `channel`, `nps_score` (0-10),
  `csat_score` (1-5), `ces_score` (1-7), each with some nulls.

With `--files K` every table is K files (`sessions/*.parquet`, read through a glob by
every contender); the default is one file up to 50 million rows and one per 10 million
sessions above. The data is generated in chunks of at most `--chunk-rows` sessions,
each generated, written and dropped, so that 200 million rows fit in a few GiB; the
values do not depend on the chunking or on K, only on --rows and --seed.

A kpispec project of 11 monthly KPIs by channel (`history: 22`, `timezone: UTC`) is
written beside the data. As of 2026-11-15 the evaluated month is 2026-10, the 22 months
of the history are 2025-01 to 2026-10, and the month a year before the evaluated one
(2025-10) is among them: kpispec computes exactly those 22 months, and so do the others.

Three contenders, each in a fresh process per run:

- kpispec: the command line, `python -m kpispec eval PROJECT --as-of 2026-11-15
  --format json -o FILE`; the values are read back from the results document;
- polars: per source one lazy `scan_parquet` and one `group_by(month, channel)` of the
  partial aggregates (sums and counts), collected together on the streaming engine;
  the totals are rolled up from the per-channel partials, then the KPI ratios;
- duckdb: per source one SQL query over `read_parquet` with
  `group by grouping sets ((month, channel), (month))`.

Wall time is measured by this process around each child; CPU time (user + system) and
peak memory (maximum resident set size) are the child's, from `os.wait4`. The table
shows medians over `--runs` runs, after one warm-up run of each contender; the runs go
round robin. Before any timing all three contenders must agree on every KPI, every
month, in total and per channel, to a relative 1e-9 (nulls equal), and every timed run
is checked again; a mismatch is printed and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_eval import _mix, _pick, floor_mib, same

HERE = Path(__file__).resolve().parent
GENERATOR_VERSION = 1  # bump when the generated data changes
AS_OF = "2026-11-15"
HISTORY = 22
DATA_START = datetime(2025, 1, 1, tzinfo=UTC)
DATA_END = datetime(2026, 11, 1, tzinfo=UTC)  # exclusive: up to 2026-10-31
MONTHS = [f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(HISTORY)]  # 2025-01..2026-10
FILE_ROWS = 10_000_000  # sessions per file when --files is not given and rows > 50 M
ONE_FILE_UP_TO = 50_000_000
CHUNK_ROWS = 5_000_000
PARQUET: dict[str, Any] = {"compression": "zstd", "statistics": True}

CHANNELS = {  # channel: (share of sessions, of orders, of answers)
    "organic_search": (0.36, 0.30, 0.28),
    "ads": (0.22, 0.24, 0.20),
    "social": (0.16, 0.12, 0.14),
    "email": (0.10, 0.16, 0.22),
    "direct": (0.16, 0.18, 0.16),
}
PAID = ("ads", "social")
CONVERSION = {"organic_search": 0.055, "ads": 0.045, "social": 0.025, "email": 0.08, "direct": 0.06}
COST_PER_CLICK = {"ads": 0.9, "social": 0.55}  # the mean; the other channels have no cost

# table: (rows per session, time column, first splitmix64 stream)
TABLES: dict[str, tuple[int, str, int]] = {
    "sessions": (1, "started_at", 0),
    "orders": (20, "ordered_at", 100),
    "answers": (50, "answered_at", 200),
}

PAID_SQL = "channel in ('ads', 'social')"
# id: (source, formula, unit); every KPI is monthly, by channel
KPIS: dict[str, tuple[str, str, str]] = {
    "ctr": ("sessions", "100 * sum(clicks) / sum(impressions)", "percent"),
    "conversion_rate": (
        "sessions",
        "100 * count(*) filter (where converted) / count(*)",
        "percent",
    ),
    "bounce_rate": ("sessions", "100 * count(*) filter (where bounced) / count(*)", "percent"),
    "avg_session_duration": ("sessions", "avg(duration_s)", "seconds"),
    "cpc": (
        "sessions",
        f"sum(cost) filter (where {PAID_SQL}) / sum(clicks) filter (where {PAID_SQL})",
        "currency",
    ),
    "aov": (
        "orders",
        "sum(amount) filter (where completed) / count(*) filter (where completed)",
        "currency",
    ),
    "cart_abandonment": (  # of the carts that entered checkout, the share not completed
        "orders",
        "100 * count(*) filter (where checkout_started and not completed)"
        " / count(*) filter (where checkout_started)",
        "percent",
    ),
    "return_rate": (
        "orders",
        "100 * count(*) filter (where returned) / count(*) filter (where completed)",
        "percent",
    ),
    "nps": (
        "answers",
        "100 * (count(*) filter (where nps_score >= 9) - count(*) filter (where nps_score <= 6))"
        " / count(nps_score)",
        "points",
    ),
    "csat": (
        "answers",
        "100 * count(*) filter (where csat_score >= 4) / count(csat_score)",
        "percent",
    ),
    "ces": ("answers", "avg(ces_score)", "number"),
}


# --- data ---------------------------------------------------------------------------


def table_rows(table: str, rows: int) -> int:
    return rows // TABLES[table][0]


def default_files(rows: int) -> int:
    return 1 if rows <= ONE_FILE_UP_TO else math.ceil(rows / FILE_ROWS)


def table_frame(table: str, lo: int, hi: int, total: int, seed: int) -> Any:
    """Rows lo..hi-1 of the ``total`` rows of ``table``, as a lazy frame.

    Every value is a function of (seed, stream, row number) alone, so a chunk is the same
    whatever the chunking. Times grow with the row number (row i falls in the i-th of
    ``total`` equal slices of the 22 months), so the tables are in time order, as an
    export is, without a sort, and each file holds a contiguous stretch of time.
    """
    import polars as pl

    _, time_column, stream = TABLES[table]
    names = {
        "sessions": ["t", "ch", "imp", "clk", "bnc", "conv", "dn", "dur", "cost"],
        "orders": ["t", "ch", "amt", "chk", "done", "ret"],
        "answers": ["t", "ch", "nps", "nn", "csat", "cn", "ces", "en"],
    }[table]
    u = {name: _mix(seed, stream + i) for i, name in enumerate(names)}
    span_us = int((DATA_END - DATA_START).total_seconds()) * 10**6
    at = pl.lit(DATA_START) + pl.duration(
        microseconds=((pl.col("__i").cast(pl.Float64) + u["t"]) / total * span_us)
        .floor()
        .cast(pl.Int64)
    )
    weight = list(TABLES).index(table)
    channel = _pick(u["ch"], {name: shares[weight] for name, shares in CHANNELS.items()})

    def exponential(v: pl.Expr) -> pl.Expr:  # mean 1, from a uniform [0, 1)
        return -(1.0 - v).log()

    base = pl.LazyFrame().select(__i=pl.int_range(lo, hi, dtype=pl.UInt64))
    if table == "sessions":
        frame = (
            base.select(
                at.alias(time_column),
                channel.alias("channel"),
                impressions=(u["imp"] * 25).floor().cast(pl.Int32),
                __clk=u["clk"],
                bounced=u["bnc"] < 0.41,
                __conv=u["conv"],
                __dn=u["dn"],
                __dur=exponential(u["dur"]),
                __cost=u["cost"],
            )
            .with_columns(
                clicks=(pl.col("impressions") * pl.col("__clk") * 0.3).floor().cast(pl.Int32),
                converted=~pl.col("bounced")
                & (
                    pl.col("__conv")
                    < pl.col("channel").replace_strict(CONVERSION, return_dtype=pl.Float64)
                ),
                duration_s=pl.when(pl.col("__dn") >= 0.03).then(
                    pl.when(pl.col("bounced"))
                    .then(pl.col("__dur") * 12)
                    .otherwise(pl.col("__dur") * 210)
                    .round(3)
                ),
            )
            .with_columns(
                cost=pl.when(pl.col("channel").is_in(PAID)).then(
                    (
                        pl.col("clicks")
                        * pl.col("channel").replace_strict(
                            COST_PER_CLICK, default=0.0, return_dtype=pl.Float64
                        )
                        * (0.5 + pl.col("__cost"))
                    ).round(2)
                )
            )
        )
        columns = ["clicks", "impressions", "converted", "bounced", "duration_s", "cost"]
    elif table == "orders":
        frame = (
            base.select(
                at.alias(time_column),
                channel.alias("channel"),
                amount=(12 + exponential(u["amt"]) * 75).round(2),
                checkout_started=u["chk"] < 0.58,
                __done=u["done"],
                __ret=u["ret"],
            )
            .with_columns(
                completed=pl.col("checkout_started") & (pl.col("__done") < 0.71),
            )
            .with_columns(returned=pl.col("completed") & (pl.col("__ret") < 0.09))
        )
        columns = ["amount", "checkout_started", "completed", "returned"]
    else:

        def score(v: pl.Expr, null: pl.Expr, low: int, high: int, skew: int, rate: float) -> Any:
            # skewed towards the top of the scale; ``rate`` of the answers skip the question
            skewed = 1.0 - (1.0 - v) ** skew
            value = (low + (skewed * (high - low + 1)).floor()).clip(low, high).cast(pl.Int32)
            return pl.when(null >= rate).then(value)

        frame = base.select(
            at.alias(time_column),
            channel.alias("channel"),
            nps_score=score(u["nps"], u["nn"], 0, 10, 3, 0.04),
            csat_score=score(u["csat"], u["cn"], 1, 5, 2, 0.07),
            ces_score=8 - score(u["ces"], u["en"], 1, 7, 2, 0.1),  # little effort is common
        )
        columns = ["nps_score", "csat_score", "ces_score"]
    return frame.select(time_column, "channel", *columns)


def file_paths(data: Path, table: str, files: int) -> list[Path]:
    if files == 1:
        return [data / f"{table}.parquet"]
    return [data / table / f"part-{k:04d}.parquet" for k in range(files)]


def source_path(table: str, files: int) -> str:
    """The source's path relative to the project: the file, or a glob of the files."""
    return f"data/{table}.parquet" if files == 1 else f"data/{table}/*.parquet"


def generate(data: Path, rows: int, seed: int, files: int, chunk_rows: int) -> None:
    """Write every table as ``files`` files, generated ``chunk_rows`` sessions at a time."""
    import polars as pl

    for table, (per_session, _, _) in TABLES.items():
        total = table_rows(table, rows)
        chunk = max(1, chunk_rows // per_session)
        for k, path in enumerate(file_paths(data, table, files)):
            lo, hi = total * k // files, total * (k + 1) // files
            path.parent.mkdir(parents=True, exist_ok=True)
            starts = range(lo, max(hi, lo + 1), chunk)
            if len(starts) == 1:
                table_frame(table, lo, hi, total, seed).sink_parquet(path, **PARQUET)
                continue
            # several chunks: each to a file of its own, one at a time, then streamed into
            # one file (a concat of the generating frames held several chunks at once)
            parts = [path.with_name(f"{path.name}.{j:04d}.tmp") for j in range(len(starts))]
            for a, part in zip(starts, parts, strict=True):
                table_frame(table, a, min(a + chunk, hi), total, seed).sink_parquet(part, **PARQUET)
            pl.scan_parquet(parts).sink_parquet(path, **PARQUET)
            for part in parts:
                part.unlink()


def prepare(data_dir: Path, rows: int, seed: int, files: int, chunk_rows: int) -> Path:
    """The project folder for these parameters, generating its data when needed."""
    project = data_dir / f"scale-{rows}-f{files}-s{seed}-v{GENERATOR_VERSION}"
    data = project / "data"
    stamp = data / "params.json"
    params = {"rows": rows, "files": files, "seed": seed, "generator": GENERATOR_VERSION}
    if not (stamp.is_file() and json.loads(stamp.read_text()) == params):
        print(
            f"generating {rows:,} sessions, {table_rows('orders', rows):,} orders and"
            f" {table_rows('answers', rows):,} answers in {files} file(s) each -> {data} ...",
            flush=True,
        )
        if data.exists():
            shutil.rmtree(data)
        staging = project / "data.tmp"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        # in a child process: this one stays small (see `run_child`)
        command = [sys.executable, __file__, "--generate-to", str(staging)]
        command += ["--rows", str(rows), "--seed", str(seed), "--files", str(files)]
        command += ["--chunk-rows", str(chunk_rows)]
        wall, cpu, rss, code = run_child(command, None)
        if code != 0:
            sys.exit(f"generation failed (exit {code}); lower --chunk-rows if it ran out of memory")
        (staging / "params.json").write_text(json.dumps(params))
        staging.rename(data)
        size = sum(p.stat().st_size for p in data.rglob("*.parquet")) / 2**20
        print(
            f"generated in {wall:.1f}s wall, {cpu:.1f}s CPU, peak RSS {rss:,.0f} MiB"
            f" ({size:,.0f} MiB of Parquet)",
            flush=True,
        )
    else:
        size = sum(p.stat().st_size for p in data.rglob("*.parquet")) / 2**20
        print(f"reusing {data} ({size:,.0f} MiB of Parquet)", flush=True)
    write_project(project, files)
    return project


def write_project(project: Path, files: int) -> None:
    (project / "kpispec.yaml").write_text(
        f"kpispec: 1\ntitle: Benchmark at scale\ntimezone: UTC\nhistory: {HISTORY}\n"
        "specs: [scale.yaml]\n"
    )
    lines = [
        "kpispec: 1",
        "scorecard: {id: scale, title: Marketing at scale, owner: growth-team, grain: month}",
        "sources:",
    ]
    for table, (_, time_column, _) in TABLES.items():
        path = source_path(table, files)
        lines.append(f'  - {{id: {table}, path: "{path}", time: {time_column}}}')
    lines.append("kpis:")
    for kpi_id, (source, formula, unit) in KPIS.items():
        lines += [
            f"  - id: {kpi_id}",
            f"    source: {source}",
            f'    formula: "{formula}"',
            f"    unit: {unit}",
            "    dimensions: [channel]",
        ]
    (project / "scale.yaml").write_text("\n".join(lines) + "\n")


# --- the contenders ----------------------------------------------------------------
#
# Each gives {kpi: {member: [value per month of MONTHS]}}, member "" for the total.

Values = dict[str, dict[str, list[float | None]]]


def kpispec_command(project: Path, out: Path, engine: str = "polars") -> list[str]:
    return [
        sys.executable,
        "-m",
        "kpispec",
        "eval",
        str(project),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "-o",
        str(out),
        "--engine",
        engine,
    ]


def read_kpispec(out: Path) -> Values:
    """The values of the results document that `kpispec eval --format json` wrote."""
    doc = json.loads(out.read_text())
    values: Values = {}
    for card in doc["scorecards"]:
        for kpi in card["kpis"]:
            assert kpi["period"]["label"] == MONTHS[-1], kpi["period"]
            series = values.setdefault(kpi["id"], {})
            assert [p["period"] for p in kpi["series"]] == MONTHS, kpi["series"]
            series[""] = [p["value"] for p in kpi["series"]]
            for breakdown in kpi["breakdowns"]:
                for member in breakdown["members"]:
                    assert [p["period"] for p in member["series"]] == MONTHS, member
                    series[member["member"]] = [p["value"] for p in member["series"]]
    return values


def polars_queries(project: Path, files: int) -> dict[str, Any]:
    """The hand-written Polars queries: per source the partials by (month, channel)."""
    import polars as pl

    def scan(table: str) -> pl.LazyFrame:
        time_column = TABLES[table][1]
        return (
            pl.scan_parquet(project / source_path(table, files))
            .filter(pl.col(time_column) >= DATA_START, pl.col(time_column) < DATA_END)
            .with_columns(month=pl.col(time_column).dt.truncate("1mo"))
        )

    paid = pl.col("channel").is_in(PAID)
    duration, cost, clicks = pl.col("duration_s"), pl.col("cost"), pl.col("clicks")
    completed, amount = pl.col("completed"), pl.col("amount")
    nps, csat, ces = pl.col("nps_score"), pl.col("csat_score"), pl.col("ces_score")
    # `when(condition).then(x)` rather than `x.filter(condition)`: the streaming engine
    # runs the former in its own group-by, the latter in an in-memory fallback that holds
    # every row (POLARS_VERBOSE=1: "running in-memory-map in subgraph")
    partials = {
        "sessions": [
            pl.len().alias("n"),
            clicks.cast(pl.Int64).sum().alias("clicks"),  # an Int32 sum would stay Int32
            pl.col("impressions").cast(pl.Int64).sum().alias("impressions"),
            pl.col("converted").sum().alias("converted"),
            pl.col("bounced").sum().alias("bounced"),
            duration.sum().alias("duration_sum"),
            duration.count().alias("duration_n"),
            pl.when(paid).then(cost).sum().alias("paid_cost"),
            pl.when(paid).then(cost).count().alias("paid_cost_n"),
            pl.when(paid).then(clicks).cast(pl.Int64).sum().alias("paid_clicks"),
            pl.when(paid).then(clicks).count().alias("paid_clicks_n"),
        ],
        "orders": [
            pl.when(completed).then(amount).sum().alias("completed_amount"),
            pl.when(completed).then(amount).count().alias("completed_amount_n"),
            completed.sum().alias("completed"),
            pl.col("checkout_started").sum().alias("checkouts"),
            (pl.col("checkout_started") & ~completed).sum().alias("abandoned"),
            pl.col("returned").sum().alias("returned"),
        ],
        "answers": [
            (nps >= 9).sum().alias("promoters"),
            (nps <= 6).sum().alias("detractors"),
            nps.count().alias("nps_n"),
            (csat >= 4).sum().alias("satisfied"),
            csat.count().alias("csat_n"),
            ces.cast(pl.Int64).sum().alias("ces_sum"),
            ces.count().alias("ces_n"),
        ],
    }
    return {
        table: scan(table).group_by("month", "channel").agg(aggregates)
        for table, aggregates in partials.items()
    }


def polars_kpis(parts: dict[str, Any]) -> Values:
    """Totals rolled up from the per-channel partials (sums of sums), then the ratios."""
    import polars as pl

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:  # division by zero is null, as in SQL
        return pl.when(den != 0).then(num / den)

    def nonempty(total: str, n: str) -> pl.Expr:  # SQL: the sum of no values is null
        return pl.when(pl.col(n) > 0).then(pl.col(total))

    c = pl.col
    formulas = {
        "sessions": {
            "ctr": ratio(100 * c("clicks"), c("impressions")),
            "conversion_rate": ratio(100 * c("converted"), c("n")),
            "bounce_rate": ratio(100 * c("bounced"), c("n")),
            "avg_session_duration": ratio(c("duration_sum"), c("duration_n")),
            "cpc": ratio(
                nonempty("paid_cost", "paid_cost_n"), nonempty("paid_clicks", "paid_clicks_n")
            ),
        },
        "orders": {
            "aov": ratio(nonempty("completed_amount", "completed_amount_n"), c("completed")),
            "cart_abandonment": ratio(100 * c("abandoned"), c("checkouts")),
            "return_rate": ratio(100 * c("returned"), c("completed")),
        },
        "answers": {
            "nps": ratio(100 * (c("promoters") - c("detractors")), c("nps_n")),
            "csat": ratio(100 * c("satisfied"), c("csat_n")),
            "ces": ratio(c("ces_sum"), c("ces_n")),
        },
    }
    values: Values = {}
    for table, partial in parts.items():
        # counts are UInt32 (a sum of booleans): as floats, differences cannot wrap around
        by_channel = partial.with_columns(pl.exclude("month", "channel").cast(pl.Float64))
        sums = [c(name).sum() for name in by_channel.columns if name not in ("month", "channel")]
        total = by_channel.group_by("month").agg(sums).with_columns(channel=pl.lit(""))
        frame = pl.concat([by_channel, total.select(by_channel.columns)])
        frame = frame.select(
            c("month").dt.strftime("%Y-%m").alias("month"),
            "channel",
            **formulas[table],
        )
        fill(values, frame.rows(named=True), formulas[table])
    return values


def fill(values: Values, rows: list[dict[str, Any]], kpis: Any) -> None:
    """Put rows of (month, channel, KPIs...) into ``values``; a channel of "" is the total."""
    position = {month: i for i, month in enumerate(MONTHS)}
    for row in rows:
        for kpi in kpis:
            series = values.setdefault(kpi, {}).setdefault(row["channel"], [None] * HISTORY)
            value = row[kpi]
            series[position[row["month"]]] = None if value is None else float(value)


def run_polars(project: Path, files: int) -> Values:
    import polars as pl

    queries = polars_queries(project, files)
    collected = pl.collect_all(list(queries.values()), engine="streaming")
    return polars_kpis(dict(zip(queries, collected, strict=True)))


def duckdb_sql(project: Path, files: int) -> dict[str, str]:
    """The hand-written DuckDB queries: per source one grouping-sets query."""

    def query(table: str, aggregates: str) -> str:
        time_column = TABLES[table][1]
        path = (project / source_path(table, files)).as_posix().replace("'", "''")
        month = f"date_trunc('month', {time_column} at time zone 'UTC')"
        return f"""
select strftime({month}, '%Y-%m') as month, coalesce(channel, '') as channel, {aggregates}
from read_parquet('{path}')
where {time_column} >= timestamptz '{DATA_START.isoformat()}'
  and {time_column} < timestamptz '{DATA_END.isoformat()}'
group by grouping sets (({month}, channel), ({month}))
"""

    return {
        "sessions": query(
            "sessions",
            f"""
    100 * sum(clicks)::double / nullif(sum(impressions), 0) as ctr,
    100 * (count(*) filter (where converted))::double / nullif(count(*), 0) as conversion_rate,
    100 * (count(*) filter (where bounced))::double / nullif(count(*), 0) as bounce_rate,
    avg(duration_s) as avg_session_duration,
    sum(cost) filter (where {PAID_SQL})
        / nullif(sum(clicks) filter (where {PAID_SQL}), 0)::double as cpc""",
        ),
        "orders": query(
            "orders",
            """
    sum(amount) filter (where completed)
        / nullif(count(*) filter (where completed), 0) as aov,
    100 * (count(*) filter (where checkout_started and not completed))::double
        / nullif(count(*) filter (where checkout_started), 0) as cart_abandonment,
    100 * (count(*) filter (where returned))::double
        / nullif(count(*) filter (where completed), 0) as return_rate""",
        ),
        "answers": query(
            "answers",
            """
    100 * ((count(*) filter (where nps_score >= 9))
           - (count(*) filter (where nps_score <= 6)))::double
        / nullif(count(nps_score), 0) as nps,
    100 * (count(*) filter (where csat_score >= 4))::double
        / nullif(count(csat_score), 0) as csat,
    avg(ces_score) as ces""",
        ),
    }


def run_duckdb(project: Path, files: int) -> Values:
    import duckdb

    con = duckdb.connect()
    values: Values = {}
    for sql in duckdb_sql(project, files).values():
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        fill(values, rows, names[2:])
    return values


CONTENDERS = ["kpispec", "polars", "duckdb", "kpispec-duckdb", "kpispec-spark"]
LABELS = {
    "kpispec": "kpispec eval",
    "polars": "hand-written Polars",
    "duckdb": "DuckDB SQL",
    "kpispec-duckdb": "kpispec eval --engine duckdb",
    "kpispec-spark": "kpispec eval --engine spark",
}
#: the contenders timed unless --contenders says otherwise
DEFAULT = ["kpispec", "polars", "duckdb"]


def child(name: str, project: Path, files: int, out: Path) -> None:
    values = {"polars": run_polars, "duckdb": run_duckdb}[name](project, files)
    out.write_text(json.dumps(values))


# --- the parent: timing, checking, reporting ----------------------------------------


def run_child(command: list[str], log: Path | None) -> tuple[float, float, float, int]:
    """Run ``command``: wall time, CPU time (user + system), peak RSS in MiB, exit code.

    Linux starts a new program's maximum RSS at the RSS of the process that forked it, so
    this process stays small: it never imports polars, duckdb or kpispec, and the data
    is generated in a child too.
    """
    sink = log.open("wb") if log else None
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT if sink else None)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    finally:
        if sink:
            sink.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def measure(name: str, project: Path, files: int) -> dict[str, Any]:
    """Run one contender in a fresh process: its wall time, CPU time, peak RSS and values."""
    with tempfile.TemporaryDirectory() as tmp:
        out, log = Path(tmp) / "values.json", Path(tmp) / "log.txt"
        if name.startswith("kpispec"):
            engine = name.split("-", 1)[1] if "-" in name else "polars"
            command = kpispec_command(project, out, engine)
        else:
            command = [sys.executable, __file__, "--child", name, "--project", str(project)]
            command += ["--files", str(files), "--out", str(out)]
        wall, cpu, rss, code = run_child(command, log)
        if code != 0:
            why = " (killed: out of memory?)" if code == -9 else ""
            sys.exit(f"{name} failed (exit {code}){why}:\n{log.read_text()}")
        values = read_kpispec(out) if name.startswith("kpispec") else json.loads(out.read_text())
    return {"wall_s": wall, "cpu_s": cpu, "rss_mib": rss, "values": values}


def compare(results: dict[str, Values]) -> list[str]:
    """Every difference between the contenders: KPI, member, month."""
    problems = []
    names = list(results)
    reference = names[0]
    a = results[reference]
    for other in names[1:]:
        b = results[other]
        if sorted(a) != sorted(b):
            problems.append(f"KPIs: {reference} {sorted(a)} != {other} {sorted(b)}")
        for kpi in sorted(set(a) & set(b)):
            if sorted(a[kpi]) != sorted(b[kpi]):
                problems.append(
                    f"{kpi} members: {reference} {sorted(a[kpi])} != {other} {sorted(b[kpi])}"
                )
            for member in sorted(set(a[kpi]) & set(b[kpi])):
                for month, x, y in zip(MONTHS, a[kpi][member], b[kpi][member], strict=True):
                    if not same(x, y):
                        who = member or "total"
                        problems.append(f"{kpi} {who} {month}: {reference} {x!r} != {other} {y!r}")
    return problems


def fail(problems: list[str]) -> None:
    print("\n" + "!" * 78)
    print("MISMATCH: the contenders disagree")
    for p in list(dict.fromkeys(problems))[:200]:
        print("  " + p)
    if len(problems) > 200:
        print(f"  ... and {len(problems) - 200} more")
    print("!" * 78)
    sys.exit(1)


def report(
    names: list[str],
    values: Values,
    runs: dict[str, list[dict[str, Any]]],
    rows: int,
    files: int,
    count: int,
) -> None:
    print(f"\nlast month ({MONTHS[-1]}), totals:")
    for kpi in KPIS:
        total = values[kpi][""][-1]
        print(f"  {kpi:22s} {total:16.6f}" if total is not None else f"  {kpi:22s} null")

    def med(name: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[name]))

    print(
        f"\n{'contender':10s} {'wall median':>12s} {'wall best':>10s} {'CPU median':>11s}"
        f" {'peak RSS median':>16s}"
    )
    for name in names:
        print(
            f"{name:10s} {med(name, 'wall_s'):11.2f}s {min(r['wall_s'] for r in runs[name]):9.2f}s"
            f" {med(name, 'cpu_s'):10.2f}s {med(name, 'rss_mib'):12,.0f} MiB"
        )
    size = f"{rows:,}" if files == 1 else f"{rows:,} in {files} files"
    print("\nfor benchmarks/README.md:\n")
    print("| date | rows | runs | contender | wall | CPU | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        print(
            f"| {date.today().isoformat()} | {size} | {count} | {LABELS[name]}"
            f" | {med(name, 'wall_s'):.2f} s | {med(name, 'cpu_s'):.2f} s"
            f" | {med(name, 'rss_mib'):,.0f} MiB |"
        )
    for mine in [n for n in names if n.startswith("kpispec")]:
        for other in [n for n in names if not n.startswith("kpispec")]:
            wall = med(mine, "wall_s") / med(other, "wall_s")
            cpu = med(mine, "cpu_s") / med(other, "cpu_s")
            print(f"\n{mine} / {other} (medians): wall {wall:.2f}x, CPU {cpu:.2f}x", end="")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="sessions (default 10 M)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each contender")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--files",
        type=int,
        help=f"files per table (default 1 up to 50 M rows, else one per {FILE_ROWS:,} sessions)",
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=CONTENDERS,
        default=DEFAULT,
        help="which to time (kpispec, polars, duckdb by default; each timed one is checked "
        "against the others); kpispec-duckdb and kpispec-spark run kpispec on those engines",
    )
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=CHUNK_ROWS,
        help="sessions generated at a time (memory of the generation)",
    )
    parser.add_argument("--child", choices=["polars", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate-to", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    files = opts.files or default_files(opts.rows)
    if opts.generate_to:
        generate(opts.generate_to, opts.rows, opts.seed, files, opts.chunk_rows)
        return
    if opts.child:
        child(opts.child, opts.project, files, opts.out)
        return
    if not 1 <= files <= table_rows("answers", opts.rows):
        parser.error(f"--files must be between 1 and the number of answers ({opts.rows // 50})")

    project = prepare(opts.data_dir, opts.rows, opts.seed, files, opts.chunk_rows)
    names = [n for n in CONTENDERS if n in opts.contenders]
    # polars, duckdb and kpispec are not imported here: see `run_child`
    print(
        f"{opts.rows:,} sessions in {files} file(s) per table, {len(KPIS)} KPIs by channel,"
        f" months {MONTHS[0]}..{MONTHS[-1]}; {opts.runs} runs each after a warm-up;"
        f" {os.cpu_count()} cores, Python {platform.python_version()},"
        f" polars {version('polars')}, duckdb {version('duckdb')}, kpispec {version('kpispec')}",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    print(f"this process: {floor_mib():.0f} MiB (the floor of the children's peak RSS)")
    if load_before > 0.5:
        print(f"warning: the machine is busy (load average {load_before:.2f}): wall times suffer")
    warm = {}
    checked_by = list(dict.fromkeys([*DEFAULT, *names]))  # they must agree before any timing
    for name in checked_by:
        warm[name] = measure(name, project, files)
        print(f"warm-up {name}: {warm[name]['wall_s']:.2f}s", flush=True)
    problems = compare({name: warm[name]["values"] for name in checked_by})
    if problems:
        fail(problems)
    checked = [v for kpi in warm["kpispec"]["values"].values() for s in kpi.values() for v in s]
    print(
        f"all {len(checked_by)} agree on every KPI, month and channel: {len(checked):,} values"
        f" ({sum(v is None for v in checked)} of them null)"
    )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    reference = warm["kpispec"]["values"]
    for i in range(opts.runs):  # round robin, so drift hits every contender alike
        for name in names:
            result = measure(name, project, files)
            runs[name].append(result)
            print(f"run {i + 1} {name}: {result['wall_s']:.2f}s", flush=True)
            problems += compare({"warm-up kpispec": reference, name: result["values"]})
        if problems:
            fail(problems)
    report(names, reference, runs, opts.rows, files, opts.runs)
    print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
