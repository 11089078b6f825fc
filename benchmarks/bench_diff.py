"""Benchmark: `kpispec diff` of the example project with one changed KPI.

Run from the repository root:

    .venv/bin/python benchmarks/bench_diff.py [--runs 7]

A throwaway repository holds specs/ (37 KPIs, 11 Parquet sources) committed on `main`;
the working tree changes the revenue formula (tests/diff_example.py's first edit). Three
contenders, each a fresh process per run, round robin after a warm-up:

- diff: `python -m kpispec diff specs --base main --as-of 2026-11-22 --format json`;
- eval: `python -m kpispec eval specs --as-of 2026-11-22 --format json`, one evaluation of
  the whole project (what a diff that evaluates everything costs per revision);
- eval x2: the same twice in a row, the cost of a diff that evaluated both revisions whole.

Wall time is measured here; CPU time (user + system) and peak RSS are the child's, from
`os.wait4`. Medians over the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import diff_example  # noqa: E402

AS_OF = "2026-11-22"


def run(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "kpispec", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "GITHUB_STEP_SUMMARY": ""},
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stderr is not None
    err = child.stderr.read()
    child.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kpispec {' '.join(args)} failed: {err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo = diff_example.make(Path(folder))
        diff_args = ["diff", "specs", "--base", "main", "--as-of", AS_OF, "--format", "json"]
        eval_args = ["eval", "specs", "--as-of", AS_OF, "--format", "json"]

        def twice() -> tuple[float, float, float]:
            a, b = run(eval_args, repo), run(eval_args, repo)
            return a[0] + b[0], a[1] + b[1], max(a[2], b[2])

        contenders = {
            "diff": lambda: run(diff_args, repo),
            "eval": lambda: run(eval_args, repo),
            "eval x2": twice,
        }
        for measure in contenders.values():  # warm-up: file cache, bytecode
            measure()
        samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in contenders}
        for _ in range(options.runs):
            for name, measure in contenders.items():
                samples[name].append(measure())
        print(
            f"{'contender':<10} {'wall s':>8} {'CPU s':>8} {'RSS MiB':>8}   ({options.runs} runs, medians)"
        )
        for name, got in samples.items():
            wall = statistics.median(s[0] for s in got)
            cpu = statistics.median(s[1] for s in got)
            rss = statistics.median(s[2] for s in got)
            print(f"{name:<10} {wall:>8.2f} {cpu:>8.2f} {rss:>8.0f}")


if __name__ == "__main__":
    main()
