"""Benchmark: the KPIs of bench_scale.py inside PostgreSQL, kpispec against hand-written SQL.

Run from the repository root (a PostgreSQL server is started for the run, as the tests
start one: Debian's `postgresql` package, or the binaries in $KPISPEC_TEST_PG_BIN):

    .venv/bin/python benchmarks/bench_postgres.py [--rows 10000000] [--runs 3]

The data is bench_scale.py's (generated there once, under benchmarks/.data/). Its three
Parquet tables are loaded into tables of a fresh server (COPY of CSV, 1 M rows at a time;
the load time is reported apart, with `ANALYZE`), and the project is written again with
`table:` sources on a `postgresql://` connection. Two contenders, each in a fresh process
per run, round robin after a warm-up, and checked against each other on every value to
1e-9 before any timing:

- kpispec: `python -m kpispec eval PROJECT --as-of 2026-11-15 --format json -o FILE`
  (sources on a connection are aggregated inside the database);
- postgres: bench_scale.py's hand-written grouping-sets queries, in PostgreSQL's dialect,
  over the same tables.

Wall time is this process's; CPU time is the client process's (from `os.wait4`) and, for
the server, the CPU time the postmaster and its children (the backends) used during the
run (from /proc: utime + stime of the postmaster and of its reaped children). The
client's peak memory is not reported: this process loads the data with Polars, and a
child's peak RSS starts at its parent's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import bench_scale  # noqa: E402
from bench_scale import Values, compare, fill, read_kpispec, run_child  # noqa: E402
from warehouse import pg_type  # noqa: E402

URL_ENV = "KPISPEC_BENCH_PG_URL"


def pg_sql() -> dict[str, str]:
    """bench_scale.py's DuckDB queries, in PostgreSQL's dialect, over the tables."""
    out = {}
    for table, sql in bench_scale.duckdb_sql(Path("."), 1).items():
        path = bench_scale.source_path(table, 1)
        sql = sql.replace(f"read_parquet('{Path('.').joinpath(path).as_posix()}')", table)
        sql = sql.replace("::double", "::double precision")
        sql = sql.replace("strftime(", "to_char(").replace("'%Y-%m')", "'YYYY-MM')")
        out[table] = sql
    return out


def run_postgres(url: str) -> Values:
    import psycopg

    values: Values = {}
    with psycopg.connect(url) as conn:
        conn.execute("set timezone to 'UTC'")
        for sql in pg_sql().values():
            with conn.cursor() as cur:
                cur.execute(sql)
                names = [d.name for d in cur.description]
                rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            fill(values, rows, names[2:])
    return values


def server_cpu(pid: int) -> float:
    """CPU seconds of the postmaster and every child it has reaped (the backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid(server: Any) -> int:
    return int((Path(server.base) / "data" / "postmaster.pid").read_text().splitlines()[0])


def load(server: Any, data: Path) -> float:
    import polars as pl

    start = time.perf_counter()
    with server.connect() as conn:
        for table in bench_scale.TABLES:
            frame = pl.scan_parquet(data / f"{table}.parquet")
            schema = frame.collect_schema()
            columns = ", ".join(f'"{c}" {pg_type(t)}' for c, t in schema.items())
            conn.execute(f'create table "{table}" ({columns})')
            total = frame.select(pl.len()).collect().item()
            with conn.cursor() as cur, cur.copy(f'copy "{table}" from stdin (format csv)') as out:
                for offset in range(0, total, 1_000_000):
                    chunk = frame.slice(offset, 1_000_000).collect()
                    buffer = io.BytesIO()
                    chunk.write_csv(buffer, include_header=False)
                    out.write(buffer.getvalue())
            conn.execute(f'analyze "{table}"')
    return time.perf_counter() - start


def write_project(source: Path, target: Path) -> None:
    import yaml

    target.mkdir(parents=True, exist_ok=True)
    text = (source / "kpispec.yaml").read_text(encoding="utf-8")
    text += "connections:\n  warehouse:\n    url: ${" + URL_ENV + "}\n"
    (target / "kpispec.yaml").write_text(text, encoding="utf-8")
    spec = yaml.safe_load((source / "scale.yaml").read_text(encoding="utf-8"))
    for s in spec["sources"]:
        s["table"] = s.pop("path").split("/")[-1].split(".")[0]
        s["connection"] = "warehouse"
    (target / "scale.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def measure(name: str, project: Path, server: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out, log = Path(tmp) / "values.json", Path(tmp) / "log.txt"
        if name == "kpispec":
            command = bench_scale.kpispec_command(project, out)
        else:
            command = [sys.executable, __file__, "--child", "--out", str(out)]
        before = server_cpu(postmaster_pid(server))
        wall, cpu, rss, code = run_child(command, log)
        server_s = server_cpu(postmaster_pid(server)) - before
        if code != 0:
            sys.exit(f"{name} failed (exit {code}):\n{log.read_text()}")
        values = read_kpispec(out) if name == "kpispec" else json.loads(out.read_text())
    return {"wall_s": wall, "cpu_s": cpu, "rss_mib": rss, "server_s": server_s, "values": values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        opts.out.write_text(json.dumps(run_postgres(os.environ[URL_ENV])))
        return
    from pg import running_server

    data_project = bench_scale.prepare(
        HERE / ".data", opts.rows, opts.seed, 1, bench_scale.CHUNK_ROWS
    )
    with running_server() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ[URL_ENV] = server.url
        loaded = load(server, data_project / "data")
        print(f"{opts.rows:,} sessions loaded into PostgreSQL in {loaded:.1f} s", flush=True)
        project = Path(tmp) / "project"
        write_project(data_project, project)
        names = ["kpispec", "postgres"]
        warm = {n: measure(n, project, server) for n in names}
        problems = compare({n: warm[n]["values"] for n in names})
        if problems:
            print("MISMATCH:", *problems[:20], sep="\n  ")
            sys.exit(1)
        print("the two agree on every KPI, month and channel", flush=True)
        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for _ in range(opts.runs):
            for n in names:
                runs[n].append(measure(n, project, server))
        print("\n| date | rows | runs | contender | wall | client CPU | server CPU |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for n in names:

            def med(key: str, n: str = n) -> float:
                return statistics.median(r[key] for r in runs[n])

            label = "kpispec eval" if n == "kpispec" else "PostgreSQL SQL"
            print(
                f"| {time.strftime('%Y-%m-%d')} | {opts.rows:,} | {opts.runs} | {label} "
                f"| {med('wall_s'):.2f} s | {med('cpu_s'):.2f} s | {med('server_s'):.2f} s |"
            )


if __name__ == "__main__":
    main()
