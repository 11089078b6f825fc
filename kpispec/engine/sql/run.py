"""Run a source's plan inside an SQL engine: DuckDB, PostgreSQL or Spark.

Only aggregates travel: one grouping-sets query per group of the plan, and the earliest
(and newest) value of each time column. The frames handed back have exactly the shape
the Polars engine's roll-ups give the shared stage (``__p``, ``__dimension``,
``__member``, one column per aggregate), so everything after aggregation is shared.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlglot import exp

from kpispec.diagnostics import DataError, Diagnostic
from kpispec.engine.joins import not_unique
from kpispec.engine.polars.scans import Lowered
from kpispec.engine.sources import Opened, data_error, first_line, scrub
from kpispec.engine.sql.compile import Column
from kpispec.engine.sql.dialects import DIALECTS, Dialect
from kpispec.engine.sql.joins import join_rows
from kpispec.engine.sql.query import Target, edge_query, group_query
from kpispec.formula.kinds import Kind
from kpispec.periods import local_midnight, period_label
from kpispec.plan.model import Group, SourcePlan
from kpispec.spec.columns import polars_kind, source_format
from kpispec.spec.model import Project, Source

if TYPE_CHECKING:
    from kpispec.engine.sources import Connected
    from kpispec.spec.checks import CheckedProject

#: the name a ``sql:`` source's query has in the aggregate query (a CTE)
SOURCE_CTE = "__source"
Rows = list[tuple[Any, ...]]


@dataclass
class Database:
    """A connection kpispec sends aggregate queries to."""

    dialect: Dialect
    fetch: Callable[[str], tuple[list[str], Rows]]
    columns: Callable[[str], dict[str, Any]]  #: the Polars types of a query's columns
    close: Callable[[], None]
    session: Any = None  #: Spark: the session (file sources are views registered on it)


# -- type names of each database, as Polars types ----------------------------------------

_TYPES: dict[str, Any] = {
    "boolean": pl.Boolean,
    "bool": pl.Boolean,
    "tinyint": pl.Int8,
    "smallint": pl.Int16,
    "int2": pl.Int16,
    "integer": pl.Int32,
    "int": pl.Int32,
    "int4": pl.Int32,
    "bigint": pl.Int64,
    "int8": pl.Int64,
    "hugeint": pl.Float64,
    "utinyint": pl.UInt8,
    "usmallint": pl.UInt16,
    "uinteger": pl.UInt32,
    "ubigint": pl.UInt64,
    "real": pl.Float32,
    "float": pl.Float32,
    "float4": pl.Float32,
    "double": pl.Float64,
    "double precision": pl.Float64,
    "float8": pl.Float64,
    "numeric": pl.Float64,
    "decimal": pl.Float64,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
    "timestamp without time zone": pl.Datetime("us"),
    "timestamp_ntz": pl.Datetime("us"),
    "timestamp with time zone": pl.Datetime("us", "UTC"),
    "timestamptz": pl.Datetime("us", "UTC"),
}

#: PostgreSQL type OIDs, by name
_PG_OIDS = {
    16: "boolean",
    20: "bigint",
    21: "smallint",
    23: "integer",
    700: "real",
    701: "double precision",
    1700: "numeric",
    1082: "date",
    1114: "timestamp",
    1184: "timestamptz",
}


def polars_type(name: str) -> Any:
    """A database's type name as the Polars type kpispec reads it as (text otherwise)."""
    base = name.lower().split("(")[0].strip()
    return _TYPES.get(base, pl.String)


