"""The registry of formula functions: one entry per function.

An entry holds everything the front end knows of a function: whether it reads rows
(an aggregate) or one value (a row function), its arity, ``*`` and ``distinct``, the kinds
each argument accepts, its type rule (argument kinds to the result's kind) and the rules
its literal arguments follow. The lowering of a function to an engine lives with that
engine, in a table keyed by the function's name (:mod:`kpispec.engine.polars.lower`);
a test keeps the tables and this registry in step. Adding a function is one entry here
and one per engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from kpispec.formula.kinds import ANY, TEMPORAL, Kind
from kpispec.formula.nodes import Call, Literal, Node, Unary


class Role(Enum):
    AGGREGATE = "aggregate"  #: reads the rows of a period
    ROW = "row"  #: works on one row (or on KPI-level values)
    #: a KPI-level value taken on the period's total row, whatever the breakdown: total()
    TOTAL = "total"


@dataclass(frozen=True, slots=True)
class ArgumentProblem:
    """An argument that breaks a rule: ``index`` is the argument (None: the whole call)."""

    message: str
    index: int | None
    hint: str | None = None


#: A type rule: the kinds of the arguments to the result's kind, or what is wrong.
TypeRule = Callable[[Sequence[Kind]], "Kind | ArgumentProblem"]
#: A rule on the literal arguments (a unit, a fraction), checked when the formula is read.
LiteralRule = Callable[[Call], "ArgumentProblem | None"]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    role: Role
    min_args: int
    max_args: int | None  #: None: any number
    signature: str
    #: the kinds each argument accepts, by position (the last one repeats); None: any
    accepts: tuple[tuple[Kind, ...] | None, ...]
    result: TypeRule
    star: bool = False  #: accepts ``*`` (count)
    distinct: bool = False  #: accepts ``distinct`` (count)
    compares: bool = False  #: its arguments are compared as by ``=`` (nullif)
    literals: LiteralRule | None = None

    @property
    def aggregate(self) -> bool:
        return self.role is Role.AGGREGATE

    def accepted(self, index: int) -> tuple[Kind, ...] | None:
        if not self.accepts:
            return None
        return self.accepts[min(index, len(self.accepts) - 1)]

    def type_of(self, kinds: Sequence[Kind]) -> Kind | ArgumentProblem:
        """The result's kind for arguments of ``kinds``, or the first argument at fault."""
        for index, kind in enumerate(kinds):
            allowed = self.accepted(index)
            if allowed is not None and kind not in allowed and kind not in ANY:
                return ArgumentProblem(
                    f"{self.name} needs {' or '.join(map(str, allowed))}, but this is {kind}",
                    index,
                    "check the column's type in the data, or declare it under the source's "
                    "`columns:`",
                )
        return self.result(kinds)


DATE_DIFF_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
PERIOD_VARIABLES = ("period_start", "period_end", "period_days")

NUMERIC = (Kind.NUMBER, Kind.BOOLEAN)  #: what sums and averages read (true counts as 1)
ORDERED = (Kind.NUMBER, Kind.BOOLEAN, Kind.DATE, Kind.TIMESTAMP, Kind.TEXT)


def number(_: Sequence[Kind]) -> Kind:
    """At KPI level every aggregate is a number."""
    return Kind.NUMBER


def first_kind(kinds: Sequence[Kind]) -> Kind:
    return kinds[0]


def one_kind(kinds: Sequence[Kind]) -> Kind | ArgumentProblem:
    """All arguments of one kind (nulls and unknowns fit): that kind."""
    known = [k for k in kinds if k not in ANY]
    if any(k != known[0] for k in known):
        return ArgumentProblem("coalesce needs arguments of one type", None)
    return known[0] if known else (Kind.UNKNOWN if Kind.UNKNOWN in kinds else Kind.NULL)


def literal_number(node: Node) -> float | None:
    """The value of a number literal (a negative one included), else None."""
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal):
        value = literal_number(node.operand)
        return -value if value is not None else None
    if (
        isinstance(node, Literal)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    return None


def _fraction(call: Call) -> ArgumentProblem | None:
    p = literal_number(call.args[1])
    if p is None or not 0 <= p <= 1:
        return ArgumentProblem(
            "the percentile must be a number between 0 and 1",
            1,
            "e.g. percentile(resolution_hours, 0.95) for the 95th percentile",
        )
    return None


def _unit(call: Call) -> ArgumentProblem | None:
    unit = call.args[0]
    if (
        isinstance(unit, Literal)
        and isinstance(unit.value, str)
        and unit.value.lower() in DATE_DIFF_UNITS
    ):
        return None
    return ArgumentProblem(
        "the first argument of date_diff is the unit: 'second', 'minute', 'hour' or 'day'",
        0,
        "e.g. date_diff('hour', opened_at, resolved_at)",
    )


def _digits(call: Call) -> ArgumentProblem | None:
    if len(call.args) < 2:
        return None
    digits = literal_number(call.args[1])
    if digits is None or digits != int(digits) or digits < 0:
        return ArgumentProblem(
            "round takes a whole number of decimals, 0 or more", 1, "e.g. round(x, 2)"
        )
    return None


def _aggregate(
    name: str, accepts: tuple[Kind, ...] | None, signature: str | None = None, *, star: bool = False
) -> Function:
    sig = signature or f"{name}(x)"
    return Function(name, Role.AGGREGATE, 1, 1, sig, (accepts,), number, star=star, distinct=star)


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        # aggregates: read the rows of a period
        _aggregate("count", None, "count(*), count(x) or count(distinct x)", star=True),
        _aggregate("sum", NUMERIC),
        _aggregate("avg", NUMERIC),
        _aggregate("min", ORDERED),
        _aggregate("max", ORDERED),
        _aggregate("median", NUMERIC),
        Function(
            "percentile",
            Role.AGGREGATE,
            2,
            2,
            "percentile(x, p) with p between 0 and 1",
            (NUMERIC, None),
            number,
            literals=_fraction,
        ),
        _aggregate("stddev", NUMERIC),
        _aggregate("first", None),
        _aggregate("last", None),
        _aggregate("share", (Kind.BOOLEAN,), "share(condition)"),
        # row functions: work on one row (or on KPI-level values)
        # the total of a KPI-level value: the share of a member is x / total(x)
        Function("total", Role.TOTAL, 1, 1, "total(aggregate)", ((Kind.NUMBER,),), number),
        Function("coalesce", Role.ROW, 1, None, "coalesce(x, y, ...)", (), one_kind),
        Function("nullif", Role.ROW, 2, 2, "nullif(x, y)", (), first_kind, compares=True),
        Function("abs", Role.ROW, 1, 1, "abs(x)", ((Kind.NUMBER,),), number),
        Function(
            "round",
            Role.ROW,
            1,
            2,
            "round(x) or round(x, n)",
            ((Kind.NUMBER,), None),
            number,
            literals=_digits,
        ),
        Function(
            "least",
            Role.ROW,
            1,
            None,
            "least(x, y, ...)",
            ((Kind.NUMBER, *sorted(TEMPORAL, key=str)),),
            first_kind,
        ),
        Function(
            "greatest",
            Role.ROW,
            1,
            None,
            "greatest(x, y, ...)",
            ((Kind.NUMBER, *sorted(TEMPORAL, key=str)),),
            first_kind,
        ),
        Function(
            "date_diff",
            Role.ROW,
            3,
            3,
            "date_diff('second'|'minute'|'hour'|'day', start, end)",
            (None, tuple(sorted(TEMPORAL, key=str))),
            number,
            literals=_unit,
        ),
    )
}
