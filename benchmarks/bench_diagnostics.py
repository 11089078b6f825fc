"""Benchmark: `kpispec validate` on projects with thousands of diagnostics.

Two generated projects, each validated by the command line in a fresh process:

- one KPI with 8,000 unknown keys (8,000 errors E200);
- 20,000 small KPIs in one file (20,000 warnings W601).

Both were quadratic in the number of diagnostics (de-duplication by list membership and
splitting the file into lines once per diagnostic). Run from the repository root:

    .venv/bin/python benchmarks/bench_diagnostics.py [--runs 3]

``PYTHONPATH=<an older checkout>`` measures another version with the same interpreter.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = [
    "kpispec: 1",
    "scorecard: {id: c, title: C, owner: o}",
    "sources:",
    "  - {id: s, path: s.csv, time: at}",
    "kpis:",
]


def unknown_keys(folder: Path, n: int) -> Path:
    lines = [*HEAD, "  - id: k", "    source: s", "    formula: count(*)"]
    lines += [f"    unknown_key_{i}: 1" for i in range(n)]
    return _write(folder, lines)


def many_kpis(folder: Path, n: int) -> Path:
    return _write(
        folder, HEAD + [f"  - {{id: k{i}, source: s, formula: count(*)}}" for i in range(n)]
    )


def _write(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "kpispec.yaml").write_text("kpispec: 1\n")
    (folder / "c.yaml").write_text("\n".join(lines) + "\n")
    (folder / "s.csv").write_text("at,x\n")
    return folder


def timed(project: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kpispec", "validate", str(project)],
            cwd=project.parent,  # not the checkout: `-m` would import the kpispec found here
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=600,
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for what, project in (
            ("8,000 unknown keys", unknown_keys(Path(tmp) / "keys", 8000)),
            ("20,000 KPIs", many_kpis(Path(tmp) / "kpis", 20_000)),
        ):
            times = timed(project, args.runs)
            print(
                f"{what}: median {statistics.median(times):.2f} s, best {min(times):.2f} s "
                f"({args.runs} runs)"
            )


if __name__ == "__main__":
    main()