#: how DuckDB and Spark name the types of a file's columns (read with their schema):
#: boolean, integer, float, date, naive timestamp, instant, text
_FILE_TYPES = {
    "duckdb": ("BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "VARCHAR"),
    "spark": ("BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP_NTZ", "TIMESTAMP", "STRING"),
}


def file_type(engine: str, dtype: Any) -> str:
    """The type ``engine`` reads a CSV column of the Polars type ``dtype`` as."""
    boolean, integer, double, day, naive, instant, text = _FILE_TYPES[engine]
    if dtype == pl.Boolean:
        return boolean
    if dtype.is_integer():
        return integer
    if dtype.is_numeric():
        return double
    if dtype == pl.Date:
        return day
    if isinstance(dtype, pl.Datetime):
        return naive if dtype.time_zone is None else instant
    return text


# -- connections -------------------------------------------------------------------------


def _duckdb(conn: Any) -> Database:
    def fetch(sql: str) -> tuple[list[str], Rows]:
        cursor = conn.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def columns(sql: str) -> dict[str, Any]:
        cursor = conn.execute(f"SELECT * FROM ({sql}) AS __q LIMIT 0")
        return {d[0]: polars_type(str(d[1])) for d in cursor.description}

    return Database(DIALECTS["duckdb"], fetch, columns, conn.close)


def _postgres(conn: Any) -> Database:
    def fetch(sql: str) -> tuple[list[str], Rows]:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return [d.name for d in cursor.description], cursor.fetchall()

    def columns(sql: str) -> dict[str, Any]:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({sql}) AS __q LIMIT 0")
            return {
                d.name: polars_type(_PG_OIDS.get(d.type_code, "text")) for d in cursor.description
            }

    return Database(DIALECTS["postgres"], fetch, columns, conn.close)


def spark_master(url: str | None = None) -> str:
    """The master of a ``spark://`` or ``sc://`` connection URL; with none, the master
    file sources run on: ``KPISPEC_SPARK_MASTER``, else ``local[2]``."""
    if url is None:
        return os.environ.get("KPISPEC_SPARK_MASTER", "local[2]")
    return url.split("://", 1)[1] if url.lower().startswith("spark://") else url


@functools.lru_cache(maxsize=4)
def spark_session(master: str) -> Any:
    """One Spark session per master for the whole process (starting one takes seconds)."""
    import atexit
    import shutil
    import tempfile

    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        work = tempfile.mkdtemp(prefix="kpispec-spark-")
        # registered before the session starts, so it runs after Spark has stopped
        atexit.register(shutil.rmtree, work, ignore_errors=True)
        quiet = os.path.join(work, "log4j2.properties")  # Spark's messages are not ours
        with open(quiet, "w", encoding="utf-8") as f:
            f.write(
                "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
                "appender.console.type = Console\nappender.console.name = console\n"
                "appender.console.target = SYSTEM_ERR\n"
                "appender.console.layout.type = PatternLayout\n"
            )
        builder = (
            builder.master(master)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.local.dir", work)
            .config("spark.sql.warehouse.dir", os.path.join(work, "warehouse"))
            .config("spark.ui.showConsoleProgress", "false")
            .config(
                "spark.driver.extraJavaOptions",
                f"-Dderby.system.home={work} -Dlog4j2.configurationFile=file:{quiet}",
            )
        )
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def _spark(session: Any) -> Database:
    def fetch(sql: str) -> tuple[list[str], Rows]:
        frame = session.sql(sql)
        return list(frame.columns), [tuple(r) for r in frame.collect()]

    def columns(sql: str) -> dict[str, Any]:
        schema = session.sql(f"SELECT * FROM ({sql}) AS __q LIMIT 0").schema
        return {f.name: polars_type(f.dataType.simpleString()) for f in schema.fields}

    return Database(DIALECTS["spark"], fetch, columns, lambda: None, session)


def engine_database(engine: str) -> Database:
    """The database that evaluates file sources on ``engine`` (duckdb or spark)."""
    if engine == "duckdb":
        import duckdb

        return _duckdb(duckdb.connect(":memory:"))
    return _spark(spark_session(spark_master()))


def connection_database(kind: str, conn: Any) -> Database:
    """The database of an open connection (for Spark, ``conn`` is its session)."""
    if kind == "duckdb":
        return _duckdb(conn)
    if kind == "postgres":
        return _postgres(conn)
    return _spark(conn)


# -- what FROM reads --------------------------------------------------------------------


def file_rows(
    dialect: Dialect, source: Source, opened: Opened, db: Database | None
) -> exp.Expression:
    """The rows of a file source, read by the engine itself: DuckDB's file functions, a
    Spark view of the files (on ``db``); as SQL text for another engine, the table named
    by the source's id."""
    fmt = source_format(source)
    paths = [os.path.normpath(p) for p in opened.files]
    if dialect.name not in ("duckdb", "spark") or (dialect.name == "spark" and db is None):
        return exp.Table(this=exp.to_identifier(source.id, quoted=True))
    if fmt not in ("parquet", "csv"):
        raise data_error(
            source,
            "D110",
            f"the {dialect.name} engine reads Parquet and CSV files, not {fmt}",
            "evaluate the project with --engine polars, or convert the files",
            source.locs.get("path", source.loc),
        )
    separator = "\t" if all(p.endswith(".tsv") for p in paths) else ","
    if dialect.name == "duckdb":
        files = exp.Array(expressions=[exp.Literal.string(p) for p in paths])
        if fmt == "parquet":
            return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[files]))
        types = exp.Struct(
            expressions=[
                exp.PropertyEQ(
                    this=exp.Literal.string(name),
                    expression=exp.Literal.string(file_type("duckdb", t)),
                )
                for name, t in opened.schema.items()
            ]
        )
        args = [
            files,
            exp.PropertyEQ(this=exp.var("header"), expression=exp.true()),
            exp.PropertyEQ(this=exp.var("delim"), expression=exp.Literal.string(separator)),
            exp.PropertyEQ(this=exp.var("columns"), expression=types),
        ]
        return exp.Table(this=exp.Anonymous(this="read_csv", expressions=args))
    assert db is not None and db.session is not None
    if fmt == "parquet":
        frame = db.session.read.parquet(*paths)
    else:
        ddl = ", ".join(f"`{n}` {file_type('spark', t)}" for n, t in opened.schema.items())
        frame = db.session.read.csv(paths, header=True, schema=ddl, sep=separator)
    name = f"__kpispec_{source.id}"  # source ids are identifiers
    frame.createOrReplaceTempView(name)
    return exp.to_table(name)


