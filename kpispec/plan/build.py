"""Build the logical plan of one source from its checked KPIs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from kpispec.formula.analysis import FormulaInfo
from kpispec.formula.functions import PERIOD_VARIABLES
from kpispec.formula.nodes import Call, Name, Node
from kpispec.plan.model import Aggregate, Group, Input, Partial, Scan, SourcePlan
from kpispec.plan.partials import partials_of
from kpispec.plan.windows import Span, boundaries, bucket_grain, mapping, row_bounds
from kpispec.spec.checks import CheckedKpi
from kpispec.spec.model import Source

#: node fields that say where a node is, not what it is
_POSITIONS = frozenset({"start", "end", "name_end", "filter_start"})


def shape(node: Node | None) -> Any:
    """What a node computes, without where it is written: equal for equal expressions."""
    if node is None:
        return None
    out: list[Any] = [type(node).__name__]
    for f in fields(node):
        if f.name in _POSITIONS:
            continue
        value = getattr(node, f.name)
        out.append(_shape_value(value))
    return tuple(out)


def _shape_value(value: Any) -> Any:
    if isinstance(value, Node):
        return shape(value)
    if isinstance(value, tuple):
        return tuple(_shape_value(v) for v in value)
    return (type(value).__name__, value)


def mentions_period(node: Node) -> bool:
    return any(
        isinstance(n, Name) and not n.quoted and n.name in PERIOD_VARIABLES for n in node.walk()
    )


def uses_period_rows(kpi: CheckedKpi) -> bool:
    """Whether the KPI reads period variables at row level (in aggregates or its filter)."""
    calls = kpi.formula.aggregates if kpi.formula else []
    return any(mentions_period(c) for c in calls) or (
        kpi.filter is not None and mentions_period(kpi.filter.ast)
    )


def needed_columns(kpis: Iterable[CheckedKpi], source: Source) -> list[str]:
    names: list[str] = []
    if source.time:
        names.append(source.time)
    for kpi in kpis:
        t = kpi.kpi.time_column(source)
        if t:
            names.append(t)
        names.extend(kpi.dimensions)
        for info in (kpi.formula, kpi.filter):
            if info is not None:
                names.extend(info.column_names)
    return list(dict.fromkeys(names))


class _Partials:
    """The inputs and partials of one scan, each computed once however many KPIs read it."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.inputs: dict[Any, Input] = {}
        self.partials: dict[Any, Partial] = {}

    def input(self, kpi: CheckedKpi, call: Call) -> Input:
        """The value ``call`` aggregates, kept where the KPI's and the call's filters hold."""
        arg = None if call.star else call.args[0]
        formula = kpi.kpi.formula.text
        where: list[tuple[Node, str]] = []
        if kpi.filter is not None and kpi.kpi.filter is not None:
            where.append((kpi.filter.ast, kpi.kpi.filter.text))
        if call.filter is not None:
            where.append((call.filter, formula))
        conditions = tuple(node for node, _ in where)
        key = (shape(arg), tuple(shape(c) for c in conditions))
        found = self.inputs.get(key)
        if found is None:
            text = "*" if arg is None else formula[arg.start : arg.end]
            if where:
                text += " where " + " and ".join(
                    f"({t[n.start : n.end].strip()})" for n, t in where
                )
            found = Input(f"__x{self.scan.number}_{len(self.inputs)}", arg, conditions, text)
            self.inputs[key] = found
            self.scan.inputs.append(found)
        return found

    def partial(self, op: Any, input: Input) -> Partial:
        key = (op, input.column)
        found = self.partials.get(key)
        if found is None:
            found = Partial(f"__q{self.scan.number}_{len(self.partials)}", op, input)
            self.partials[key] = found
            self.scan.partials.append(found)
        return found


def build_plan(
    source: Source,
    kpis: list[CheckedKpi],
    spans: dict[str, Span],
    source_filter: FormulaInfo | None,
    *,
    collapse: bool = False,
) -> SourcePlan:
    """The plan of ``source`` for ``kpis`` over the periods of ``spans``.

    ``collapse`` puts every row in every period, whatever its time (spec tests without a
    period treat all their rows as one period).
    """
    columns = needed_columns(kpis, source)
    if source_filter is not None:
        columns.extend(c for c in source_filter.column_names if c not in columns)
    every_row_per_period = source_filter is not None and mentions_period(source_filter.ast)
    groups: dict[tuple[Any, ...], Group] = {}
    for kpi in kpis:
        time = kpi.kpi.time_column(source)
        key = (time, str(kpi.kpi.grain), kpi.kpi.window)
        group = groups.get(key)
        if group is None:
            grain = str(kpi.kpi.grain)
            group = groups[key] = Group(len(groups), time, grain, kpi.kpi.window, spans[grain])
        group.kpis.append(kpi)
        if every_row_per_period or uses_period_rows(kpi):
            group.period_rows = True
    plan = SourcePlan(
        source, source_filter, source.filter, columns, list(groups.values()), [], collapse
    )
    scans: dict[str | None, tuple[Scan, _Partials]] = {}
    for group in plan.groups:
        scan_time = None if collapse else group.time
        for kpi in group.kpis:
            calls = kpi.formula.aggregates if kpi.formula else []
            for call in calls:
                column = f"__a{group.number}_{len(group.aggregates)}"
                ops = None if group.period_rows else partials_of(call)
                if ops is None:
                    group.aggregates.append(Aggregate(column, kpi, call, None))
                    continue
                if scan_time not in scans:
                    scan = Scan(len(scans), scan_time, None, None, None)
                    scans[scan_time] = (scan, _Partials(scan))
                scan, registry = scans[scan_time]
                if group not in scan.groups:
                    scan.groups.append(group)
                shared = registry.input(kpi, call)
                parts = tuple(registry.partial(op, shared) for op in ops)
                group.aggregates.append(Aggregate(column, kpi, call, parts))
    for scan, _ in scans.values():
        _place(scan)
        plan.scans.append(scan)
    for group in plan.groups:
        if group.mapping is None:  # read by row passes only
            if group.time is not None and not collapse:
                group.bucket = bucket_grain(boundaries(group.span, group.window))
            group.mapping = mapping(group.span, group.window, group.bucket)
    return plan


def _place(scan: Scan) -> None:
    """Choose the scan's bucket grain and row bounds, and map each group's windows."""
    if scan.time is None:
        for group in scan.groups:
            group.mapping = mapping(group.span, group.window, None)
        return
    needed = set()
    starts, ends = [], []
    for group in scan.groups:
        needed |= boundaries(group.span, group.window)
        start, end = row_bounds(group.span, group.window)
        starts.append(start)
        ends.append(end)
    scan.bucket = bucket_grain(needed)
    scan.start = None if any(s is None for s in starts) else min(s for s in starts if s)
    scan.end = max(ends)
    for group in scan.groups:
        group.bucket = scan.bucket
        group.mapping = mapping(group.span, group.window, scan.bucket)
