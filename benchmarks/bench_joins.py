"""Benchmark: a lookup join, kpispec against hand-written Polars and DuckDB.

Run from the repository root:

    .venv/bin/python benchmarks/bench_joins.py [--rows 5000000] [--runs 3]

Data (generated once under benchmarks/.data/joins-N/): N orders over 2026 (a time, a
customer id, an amount) in Parquet, and a lookup of 100,000 customers (id, segment,
country). One KPI, revenue by the customer's segment and country through
`joins: [{source: customers, on: customer_id}]`, evaluated as of 2026-12-01 (history 12).
Contenders, each a fresh process per run, round robin after a warm-up, checked against
each other on the October total and segments to 1e-9 first:

- kpispec: `python -m kpispec eval PROJECT --format json` (Polars engine);
- kpispec duckdb: the same with `--engine duckdb` (the LEFT JOIN inside DuckDB);
- polars: a lazy scan joined to the lookup, grouped by month and segment / country;
- duckdb: the same in DuckDB SQL.

Wall time is measured here; CPU time (user + system) is the child's. Peak memory is not
reported: this process has read the data with Polars and DuckDB to check the values, and
a child's peak RSS on Linux starts at its parent's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-12-01"

POLARS = """
import polars as pl, sys
root = sys.argv[1]
o = pl.scan_parquet(f"{root}/orders.parquet")
c = pl.scan_parquet(f"{root}/customers.parquet")
j = o.join(c, on="customer_id", how="left").with_columns(pl.col("ordered_at").dt.strftime("%Y-%m").alias("m"))
r = pl.concat([
    j.group_by("m").agg(pl.col("amount").sum()).with_columns(pl.lit(None, pl.String).alias("d"), pl.lit(None, pl.String).alias("v")),
    j.group_by("m", "segment").agg(pl.col("amount").sum()).select("m", "amount", pl.lit("segment").alias("d"), pl.col("segment").alias("v")),
    j.group_by("m", "country").agg(pl.col("amount").sum()).select("m", "amount", pl.lit("country").alias("d"), pl.col("country").alias("v")),
], how="diagonal").collect()
print(r.filter(pl.col("m") == "2026-10").height)
"""

DUCKDB = """
import duckdb, sys
root = sys.argv[1]
con = duckdb.connect()
rows = con.execute(f'''
select strftime(ordered_at, '%Y-%m') as m, segment, country, sum(amount)
from read_parquet('{root}/orders.parquet') o
left join read_parquet('{root}/customers.parquet') c using (customer_id)
group by grouping sets ((m), (m, segment), (m, country))
''').fetchall()
print(len(rows))
"""


def generate(root: Path, rows: int) -> None:
    """The orders and the customers, pseudo-random from hashes of the row number."""
    from datetime import datetime

    import polars as pl

    if (root / "orders.parquet").exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    customers = 100_000

    def pick(h: pl.Expr, items: list[str]) -> pl.Expr:
        return pl.lit(pl.Series(items)).gather(h % len(items))

    i = pl.int_range(0, customers, dtype=pl.Int64)
    pl.select(
        i.alias("customer_id"),
        pick(i.hash(1), ["consumer", "small business", "enterprise"]).alias("segment"),
        pick(i.hash(2), ["NO", "SE", "DK", "DE", "FI"]).alias("country"),
    ).write_parquet(root / "customers.parquet")
    n = pl.int_range(0, rows, dtype=pl.Int64)
    pl.LazyFrame().select(
        (pl.lit(datetime(2026, 1, 1)) + pl.duration(seconds=n.hash(3) % (334 * 86400))).alias(
            "ordered_at"
        ),
        (n.hash(4) % (customers + 5_000)).cast(pl.Int64).alias("customer_id"),  # some unknown
        ((n.hash(5) % 20_000) / 100).alias("amount"),
    ).sink_parquet(root / "orders.parquet")
    (root / "kpispec.yaml").write_text("kpispec: 1\ntimezone: UTC\nhistory: 12\n", "utf-8")
    (root / "shop.yaml").write_text(
        "kpispec: 1\nscorecard: {id: shop, title: Shop, owner: bench}\nsources:\n"
        "  - {id: orders, path: orders.parquet, time: ordered_at, "
        "joins: [{source: customers, on: customer_id}]}\n"
        "  - {id: customers, path: customers.parquet}\n"
        "kpis:\n  - {id: revenue, source: orders, formula: sum(amount), "
        "dimensions: [customers.segment, customers.country]}\n",
        "utf-8",
    )


def run(args: list[str]) -> tuple[float, float, float]:
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stderr is not None
    err = child.stderr.read()
    child.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed: {err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def check(root: Path) -> None:
    """kpispec's October values against DuckDB's, before any timing."""
    import duckdb

    out = subprocess.run(
        [sys.executable, "-m", "kpispec", "eval", str(root), "--as-of", AS_OF, "-f", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (kpi,) = [k for c in json.loads(out.stdout)["scorecards"] for k in c["kpis"]]
    (october,) = [p["value"] for p in kpi["series"] if p["period"] == "2026-10"]
    con = duckdb.connect()
    o, c = root / "orders.parquet", root / "customers.parquet"
    total = con.execute(
        f"select sum(amount) from read_parquet('{o}') where ordered_at >= '2026-10-01' and ordered_at < '2026-11-01'"
    ).fetchone()[0]
    assert abs(october - total) <= 1e-9 * abs(total), (october, total)
    by = dict(
        con.execute(
            f"select segment, sum(amount) from read_parquet('{o}') left join read_parquet('{c}') "
            "using (customer_id) where ordered_at >= '2026-10-01' and ordered_at < '2026-11-01' group by segment"
        ).fetchall()
    )
    (segments,) = [b for b in kpi["breakdowns"] if b["dimension"] == "customers.segment"]
    for member in segments["members"]:
        want = by[member["member"]]
        (got,) = [p["value"] for p in member["series"] if p["period"] == "2026-10"]
        assert abs(got - want) <= 1e-9 * abs(want), member["member"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    root = HERE / ".data" / f"joins-{options.rows}"
    generate(root, options.rows)
    check(root)
    eval_args = [sys.executable, "-m", "kpispec", "eval", str(root), "--as-of", AS_OF, "-f", "json"]
    contenders = {
        "kpispec": eval_args,
        "kpispec duckdb": [*eval_args, "--engine", "duckdb"],
        "polars": [sys.executable, "-c", POLARS, str(root)],
        "duckdb": [sys.executable, "-c", DUCKDB, str(root)],
    }
    for args in contenders.values():
        run(args)  # warm-up
    samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in contenders}
    for _ in range(options.runs):
        for name, args in contenders.items():
            samples[name].append(run(args))
    print(f"{options.rows:,} orders, {options.runs} runs, medians")
    print(f"{'contender':<16} {'wall s':>8} {'CPU s':>8}")
    for name, got in samples.items():
        wall = statistics.median(s[0] for s in got)
        cpu = statistics.median(s[1] for s in got)
        print(f"{name:<16} {wall:>8.2f} {cpu:>8.2f}")


if __name__ == "__main__":
    main()