def columns_of(opened: Opened, names: list[str]) -> dict[str, Column]:
    """How each column reads in SQL; a column the engine cannot read as Polars does is
    a data error naming it (kpispec does not convert column types inside a database)."""
    out: dict[str, Column] = {}
    source = opened.source
    for name in opened.schema:
        dtype = opened.schema[name]
        if name in names and opened.converts(name) and not _widens(dtype, opened.declared(name)):
            raise data_error(
                source,
                "D110",
                f"the column `{name}` is stored as {dtype} but read as "
                f"{opened.declared(name)}; an SQL engine reads columns as they are stored",
                "store the column with its type (or cast it in the source's `sql:`), or "
                "evaluate the source with `evaluate: local`",
                source.column_locs.get(name, source.locs.get("time", source.loc)),
            )
        naive = isinstance(dtype, pl.Datetime) and dtype.time_zone is None
        out[name] = Column(polars_kind(dtype), naive)
    for time in {opened.source.time, *opened.times} - {None}:
        assert time is not None
        column = out.get(time)
        if column is not None and column.kind not in (Kind.DATE, Kind.TIMESTAMP):
            opened.time_expr(time)  # the Polars engine's error for a time column of numbers
    return out


def _widens(raw: Any, declared: Any) -> bool:
    """Whether reading a column as its declared type changes no value an aggregate or a
    comparison sees (a 16-bit integer read as an integer; every number is read as a
    64-bit float in arithmetic anyway)."""
    from kpispec.spec.model import ColumnType

    if declared == ColumnType.INTEGER:
        return bool(raw.is_integer())
    if declared == ColumnType.NUMBER:
        return bool(raw.is_numeric())
    return False


# -- running ------------------------------------------------------------------------------


