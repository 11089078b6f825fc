"""Name resolution and aggregate levels of a parsed formula.

A KPI formula lives at *KPI level*: numbers, other KPIs by id, period variables and
aggregates. Inside an aggregate (its arguments and its ``filter (where ...)``) and in
row filters the formula is at *row level*: columns, literals and row functions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum

from kpispec.formula.functions import FUNCTIONS, PERIOD_VARIABLES, Role
from kpispec.formula.nodes import Call, Name, Node
from kpispec.suggest import closest, did_you_mean


class Level(Enum):
    KPI = "kpi"  #: a KPI formula
    ROW = "row"  #: inside an aggregate
    FILTER = "filter"  #: a row filter (source or KPI `filter:`)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    start: int
    end: int
    hint: str | None = None


@dataclass
class FormulaInfo:
    """What a formula refers to, found by :func:`analyze`."""

    ast: Node
    kpi_refs: list[Name] = field(default_factory=list)
    columns: list[Name] = field(default_factory=list)
    aggregates: list[Call] = field(default_factory=list)
    period_variables: set[str] = field(default_factory=set)
    totals: list[Call] = field(default_factory=list)  #: the total() calls
    problems: list[Problem] = field(default_factory=list)

    @property
    def kpi_ids(self) -> list[str]:
        return list(dict.fromkeys(n.name for n in self.kpi_refs))

    @property
    def column_names(self) -> list[str]:
        return list(dict.fromkeys(n.name for n in self.columns))


def analyze(
    ast: Node,
    level: Level,
    kpi_ids: Collection[str] = (),
    columns: Collection[str] | None = None,
) -> FormulaInfo:
    """Classify every name of ``ast`` and check levels, functions and arities.

    ``columns`` are the source's columns when they are known; a name that is neither a
    KPI nor a period variable is then told apart as a bare column.
    """
    info = FormulaInfo(ast)
    _Analyzer(info, kpi_ids, columns).visit(ast, level, None)
    return info


class _Analyzer:
    def __init__(
        self, info: FormulaInfo, kpi_ids: Collection[str], columns: Collection[str] | None
    ) -> None:
        self.info = info
        self.kpi_ids = kpi_ids
        self.columns = columns

    def problem(
        self,
        code: str,
        message: str,
        node: Node,
        hint: str | None = None,
        *,
        end: int | None = None,
    ) -> None:
        self.info.problems.append(Problem(code, message, node.start, end or node.end, hint))

    def visit(self, node: Node, level: Level, outer: Call | None) -> None:
        if isinstance(node, Name):
            self.name(node, level)
        elif isinstance(node, Call):
            self.call(node, level, outer)
        else:
            for child in node.children():
                self.visit(child, level, outer)

    def name(self, node: Name, level: Level) -> None:
        if not node.quoted and node.name in PERIOD_VARIABLES:
            self.info.period_variables.add(node.name)
            return
        if level is not Level.KPI:
            self.info.columns.append(node)
            return
        if not node.quoted and node.name in self.kpi_ids:
            self.info.kpi_refs.append(node)
            return
        if node.quoted or (self.columns is not None and node.name in self.columns):
            shown = f'"{node.name}"' if node.quoted else node.name
            self.problem(
                "E303",
                f"column `{node.name}` is used outside an aggregate",
                node,
                f"a KPI is one number per period: aggregate the column, e.g. sum({shown}) "
                f"or avg({shown})",
            )
            return
        options = [*self.kpi_ids, *PERIOD_VARIABLES]
        hint = did_you_mean(node.name, options)
        self.problem(
            "E307",
            f"unknown KPI `{node.name}`",
            node,
            hint
            or f"a column must be inside an aggregate, e.g. sum({node.name}); "
            "another KPI is referenced by its id",
        )

    def call(self, node: Call, level: Level, outer: Call | None) -> None:
        fn = FUNCTIONS.get(node.name)
        name_end = node.name_end
        if fn is None:
            match = closest(node.name, FUNCTIONS)
            hint = _FUNCTION_HINTS.get(node.name) or (f"did you mean `{match}`?" if match else None)
            self.problem(
                "E301",
                f"unknown function `{node.name}`",
                node,
                hint or "see the function list in docs/language.md",
                end=name_end,
            )
            return  # its arguments' level is unknown: checking them would only add noise
        if fn.role is Role.TOTAL:
            self.total(node, level, outer)
            return
        if fn.aggregate:
            if outer is not None:
                self.problem(
                    "E304",
                    f"aggregate `{node.name}` inside aggregate `{outer.name}`",
                    node,
                    "aggregates read rows; compute the inner value as its own KPI and combine KPIs instead",
                    end=name_end,
                )
            elif level is Level.FILTER:
                self.problem(
                    "E305",
                    f"aggregate `{node.name}` in a row filter",
                    node,
                    "a filter keeps or drops single rows; use the aggregate in the KPI's formula",
                    end=name_end,
                )
            else:
                self.info.aggregates.append(node)
        elif node.filter is not None:
            self.info.problems.append(
                Problem(
                    "E312",
                    f"`filter (where ...)` only follows an aggregate, not `{node.name}`",
                    node.filter_start,
                    node.filter_start + len("filter"),
                    "move the condition into an aggregate: sum(x) filter (where condition)",
                )
            )
        self.arity(node)
        inner = Level.ROW if fn.aggregate else level
        inner_outer = node if fn.aggregate else outer
        for arg in node.args:
            self.visit(arg, inner, inner_outer)
        if node.filter is not None and fn.aggregate:
            self.visit(node.filter, Level.ROW, inner_outer)

    def total(self, node: Call, level: Level, outer: Call | None) -> None:
        """``total(x)``: at KPI level only, over a value that reads rows or other KPIs."""
        if outer is not None or level is not Level.KPI:
            where = f"inside aggregate `{outer.name}`" if outer is not None else "in a row filter"
            self.problem(
                "E304" if outer is not None else "E305",
                f"`total` {where}",
                node,
                "total() takes an aggregate and gives it over every row of the period: "
                "write it at the KPI's level, e.g. 100 * count(*) / total(count(*))",
                end=node.name_end,
            )
            return
        if node.filter is not None:
            self.info.problems.append(
                Problem(
                    "E312",
                    "`filter (where ...)` only follows an aggregate, not `total`",
                    node.filter_start,
                    node.filter_start + len("filter"),
                    "filter the aggregate inside: total(count(*) filter (where condition))",
                )
            )
        self.arity(node)
        before = (len(self.info.aggregates), len(self.info.kpi_refs), len(self.info.problems))
        for arg in node.args:
            self.visit(arg, Level.KPI, None)
        after = (len(self.info.aggregates), len(self.info.kpi_refs), len(self.info.problems))
        if node.args and after[:2] == before[:2] and after[2] == before[2]:
            self.problem(
                "E309",
                "`total` takes an aggregate or a KPI: the value to total over the period",
                node.args[0],
                "write total(count(*)), total(sum(amount)) or total(revenue)",
            )
        self.info.totals.append(node)

    def arity(self, node: Call) -> None:
        fn = FUNCTIONS[node.name]
        name = fn.name
        n = len(node.args)
        if node.star and not fn.star:
            self.problem(
                "E302",
                f"`{name}(*)` is not allowed; only count takes *",
                node,
                f"write {fn.signature}",
            )
            return
        if node.distinct and not fn.distinct:
            self.problem(
                "E302",
                f"`distinct` is not allowed in `{name}`",
                node,
                "only count(distinct x) takes distinct",
            )
        if node.star:
            return
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            count = "no arguments" if n == 0 else f"{n} argument{'s' if n != 1 else ''}"
            self.problem(
                "E302",
                f"`{name}` takes {_expected(fn.min_args, fn.max_args)}, got {count}",
                node,
                f"write {fn.signature}",
            )
            return
        if fn.literals is not None:
            wrong = fn.literals(node)
            if wrong is not None:
                at = node if wrong.index is None else node.args[wrong.index]
                self.problem("E309", wrong.message, at, wrong.hint)


_FUNCTION_HINTS = {
    "mean": "use avg(x)",
    "average": "use avg(x)",
    "countdistinct": "use count(distinct x)",
    "count_distinct": "use count(distinct x)",
    "quantile": "use percentile(x, p)",
    "std": "use stddev(x)",
    "ifnull": "use coalesce(x, y)",
    "iif": "use case when condition then a else b end",
    "if": "use case when condition then a else b end",
    "datediff": "use date_diff('day', start, end)",
}


def _expected(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo} argument{'s' if lo != 1 else ''}"
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"
