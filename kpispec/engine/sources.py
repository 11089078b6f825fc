"""Open a source as a Polars LazyFrame: files (CSV, Parquet, NDJSON, JSON) or SQL queries.

A source is opened in two steps so that the engine's predicates reach the scan:
:func:`open_source` gives the raw lazy frame and its schema; the plan filters it on the
raw time column (predicate pushdown), then :meth:`Opened.normalize` applies declared
types and turns the time column into a time zone-aware datetime in the project's zone.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kpispec.confine import database_file, outside_root
from kpispec.diagnostics import DataError, Diagnostic, Loc, SpecError
from kpispec.files import is_file, printable_name
from kpispec.spec.columns import CSV_INFER_ROWS, matching_files, source_format
from kpispec.spec.model import ColumnType, Project, Source
from kpispec.spec.secrets import ENV_REFERENCE
from kpispec.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl

#: A UTC offset, which only a time of day can carry: ``...T10:00Z``, ``... 10:00:00+01:00``,
#: ``...T10:00-0500``. The ``-01`` of a date-only ``2013-03-01`` is not one.
OFFSET_PATTERN = r"[Tt ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
#: How a text column declared `boolean` is read (case-insensitive), by the reader and by
#: the diagnosis of a failed read alike.
BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False}


def data_error(
    source: Source, code: str, message: str, hint: str | None = None, loc: Loc | None = None
) -> DataError:
    """A data error naming the source; ``loc`` defaults to where the source is defined."""
    return DataError(
        [Diagnostic(code, f"source `{source.id}`: {message}", loc or source.loc, hint)]
    )


def localize(expr: pl.Expr, zone: str) -> pl.Expr:
    """Read naive wall-clock times in ``zone``.

    An ambiguous time (the repeated hour in autumn) is read as the earlier one; a time that
    does not exist (the skipped hour in spring) is moved forward by the gap, as clocks are.
    """
    import polars as pl

    def at(e: pl.Expr) -> pl.Expr:
        return e.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")

    return pl.coalesce(at(expr), at(expr + pl.duration(hours=1)))


@functools.lru_cache(maxsize=32)
def gap_moves_day(zone: str, start: date | None, end: date | None) -> bool:
    """Whether a daylight-saving gap of ``zone`` between the dates (default: 1900 to 2100)
    is longer than the hour :func:`localize` moves a time by, or moves a time into the
    next day: then a naive time's day is not its wall clock's."""
    if zone in ("UTC", "Etc/UTC"):
        return False
    tz = ZoneInfo(zone)
    first = max(start or date(1900, 1, 1), date(1900, 1, 1))
    last = min(end or date(2100, 1, 1), date(2100, 1, 1))
    day = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    stop = datetime.combine(last, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    offset = day.astimezone(tz).utcoffset()
    while day < stop:
        following = day + timedelta(days=1)
        after = following.astimezone(tz).utcoffset()
        if after is not None and offset is not None and after > offset:
            # a gap in this day: find its hour, then see where it lies on the wall clock
            moment = day
            while (moment + timedelta(hours=1)).astimezone(tz).utcoffset() == offset:
                moment += timedelta(hours=1)
            while (moment + timedelta(minutes=1)).astimezone(tz).utcoffset() == offset:
                moment += timedelta(minutes=1)
            moment += timedelta(minutes=1)  # the first instant after the change
            gap = after - offset
            wall_end = moment.astimezone(tz).replace(tzinfo=None)  # the end of the gap
            wall_start = wall_end - gap
            last_in_gap = wall_end - timedelta(microseconds=1)
            if gap > timedelta(hours=1) or any(
                (t + timedelta(hours=1)).date() != t.date() for t in (wall_start, last_in_gap)
            ):
                return True
        offset = after
        day = following
    return False


def parse_instants(text: pl.Expr, zone: str, *, strict: bool = True) -> pl.Expr:
    """Timestamps in text as instants (UTC), each value read by its own form.

    A value with a UTC offset after its time of day (``2026-09-30T22:00:00Z``,
    ``...+02:00``) is that instant; any other value, a date-only ``2026-10-01`` included,
    is wall-clock time in ``zone`` (a date is its local midnight). One column may mix both.
    Not ``strict``: a value that is no timestamp becomes null instead of an error.
    """
    import polars as pl

    offset = text.str.contains(OFFSET_PATTERN)
    aware = (
        pl.when(offset)
        .then(text)
        .str.to_datetime(time_unit="us", time_zone="UTC", strict=strict, ambiguous="earliest")
    )
    naive = (
        pl.when(offset).then(None).otherwise(text).str.to_datetime(time_unit="us", strict=strict)
    )
    return pl.coalesce(aware, localize(naive, zone).dt.convert_time_zone("UTC"))


def polars_type(kind: ColumnType) -> Any:
    import polars as pl

    return {
        ColumnType.STRING: pl.String,
        ColumnType.INTEGER: pl.Int64,
        ColumnType.NUMBER: pl.Float64,
        ColumnType.BOOLEAN: pl.Boolean,
        ColumnType.DATE: pl.Date,
        ColumnType.DATETIME: pl.Datetime("us"),
    }[kind]


@dataclass
class Opened:
    """A source's raw lazy frame, its schema, and how to normalise it."""

    source: Source
    raw: pl.LazyFrame
    schema: dict[str, Any]  #: raw column -> dtype
    timezone: str  #: the zone naive timestamps are read in
    project_timezone: str
    files: list[Path] = field(default_factory=list)
    times: frozenset[str] = frozenset()  #: the time columns KPIs read
    secrets: tuple[str, ...] = ()  #: resolved ${ENV} values, kept out of messages

    def column(self, name: str, loc: Loc | None = None) -> Any:
        """The raw dtype of ``name``; a data error naming the source if it is missing."""
        if name not in self.schema:
            raise data_error(
                self.source,
                "D104",
                f"has no column `{name}`",
                did_you_mean(name, self.schema) or f"columns: {', '.join(self.schema)}",
                loc,
            )
        return self.schema[name]

    def declared(self, name: str) -> ColumnType | None:
        """The type a column is read as: declared, or datetime for a time column in text."""
        import polars as pl

        declared = self.source.columns.get(name)
        if (
            declared is None
            and name in self.times
            and self.schema.get(name) in (pl.String, pl.Null)
        ):
            return ColumnType.DATETIME
        return declared

    def _convert(self, name: str) -> tuple[pl.Expr, Any]:
        """The column with its declared type applied, and that type."""
        import polars as pl

        raw, declared = self.schema[name], self.declared(name)
        expr = pl.col(name)
        if declared is None:
            return expr, raw
        target = polars_type(declared)
        if declared == ColumnType.DATETIME:
            if isinstance(raw, pl.Datetime):
                return expr, raw
            if raw == pl.Null:  # no values (a CSV without rows)
                return expr.cast(pl.Datetime("us", self.timezone)), pl.Datetime("us", self.timezone)
            if raw == pl.String:
                return parse_instants(expr, self.timezone), pl.Datetime("us", "UTC")
            return expr.cast(target, strict=True), target
        if declared == ColumnType.DATE:
            if raw == pl.String:
                return expr.str.to_date(strict=True), target
            if isinstance(raw, pl.Datetime):
                return expr.dt.date(), target
        if declared == ColumnType.BOOLEAN and raw == pl.String:
            words = expr.str.to_lowercase()
            return words.replace_strict(BOOLEAN_WORDS, return_dtype=pl.Boolean), target
        if raw == target:
            return expr, raw
        return expr.cast(target, strict=True), target

    def converts(self, name: str) -> bool:
        """Whether reading ``name`` changes its raw values (a declared type, text parsed)."""
        import polars as pl

        expr, _ = self._convert(name)
        return not expr.meta.eq(pl.col(name))

    def normalized_schema(self) -> dict[str, Any]:
        import polars as pl

        out = {}
        for name in self.schema:
            dtype = self._convert(name)[1]
            if isinstance(dtype, pl.Datetime):
                dtype = pl.Datetime("us", self.project_timezone)
            out[name] = dtype
        return out

    def pushable(self, column: str) -> bool:
        """Whether time bounds on ``column`` can be checked on its raw values."""
        import polars as pl

        dtype = self.schema.get(column)
        return dtype == pl.Date or isinstance(dtype, pl.Datetime)

    def time_bounds(
        self, column: str, start: datetime | None, end: datetime | None
    ) -> pl.Expr | None:
        """A predicate on the raw time column (so it is pushed into the scan), or None."""
        import polars as pl

        dtype = self.schema.get(column)
        parts = []
        for bound, op in ((start, "ge"), (end, "lt")):
            if bound is None:
                continue
            if dtype == pl.Date:
                value: Any = bound.astimezone(ZoneInfo(self.project_timezone)).date()
                if op == "lt" and bound.time() != datetime.min.time():
                    value = date.fromordinal(value.toordinal() + 1)
            elif isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
                value = bound.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)
            elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
                value = bound.astimezone(ZoneInfo(dtype.time_zone))
            else:
                return None  # not yet parsed: filtered after normalisation instead
            col = pl.col(column)
            parts.append(col >= value if op == "ge" else col < value)
        if not parts:
            return None
        predicate: pl.Expr = parts[0]
        for part in parts[1:]:
            predicate = predicate & part
        return predicate

    def normalize(self, lf: pl.LazyFrame, columns: Iterable[str]) -> pl.LazyFrame:
        """Apply declared types; datetimes become aware, in the project's time zone."""
        exprs = [self.read_as(name).alias(name) for name in columns]
        return lf.with_columns(exprs) if exprs else lf

    def read_as(self, name: str) -> pl.Expr:
        """A column as KPIs read it: its declared type applied, a datetime aware in the
        project's time zone."""
        import polars as pl

        expr, dtype = self._convert(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                expr = localize(expr, self.timezone)
            expr = expr.dt.convert_time_zone(self.project_timezone).dt.cast_time_unit("us")
        return expr

    def wall_clock(self, column: str, start: date | None, end: date | None) -> pl.Expr:
        """The time column as wall-clock time in the project's zone, read from the raw
        column with no zone work where none changes a row's day (for bucketing rows).

        Naive times in the project's own zone are its wall clock already, unless a
        daylight-saving gap between ``start`` and ``end`` (or in any year, without them)
        moves a time into another day; aware times in the project's zone need nothing.
        """
        import polars as pl

        dtype = self.schema.get(column)
        if self.converts(column) or not self.pushable(column):
            return self.time_expr(column)  # read from the normalised column
        if dtype == pl.Date:
            return pl.col(column)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                if self.timezone == self.project_timezone and not gap_moves_day(
                    self.timezone, start, end
                ):
                    return pl.col(column)
                return localize(pl.col(column), self.timezone).dt.convert_time_zone(
                    self.project_timezone
                )
            if dtype.time_zone == self.project_timezone:
                return pl.col(column)
            return pl.col(column).dt.convert_time_zone(self.project_timezone)
        return self.time_expr(column)

    def epoch_days(self, column: str, start: date | None, end: date | None) -> pl.Expr | None:
        """The local day of each row as days since 1970-01-01, by integer arithmetic on the
        raw (not normalised) column, where its stored value is the project's wall clock
        (see :meth:`wall_clock`); None where it is not."""
        import polars as pl

        if self.converts(column) or not self.pushable(column):
            return None
        dtype = self.schema.get(column)
        if dtype == pl.Date:
            return pl.col(column).cast(pl.Int64)
        assert isinstance(dtype, pl.Datetime)
        if dtype.time_zone is None:
            local = self.timezone == self.project_timezone and not gap_moves_day(
                self.timezone, start, end
            )
        else:
            local = dtype.time_zone == self.project_timezone == "UTC"
        if not local:
            return None
        per_day = {"ns": 86_400_000_000_000, "us": 86_400_000_000, "ms": 86_400_000}
        return pl.col(column).cast(pl.Int64) // per_day[dtype.time_unit or "us"]

    def time_expr(self, column: str) -> pl.Expr:
        """The time column as an aware local datetime (dates count from local midnight)."""
        import polars as pl

        col = pl.col(column)
        dtype = self.normalized_schema()[column]
        if dtype == pl.Date:
            return localize(col.cast(pl.Datetime("us")), self.project_timezone)
        if not isinstance(dtype, pl.Datetime):  # integers (20260105? epoch seconds?), text
            kind = "numbers" if dtype.is_numeric() else f"{dtype} values"
            raise data_error(
                self.source,
                "D105",
                f"the time column `{column}` holds {kind}, not dates or timestamps",
                "convert the column to a date or timestamp in the data; kpispec does not "
                "guess what a number means as a time",
                self.source.locs.get("time", self.source.loc),
            )
        return col


def resolve_url(url: str, source: Source) -> str:
    def replace(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise data_error(
                source,
                "D108",
                f"environment variable {m.group(1)} is not set (connection `{source.connection}`)",
                f"set {m.group(1)} where kpispec runs; credentials never go into the specs",
            )
        return value

    return ENV_REFERENCE.sub(replace, url)


def secrets_of(template: str, url: str) -> list[str]:
    """What must never be printed: the values of ${ENV} references and the URL's password."""
    from urllib.parse import unquote, urlsplit

    found = [os.environ.get(m.group(1), "") for m in ENV_REFERENCE.finditer(template)]
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    # a driver may quote only the part of a secret after a character that broke the URL
    found += [piece for s in list(found) for piece in re.split(r"[@:/?#%\s]", s) if len(piece) >= 4]
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


#: ISO dates and naive timestamps, the forms most CSV files write their times in: each a
#: pattern all of a column's values must match, and the format they must parse with
_ISO_FORMS = (
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d", "date"),
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S", "datetime"),
    (r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", "%Y-%m-%dT%H:%M:%S", "datetime"),
)


def csv_schema(path: Path, separator: str, overrides: dict[str, Any]) -> dict[str, Any] | None:
    """The types Polars infers for a CSV file with dates parsed, found quickly, or None
    when only Polars' own inference can tell.

    Polars tries every date pattern on every value (about 0.2 s for 10,000 rows). Here
    the file's first rows are read without dates (fast); a text column none of whose
    values starts with a digit cannot be a date, and one whose values are all ISO dates
    (or all ISO timestamps) that parse is one; any other column starting with a digit
    leaves the answer to Polars (tests/test_csv_types.py compares the two on every CSV
    the tests read)."""
    import polars as pl

    try:
        plain = pl.scan_csv(
            path,
            schema_overrides=overrides or None,
            infer_schema_length=CSV_INFER_ROWS,
            separator=separator,
        ).collect_schema()
        text = [c for c, t in plain.items() if t == pl.String and c not in overrides]
        if not text:
            return dict(plain)
        sample = (
            pl.scan_csv(path, infer_schema=False, separator=separator)
            .select(text)
            .head(CSV_INFER_ROWS)
            .collect()
        )
    except pl.exceptions.PolarsError:  # a broken file: Polars' own reading says why
        return None
    schema = dict(plain)
    for name in text:
        values = sample.get_column(name).drop_nulls()
        if values.len() == 0 or not values.str.contains(r"^\d").any():
            continue  # text (or no value at all): never a date
        for pattern, form, kind in _ISO_FORMS:
            if values.str.contains(pattern).all():
                dtype = pl.Date() if kind == "date" else pl.Datetime("us")
                if values.str.strptime(dtype, form, strict=False).null_count() == 0:
                    schema[name] = dtype
                    break
        else:
            if values.str.contains(r"^\d").all():
                return None  # another form of date, perhaps: Polars decides
    return schema


def _scan_files(source: Source, files: list[Path]) -> pl.LazyFrame:
    import polars as pl

    fmt = source_format(source)
    paths = [str(p) for p in files]
    if fmt == "csv":
        overrides = {
            name: polars_type(kind)
            for name, kind in source.columns.items()
            if kind not in (ColumnType.DATE, ColumnType.DATETIME)
        }
        separator = "\t" if all(p.suffix == ".tsv" for p in files) else ","
        if len(files) == 1:
            # the types pinned: each query of the plan would infer them again
            schema = csv_schema(files[0], separator, overrides)
            if schema is not None:
                return pl.scan_csv(paths, schema=schema, separator=separator)
        return pl.scan_csv(
            paths,
            try_parse_dates=True,
            schema_overrides=overrides or None,
            infer_schema_length=CSV_INFER_ROWS,
            separator=separator,
        )
    if fmt == "parquet":
        return pl.scan_parquet(paths)
    if fmt == "ndjson":
        return pl.scan_ndjson(paths, infer_schema_length=CSV_INFER_ROWS)
    frames = [pl.read_json(p, infer_schema_length=None) for p in paths]
    return pl.concat(frames, how="diagonal_relaxed").lazy() if len(frames) > 1 else frames[0].lazy()


#: DuckDB runs a query on its own database only: no file, no extension, no setting changed.
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
#: What an SQLite query may do: read tables and call functions, nothing else (no ATTACH,
#: no PRAGMA, no write, not even to a temporary table).
_SQLITE_READS = ("SQLITE_SELECT", "SQLITE_READ", "SQLITE_FUNCTION", "SQLITE_RECURSIVE")
#: The first words of a query that only reads.
_READING = frozenset({"select", "with", "values", "table", "from"})


class _Refused(Exception):
    """The connection would open a database file outside the project root."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _NoDatabase(Exception):
    """The database file of a SQLite or DuckDB URL does not exist (reported as D106)."""


class _ReadOnly(Exception):
    """The query does something else than read its own database."""


def _sqlite_authorizer(action: int, *_: object) -> int:
    import sqlite3

    allowed = {getattr(sqlite3, name) for name in _SQLITE_READS}
    return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY


def _connect(url: str, project: Project, loc: Loc) -> tuple[str, Any]:
    """The kind of database (``sqlite``, ``duckdb``, ``postgres``) and a read-only connection.

    SQLite and DuckDB files are judged by :mod:`kpispec.confine` here, when the URL is
    resolved (it may come from the environment), and opened read-only by their real path.
    """
    from urllib.parse import quote

    scheme = url.split(":", 1)[0].lower()
    if scheme in ("sqlite", "duckdb"):
        target = database_file(url, project.root)
        real = None
        if target is not None:
            if not project.allow_outside_root:
                refused = outside_root(
                    "the database file of the connection", [target], project.root, loc
                )
                if refused is not None:
                    raise _Refused(refused)
            real = os.path.realpath(target)
            if not is_file(Path(real)):
                raise _NoDatabase(f"the database file {target} does not exist")
        if scheme == "sqlite":
            import sqlite3

            # the path is percent-encoded, so a `?` or `#` in it cannot add URI options
            name = ":memory:" if real is None else f"file:{quote(real)}?mode=ro"
            conn = sqlite3.connect(name, uri=real is not None)
            conn.set_authorizer(_sqlite_authorizer)
            return "sqlite", conn
        import duckdb

        return "duckdb", duckdb.connect(
            real or ":memory:", read_only=real is not None, config=DUCKDB_CONFIG
        )
    if scheme in ("spark", "sc"):
        from kpispec.engine.sql.run import spark_master, spark_session

        return "spark", spark_session(spark_master(url))
    if scheme in ("postgresql", "postgres"):
        import psycopg

        pg = psycopg.connect(url, connect_timeout=10)
        pg.read_only = True  # every transaction starts with BEGIN READ ONLY
        return "postgres", pg
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def _first_word(query: str) -> str:
    """The first keyword of a query, past blanks, comments and opening parentheses."""
    rest = query
    while True:
        rest = rest.lstrip().lstrip("(")
        if rest.startswith("--"):
            rest = rest.split("\n", 1)[1] if "\n" in rest else ""
        elif rest.startswith("/*"):
            rest = rest.split("*/", 1)[1] if "*/" in rest else ""
        else:
            break
    match = re.match(r"[A-Za-z_]+", rest)
    return match.group(0).lower() if match else ""


def _duckdb_single_select(query: str) -> str | None:
    """Why a DuckDB query is not one SELECT, or None (a parse error is left to the run)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error:
        return None
    if len(statements) != 1:
        return f"holds {len(statements)} statements"
    if statements[0].type != duckdb.StatementType.SELECT:
        return f"is a {statements[0].type.name} statement"
    return None


#: Spark reads a file named in a query (``parquet.`/path```, ``read_files(...)``) and
#: calls Java through ``reflect``: a query from the specs may do neither
_SPARK_FILE_FORMATS = frozenset(
    {"parquet", "csv", "json", "text", "orc", "avro", "delta", "binaryfile", "jdbc", "hive"}
)
_SPARK_JAVA = frozenset({"reflect", "java_method", "try_reflect"})


def spark_single_query(query: str) -> str | None:
    """Why a Spark SQL query is not one query that reads only the session's tables, or
    None. Spark has no read-only mode and reads any file a query names, so the query is
    judged by its parse tree (one it cannot parse is refused, never run unjudged)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(query, read="spark")
    except sqlglot.errors.SqlglotError as exc:
        return f"cannot be read as one query ({first_line(exc)})"
    if len(statements) != 1:
        return f"holds {len(statements)} statements"
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        return "is not a SELECT"
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            return f"reads a table function ({table.this.sql('spark')})"
        if table.db.lower() in _SPARK_FILE_FORMATS or "/" in table.name or ":" in table.name:
            return f"reads a file ({table.sql('spark')})"
    for call in tree.find_all(exp.Anonymous, exp.Func):
        name = call.name.lower() if isinstance(call, exp.Anonymous) else call.sql_name().lower()
        if name in _SPARK_JAVA:
            return f"calls Java ({name})"
    return None


def _run_query(
    kind: str, conn: Any, query: str, user_query: str, *, rows: bool = True
) -> tuple[list[str], list[Any]]:
    """Run one reading statement; :class:`_ReadOnly` when it would do anything else."""
    if kind == "duckdb":
        why = _duckdb_single_select(user_query) or _duckdb_single_select(query)
        if why is not None:
            raise _ReadOnly(why)
        cursor = conn.cursor()
    elif kind == "spark":  # Spark has no read-only mode: one query, checked by its parser
        why = spark_single_query(user_query)
        if why is not None:
            raise _ReadOnly(why)
        frame = conn.sql(query)
        return list(frame.columns), [tuple(r) for r in frame.collect()]
    elif kind == "postgres":
        # a server-side cursor: DECLARE ... CURSOR FOR <query>, sent with the extended
        # protocol, takes exactly one SELECT (or VALUES, TABLE, WITH ... SELECT without
        # data-modifying parts), inside the read-only transaction
        cursor = conn.cursor(name="kpispec_source")
    else:
        cursor = conn.cursor()
    cursor.execute(query)
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchall() if rows else cursor.fetchmany(0)


def _read_only_refusal(kind: str, exc: Exception, user_query: str) -> str | None:
    """Why the database refused the query for writing (or reaching files), or None."""
    if isinstance(exc, _ReadOnly):
        return str(exc)
    text = first_line(exc)
    if kind == "postgres":
        state = getattr(exc, "sqlstate", None)
        if state == "25006" or (state == "0A000" and "data-modifying" in text):
            return "tries to write"
        if state == "42601" and "multiple commands" in text:
            return "holds more than one statement"
        word = _first_word(user_query)
        if state == "42601" and word not in _READING:
            return f"starts with `{word}`, not SELECT" if word else "is not a SELECT"
    elif kind == "sqlite":
        if "not authorized" in text or "authorization denied" in text or "readonly" in text:
            return f"tries to do more than read ({text})"
        if "one statement at a time" in text:
            return "holds more than one statement"
    elif kind == "duckdb" and ("disabled by configuration" in text or "read-only" in text):
        return f"tries to reach a file or to write ({text})"
    return None


@dataclass
class Connected:
    """An open connection of a source: its kind, the driver's connection, its URL."""

    kind: str  #: sqlite, duckdb, postgres or spark
    conn: Any
    url: str
    secrets: list[str]  #: resolved ${ENV} values, kept out of messages
    loc: Loc  #: where the connection is defined


def connect_source(source: Source, project: Project) -> Connected:
    """Open the connection of a source; every failure is a data error naming it."""
    conn_spec = project.connections.get(source.connection or "")
    if conn_spec is None:
        raise data_error(source, "D106", f"unknown connection `{source.connection}`")
    url = resolve_url(conn_spec.url, source)
    secrets = secrets_of(conn_spec.url, url)
    try:
        kind, conn = _connect(url, project, conn_spec.loc)
    except _Refused as exc:  # the path may hold ${ENV} values: each is hidden whole
        d = exc.diagnostic
        values = [os.environ.get(m.group(1), "") for m in ENV_REFERENCE.finditer(conn_spec.url)]
        hidden = sorted((v for v in values if len(v) >= 3), key=len, reverse=True)
        raise SpecError([Diagnostic(d.code, scrub(d.message, hidden), d.loc, d.hint)]) from None
    except ModuleNotFoundError as exc:
        extra = "spark" if exc.name and "spark" in exc.name else "postgres"
        raise data_error(
            source,
            "D106",
            f"the database driver {exc.name!r} is not installed",
            f"install it: pip install 'kpispec[{extra}]' (or duckdb)",
            conn_spec.loc,
        ) from None
    except Exception as exc:  # the driver's own error text says what went wrong
        raise data_error(
            source,
            "D106",
            f"cannot connect to the database of connection `{source.connection}`: "
            + scrub(first_line(exc), secrets),
            "check the URL, the server, and the credentials in the environment",
            conn_spec.loc,
        ) from None
    return Connected(kind, conn, url, secrets, conn_spec.loc)


def query_loc(source: Source) -> Loc:
    """Where the specs say how a source's rows are read: its sql, table or path."""
    for key in ("sql", "table", "path"):
        if key in source.locs:
            return source.locs[key]
    return source.loc


def query_error(source: Source, kind: str, exc: Exception, secrets: list[str]) -> DataError:
    """The data error of a source's query that failed: D109 when the database refused it
    for doing more than read, else D107 with the database's own words."""
    why = _read_only_refusal(kind, exc, source.query or "")
    if why is not None:
        return data_error(
            source,
            "D109",
            "the query may only read its database, but it " + scrub(why, secrets),
            "a `sql:` source is one SELECT (or WITH ... SELECT, VALUES); kpispec runs it "
            "read-only, and DuckDB without access to files: read files through `path:`",
            source.locs.get("sql", source.loc),
        )
    return data_error(
        source,
        "D107",
        "the query failed: " + scrub(first_line(exc), secrets),
        "run the query in the database's own client to see the full error",
        query_loc(source),
    )


def check_reads(source: Source, connected: Connected) -> None:
    """Run a source's query for no rows, by the rules of reading it (one statement that
    only reads): before kpispec builds its aggregate query around it."""
    query = source.query or ""
    if connected.kind != "postgres":  # a server-side cursor reads no row until fetched
        query = f"select * from ({query.strip().rstrip(';')}) as kpispec_source limit 0"
    try:
        _run_query(connected.kind, connected.conn, query, source.query or "", rows=False)
    except Exception as exc:
        raise query_error(source, connected.kind, exc, connected.secrets) from None


def _read_sql(source: Source, project: Project, columns: list[str] | None) -> pl.LazyFrame:
    import polars as pl

    connected = connect_source(source, project)
    kind, conn, secrets = connected.kind, connected.conn, connected.secrets
    query = source.query or ""
    if columns:
        q = "`" if kind == "spark" else '"'
        quoted = ", ".join(q + c.replace(q, q + q) + q for c in columns)
        query = f"select {quoted} from ({query.strip().rstrip(';')}) as kpispec_source"
    try:
        names, rows = _run_query(kind, conn, query, source.query or "")
    except Exception as exc:
        raise query_error(source, kind, exc, secrets) from None
    finally:
        if kind != "spark":  # one session serves the whole run
            conn.close()
    data = {name: _plain_values([row[i] for row in rows]) for i, name in enumerate(names)}
    return pl.DataFrame(data, strict=False, infer_schema_length=None).lazy()


_NATIVE = (bool, int, float, str, bytes, Decimal, datetime, date, time, timedelta)


def _plain_values(values: list[Any]) -> list[Any]:
    """Driver values Polars has no type for (UUIDs, IP addresses, ...) become text."""
    if all(v is None or isinstance(v, _NATIVE) for v in values):
        return values
    return [None if v is None else v if isinstance(v, _NATIVE) else str(v) for v in values]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def open_source(
    source: Source,
    project: Project,
    *,
    columns: list[str] | None = None,
    frame: pl.DataFrame | None = None,
) -> Opened:
    """Open ``source``; ``frame`` replaces its data (spec tests bring their own rows)."""
    import polars as pl

    timezone = source.timezone or project.timezone
    files: list[Path] = []
    if frame is not None:
        raw = frame.lazy()
    elif source.query is not None:
        raw = _read_sql(source, project, columns)
    else:
        files = matching_files(source, None if project.allow_outside_root else project.root)
        refused = (
            None
            if project.allow_outside_root
            else outside_root(
                f"source path {source.path!r}",
                files,
                project.root,
                source.locs.get("path", source.loc),
            )
        )
        if refused is not None:  # validation said so already, unless a file appeared since
            raise SpecError([refused])
        if not files:
            raise data_error(
                source,
                "D101",
                f"no file matches {source.path!r}",
                "paths are relative to the spec file that defines the source",
                source.locs.get("path", source.loc),
            )
        odd_name = next((f for f in files if printable_name(str(f)) != str(f)), None)
        if odd_name is not None:  # Polars cannot open it, and no output could show its name
            raise data_error(
                source,
                "D102",
                f"cannot read {printable_name(odd_name.name)}: its name is not UTF-8",
                "rename the file (or narrow the pattern so that it does not match it)",
                source.locs.get("path", source.loc),
            )
        try:
            raw = _scan_files(source, files)
        except Exception as exc:
            raise data_error(
                source, "D102", f"cannot read {files[0].name}: {first_line(exc)}"
            ) from None
    try:
        schema = dict(raw.collect_schema())
    except Exception as exc:
        odd = _odd_file_out(source, files)
        if odd is not None:
            raise DataError([odd]) from None
        raise data_error(
            source,
            "D102",
            f"cannot read {files[0].name if files else 'its data'}: {first_line(exc)}",
            "check that the file is a valid " + (source_format(source) or "data") + " file",
            source.locs.get("path", source.loc),
        ) from None
    if frame is None and source.query is None and source_format(source) in ("csv", "ndjson"):
        empty = _untyped_columns(raw, schema, source)
        if empty:  # no value to infer a type from: a column of nulls, not of text
            raw = raw.with_columns(pl.col(c).cast(pl.Null) for c in empty)
            schema.update(dict.fromkeys(empty, pl.Null()))
    del pl
    return Opened(source, raw, schema, timezone, project.timezone, files)


def _untyped_columns(raw: pl.LazyFrame, schema: dict[str, Any], source: Source) -> list[str]:
    """Text columns of a CSV or NDJSON source that hold no value at all.

    Polars reads a column without values (a header and no rows, or every cell empty) as
    text, and ``sum`` of it would be a type error; it is a column of nulls. The sample
    Polars inferred from is checked first, so a whole file is read only for such columns.
    """
    import polars as pl

    text = [c for c, t in schema.items() if t == pl.String and c not in source.columns]
    if not text:
        return []
    try:
        sample = raw.select(text).head(CSV_INFER_ROWS).collect()
        candidates = [c for c in text if sample.get_column(c).null_count() == sample.height]
        if not candidates:
            return []
        seen = raw.select(pl.col(c).is_not_null().any() for c in candidates).collect()
    except Exception:  # a broken file: reading it for the KPIs reports what is wrong
        return []
    return [c for c in candidates if not seen.get_column(c).item()]


def _odd_file_out(source: Source, files: list[Path]) -> Diagnostic | None:
    """For a glob of CSV files: the first file whose columns differ from the first one's."""
    import csv as csvlib

    if source_format(source) != "csv" or len(files) < 2:
        return None
    headers = []
    for file in files:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            headers.append(next(csvlib.reader(handle), []))
    for file, header in zip(files[1:], headers[1:], strict=True):
        missing = [c for c in headers[0] if c not in header]
        extra = [c for c in header if c not in headers[0]]
        if missing or extra:
            what = (
                f"has no column `{missing[0]}`" if missing else f"has an extra column `{extra[0]}`"
            )
            return Diagnostic(
                "D104",
                f"source `{source.id}`: {file.name} {what}; every file of a glob needs the same columns",
                source.locs.get("path", source.loc),
                did_you_mean(missing[0], header) if missing else None,
            )
    return None


def find_bad_value(opened: Opened, columns: Iterable[str]) -> Diagnostic | None:
    """After a failed read, what went wrong, in the data's terms.

    A file of a glob that lacks a column the KPIs use (D104), or the first value that
    does not parse as its declared type, with its file and line (D103).
    """
    import polars as pl

    source = opened.source
    if source_format(source) != "csv":
        return None
    wanted = list(columns)
    for file in opened.files:
        try:
            text = pl.read_csv(file, infer_schema=False)
        except Exception as exc:  # the file itself is broken: say so, naming it
            return Diagnostic(
                "D102",
                f"source `{source.id}`: cannot read {file.name}: {first_line(exc)}",
                source.locs.get("path", source.loc),
                "check that the file is valid CSV (quotes closed, one header line)",
            )
        missing = [c for c in wanted if c not in text.columns]
        if missing:
            return Diagnostic(
                "D104",
                f"source `{source.id}`: {file.name} has no column `{missing[0]}`",
                source.locs.get("path", source.loc),
                did_you_mean(missing[0], text.columns) or f"its columns: {', '.join(text.columns)}",
            )
        for name in wanted:
            declared = source.columns.get(name)
            if declared is None:
                continue
            values = text.get_column(name)
            if declared == ColumnType.DATETIME:  # each value by its own form, as when read
                parsed = pl.select(
                    parse_instants(pl.lit(values), opened.timezone, strict=False)
                ).to_series()
            elif declared == ColumnType.DATE:
                parsed = values.str.to_date(strict=False)
            elif declared == ColumnType.BOOLEAN:
                parsed = values.str.to_lowercase().replace_strict(
                    BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean
                )
            else:
                parsed = values.cast(polars_type(declared), strict=False)
            bad = (values.is_not_null() & parsed.is_null()).arg_true()
            if len(bad):
                row = int(bad[0])
                return Diagnostic(
                    "D103",
                    f"source `{source.id}`: value {values[row]!r} in column `{name}` of "
                    f"{file.name} (line {row + 2}) is not a valid {declared}",
                    source.column_locs.get(name, source.locs.get("columns", source.loc)),
                    "fix the value in the data, or declare the column with another type",
                )
    return None