@dataclass
class SqlRun:
    """A source's plan as queries of one database, and what they returned."""

    lowered: Lowered
    db: Database | None  #: None: written as text only
    target: Target
    cte: str | None  #: a ``sql:`` source's query, read as the CTE ``__source``
    secrets: tuple[str, ...] = ()

    @property
    def plan(self) -> SourcePlan:
        return self.lowered.plan

    def text(self, query: exp.Expression, *, pretty: bool = False) -> str:
        sql = query.sql(dialect=self.target.dialect.sqlglot, pretty=pretty)
        if self.cte is not None:
            gap = "\n" if pretty else " "
            sql = f"WITH {SOURCE_CTE} AS ({self.cte.strip().rstrip(';')}){gap}{sql}"
        return sql

    def queries(self) -> list[tuple[Group, str]]:
        return [(g, self.text(group_query(self.target, self.plan, g))) for g in self.plan.groups]

    def fail(self, exc: Exception) -> DataError:
        from kpispec.engine.sources import query_error, query_loc

        error = query_error(self.plan.source, self.target.dialect.name, exc, list(self.secrets))
        [d] = error.diagnostics
        if d.code != "D107":  # refused for doing more than read
            return error
        source = self.plan.source
        return data_error(
            source,
            "D107",
            f"the {self.target.dialect.name} aggregate query failed: "
            + scrub(first_line(exc), list(self.secrets)),
            "print the query with `kpispec sql` and run it in the database's own client",
            query_loc(source),
        )

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    def fetch(self, sql: str) -> tuple[list[str], Rows]:
        assert self.db is not None
        try:
            return self.db.fetch(sql)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            raise self.fail(exc) from None

    def aggregates(self) -> dict[int, pl.DataFrame]:
        """Group number -> its aggregates per (period, dimension, member)."""
        out = {}
        for group, sql in self.queries():
            names, rows = self.fetch(sql)
            frame = pl.DataFrame(
                [tuple(_plain(v) for v in r) for r in rows],
                schema=list(names),
                orient="row",
                infer_schema_length=None,
            )
            # numbers as the Polars engine gives them; min/max/first/last of text stay text
            schema: dict[str, Any] = {
                "__p": pl.Int64,
                "__dimension": pl.String,
                "__member": pl.String,
            }
            for a in group.aggregates:
                dtype = frame.schema[a.column]
                numeric = dtype.is_numeric() or dtype == pl.Null
                schema[a.column] = pl.Int64 if a.is_count else pl.Float64 if numeric else dtype
            out[group.number] = frame.with_columns(
                pl.col(c).cast(t) for c, t in schema.items()
            ).select(list(schema))
        return out

    def edge(self, column: str, newest_before: date | None = None) -> date | datetime | None:
        """The earliest (or newest before a day) value of a time column: a date, or an
        aware time in the project's zone."""
        _, rows = self.fetch(
            self.text(edge_query(self.target, column, newest_before=newest_before))
        )
        value = rows[0][0] if rows else None
        if value is None:
            return None
        info = self.target.columns[column]
        zone = ZoneInfo(self.target.timezone)
        if info.kind == Kind.DATE:
            return (
                value
                if isinstance(value, date) and not isinstance(value, datetime)
                else value.date()
            )
        if not info.naive:
            instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))
            return instant.astimezone(zone)
        assert isinstance(value, datetime)
        local = value.replace(tzinfo=ZoneInfo(self.target.source_timezone), fold=0)
        return local.astimezone(zone)

    def newest(self, as_of: date) -> datetime | None:
        time = self.plan.source.time
        assert time is not None
        value = self.edge(time, newest_before=as_of)
        if isinstance(value, date) and not isinstance(value, datetime):
            return local_midnight(value, self.target.timezone)
        return value


