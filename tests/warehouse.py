"""Projects whose data lives in a real PostgreSQL server, as `table:` sources.

    with running_server() as server:
        Warehouse(server).move(root)   # the project at root now reads tables

Each project gets a schema of its own; each Parquet file a source reads becomes a table
of it with the PostgreSQL type of each column (timestamps without a zone stay naive), and
every source that read ``<name>.parquet`` reads the table ``<schema>.<name>`` on the
connection ``warehouse`` instead, with everything else it says unchanged.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from helpers import yaml12
from pg import PostgresServer

URL_ENV = "KPISPEC_TEST_WAREHOUSE_URL"
_numbers = itertools.count()


def pg_type(dtype: Any) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype in (pl.Int8, pl.Int16, pl.UInt8):
        return "smallint"
    if dtype in (pl.Int32, pl.UInt16):
        return "integer"
    if dtype.is_integer():
        return "bigint"
    if dtype == pl.Float32:
        return "real"
    if dtype.is_numeric():
        return "double precision"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp" if dtype.time_zone is None else "timestamptz"
    return "text"


class Warehouse:
    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        os.environ[URL_ENV] = server.url

    def load(self, schema: str, tables: dict[str, pl.DataFrame]) -> None:
        with self.server.connect() as conn:
            for name, df in tables.items():
                columns = ", ".join(f'"{c}" {pg_type(t)}' for c, t in df.schema.items())
                conn.execute(f'create table "{schema}"."{name}" ({columns})')
                names = ", ".join(f'"{c}"' for c in df.columns)
                copy = f'copy "{schema}"."{name}" ({names}) from stdin'
                with conn.cursor() as cur, cur.copy(copy) as out:
                    for row in df.iter_rows():
                        out.write_row(row)

    def move(self, root: Path) -> Path:
        """Move the data of every file source of the project at ``root`` into tables of a
        schema of its own, and make the sources read those tables (in place)."""
        schema = f"p{next(_numbers)}_{os.getpid()}"
        with self.server.connect() as conn:
            conn.execute(f'create schema "{schema}"')
        tables: dict[str, pl.DataFrame] = {}
        files = [f for f in sorted(root.rglob("*.yaml")) if f.name != "kpispec.yaml"]
        for file in files:
            spec = yaml12(file.read_text(encoding="utf-8"))
            for source in spec.get("sources") or []:
                path = source.pop("path", None)
                if path is None:
                    continue
                name = Path(path).stem
                if name not in tables:
                    tables[name] = pl.read_parquet(file.parent / path)
                source["table"] = f"{schema}.{name}"
                source["connection"] = "warehouse"
            file.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
        self.load(schema, tables)
        with open(root / "kpispec.yaml", "a", encoding="utf-8") as f:
            f.write("\nconnections:\n  warehouse:\n    url: ${" + URL_ENV + "}\n")
        return root
