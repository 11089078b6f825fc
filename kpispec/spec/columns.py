"""Learn a source's columns and their kinds cheaply (a CSV sample, Parquet metadata).

Validation type-checks formulas with these kinds. A kind is claimed only where the
engine's reader is sure to agree; any doubt leaves the column's kind unknown, which
checks nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kpispec.confine import glob_paths, has_magic, inside
from kpispec.files import is_file
from kpispec.formula.kinds import Kind
from kpispec.spec.model import ColumnType, Source

#: Rows the engine infers a CSV column's type from; validation reads the same rows.
CSV_INFER_ROWS = 10_000

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
    kinds: Mapping[str, Kind] = field(default_factory=dict)  #: the columns of known kind


DECLARED_KINDS = {
    ColumnType.STRING: Kind.TEXT,
    ColumnType.INTEGER: Kind.NUMBER,
    ColumnType.NUMBER: Kind.NUMBER,
    ColumnType.BOOLEAN: Kind.BOOLEAN,
    ColumnType.DATE: Kind.DATE,
    ColumnType.DATETIME: Kind.TIMESTAMP,
}


def polars_kind(dtype: Any) -> Kind:
    """The kind of a Polars data type (Polars is imported only by whoever holds one)."""
    import polars as pl

    if dtype == pl.Null:
        return Kind.NULL
    if dtype == pl.Boolean:
        return Kind.BOOLEAN
    if dtype.is_numeric():
        return Kind.NUMBER
    if isinstance(dtype, pl.Datetime):
        return Kind.TIMESTAMP
    if dtype == pl.Date:
        return Kind.DATE
    if isinstance(dtype, pl.Duration):
        return Kind.DURATION
    return Kind.TEXT


# What the engine's CSV reader (Polars, with dates parsed) surely reads as each kind.
_INTEGER = re.compile(r"-?\d{1,18}")
_FLOAT = re.compile(r"[-+]?(\d*\.\d+([eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+\.)")
_BOOLEAN = re.compile(r"(?i:true|false)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?")
_DIGIT = re.compile(r"\d")
_NOT_TEXT = frozenset({"inf", "+inf", "-inf", "nan", "+nan", "-nan"})


def _value_kind(text: str) -> Kind:
    """The kind one CSV value is read as; UNKNOWN when the reader might differ."""
    if _INTEGER.fullmatch(text) or _FLOAT.fullmatch(text):
        return Kind.NUMBER
    if _BOOLEAN.fullmatch(text):
        return Kind.BOOLEAN
    if _DATE.fullmatch(text):
        return Kind.DATE if _parses(date.fromisoformat, text) else Kind.UNKNOWN
    if _TIMESTAMP.fullmatch(text):
        return Kind.TIMESTAMP if _parses(datetime.fromisoformat, text) else Kind.UNKNOWN
    if _DIGIT.search(text) or text.lower() in _NOT_TEXT:
        return Kind.UNKNOWN  # perhaps a date or number in a form the reader knows
    return Kind.TEXT  # no number or date is written without a digit


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def csv_kinds(header: list[str], rows: Iterable[list[str]]) -> dict[str, Kind]:
    """The kinds of a CSV's columns from its first rows: one text value makes text."""
    seen: list[set[Kind]] = [set() for _ in header]
    for row in rows:
        for i, value in enumerate(row[: len(header)]):
            if value:
                seen[i].add(_value_kind(value))
    kinds = {}
    for name, found in zip(header, seen, strict=True):
        if Kind.TEXT in found:
            kinds[name.strip()] = Kind.TEXT
        elif len(found) == 1 and Kind.UNKNOWN not in found:
            kinds[name.strip()] = found.pop()
    return kinds


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
    """The columns of the first file and the kinds the engine will read them as.

    A CSV's kinds come from its first rows (the rows the engine infers from), a
    Parquet file's from its schema. Declared columns (``columns:``) take their declared
    kind.
    """
    if not files:
        return None
    first = files[0]
    fmt = source_format(source)
    try:
        if fmt == "csv":
            with first.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.reader(handle, delimiter="\t" if first.suffix == ".tsv" else ",")
                header = next(reader, None)
                if header is None:
                    return None
                sample = (row for _, row in zip(range(CSV_INFER_ROWS), reader, strict=False))
                kinds = csv_kinds(header, sample)
            names = frozenset(h.strip() for h in header)
            return KnownColumns(names, f"the CSV header of {first.name}", _declared(kinds, source))
        if fmt == "parquet":
            import polars as pl

            schema = pl.read_parquet_schema(first)
            kinds = {name: polars_kind(dtype) for name, dtype in schema.items()}
            return KnownColumns(
                frozenset(schema), f"the Parquet metadata of {first.name}", _declared(kinds, source)
            )
    except Exception:  # a broken file is reported when it is evaluated, with its own error
        return None
    return None


def _declared(kinds: dict[str, Kind], source: Source) -> dict[str, Kind]:
    """Declared columns are read as their declared kind."""
    return {**kinds, **{name: DECLARED_KINDS[t] for name, t in source.columns.items()}}
