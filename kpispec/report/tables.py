"""Results as tables: the terminal table (Rich) and the flat CSV of ``eval --format csv``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from kpispec.escaping import one_line
from kpispec.formatting import format_change, format_value, kpi_bound
from kpispec.results import Results, Status

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

CSV_COLUMNS = ["scorecard", "kpi", "period", "dimension", "member", "value", "status"]
STATUS_MARK = {
    Status.MET: "✔ met",
    Status.AT_RISK: "▲ at risk",
    Status.MISSED: "✖ missed",
    Status.NO_DATA: "○ no data",
    Status.NO_TARGET: "· no target",
}
STATUS_STYLE = {
    Status.MET: "green",
    Status.AT_RISK: "yellow",
    Status.MISSED: "bold red",
    Status.NO_DATA: "dim",
    Status.NO_TARGET: "dim",
}


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def to_csv(results: Results) -> str:
    """One row per KPI x period x (total or dimension member); totals leave dimension empty.

    Names from the data (a dimension, a member) are written on one line (:func:`one_line`),
    so that every line of the output is one row that starts with kpispec's own text.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for card, kpi in results.kpis():
        for point in kpi.series:
            writer.writerow(
                [card.id, kpi.id, point.period, "", "", _number(point.value), str(point.status)]
            )
        for breakdown in kpi.breakdowns:
            for member in breakdown.members:
                for mp in member.series:
                    writer.writerow(
                        [
                            card.id,
                            kpi.id,
                            mp.period,
                            one_line(breakdown.dimension),
                            one_line(member.member or ""),
                            _number(mp.value),
                            "",
                        ]
                    )
    return out.getvalue()


def print_table(results: Results, console: Console) -> None:
    """A readable table per scorecard on a terminal.

    Every cell is a Rich ``Text`` (never parsed for markup such as ``[bold]``) holding one
    line (:func:`one_line`): a name cannot style the table or start a line of its own.
    """
    from rich.table import Table
    from rich.text import Text

    for card in results.scorecards:
        locale = card.locale
        table = Table(
            title=Text(one_line(f"{card.title} ({card.id})")),
            title_justify="left",
            expand=False,
        )
        columns: list[tuple[str, JustifyMethod]] = [
            ("KPI", "left"), ("Period", "left"), ("Value", "right"), ("Target", "right"),
            ("Status", "left"), ("vs previous", "right"), ("Owner", "left"),
        ]  # fmt: skip
        for name, justify in columns:
            table.add_column(name, justify=justify)
        for kpi in card.kpis:
            value = format_value(
                kpi.value, kpi.unit, locale, decimals=kpi.decimals, currency=kpi.currency
            )
            change = format_change(
                kpi.previous.change, kpi.unit, locale, kpi.decimals, kpi.currency
            )
            owner = (kpi.owner.name or kpi.owner.team or "") if kpi.owner else ""
            mark = STATUS_MARK[kpi.status] + (" (stale)" if kpi.stale else "")
            table.add_row(
                *(
                    Text(one_line(cell))
                    for cell in (
                        kpi.name,
                        kpi.period.label,
                        value,
                        kpi_bound(kpi, kpi.bound, locale),
                    )
                ),
                Text(mark, style=STATUS_STYLE[kpi.status]),
                Text(one_line(change)),
                Text(one_line(owner)),
            )
        console.print(table)
    s = results.summary
    console.print(  # numbers only
        f"{s.kpis} KPIs: {s.met} met, {s.at_risk} at risk, "
        f"{s.missed} missed, {s.no_data} no data, {s.no_target} without target"
        + (f"; {s.stale} stale" if s.stale else "")
    )
