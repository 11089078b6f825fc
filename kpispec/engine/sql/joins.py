"""Lookup joins in SQL: a source's rows as a ``LEFT JOIN`` of the sources it joins.

The rows a source's queries read become

    (SELECT __s.*, __j0."seats" AS "planes.seats", ...
       FROM <the source's rows> AS __s
       LEFT JOIN <planes' rows, with its own joins> AS __j0 ON __s."tailnum" = __j0."tailnum")

so the aggregate queries are those of any source. A join runs where both sources are:
files on the DuckDB or Spark engine, or tables (and queries) on one connection; a source
that joins one held elsewhere is evaluated by Polars (:mod:`kpispec.engine.joins`). Each
joined key is checked to be unique with one query (D112), as on the Polars engine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlglot import exp

from kpispec.engine.joins import check_keys
from kpispec.engine.sources import Opened, open_source
from kpispec.spec.checks.joins import joined_name
from kpispec.spec.model import Join, Project, Source

if TYPE_CHECKING:
    from kpispec.engine.sql.dialects import Dialect
    from kpispec.engine.sql.run import Database

#: Where a source's rows are: ("files", "") for files on the engine, ("connection", id).
Place = tuple[str, str]


def place_of(source: Source) -> Place:
    return ("connection", source.connection or "") if source.query is not None else ("files", "")


@dataclass
class Joined:
    """A source's rows with its joins, and what the engine needs to know of them."""

    rows: exp.Expression
    opened: Opened  #: its columns, the joined ones included (named ``<source>.<column>``)
    #: per joined column: the joined source and the column there (for type checks)
    origins: dict[str, tuple[Opened, str]]
    #: per join: the query that finds a key held twice, and the join it checks
    checks: list[tuple[exp.Select, Join, Source]]

    def unconverted(self, names: list[str]) -> tuple[Opened, str] | None:
        """A joined column the plan reads whose declared type the engine would not apply."""
        for name in names:
            origin = self.origins.get(name)
            if origin is not None and origin[0].converts(origin[1]):
                return origin
        return None


def join_rows(
    source: Source,
    project: Project,
    rows: exp.Expression,
    opened: Opened,
    dialect: Dialect,
    db: Database | None,
    file_rows: Any,
) -> Joined | None:
    """``rows`` with the joins of ``source``; None when a joined source is elsewhere (then
    Polars evaluates the source). ``file_rows`` reads a file source on the engine."""
    select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("__s"))).from_(
        exp.alias_(rows, "__s", table=True)
    )
    schema = dict(opened.schema)
    origins: dict[str, tuple[Opened, str]] = {}
    checks: list[tuple[exp.Select, Join, Source]] = []
    for number, join in enumerate(source.joins):
        other = project.source(join.source)
        assert other is not None  # validation said so
        if place_of(other) != place_of(source):
            return None
        found = _rows_of(other, project, dialect, db, file_rows)
        if found is None:
            return None
        for mine, theirs in join.on:
            check_keys(
                source, join, mine, opened.schema.get(mine), theirs,
                found.opened.schema.get(theirs),
            )  # fmt: skip
        alias = f"__j{number}"
        names = list(found.opened.schema)
        select = select.select(
            *(
                exp.alias_(
                    exp.column(c, table=alias, quoted=True), joined_name(join, c), quoted=True
                )
                for c in names
            )
        )
        on = [
            exp.EQ(
                this=exp.column(mine, table="__s", quoted=True),
                expression=exp.column(theirs, table=alias, quoted=True),
            )
            for mine, theirs in join.on
        ]
        select = select.join(
            exp.alias_(found.rows, alias, table=True), on=exp.and_(*on), join_type="left"
        )
        for c in names:
            schema[joined_name(join, c)] = found.opened.schema[c]
            origins[joined_name(join, c)] = (found.opened, c)
        origins.update({joined_name(join, n): o for n, o in found.origins.items()})
        checks.append((_repeated_key(join, found.rows), join, source))
        checks.extend(found.checks)
    extended = replace(opened, raw=pl.LazyFrame(schema=schema), schema=schema)
    return Joined(exp.Subquery(this=select), extended, origins, checks)


def _rows_of(
    source: Source, project: Project, dialect: Dialect, db: Database | None, file_rows: Any
) -> Joined | None:
    """A joined source's rows where the joining source is (with its own joins)."""
    if source.query is None:
        opened = open_source(source, project)
        rows: exp.Expression = file_rows(dialect, source, opened, db)
    else:
        if source.table is not None:
            rows = exp.to_table(source.table, dialect=dialect.sqlglot)
        else:
            try:
                import sqlglot

                rows = exp.Subquery(this=sqlglot.parse_one(source.query, read=dialect.sqlglot))
            except Exception:  # not SQL sqlglot reads: Polars joins it
                return None
        if db is None:
            return None
        probe = (
            f"SELECT * FROM {exp.alias_(rows, '__probe', table=True).sql(dialect=dialect.sqlglot)}"
        )
        opened = open_source(source, project, frame=pl.DataFrame(schema=db.columns(probe)))
    if source.joins:
        return join_rows(source, project, rows, opened, dialect, db, file_rows)
    return Joined(rows, opened, {}, [])


def _repeated_key(join: Join, rows: exp.Expression) -> exp.Select:
    """The first key the joined rows hold more than once, with how often."""
    keys = [exp.column(theirs, table="__l", quoted=True) for _, theirs in join.on]
    present = exp.and_(*(exp.Not(this=exp.Is(this=k.copy(), expression=exp.Null())) for k in keys))
    count = exp.Count(this=exp.Star())
    return (
        exp.select(*keys, count.as_("__n"))
        .from_(exp.alias_(rows, "__l", table=True))
        .where(present)
        .group_by(*(k.copy() for k in keys))
        .having(exp.GT(this=count.copy(), expression=exp.Literal.number(1)))
        .limit(1)
    )
