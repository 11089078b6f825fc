"""What each SQL dialect supports, and how it writes the forms that differ between them.

One entry per dialect: the table is the one place a dialect's differences live (the SQL
lowering asks it, never a dialect's name). Forms are sqlglot expression builders; the
text of a dialect is sqlglot's generator's. kpispec runs ``duckdb``, ``postgres`` and
``spark`` itself; ``bigquery``, ``snowflake`` and ``trino`` are written as text only
(``kpispec sql``), for review or to run elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call written as it is named (no dialect renames it)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _within_group(x: exp.Expression, p: float) -> exp.Expression:
    return exp.WithinGroup(
        this=exp.PercentileCont(this=exp.Literal.number(p)),
        expression=exp.Order(expressions=[exp.Ordered(this=x, nulls_first=False)]),
    )


def _key(t: exp.Expression, x: exp.Expression, row: str) -> exp.Expression:
    """The order of first/last: by time, then by the value (ties never depend on files)."""
    if row == "struct_pack":
        return _fn(
            "struct_pack",
            exp.PropertyEQ(this=exp.to_identifier("t"), expression=t),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=x),
        )
    return _fn(row, t, x)


def _by(fn: str, row: str) -> Callable[[exp.Expression, exp.Expression, bool], exp.Expression]:
    """first/last as min_by/max_by over the key (time, value)."""

    def build(x: exp.Expression, t: exp.Expression, late: bool) -> exp.Expression:
        return _fn(fn.replace("min", "max") if late else fn, x, _key(t, x, row))

    return build


def _array_first(x: exp.Expression, t: exp.Expression, late: bool) -> exp.Expression:
    """first/last as the first element of the values ordered by (time, value)."""
    order = [exp.Ordered(this=t, desc=late), exp.Ordered(this=x, desc=late)]
    agg = exp.ArrayAgg(this=exp.Order(this=x, expressions=order))
    return exp.Bracket(this=exp.Paren(this=agg), expressions=[exp.Literal.number(1)], offset=1)


def _hour() -> exp.Expression:
    return exp.Interval(this=exp.Literal.string("1"), unit=exp.var("HOUR"))


def _earliest(
    at: Callable[[exp.Expression, str], exp.Expression],
) -> Callable[[exp.Expression, str], exp.Expression]:
    """Naive times read as Polars reads them, on a database that reads the repeated hour
    of autumn as the later one: the earlier of ``at(t)`` and ``at(t - 1 hour) + 1 hour``
    (which also moves a time in spring's skipped hour forward by the gap)."""

    def build(x: exp.Expression, zone: str) -> exp.Expression:
        if zone in ("UTC", "Etc/UTC"):
            return at(x, zone)
        earlier = exp.Paren(this=exp.Sub(this=x, expression=_hour()))
        shifted = exp.Add(this=at(earlier, zone), expression=_hour())
        return _fn("LEAST", at(x, zone), shifted)

    return build


@dataclass(frozen=True)
class Dialect:
    name: str
    sqlglot: str  #: sqlglot's name of the dialect
    runs: bool  #: kpispec runs queries on it (else: SQL text only)
    filter_clause: bool  #: ``agg(x) FILTER (WHERE c)``; else ``agg(CASE WHEN c THEN x END)``
    #: an exact linear percentile of x at p, or None: the dialect has none
    percentile: Callable[[exp.Expression, float], exp.Expression] | None
    #: first/last of x by time t (late: last) over non-null x, or None: not supported
    first_last: Callable[[exp.Expression, exp.Expression, bool], exp.Expression] | None
    #: naive wall-clock time in a zone -> an instant
    localize: Callable[[exp.Expression, str], exp.Expression]
    #: an instant -> microseconds since 1970-01-01 UTC, as an integer or a number
    micros: Callable[[exp.Expression], exp.Expression]
    #: types by sqlglot's names (each dialect's generator spells them its way)
    naive_type: str = "TIMESTAMP"  #: a wall-clock timestamp without a zone
    instant_type: str = "TIMESTAMPTZ"  #: an instant
    text_type: str = "VARCHAR"
    double_type: str = "DOUBLE"

    def instant(self, iso_utc: str) -> exp.Expression:
        """An instant literal, from ISO text with its UTC offset."""
        return exp.cast(exp.Literal.string(iso_utc), self.instant_type)

    def naive(self, iso: str) -> exp.Expression:
        return exp.cast(exp.Literal.string(iso), self.naive_type)

    def date(self, iso: str) -> exp.Expression:
        return exp.cast(exp.Literal.string(iso), "DATE")

    def double(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, self.double_type)

    def text(self, value: exp.Expression) -> exp.Expression:
        return exp.cast(value, self.text_type)

    def capabilities(self) -> dict[str, str]:
        """This dialect's row of the capability table in docs/engines.md (tested)."""
        x, t = exp.column("x"), exp.column("t")
        percentile = self.percentile(x, 0.9).sql(self.sqlglot) if self.percentile else None
        first = self.first_last(x, t, False).sql(self.sqlglot) if self.first_last else None
        return {
            "kpispec runs it": "yes" if self.runs else "SQL text only",
            "filter (where c)": "`agg(x) FILTER (WHERE c)`"
            if self.filter_clause
            else "`agg(CASE WHEN c THEN x END)`",
            "percentile(x, 0.9)": f"`{percentile}`" if percentile else "none exact: D110",
            "first(x) by time t": f"`{first}`" if first else "not written: D110",
        }


def _pg_micros(x: exp.Expression) -> exp.Expression:
    epoch = exp.Extract(this=exp.var("EPOCH"), expression=x)
    return exp.cast(exp.Mul(this=epoch, expression=exp.Literal.number(1_000_000)), "BIGINT")


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(
            "duckdb",
            "duckdb",
            runs=True,
            filter_clause=True,
            percentile=lambda x, p: _fn("quantile_cont", x, exp.Literal.number(p)),
            first_last=_by("arg_min", "struct_pack"),
            localize=_earliest(lambda x, zone: _fn("timezone", exp.Literal.string(zone), x)),
            micros=lambda x: _fn("epoch_us", x),
        ),
        Dialect(
            "postgres",
            "postgres",
            runs=True,
            filter_clause=True,
            percentile=_within_group,
            first_last=_array_first,
            localize=_earliest(
                lambda x, zone: exp.AtTimeZone(this=x, zone=exp.Literal.string(zone))
            ),
            micros=_pg_micros,
        ),
        Dialect(
            "spark",
            "spark",
            runs=True,
            filter_clause=True,
            percentile=lambda x, p: _fn("percentile", x, exp.Literal.number(p)),
            first_last=_by("min_by", "struct"),
            localize=lambda x, zone: _fn("to_utc_timestamp", x, exp.Literal.string(zone)),
            micros=lambda x: _fn("unix_micros", x),
            naive_type="TIMESTAMPNTZ",
        ),
        Dialect(
            "bigquery",
            "bigquery",
            runs=False,
            filter_clause=False,
            percentile=None,  # PERCENTILE_CONT is an analytic function only
            first_last=None,
            localize=lambda x, zone: _fn("TIMESTAMP", x, exp.Literal.string(zone)),
            micros=lambda x: _fn("UNIX_MICROS", x),
        ),
        Dialect(
            "snowflake",
            "snowflake",
            runs=False,
            filter_clause=False,
            percentile=_within_group,
            first_last=None,
            localize=lambda x, zone: _fn(
                "CONVERT_TIMEZONE", exp.Literal.string(zone), exp.Literal.string("UTC"), x
            ),
            micros=lambda x: _fn("DATE_PART", exp.var("EPOCH_MICROSECOND"), x),
            naive_type="TIMESTAMPNTZ",
        ),
        Dialect(
            "trino",
            "trino",
            runs=False,
            filter_clause=True,
            percentile=None,  # approx_percentile only
            first_last=_by("min_by", "ROW"),
            localize=lambda x, zone: _fn("with_timezone", x, exp.Literal.string(zone)),
            micros=lambda x: exp.Mul(
                this=_fn("to_unixtime", x), expression=exp.Literal.number(1_000_000)
            ),
        ),
    )
}
