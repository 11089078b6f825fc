"""Benchmark: `kpispec.evaluate` against the same KPIs hand-written in Polars and in DuckDB.

Goal: kpispec within 1.0x of the hand-written Polars query. Run from the repository root:

    .venv/bin/python benchmarks/bench_eval.py [--rows 10000000] [--runs 3] [--seed 42]

It generates (once, then reuses) a Parquet file of web sessions under benchmarks/.data/,
a kpispec project of 13 marketing KPIs on it (monthly, by channel), and then runs three
contenders, each in a fresh Python process per run so that start-up, imports and peak
memory are measured honestly:

- kpispec: `kpispec.load(project)` then `kpispec.evaluate(loaded, as_of=...)`, which is what
  `kpispec.evaluate(project)` does (load and check the specs, read the Parquet schema, the
  fused Polars query, the KPI values and the results document);
- polars: the same KPIs hand-written as one lazy `scan_parquet`, grouped by month (the
  totals) and by month and channel, collected together;
- duckdb: the same KPIs as one SQL query with `grouping sets` over the Parquet file.

Every contender computes the months kpispec computes: with `history: 12` and the as-of
date 2026-11-22 that is 2025-10 to 2026-10, thirteen months (the twelve of the trend and
the one a year before the evaluated month, for the year-over-year change).

Wall time is measured by this process around each child; "call" is the evaluation alone,
measured inside the child (imports excluded); CPU time (user + system) and peak memory
(maximum resident set size) are the child's, from `os.wait4`. The table shows medians over `--runs` runs, after one warm-up run
of each contender (so that every contender finds the file in the page cache). The three
must give the same numbers for the last month, in total and per channel; a mismatch is
printed and the script exits with status 1.

`--explain` prints kpispec's plan and the hand-written one instead of timing anything.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GENERATOR_VERSION = 1  # bump when the generated data changes
AS_OF = "2026-11-22"
DATA_START = datetime(2025, 9, 22)  # ~14 months of sessions, up to the as-of date
DATA_END = datetime(2026, 11, 22)
FIRST_MONTH = date(2025, 10, 1)  # the months kpispec computes: 2025-10 .. 2026-10
LAST_MONTH = date(2026, 10, 1)
END_MONTH = date(2026, 11, 1)  # exclusive

CHANNELS = {  # channel: (share of sessions, share of carts that convert)
    "organic_search": (0.34, 0.30),
    "paid_search": (0.22, 0.33),
    "direct": (0.16, 0.36),
    "social": (0.13, 0.18),
    "email": (0.09, 0.42),
    "referral": (0.06, 0.27),
}
DEVICES = {"mobile": 0.55, "desktop": 0.38, "tablet": 0.07}
COUNTRIES = {
    "NO": 0.22,
    "SE": 0.18,
    "DK": 0.12,
    "FI": 0.08,
    "DE": 0.14,
    "NL": 0.06,
    "GB": 0.09,
    "US": 0.06,
    "FR": 0.03,
    "PL": 0.02,
}

# id: (formula, unit); every KPI is monthly, on the source `sessions`, by channel
KPIS: dict[str, tuple[str, str]] = {
    "sessions": ("count(*)", "count"),
    "ctr": ("100 * sum(clicks) / sum(impressions)", "percent"),
    "conversion_rate": ("100 * share(converted)", "percent"),
    "bounce_rate": ("100 * share(bounced)", "percent"),
    "avg_session_duration": ("avg(duration_s)", "seconds"),
    "pages_per_session": ("avg(pages)", "number"),
    "visitors_per_day": ("count(distinct visitor_id) / period_days", "number"),
    "revenue": ("sum(revenue)", "currency"),
    "aov": (
        "sum(revenue) filter (where converted) / count(*) filter (where converted)",
        "currency",
    ),
    "cart_abandonment": (
        "100 * (count(*) filter (where added_to_cart)"
        " - count(*) filter (where added_to_cart and converted))"
        " / count(*) filter (where added_to_cart)",
        "percent",
    ),
    "p90_session_duration": ("percentile(duration_s, 0.9)", "seconds"),
    "returning_share": ("100 * share(returning)", "percent"),
    "mobile_share": ("100 * share(device = 'mobile')", "percent"),
}


# --- data ---------------------------------------------------------------------------


def _mix(seed: int, stream: int) -> Any:
    """Uniform [0, 1) floats, one per row: splitmix64 of (seed, stream, row number).

    Written with Polars integer arithmetic (which wraps) rather than `Expr.hash`, whose
    values may change between Polars versions: the same seed gives the same file.
    """
    import polars as pl

    def u64(v: int) -> pl.Expr:
        return pl.lit(v % 2**64, dtype=pl.UInt64)

    z = pl.col("__i") * u64(0x9E3779B97F4A7C15) + u64(
        (seed * 1_000_003 + stream) * 0xD1B54A32D192ED03
    )
    z = (z ^ (z // u64(1 << 30))) * u64(0xBF58476D1CE4E5B9)
    z = (z ^ (z // u64(1 << 27))) * u64(0x94D049BB133111EB)
    z = z ^ (z // u64(1 << 31))
    return (z // u64(1 << 11)).cast(pl.Float64) * 2.0**-53


def _pick(u: Any, weights: dict[str, float]) -> Any:
    """A categorical value drawn with ``weights`` from the uniform ``u``."""
    import polars as pl

    names = list(weights)
    total, edge = sum(weights.values()), 0.0
    chain: Any = None
    for name in names[:-1]:
        edge += weights[name] / total
        chain = (pl.when(u < edge) if chain is None else chain.when(u < edge)).then(pl.lit(name))
    return chain.otherwise(pl.lit(names[-1]))


def generate(path: Path, rows: int, seed: int) -> None:
    import polars as pl

    u = {
        name: _mix(seed, i)
        for i, name in enumerate(
            [
                "t",
                "ch",
                "dev",
                "co",
                "vis",
                "pg",
                "dn",
                "dur",
                "imp",
                "clk",
                "ret",
                "cart",
                "conv",
                "rev",
            ]
        )
    }
    span_s = int((DATA_END - DATA_START).total_seconds())
    exponential = lambda v: -(1.0 - v).log()  # noqa: E731
    conv_rate = {name: rate for name, (_, rate) in CHANNELS.items()}
    frame = (
        pl.select(__i=pl.int_range(rows, dtype=pl.UInt64))
        .select(
            started_at=pl.lit(DATA_START)
            + pl.duration(seconds=(u["t"] * span_s).floor().cast(pl.Int64)),
            channel=_pick(u["ch"], {name: share for name, (share, _) in CHANNELS.items()}),
            device=_pick(u["dev"], DEVICES),
            country=_pick(u["co"], COUNTRIES),
            visitor_id=(u["vis"] * max(1, rows // 5)).floor().cast(pl.Int64),
            pages=(1 + (exponential(u["pg"]) * 2.5).floor()).clip(1, 200).cast(pl.Int32),
            impressions=(u["imp"] * 25).floor().cast(pl.Int32),
            __clk=u["clk"],
            __dn=u["dn"],
            __dur=exponential(u["dur"]),
            returning=u["ret"] < 0.38,
            __cart=u["cart"],
            __conv=u["conv"],
            __rev=exponential(u["rev"]),
        )
        .with_columns(bounced=pl.col("pages") == 1)
        .with_columns(
            duration_s=pl.when(pl.col("__dn") >= 0.03).then(
                pl.when(pl.col("bounced"))
                .then(pl.col("__dur") * 15)
                .otherwise(pl.col("pages") * pl.col("__dur") * 45)
                .round(3)
            ),
            clicks=(pl.col("impressions") * pl.col("__clk") * 0.3).floor().cast(pl.Int32),
            added_to_cart=~pl.col("bounced") & (pl.col("__cart") < 0.12),
        )
        .with_columns(
            converted=pl.col("added_to_cart")
            & (
                pl.col("__conv")
                < pl.col("channel").replace_strict(conv_rate, return_dtype=pl.Float64)
            )
        )
        .with_columns(
            revenue=pl.when(pl.col("converted")).then((15 + pl.col("__rev") * 70).round(2))
        )
        .select(
            "started_at",
            "channel",
            "device",
            "country",
            "visitor_id",
            "pages",
            "duration_s",
            "clicks",
            "impressions",
            "converted",
            "revenue",
            "added_to_cart",
            "bounced",
            "returning",
        )
        .sort("started_at")  # sessions arrive in time order, as in an export
    )
    frame.write_parquet(path, compression="zstd", statistics=True)


def prepare(data_dir: Path, rows: int, seed: int) -> Path:
    """The project folder for these parameters, generating its data when needed."""
    project = data_dir / f"eval-{rows}-s{seed}-v{GENERATOR_VERSION}"
    parquet = project / "data" / "sessions.parquet"
    stamp = project / "data" / "params.json"
    params = {"rows": rows, "seed": seed, "generator": GENERATOR_VERSION}
    if not (parquet.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == params):
        parquet.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {rows:,} sessions -> {parquet} ...", flush=True)
        start = time.perf_counter()
        with tempfile.NamedTemporaryFile(dir=parquet.parent, suffix=".tmp", delete=False) as tmp:
            pass
        try:
            # in a child process: this one stays small (see `measure`)
            command = [sys.executable, __file__, "--generate-to", tmp.name]
            subprocess.run([*command, "--rows", str(rows), "--seed", str(seed)], check=True)
            os.chmod(tmp.name, 0o644)
            os.replace(tmp.name, parquet)
        finally:
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)
        stamp.write_text(json.dumps(params))
        size = parquet.stat().st_size / 2**20
        print(f"generated in {time.perf_counter() - start:.1f}s ({size:.0f} MiB)", flush=True)
    else:
        print(f"reusing {parquet} ({parquet.stat().st_size / 2**20:.0f} MiB)", flush=True)
    write_project(project)
    return project


def write_project(project: Path) -> None:
    (project / "kpispec.yaml").write_text(
        "kpispec: 1\ntitle: Benchmark\ntimezone: UTC\nhistory: 12\nspecs: [web.yaml]\n"
    )
    lines = [
        "kpispec: 1",
        "scorecard: {id: web, title: Web marketing, owner: growth-team, grain: month}",
        "sources:",
        "  - {id: sessions, path: data/sessions.parquet, time: started_at}",
        "kpis:",
    ]
    for kpi_id, (formula, unit) in KPIS.items():
        lines += [
            f"  - id: {kpi_id}",
            "    source: sessions",
            f"    formula: {formula}",
            f"    unit: {unit}",
            "    dimensions: [channel]",
        ]
    (project / "web.yaml").write_text("\n".join(lines) + "\n")


# --- the contenders (each runs in a child process) -----------------------------------


def run_kpispec(project: Path) -> dict[str, Any]:
    start = time.perf_counter()
    # kpispec imports lazily; import up front what `evaluate` would, so that "call" is the
    # work alone, as for the other contenders (whose import of polars or duckdb is excluded)
    import jsonschema  # noqa: F401
    import polars  # noqa: F401

    import kpispec
    import kpispec.engine.evaluate
    import kpispec.results
    import kpispec.spec.load

    imported = time.perf_counter()
    loaded = kpispec.load(project)  # what kpispec.evaluate(path) does first
    checked = time.perf_counter()
    results = kpispec.evaluate(loaded, as_of=AS_OF)
    done = time.perf_counter()
    doc = kpispec.results.to_dict(results)
    totals, channels = {}, {}
    for card in doc["scorecards"]:
        for kpi in card["kpis"]:
            assert kpi["period"]["label"] == LAST_MONTH.strftime("%Y-%m"), kpi["period"]
            totals[kpi["id"]] = kpi["value"]
            for breakdown in kpi["breakdowns"]:
                for member in breakdown["members"]:
                    channels.setdefault(member["member"], {})[kpi["id"]] = member["value"]
    return {
        "import_s": imported - start,
        "call_s": done - imported,
        "load_s": checked - imported,
        "totals": totals,
        "channels": channels,
    }


def polars_query(parquet: Path) -> list[Any]:
    """The hand-written Polars queries: the totals and the channels of every month."""
    import polars as pl

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:  # division by zero is null, as in SQL
        return pl.when(den != 0).then(num / den)

    added = pl.col("added_to_cart")
    converted = pl.col("converted")
    revenue = pl.col("revenue")
    aggregates = [
        pl.len().alias("sessions"),
        ratio(100 * pl.col("clicks").sum(), pl.col("impressions").sum()).alias("ctr"),
        (100 * converted.mean()).alias("conversion_rate"),
        (100 * pl.col("bounced").mean()).alias("bounce_rate"),
        pl.col("duration_s").mean().alias("avg_session_duration"),
        pl.col("pages").mean().alias("pages_per_session"),
        pl.col("visitor_id").n_unique().alias("__visitors"),  # visitor_id has no nulls
        pl.when(revenue.count() > 0).then(revenue.sum()).alias("revenue"),  # SQL: null sum
        ratio(revenue.filter(converted).sum(), converted.sum()).alias("aov"),
        ratio(100 * (added.sum() - (added & converted).sum()), added.sum()).alias(
            "cart_abandonment"
        ),
        pl.col("duration_s").quantile(0.9, "linear").alias("p90_session_duration"),
        (100 * pl.col("returning").mean()).alias("returning_share"),
        (100 * (pl.col("device") == "mobile").mean()).alias("mobile_share"),
    ]
    rows = (
        pl.scan_parquet(parquet)
        .filter(
            pl.col("started_at") >= datetime.combine(FIRST_MONTH, datetime.min.time()),
            pl.col("started_at") < datetime.combine(END_MONTH, datetime.min.time()),
        )
        .with_columns(pl.col("started_at").dt.truncate("1mo").alias("month"))
    )
    per_day = (pl.col("__visitors") / pl.col("month").dt.month_end().dt.day()).alias(
        "visitors_per_day"
    )
    return [
        rows.group_by("month").agg(aggregates).with_columns(per_day),
        rows.group_by("month", "channel").agg(aggregates).with_columns(per_day),
    ]


def run_polars(parquet: Path) -> dict[str, Any]:
    start = time.perf_counter()
    import polars as pl

    imported = time.perf_counter()
    total, by_channel = pl.collect_all(polars_query(parquet))
    done = time.perf_counter()
    last = datetime.combine(LAST_MONTH, datetime.min.time())
    columns = list(KPIS)
    totals = total.filter(pl.col("month") == last).select(columns).to_dicts()[0]
    channels = {
        row.pop("channel"): row
        for row in by_channel.filter(pl.col("month") == last).select("channel", *columns).to_dicts()
    }
    assert total.height == 13 and by_channel.height == 13 * len(CHANNELS), (total, by_channel)
    return {
        "import_s": imported - start,
        "call_s": done - imported,
        "totals": totals,
        "channels": channels,
    }


DUCKDB_SQL = """
select
    date_trunc('month', started_at) as month,
    channel,
    count(*) as sessions,
    100 * sum(clicks)::double / nullif(sum(impressions), 0) as ctr,
    100 * avg(converted::double) as conversion_rate,
    100 * avg(bounced::double) as bounce_rate,
    avg(duration_s) as avg_session_duration,
    avg(pages) as pages_per_session,
    count(distinct visitor_id) / day(last_day(date_trunc('month', started_at))) as visitors_per_day,
    sum(revenue) as revenue,
    sum(revenue) filter (where converted)
        / nullif(count(*) filter (where converted), 0) as aov,
    100 * (count(*) filter (where added_to_cart)
           - count(*) filter (where added_to_cart and converted))
        / nullif(count(*) filter (where added_to_cart), 0) as cart_abandonment,
    quantile_cont(duration_s, 0.9) as p90_session_duration,
    100 * avg("returning"::double) as returning_share,
    100 * avg((device = 'mobile')::double) as mobile_share
