"""The engine finds a CSV's types quickly (``sources.csv_schema``): they must be the types
Polars infers with dates parsed, on every CSV the tests and the example read and on the
edge cases of dates below."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from kpispec.engine.sources import csv_schema
from kpispec.spec.columns import CSV_INFER_ROWS

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(
    p
    for folder in (ROOT / "tests", ROOT / "specs")
    for p in folder.rglob("*.csv")
    if p.stat().st_size < 5_000_000
)

EDGES = {
    "dates": "d\n2026-01-17\n2026-02-28\n",
    "not_a_date": "d\n2026-01-17\n2026-02-30\n",
    "seconds": "t\n2026-01-17 01:21:37\n2026-01-18 00:00:00\n",
    "t_form": "t\n2026-01-17T01:21:37\n2026-01-18T00:00:00\n",
    "mixed_forms": "t\n2026-01-17T01:21:37\n2026-01-18 00:00:00\n",
    "date_and_time": "t\n2026-01-17\n2026-01-18 00:00:00\n",
    "fraction": "t\n2026-01-17 01:21:37.5\n2026-01-18 00:00:00.25\n",
    "minutes": "t\n2026-01-17 01:21\n2026-01-18 00:00\n",
    "offsets": "t\n2026-01-17T01:21:37Z\n2026-01-18T00:00:00+02:00\n",
    "day_first": "t\n17/01/2026\n18/01/2026\n",
    "numbers": "t\n20260117\n20260118\n",
    "digits_then_text": "t\n2026-01-17\nsoon\n",
    "text": "c\nads\nemail\n",
    "ids": "v\n1a\n2b\n",
    "empty": "x,y\n1,\n2,\n",
    "quoted": 't\n"2026-01-17 01:21:37"\n"2026-01-18 00:00:00"\n',
}


def _polars(path: Path) -> dict[str, object]:
    lf = pl.scan_csv(path, try_parse_dates=True, infer_schema_length=CSV_INFER_ROWS)
    return dict(lf.collect_schema())


def test_there_are_csv_files_to_compare() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_the_types_are_those_polars_infers(path: Path) -> None:
    try:
        expected: dict[str, object] | None = _polars(path)
    except pl.exceptions.PolarsError:  # a broken file: then Polars must be left to say why
        expected = None
    fast = csv_schema(path, ",", {})
    assert fast is None or fast == expected


@pytest.mark.parametrize("name", sorted(EDGES))
def test_the_types_of_dates_are_those_polars_infers(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(EDGES[name], encoding="utf-8")
    fast = csv_schema(path, ",", {})
    assert fast is None or fast == _polars(path)


def test_the_common_forms_need_no_inference_by_polars(tmp_path: Path) -> None:
    for name in ("dates", "seconds", "t_form", "text", "empty", "quoted"):
        path = tmp_path / f"{name}.csv"
        path.write_text(EDGES[name], encoding="utf-8")
        assert csv_schema(path, ",", {}) is not None, name
