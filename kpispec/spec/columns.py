"""Learn a source's columns cheaply (a CSV header, Parquet metadata), for validation."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from kpispec.confine import glob_paths, has_magic, inside
from kpispec.files import is_file
from kpispec.spec.model import Source

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
}


@dataclass(frozen=True)
class KnownColumns:
    names: frozenset[str]
    how: str  #: "its CSV header data/sessions.csv", for messages


def source_format(source: Source) -> str | None:
    """The source's file format: ``format:`` or the file extension."""
    if source.format:
        return "ndjson" if source.format == "jsonl" else source.format
    if source.path is None:
        return None
    return SUFFIX_FORMATS.get(Path(source.path.replace("*", "x")).suffix.lower())


def source_base(source: Source) -> Path:
    """Paths in a spec file are relative to the folder of that file."""
    return source.file.parent


def matching_files(source: Source, within: Path | None = None) -> list[Path]:
    """The files a source reads: its path, or the files its glob matches (sorted).

    A glob lists no folder outside ``within`` (the project root, unless reading outside
    it is allowed) and gives such a folder itself instead. Whether the paths stay inside
    is judged by :mod:`kpispec.confine` (the caller's job: validation reports E410, the
    engine refuses to read them).
    """
    if source.path is None:
        return []
    if has_magic(source.path):
        found = glob_paths(source_base(source), source.path, within)
        return [p for p in found if is_file(p) or (within and not inside(p, within))]
    path = source_base(source) / source.path
    return [path] if is_file(path) else []


def read_columns(source: Source, files: list[Path]) -> KnownColumns | None:
    """The column names of the first file, if they can be read without reading rows."""
    if not files:
        return None
    first = files[0]
    fmt = source_format(source)
    try:
        if fmt == "csv":
            with first.open(newline="", encoding="utf-8-sig") as handle:
                header = next(
                    csv.reader(handle, delimiter="\t" if first.suffix == ".tsv" else ","), None
                )
            if header is None:
                return None
            return KnownColumns(
                frozenset(h.strip() for h in header), f"the CSV header of {first.name}"
            )
        if fmt == "parquet":
            import polars as pl

            return KnownColumns(
                frozenset(pl.read_parquet_schema(first).names()),
                f"the Parquet metadata of {first.name}",
            )
    except Exception:  # a broken file is reported when it is evaluated, with its own error
        return None
    return None
