"""Writing the sample tables: one place for the file format of specs/data/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


def write_tables(out: Path, tables: dict[str, pl.DataFrame]) -> list[Path]:
    """Write each table as ``out/<name>.parquet`` (zstd, with statistics); return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = out / f"{name}.parquet"
        frame.write_parquet(path, compression="zstd", compression_level=22, statistics=True)
        paths.append(path)
    return paths
