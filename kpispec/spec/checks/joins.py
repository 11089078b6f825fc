"""Lookup joins of sources: the sources they name (E401), cycles (E416), key columns (E306),
and the joined columns a source gains: ``<source>.<column>``, with their kinds."""

from __future__ import annotations

from kpispec.formula.kinds import Kind
from kpispec.spec.checks.context import Context
from kpispec.spec.checks.formulas import source_filter
from kpispec.spec.columns import KnownColumns
from kpispec.spec.model import Join, Source
from kpispec.suggest import did_you_mean

#: What to do about join keys of two types.
KEY_HINT = (
    "join keys must be of one type: declare both under `columns:` (e.g. both `string`), "
    "or cast one in the source's `sql:`"
)


def key_problem(mine: str, a: Kind | None, theirs: str, b: Kind | None) -> str | None:
    """Why two join keys do not compare (a number and a text, a date and a timestamp), or
    None when they do or a kind is unknown; every engine refuses them alike."""
    unknown = (None, Kind.UNKNOWN, Kind.NULL)
    if a in unknown or b in unknown or a == b:
        return None
    return f"join key `{mine}` is {a} but `{theirs}` is {b}; keys of two types never match alike on every engine"


def joined_name(join: Join, column: str) -> str:
    """How a joined column is named in the joining source: ``planes.seats``."""
    return f"{join.source}.{column}"


def check_joins(ctx: Context) -> None:
    """Report wrong joins; give every source the columns (and kinds) of what it joins."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(source: Source) -> None:
        state[source.id] = 1
        stack.append(source.id)
        for join in source.joins:
            other = ctx.sources.get(join.source)
            at = join.locs.get("source", join.loc)
            if other is None:
                ctx.out.add(
                    "E401",
                    f"source `{source.id}` joins unknown source `{join.source}`",
                    at,
                    did_you_mean(join.source, ctx.sources) or ctx.sources_hint(),
                )
                continue
            if state.get(other.id) == 1:
                cycle = [*stack[stack.index(other.id) :], other.id]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    ctx.out.add(
                        "E416",
                        f"source joins form a cycle: {' -> '.join(cycle)}",
                        at,
                        "a lookup joins toward the details it adds (orders -> customers -> "
                        "segments), never back to a source that joins it",
                    )
                continue
            if state.get(other.id) is None:
                visit(other)
        stack.pop()
        state[source.id] = 2
        _join_columns(ctx, source)
        source_filter(ctx, source)  # it may read the joined columns

    for source in ctx.sources.values():
        _twice(ctx, source)
        if source.id not in state:
            visit(source)


def _twice(ctx: Context, source: Source) -> None:
    """E400: a source that joins another twice (both would name its columns alike)."""
    seen: set[str] = set()
    for join in source.joins:
        if join.source in seen:
            ctx.out.add(
                "E400",
                f"source `{source.id}` joins `{join.source}` twice; its columns are named "
                f"`{join.source}.<column>`, so the second join could not be told apart",
                join.locs.get("source", join.loc),
                f"define a second source on the same data under another id (e.g. "
                f"`{join.source}_2`) and join that one",
            )
        seen.add(join.source)


def _join_columns(ctx: Context, source: Source) -> None:
    """Check the keys; add the joined sources' columns to the source's known columns. When
    the columns of a joined source are unknown, so are the source's (nothing is checked)."""
    if not source.joins:
        return
    known = ctx.columns.get(source.id)
    read = ctx.file_columns.get(source.id)
    names = set(known.names) if known is not None else None
    kinds = dict(read.kinds) if read is not None else {}
    for join in source.joins:
        other = ctx.sources.get(join.source)
        if other is None:
            continue
        theirs = ctx.columns.get(other.id)
        on = join.locs.get("on", join.loc)
        for mine, their in join.on:
            ctx.column_exists(mine, source, on, "join key")
            ctx.column_exists(their, other, on, "join key")
            mine_kind = kinds.get(mine)
            their_read = ctx.file_columns.get(other.id)
            their_kind = their_read.kinds.get(their) if their_read is not None else None
            problem = key_problem(mine, mine_kind, their, their_kind)
            if problem is not None:
                ctx.out.add("E314", problem, on, KEY_HINT)
        if theirs is None or names is None:
            names = None
            continue
        names |= {joined_name(join, c) for c in theirs.names}
        their_kinds = ctx.file_columns.get(other.id)
        if their_kinds is not None:
            kinds.update({joined_name(join, c): k for c, k in their_kinds.kinds.items()})
    if names is None:
        ctx.columns.pop(source.id, None)
        ctx.file_columns.pop(source.id, None)
        return
    how = (known.how if known is not None else "its columns") + " and the sources it joins"
    ctx.columns[source.id] = KnownColumns(frozenset(names), how)
    if read is not None:
        ctx.file_columns[source.id] = KnownColumns(read.names | frozenset(names), how, kinds)