from read_parquet($path)
where started_at >= $first and started_at < $end
group by grouping sets ((date_trunc('month', started_at)), (date_trunc('month', started_at), channel))
"""


def run_duckdb(parquet: Path) -> dict[str, Any]:
    start = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    con = duckdb.connect()
    params = {
        "path": str(parquet),
        "first": datetime.combine(FIRST_MONTH, datetime.min.time()),
        "end": datetime.combine(END_MONTH, datetime.min.time()),
    }
    cursor = con.execute(DUCKDB_SQL, params)
    names = [d[0] for d in cursor.description]
    result = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    done = time.perf_counter()
    last = datetime.combine(LAST_MONTH, datetime.min.time())
    totals, channels = {}, {}
    for row in result:
        if row["month"] != last:
            continue
        values = {k: (float(row[k]) if row[k] is not None else None) for k in KPIS}
        if row["channel"] is None:
            totals = values
        else:
            channels[row["channel"]] = values
    assert len(result) == 13 * (1 + len(CHANNELS)), len(result)
    return {
        "import_s": imported - start,
        "call_s": done - imported,
        "totals": totals,
        "channels": channels,
    }


CONTENDERS = {"kpispec": run_kpispec, "polars": run_polars, "duckdb": run_duckdb}


def child(name: str, project: Path, out: Path) -> None:
    target = project if name == "kpispec" else project / "data" / "sessions.parquet"
    result = CONTENDERS[name](target)
    out.write_text(json.dumps(result))


# --- the parent: timing, checking, reporting ----------------------------------------


def measure(name: str, project: Path) -> dict[str, Any]:
    """Run one contender in a fresh process: wall time, CPU time, peak RSS and its result.

    Linux starts a new program's maximum RSS at the RSS of the process that forked it, so
    this process must stay small: it never imports polars, duckdb or kpispec, and the data
    is generated in a child too. `floor_mib` reports its own size, the least any child
    can show.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        log = Path(tmp) / "log.txt"
        args = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--project",
            str(project),
            "--out",
            str(out),
        ]
        with log.open("wb") as sink:
            start = time.perf_counter()
            proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            sys.exit(f"{name} failed (exit {proc.returncode}):\n{log.read_text()}")
        result = json.loads(out.read_text())
    result["wall_s"] = wall
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # user + system, all threads
    result["rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def floor_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def compare(results: dict[str, dict[str, Any]]) -> list[str]:
    """Differences between the contenders' numbers for the last month."""
    problems = []
    names = list(results)
    reference = names[0]
    for other in names[1:]:
        a, b = results[reference], results[other]
        for kpi in KPIS:
            if not same(a["totals"].get(kpi), b["totals"].get(kpi)):
                problems.append(
                    f"total {kpi}: {reference} {a['totals'].get(kpi)!r} != {other} {b['totals'].get(kpi)!r}"
                )
        if sorted(a["channels"]) != sorted(b["channels"]):
            problems.append(
                f"channels: {reference} {sorted(a['channels'])} != {other} {sorted(b['channels'])}"
            )
            continue
        for channel in a["channels"]:
            for kpi in KPIS:
                x, y = a["channels"][channel].get(kpi), b["channels"][channel].get(kpi)
                if not same(x, y):
                    problems.append(f"{channel} {kpi}: {reference} {x!r} != {other} {y!r}")
    return problems


def explain(project: Path) -> None:
    import polars as pl

    import kpispec

    print(kpispec.explain(kpispec.load(project), as_of=AS_OF))
    print("\n# hand-written Polars: two queries collected together (pl.collect_all)")
    print(pl.explain_all(polars_query(project / "data" / "sessions.parquet")))


def report(names: list[str], warm: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> None:
    print(f"\nlast month ({LAST_MONTH:%Y-%m}), totals:")
    print(f"{'KPI':24s}" + "".join(f"{n:>18s}" for n in names))
    for kpi in KPIS:
        print(f"{kpi:24s}" + "".join(f"{warm[n]['totals'][kpi]:18.6f}" for n in names))

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    print(
        f"\n{'contender':10s} {'wall median':>12s} {'wall best':>10s} {'call median':>12s}"
        f" {'call best':>10s} {'CPU median':>11s} {'peak RSS median':>16s}"
    )
    for name in names:
        print(
            f"{name:10s} {med(name, 'wall_s'):11.3f}s {min(r['wall_s'] for r in runs[name]):9.3f}s"
            f" {med(name, 'call_s'):11.3f}s {min(r['call_s'] for r in runs[name]):9.3f}s"
            f" {med(name, 'cpu_s'):10.3f}s {med(name, 'rss_mib'):12.0f} MiB"
        )
    if "kpispec" in runs:
        print(
            f"kpispec call = load and check {med('kpispec', 'load_s'):.3f}s"
            f" + evaluate {med('kpispec', 'call_s') - med('kpispec', 'load_s'):.3f}s"
        )
    if "kpispec" in runs and "polars" in runs:
        ratios = ", ".join(
            f"{label} {med('kpispec', key) / med('polars', key):.2f}x"
            for label, key in [
                ("wall", "wall_s"),
                ("call", "call_s"),
                ("CPU", "cpu_s"),
                ("peak RSS", "rss_mib"),
            ]
        )
        print(f"\nkpispec / hand-written Polars (medians): {ratios}  (goal: within 1.0x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=HERE / ".data")
    parser.add_argument(
        "--only", action="append", choices=list(CONTENDERS), help="run only these (repeatable)"
    )
    parser.add_argument("--explain", action="store_true", help="print the plans and stop")
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate-to", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.generate_to:
        generate(opts.generate_to, opts.rows, opts.seed)
        return
    if opts.child:
        child(opts.child, opts.project, opts.out)
        return

    project = prepare(opts.data_dir, opts.rows, opts.seed)
    if opts.explain:
        explain(project)
        return
    names = opts.only or list(CONTENDERS)
    # polars and duckdb are not imported here: see `measure`
    print(
        f"{opts.rows:,} rows, {len(KPIS)} KPIs by channel, months 2025-10..2026-10; "
        f"{opts.runs} runs each after a warm-up; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, polars {version('polars')}, "
        f"duckdb {version('duckdb')}, kpispec {version('kpispec')}",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    print(f"this process: {floor_mib():.0f} MiB (the floor of the children's peak RSS)")
    if load_before > 0.5:
        print(f"warning: the machine is busy (load average {load_before:.2f}): wall times suffer")
    warm = {name: measure(name, project) for name in names}
    problems = compare(warm)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    if not problems:
        for _ in range(opts.runs):  # round robin, so drift hits every contender alike
            for name in names:
                runs[name].append(measure(name, project))
            problems += compare({name: runs[name][-1] for name in names})

    if problems:
        print("\n" + "!" * 78)
        print("MISMATCH: the contenders disagree on the last month's numbers")
        for p in dict.fromkeys(problems):
            print("  " + p)
        print("!" * 78)
        sys.exit(1)
    report(names, warm, runs)
    print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
