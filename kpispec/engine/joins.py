"""Lookup joins on the Polars engine: a source's rows with the columns of what it joins.

A join is many-to-one: the joined source (a lookup table: planes by tail number, campaigns
by id) is read whole, with its own joins and declared types applied, checked to hold each
key once (D112 otherwise, with an example), and left-joined on the key, so every row of
the source stays once; rows without a match get nulls, and a null key matches nothing
(as in SQL). Its columns are named ``<source>.<column>``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kpispec.diagnostics import DataError
from kpispec.engine.sources import Opened, data_error, find_bad_value, first_line, open_source
from kpispec.spec.checks.joins import KEY_HINT, joined_name, key_problem
from kpispec.spec.columns import polars_kind
from kpispec.spec.model import Join, Project, Source

if TYPE_CHECKING:
    import polars as pl


def with_joins(
    opened: Opened, project: Project, frames: dict[str, pl.DataFrame] | None = None
) -> Opened:
    """``opened`` with the columns of every source it joins (each through its own joins);
    ``frames`` replace sources' data (spec tests)."""
    import polars as pl

    source = opened.source
    if not source.joins:
        return opened
    raw, schema = opened.raw, dict(opened.schema)
    for join in source.joins:
        for mine, _ in join.on:
            if mine in schema:
                continue
            if frames is None:
                opened.column(mine, join.locs.get("on", join.loc))  # D104, naming it
            # a spec test's rows without the key: none of them matches
            raw = raw.with_columns(pl.lit(None, pl.String).alias(mine))
            schema[mine] = pl.String
    opened = replace(opened, raw=raw, schema=schema)
    for number, join in enumerate(source.joins):
        other = project.source(join.source)
        assert other is not None  # validation said so
        frame = None
        if frames is not None:  # a spec test: a joined source without rows has none
            frame = _test_rows(frames.get(other.id), other, join, project)
        inner = with_joins(open_source(other, project, frame=frame), project, frames)
        keys = [f"__join{number}_{i}" for i in range(len(join.on))]
        lookup = inner.raw.select(
            *(inner.read_as(theirs).alias(k) for (_, theirs), k in zip(join.on, keys, strict=True)),
            *(inner.read_as(c).alias(joined_name(join, c)) for c in inner.schema),
        ).filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        try:
            found = lookup.collect()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            bad = find_bad_value(inner, list(inner.schema))  # the value, at its file line
            if bad is not None:
                raise DataError([bad]) from None
            raise data_error(
                source, "D102", f"cannot read `{other.id}` to join it: {first_line(exc)}",
                None, join.loc,
            ) from None  # fmt: skip
        _unique(found, keys, join, source)
        left = raw.with_columns(
            opened.read_as(mine).alias(k) for (mine, _), k in zip(join.on, keys, strict=True)
        )
        left_types = left.select(keys).collect_schema()
        for (mine, theirs), k in zip(join.on, keys, strict=True):
            check_keys(source, join, mine, left_types[k], theirs, found.schema[k])
        common = {k: _common(left_types[k], found.schema[k]) for k in keys}
        left = left.with_columns(pl.col(k).cast(common[k]) for k in keys)
        right = found.lazy().with_columns(pl.col(k).cast(common[k]) for k in keys)
        raw = left.join(right, on=keys, how="left").drop(keys)
        for c in inner.schema:
            schema[joined_name(join, c)] = found.schema[joined_name(join, c)]
    return replace(opened, raw=raw, schema=schema)


def _test_rows(
    given: pl.DataFrame | None, source: Source, join: Join, project: Project
) -> pl.DataFrame:
    """A spec test's rows of a joined source (none if it gives none), with every column
    the source really has and the join's key: those the test leaves out are null."""
    import polars as pl

    from kpispec.engine.spectests import real_schema

    schema = real_schema(source, project)
    for _, theirs in join.on:
        schema.setdefault(theirs, pl.String)
    frame = given if given is not None else pl.DataFrame(schema=schema)
    missing = [c for c in schema if c not in frame.columns]
    return frame.with_columns(pl.lit(None, schema[c]).alias(c) for c in missing)


def check_keys(source: Source, join: Join, mine: str, a: Any, theirs: str, b: Any) -> None:
    """D105 for join keys of two kinds (a number and a text): every engine refuses them,
    rather than each matching them its own way."""
    problem = key_problem(mine, polars_kind(a), theirs, polars_kind(b))
    if problem is not None:
        raise data_error(source, "D105", problem, KEY_HINT, join.locs.get("on", join.loc))


def _common(a: Any, b: Any) -> Any:
    """The type two key columns are compared in: theirs when equal, integers as 128-bit
    integers (no two ids collide), other numbers as floats, else text."""
    import polars as pl

    if a == b:
        return a
    if a.is_integer() and b.is_integer():
        return pl.Int128
    if a.is_numeric() and b.is_numeric():
        return pl.Float64
    return pl.String


def _unique(found: pl.DataFrame, keys: list[str], join: Join, source: Source) -> None:
    """D112 when a key of the joined source is there more than once."""
    import polars as pl

    repeated = found.group_by(keys, maintain_order=True).len().filter(pl.col("len") > 1)
    if repeated.height:
        example = repeated.row(0)
        raise not_unique(join, source, list(example[:-1]), example[-1])


def not_unique(join: Join, source: Source, values: list[Any], count: Any) -> DataError:
    """D112: the joined source holds a key more than once (every engine says it so)."""
    value = ", ".join(
        f"{theirs} = {v!r}" if isinstance(v, str) else f"{theirs} = {v}"
        for (_, theirs), v in zip(join.on, values, strict=True)
    )
    return data_error(
        source,
        "D112",
        f"joins `{join.source}` on {', '.join(t for _, t in join.on)}, but that key is not "
        f"unique in `{join.source}`: {count} rows have {value}",
        "a lookup holds each key once: remove the duplicates, or join on a key that is "
        "unique (several columns: on: [a, b])",
        join.locs.get("on", join.loc),
    )
