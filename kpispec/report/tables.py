"""Results as tables: the terminal table (Rich) and the flat CSV of ``eval --format csv``."""

from __future__ import annotations

import csv
import io
from typing import Any

from kpispec.escaping import one_line
from kpispec.report.format import format_change, format_value, kpi_bound
from kpispec.results import iter_kpis

CSV_COLUMNS = ["scorecard", "kpi", "period", "dimension", "member", "value", "status"]
STATUS_MARK = {
    "met": "✔ met",
    "at_risk": "▲ at risk",
    "missed": "✖ missed",
    "no_data": "○ no data",
    "no_target": "· no target",
}
STATUS_STYLE = {
    "met": "green",
    "at_risk": "yellow",
    "missed": "bold red",
    "no_data": "dim",
    "no_target": "dim",
}


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def to_csv(doc: dict[str, Any]) -> str:
    """One row per KPI x period x (total or dimension member); totals leave dimension empty.

    Names from the data (a dimension, a member) are written on one line (:func:`one_line`),
    so that every line of the output is one row that starts with kpispec's own text.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for card, kpi in iter_kpis(doc):
        for point in kpi["series"]:
            writer.writerow(
                [
                    card["id"],
                    kpi["id"],
                    point["period"],
                    "",
                    "",
                    _number(point["value"]),
                    point["status"],
                ]
            )
        for breakdown in kpi["breakdowns"]:
            for member in breakdown["members"]:
                for point in member["series"]:
                    writer.writerow(
                        [
                            card["id"],
                            kpi["id"],
                            point["period"],
                            one_line(breakdown["dimension"]),
                            one_line(member["member"] or ""),
                            _number(point["value"]),
                            "",
                        ]
                    )
    return out.getvalue()


def print_table(doc: dict[str, Any], console: Any) -> None:
    """A readable table per scorecard on a terminal.

    Every cell is a Rich ``Text`` (never parsed for markup such as ``[bold]``) holding one
    line (:func:`one_line`): a name cannot style the table or start a line of its own.
    """
    from rich.table import Table
    from rich.text import Text

    for card in doc["scorecards"]:
        locale = card["locale"]
        table = Table(
            title=Text(one_line(f"{card['title']} ({card['id']})")),
            title_justify="left",
            expand=False,
        )
        for name, justify in [("KPI", "left"), ("Period", "left"), ("Value", "right"), ("Target", "right"),
                              ("Status", "left"), ("vs previous", "right"), ("Owner", "left")]:  # fmt: skip
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for kpi in card["kpis"]:
            value = format_value(
                kpi["value"],
                kpi["unit"],
                locale,
                decimals=kpi["decimals"],
                currency=kpi["currency"],
            )
            change = format_change(
                kpi["previous"]["change"], kpi["unit"], locale, kpi["decimals"], kpi["currency"]
            )
            owner = kpi["owner"] or {}
            status = kpi["status"]
            mark = STATUS_MARK[status] + (" (stale)" if kpi["stale"] else "")
            table.add_row(
                *(
                    Text(one_line(cell))
                    for cell in (
                        kpi["name"],
                        kpi["period"]["label"],
                        value,
                        kpi_bound(kpi, kpi["bound"], locale),
                    )
                ),
                Text(mark, style=STATUS_STYLE[status]),
                Text(one_line(change)),
                Text(one_line(owner.get("name") or owner.get("team") or "")),
            )
        console.print(table)
    summary = doc["summary"]
    console.print(  # numbers only
        f"{summary['kpis']} KPIs: {summary['met']} met, {summary['at_risk']} at risk, "
        f"{summary['missed']} missed, {summary['no_data']} no data, {summary['no_target']} without target"
        + (f"; {summary['stale']} stale" if summary["stale"] else "")
    )
