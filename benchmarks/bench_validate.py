"""Benchmark: `kpispec validate` on a generated project of 1,000 KPIs in 50 files.

Goal: under one second of wall time, start-up included. Run from the repository root:

    .venv/bin/python benchmarks/bench_validate.py [--files 50] [--kpis 20] [--runs 7]

It prints the median and best wall time of whole CLI runs (a fresh process each), with and
without reading data headers, and the time `kpispec --help` takes to start.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMULAS = [
    "100 * sum(clicks) / sum(impressions)",
    "100 * share(converted)",
    "count(distinct visitor_id) / period_days",
    "avg(duration_s)",
    "100 * share(pages = 1)",
    "sum(amount) filter (where completed) / count(*) filter (where completed)",
    "percentile(duration_s, 0.95)",
    "100 * (share(nps_score >= 9) - share(nps_score <= 6))",
]
COLUMNS = "started_at,clicks,impressions,converted,visitor_id,duration_s,pages,amount,completed,nps_score,channel,device\n"


def generate(folder: Path, files: int, kpis: int) -> None:
    (folder / "kpispec.yaml").write_text("kpispec: 1\ntitle: Benchmark\nspecs: ['cards/*.yaml']\n")
    (folder / "cards").mkdir()
    (folder / "data").mkdir()
    for f in range(files):
        (folder / "data" / f"s{f}.csv").write_text(
            COLUMNS + "2026-10-01,1,10,true,v1,30,2,10,true,9,search,mobile\n"
        )
        lines = [
            "kpispec: 1",
            f"scorecard: {{id: card{f}, title: Card {f}, owner: team{f}}}",
            "sources:",
            f"  - {{id: s{f}, path: ../data/s{f}.csv, time: started_at}}",
            "kpis:",
        ]
        for k in range(kpis):
            formula = FORMULAS[k % len(FORMULAS)]
            lines += [
                f"  - id: k{f}_{k}",
                f"    name: KPI {f}.{k}",
                f"    source: s{f}",
                f"    formula: {formula}",
                "    unit: percent",
                "    dimensions: [channel, device]",
                "    target: {min: 3, tolerance: 5%, by: 2026-12-31, why: Growth}",
            ]
        if kpis > 1:
            lines += [
                f"  - id: k{f}_ratio",
                f"    formula: k{f}_0 / k{f}_1",
                "    target: {min: 1, by: 2026-12-31, why: Balance}",
            ]
        (folder / "cards" / f"card{f}.yaml").write_text("\n".join(lines) + "\n")


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(args, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            sys.exit(f"failed: {' '.join(args)}\n{out.stdout}\n{out.stderr}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--kpis", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    opts = parser.parse_args()
    exe = [sys.executable, "-m", "kpispec"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, opts.files, opts.kpis)
        total = opts.files * (opts.kpis + (1 if opts.kpis > 1 else 0))
        print(f"project: {opts.files} files, {total} KPIs; {opts.runs} runs each")
        for label, args in [
            ("kpispec --help", [*exe, "--help"]),
            ("validate --no-data", [*exe, "validate", str(folder), "--no-data"]),
            ("validate (reads CSV headers)", [*exe, "validate", str(folder)]),
        ]:
            t = timed(args, opts.runs)
            print(f"{label:32s} median {statistics.median(t):.3f}s  best {min(t):.3f}s")


if __name__ == "__main__":
    main()
