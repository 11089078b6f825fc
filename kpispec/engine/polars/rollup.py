"""Roll a scan's partials up to each group's periods and groupings, and finish them.

The partials of a scan are a small table: one row per bucket of time and combination of
dimension members. For each group, every bucket is joined to the periods whose window
holds it (``Mapping.pairs``), then the partials are combined per (period, member) of each
dimension and per period for the total; the aggregates are finished from the combined
partials (:mod:`kpispec.plan.partials` has the rules).
"""

from __future__ import annotations

import functools
from typing import TypeVar

import polars as pl

from kpispec.plan.model import Aggregate, Group, Partial, Scan
from kpispec.plan.partials import Op
from kpispec.plan.windows import Mapping


def _combine(partials: list[Partial], by_op: dict[tuple[Op, str], str]) -> list[pl.Expr]:
    """How each partial combines over the parts of a coarser grouping."""
    out = []
    for p in partials:
        x = pl.col(p.column)
        if p.op in (Op.ROWS, Op.COUNT) or p.op is Op.SUM:
            expr = x.sum()
        elif p.op is Op.MIN:
            expr = x.min()
        elif p.op is Op.MAX:
            expr = x.max()
        else:  # Op.M2, by the parallel formula: parts' m2 + n_i (mean_i - mean)^2
            n = pl.col(by_op[(Op.COUNT, p.input.column)])
            s = pl.col(by_op[(Op.SUM, p.input.column)])
            spread = (n * (s / n - s.sum() / n.sum()) ** 2).filter(n > 0).sum()
            expr = x.fill_null(0.0).sum() + spread
        out.append(expr.alias(p.column))
    return out


def finish(aggregate: Aggregate) -> pl.Expr:
    """An aggregate's value from its combined partials (SQL's nulls over no values)."""
    assert aggregate.partials is not None
    cols = [pl.col(p.column) for p in aggregate.partials]
    name = aggregate.call.name
    if name == "count":
        expr = cols[0]
    elif name == "sum":
        expr = pl.when(cols[1] > 0).then(cols[0])
    elif name in ("avg", "share"):
        expr = pl.when(cols[1] > 0).then(cols[0] / cols[1])
    elif name in ("min", "max"):
        expr = cols[0]
    else:  # stddev: the sample deviation
        expr = pl.when(cols[1] > 1).then((cols[2] / (cols[1] - 1)).sqrt())
    return expr.alias(aggregate.column)


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


@functools.lru_cache(maxsize=64)
def _pairs(mapping: Mapping) -> pl.DataFrame:
    return pl.DataFrame(mapping.pairs, schema={"__p": pl.Int64, "__b": pl.Int64}, orient="row")


def place(frame: FrameT, mapping: Mapping) -> FrameT:
    """Rows (of data or of partials) with a bucket ``__b`` -> one row per period whose
    window holds the bucket, with its period ``__p`` (buckets before ``floor`` fold into
    one): the one place windows are applied, for scans and row passes alike."""
    if mapping.one_each:  # each period its own bucket: no join needed
        periods = [p for p, _ in mapping.pairs]
        kept = frame.filter(pl.col("__b").is_between(periods[0], periods[-1]))
        return kept.rename({"__b": "__p"})
    if mapping.floor is not None:
        folded = pl.max_horizontal(pl.col("__b"), pl.lit(mapping.floor - 1, pl.Int64))
        frame = frame.with_columns(folded.alias("__b"))
    pairs = _pairs(mapping)
    joined = frame.join(
        pairs if isinstance(frame, pl.DataFrame) else pairs.lazy(),
        on="__b",
        how="inner",
        maintain_order="left",
    )
    return joined.drop("__b")


def roll_up(scan: Scan, table: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Group number -> its decomposed aggregates per (period, dimension, member)."""
    by_op = {(p.op, p.input.column): p.column for p in scan.partials}
    out: dict[int, pl.DataFrame] = {}
    for group in scan.groups:
        out[group.number] = _group(group, table, by_op)
    return out


def _group(group: Group, table: pl.DataFrame, by_op: dict[tuple[Op, str], str]) -> pl.DataFrame:
    assert group.mapping is not None
    aggregates = group.decomposed
    used: dict[str, Partial] = {}
    for a in aggregates:
        assert a.partials is not None
        for p in a.partials:
            used[p.column] = p
            if p.op is Op.M2:  # the parallel formula reads the count and sum too
                for op in (Op.COUNT, Op.SUM):
                    column = by_op[(op, p.input.column)]
                    used.setdefault(column, Partial(column, op, p.input))
    dims = group.dimensions
    # in a fixed order, so that sums of floats come out the same on every run
    rows = table.select("__b", *dims, *used).sort("__b", *dims, nulls_last=False)
    placed = place(rows, group.mapping)
    combine = _combine(list(used.values()), by_op)
    finished = [finish(a) for a in aggregates]
    frames = [
        placed.group_by("__p", maintain_order=True)
        .agg(combine)
        .select(
            "__p",
            pl.lit(None, pl.String).alias("__dimension"),
            pl.lit(None, pl.String).alias("__member"),
            *finished,
        )
    ]
    for dim in dims:
        frames.append(
            placed.group_by("__p", dim, maintain_order=True)
            .agg(combine)
            .select(
                "__p",
                pl.lit(dim).alias("__dimension"),
                pl.col(dim).cast(pl.String).alias("__member"),
                *finished,
            )
        )
    return pl.concat(frames, how="vertical_relaxed")