def _plain(value: Any) -> Any:
    """Decimals and other driver types as floats (aggregates are numbers)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    return value


# -- a source's plan, on the engine that evaluates it ---------------------------------------


@dataclass
class _Rows:
    """What FROM reads for a source on a connection, and the Polars types of its columns."""

    rows: exp.Expression
    cte: str | None
    schema: dict[str, Any]


def _connection_rows(source: Source, db: Database, connected: Connected) -> _Rows:
    from kpispec.engine.sources import check_reads, query_error

    dialect = db.dialect
    check_reads(source, connected)  # D109 for a query that would do more than read
    if source.sql is not None:
        rows: exp.Expression = exp.to_table(SOURCE_CTE)
        cte: str | None = source.sql
        probe = source.sql
    else:
        assert source.table is not None
        rows = exp.to_table(source.table, dialect=dialect.sqlglot)
        cte, probe = None, f"SELECT * FROM {rows.sql(dialect=dialect.sqlglot)}"
    try:
        schema = db.columns(probe.strip().rstrip(";"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        raise query_error(source, connected.kind, exc, connected.secrets) from None
    return _Rows(rows, cte, schema)


def sql_run(
    source: Source,
    project: Project,
    engine: str,
    plan: Callable[[Opened], Lowered],
    dialect: str | None = None,
) -> SqlRun | None:
    """The source's plan as SQL on the database that holds it (or on the file engine
    ``engine``), or None when Polars evaluates it: a file source on the polars engine, a
    source with ``evaluate: local``, an SQLite connection.

    With ``dialect``, the queries are only written (``kpispec sql``): in that dialect,
    for every source, with a connection opened only to learn a table's column types.
    """
    from kpispec.engine.sources import connect_source, open_source

    db: Database | None = None
    cte: str | None = None
    secrets: tuple[str, ...] = ()
    if source.query is not None:
        if source.evaluate == "local" and dialect is None:
            return None
        connected = connect_source(source, project)
        if connected.kind == "sqlite":
            connected.conn.close()
            if dialect is None:
                return None
            opened = open_source(source, project)  # the column types, from its rows
            rows: exp.Expression = exp.to_table(SOURCE_CTE)
            cte = source.query
        else:
            db = connection_database(connected.kind, connected.conn)
            try:
                found = _connection_rows(source, db, connected)
            except BaseException:
                db.close()
                raise
            rows, cte, secrets = found.rows, found.cte, tuple(connected.secrets)
            opened = open_source(source, project, frame=pl.DataFrame(schema=found.schema))
    else:
        if engine == "polars" and dialect is None:
            return None
        opened = open_source(source, project)
        if dialect is None:
            db = engine_database(engine)
        rows = file_rows(DIALECTS[dialect or engine], source, opened, db)
    chosen = DIALECTS[dialect] if dialect is not None else db.dialect if db else DIALECTS[engine]
    joined = None
    try:
        if source.joins:
            joined = join_rows(source, project, rows, opened, chosen, db, file_rows)
            if joined is None:  # a joined source is elsewhere: Polars joins them
                if db is not None:
                    db.close()
                return None
            rows, opened = joined.rows, joined.opened
        lowered = plan(opened)
        columns = columns_of(opened, lowered.plan.columns)
        unconverted = joined.unconverted(lowered.plan.columns) if joined else None
        if unconverted is not None:
            other, name = unconverted
            raise data_error(
                other.source,
                "D110",
                f"the column `{name}` is stored as {other.schema[name]} but read as "
                f"{other.declared(name)}; an SQL engine reads joined columns as they are stored",
                "store the column with its type, or evaluate with --engine polars",
                other.source.column_locs.get(name, other.source.loc),
            )
    except BaseException:
        if db is not None:
            db.close()
        raise
    target = Target(chosen, rows, columns, opened.timezone, opened.project_timezone)
    run = SqlRun(lowered, db, target, cte, secrets)
    if joined is not None and db is not None and dialect is None:
        try:
            for query, join, by in joined.checks:  # each joined key once, or D112
                _, twice = run.fetch(run.text(query))
                if twice:
                    *key, count = twice[0]
                    raise not_unique(join, by, key, count)
        except BaseException:
            run.close()
            raise
    return run


def written(
    checked: CheckedProject,
    dialect: str,
    *,
    as_of: date,
    period: Any = None,
    kpi_ids: list[str] | None = None,
    skipped: list[str] | None = None,
) -> list[SqlRun]:
    """Every source's aggregate queries written in ``dialect``, run nowhere; the ids of
    sources that join one held elsewhere (Polars joins them: no SQL) go to ``skipped``."""
    from functools import partial

    from kpispec.engine.evaluate import planned
    from kpispec.engine.polars.scans import lower
    from kpispec.plan.build import build_plan

    _, _, _, spans, by_source = planned(checked, as_of, period, kpi_ids)
    out = []
    for source_id, kpis in by_source.items():
        source = checked.project.source(source_id)
        assert source is not None
        logical = build_plan(source, kpis, spans, checked.source_filters.get(source_id))
        run = sql_run(source, checked.project, "polars", partial(lower, logical), dialect)
        if run is not None:
            out.append(run)
        elif skipped is not None:  # it joins a source held elsewhere: Polars joins them
            skipped.append(source_id)
    return out


def describe(run: SqlRun, *, pretty: bool = True) -> list[str]:
    """A source's queries as text, each after a comment saying what it computes."""
    plan = run.plan
    left_out: list[Diagnostic] = []
    queries = [
        (g, run.text(group_query(run.target, plan, g, left_out), pretty=pretty))
        for g in plan.groups
    ]
    kpis = sum(len(g.kpis) for g in plan.groups)
    out = [
        f"-- source `{plan.source.id}`: {kpis} KPI{'' if kpis == 1 else 's'} in "
        f"{len(queries)} quer{'y' if len(queries) == 1 else 'ies'} ({run.target.dialect.name})"
    ]
    for number, (group, sql) in enumerate(queries, 1):
        time = f"`{group.time}`" if group.time else "no time column"
        ids = ", ".join(k.kpi.id for k in group.kpis)
        out.append(
            f"-- query {number} of {len(queries)}: {time}, {group.grain}s "
            f"{period_label(group.grain, group.span.first)} to "
            f"{period_label(group.grain, group.span.last)}, window {group.window}; KPIs: {ids}"
        )
        out.append(sql + ";")
    for d in left_out:
        out.append(f"-- left out, at {d.loc.file}:{d.loc.line}:{d.loc.col}: {d.message}")
    return out
