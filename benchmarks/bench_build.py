"""Benchmark: `kpispec build`, the static site of 500 KPIs with 24 periods of history each.

Goal: rendering the site (`kpispec.render(doc, out)`) in under 5 seconds. Run from the
repository root:

    .venv/bin/python benchmarks/bench_build.py [--kpis 500] [--files 25] [--history 24]
                                               [--runs 5] [--profile]

It generates a project (`history: 24`, monthly KPIs over two years of generated sessions,
half of them broken down by two dimensions, a third with a tolerance band, some with a
glide path), evaluates it once in this process (`kpispec.evaluate`, as of 2026-11-22),
checks the results document against schemas/results.schema.json, and then times:

- `render`: `kpispec.render(doc, out)` in this process, into a fresh folder each run
  (templates, views, SVG charts, badges, Markdown, writing the files);
- `evaluate`: `kpispec.evaluate(project)` in this process (load, validate, evaluate), to
  tell how much of the command's time is not rendering;
- `build CLI`: the whole `kpispec build PROJECT -o OUT --as-of 2026-11-22` in a fresh
  process each run (start-up, loading and validating the specs, evaluation, rendering).

Each is run once to warm up, then `--runs` times; the best and the median are printed.
`--profile` prints where the time of one render goes (cProfile, the 25 functions with the
most cumulative time, and the 15 with the most time of their own).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kpispec.results import Results, to_dict

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-22"
KPISPEC_BUILD = [sys.executable, "-m", "kpispec", "build"]
CHANNELS = ["organic_search", "paid_search", "direct", "social", "email", "referral"]
DEVICES = ["desktop", "mobile", "tablet"]
FORMULAS = [  # (formula, unit, direction, target)
    ("count(*)", "count", "higher_is_better", "{min: 400, by: 2026-12-31, why: Traffic}"),
    (
        "100 * share(converted)",
        "percent",
        "higher_is_better",
        "{min: 3.1, tolerance: 10%, by: 2026-12-31, why: Buyers}",
    ),
    (
        "avg(pages)",
        "number",
        "higher_is_better",
        "{min: 3, tolerance: 0.2, gate: warn, by: 2026-12-31, why: Depth}",
    ),
    (
        "100 * share(pages = 1)",
        "percent",
        "lower_is_better",
        "{max: 38, tolerance: 2, by: 2026-12-31, why: Bounce}",
    ),
    (
        "sum(amount)",
        "currency",
        "higher_is_better",
        "{baseline: {period: 2026-01}, change: +10%, from: 2026-02-01, by: 2026-12-31,"
        " why: Revenue}",
    ),
    ("avg(duration_s)", "seconds", "higher_is_better", "{min: 170, by: 2026-12-31, why: Time}"),
    ("percentile(duration_s, 0.9)", "seconds", "higher_is_better", None),
    (
        "count(distinct visitor_id) / period_days",
        "number",
        "higher_is_better",
        "{min: 10, by: 2026-12-31, why: Reach}",
    ),
]


def generate(folder: Path, kpis: int, files: int, history: int, seed: int = 7) -> None:
    """A project of ``kpis`` KPIs in ``files`` scorecards over one shared CSV source."""
    rng = random.Random(seed)
    (folder / "data").mkdir(parents=True)
    (folder / "cards").mkdir()
    (folder / "kpispec.yaml").write_text(
        "kpispec: 1\n"
        "title: Build benchmark\n"
        "timezone: UTC\n"
        f"history: {history}\n"
        "specs: ['cards/*.yaml']\n"
        "sources:\n"
        "  - id: sessions\n"
        "    path: data/sessions.csv\n"
        "    time: started_at\n"
        "    columns: {started_at: datetime, visitor_id: string, channel: string,"
        " device: string, pages: integer, duration_s: number, converted: boolean,"
        " amount: number}\n",
        encoding="utf-8",
    )
    start = datetime(2024, 9, 1)
    days = (datetime(2026, 11, 21) - start).days
    lines = ["started_at,visitor_id,channel,device,pages,duration_s,converted,amount"]
    for _ in range(days * 16):  # ~16 sessions a day, ~13,000 rows
        when = start + timedelta(seconds=rng.randrange(days * 86400))
        converted = rng.random() < 0.035
        lines.append(
            f"{when:%Y-%m-%d %H:%M:%S},v{rng.randrange(4000)},{rng.choice(CHANNELS)},"
            f"{rng.choice(DEVICES)},{1 + int(rng.expovariate(0.4))},"
            f"{rng.expovariate(1 / 180):.1f},{str(converted).lower()},"
            f"{rng.uniform(20, 200) if converted else 0:.2f}"
        )
    (folder / "data" / "sessions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    per_file = -(-kpis // files)
    n = 0
    for f in range(files):
        out = [
            "kpispec: 1",
            "scorecard:",
            f"  id: card{f}",
            f"  title: Scorecard {f}",
            f"  description: Generated scorecard **{f}** of the benchmark.",
            f"  owner: {{name: Owner {f % 7}, email: owner{f % 7}@example.com}}",
            f"  locale: {['en', 'nb', 'da'][f % 3]}",
            "kpis:",
        ]
        for k in range(per_file):
            if n == kpis:
                break
            formula, unit, direction, target = FORMULAS[n % len(FORMULAS)]
            out += [
                f"  - id: k{n}",
                f"    name: KPI {n} ({formula.split('(')[0]})",
                f"    description: What KPI {n} measures, with a [link](https://example.com/k{n}).",
                f"    group: Group {k % 4}",
                f"    tags: [t{n % 5}, t{n % 3}x]",
                "    source: sessions",
                f"    formula: {formula}",
                f"    unit: {unit}",
                f"    direction: {direction}",
            ]
            if n % 2 == 0:
                out.append("    dimensions: [channel, device]")
            if target:
                out.append(f"    target: {target}")
            n += 1
        (folder / "cards" / f"card{f}.yaml").write_text("\n".join(out) + "\n", encoding="utf-8")
    assert n == kpis, (n, kpis)


def validate(doc: dict[str, Any], kpis: int, history: int) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "schemas" / "results.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(doc)
    all_kpis = [k for card in doc["scorecards"] for k in card["kpis"]]
    assert len(all_kpis) == kpis, len(all_kpis)
    assert all(len(k["series"]) == history for k in all_kpis)


def timed(action: Any, runs: int, scratch: Path) -> list[float]:
    """Wall times of ``runs`` calls of ``action(out)``, each into a fresh folder ``out``
    (removed after the clock stopped), after one warm-up call."""
    times = []
    for run in range(runs + 1):
        out = scratch / f"out{run}"
        start = time.perf_counter()
        action(out)
        elapsed = time.perf_counter() - start
        if run:
            times.append(elapsed)
        shutil.rmtree(out, ignore_errors=True)
    return times


def phases(results: Results, scratch: Path) -> None:
    """The best of three of each phase of `render`, through kpispec's internals."""
    from kpispec.report import pages as site_pages
    from kpispec.report import site
    from kpispec.report.views import kpi_view

    def best(action: Any) -> tuple[float, Any]:
        times, result = [], None
        for _ in range(3):
            start = time.perf_counter()
            result = action()
            times.append(time.perf_counter() - start)
        return min(times), result

    views, _ = best(lambda: [kpi_view(c, k, c.locale) for c, k in results.kpis()])
    pages, _ = best(lambda: site_pages._pages(results))
    strings, files = best(lambda: site_pages.render(results))
    runs = iter(range(3))
    write, _ = best(lambda: site.write_site(files, scratch / f"phase{next(runs)}"))
    print(
        f"phases: kpi_view of every KPI once {views:.3f}s; _pages (views, contexts) {pages:.3f}s;"
    )
    print(f"        site.render (every file as a string) {strings:.3f}s; write_site {write:.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kpis", type=int, default=500)
    parser.add_argument("--files", type=int, default=25)
    parser.add_argument("--history", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    opts = parser.parse_args()

    import kpispec

    with tempfile.TemporaryDirectory(prefix="kpispec-bench-build-") as tmp:
        folder = Path(tmp)
        project = folder / "project"
        generate(project, opts.kpis, opts.files, opts.history)
        start = time.perf_counter()
        results = kpispec.evaluate(project, as_of=AS_OF)
        evaluated = time.perf_counter() - start
        doc = to_dict(results)
        validate(doc, opts.kpis, opts.history)
        members = sum(
            len(b["members"]) for c in doc["scorecards"] for k in c["kpis"] for b in k["breakdowns"]
        )
        print(
            f"project: {opts.kpis} KPIs in {opts.files} scorecards, history {opts.history}, "
            f"{members} breakdown members; evaluated in {evaluated:.2f}s; "
            "the results document is schema-valid"
        )
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {opts.runs} runs each")

        probe = folder / "probe"
        files = kpispec.render(results, probe)
        size = sum(p.stat().st_size for p in probe.rglob("*") if p.is_file())
        print(f"site: {len(files)} files, {size / 2**20:.1f} MiB")
        shutil.rmtree(probe)

        def render(out: Path) -> None:
            kpispec.render(results, out)

        def evaluate(out: Path) -> None:
            kpispec.evaluate(project, as_of=AS_OF)

        def cli(out: Path) -> None:
            result = subprocess.run(
                [*KPISPEC_BUILD, str(project), "-o", str(out), "--as-of", AS_OF],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                sys.exit(f"kpispec build failed ({result.returncode}):\n{result.stderr}")

        for label, action in (
            ("render (in process)", render),
            ("evaluate (in process)", evaluate),
            ("build CLI (whole)", cli),
        ):
            t = timed(action, opts.runs, folder)
            print(f"{label:22s} best {min(t):.3f}s  median {statistics.median(t):.3f}s")

        if opts.profile:
            phases(results, folder)
            profiler = cProfile.Profile()
            out = folder / "profiled"
            profiler.enable()
            kpispec.render(results, out)
            profiler.disable()
            for key, count in (("cumulative", 25), ("tottime", 15)):
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(count)
                print(text.getvalue())


if __name__ == "__main__":
    main()
