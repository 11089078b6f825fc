"""``diff --format text``: the diff as Rich tables on a terminal (plain text elsewhere).

Every name from the specs goes into a :class:`rich.text.Text` on one line, so neither
Rich markup nor a line break in a name can change what is printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpispec.diff import describe as d
from kpispec.diff.model import Diff, Kind
from kpispec.escaping import one_line

if TYPE_CHECKING:
    from rich.console import Console


def render(diff: Diff, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    def t(value: str | None) -> Text:
        return Text(one_line(value or ""))

    console.print(Text(d.title(diff), style="bold"))
    console.print(t(f"{d.headline(diff.headline)} (as of {diff.as_of})"))
    if diff.empty:
        console.print(t("No change: both revisions define the same KPIs, sources and targets."))
        return
    flips = [(k, f) for k in diff.kpis for f in k.flips]
    if flips:
        table = Table(title="Status flips", title_justify="left")
        for column in ("KPI", "Period", "Status", "Value", "Target in force"):
            table.add_column(column, justify="right" if column == "Value" else "left")
        for k, f in flips:
            fmt = k.format
            table.add_row(
                t(k.id), t(f.period), Text(d.flip_words(f), style="red" if d.worse(f) else "green"),
                t(d.pair(d.value(fmt, f.base_value), d.value(fmt, f.head_value))),
                t(d.pair(d.bound(fmt, f.base_bound), d.bound(fmt, f.head_bound))),
            )  # fmt: skip
        console.print(table)
    for k in diff.kpis:
        if k.kind not in (Kind.CHANGED, Kind.INDIRECT):
            continue
        console.print()
        console.print(
            Text.assemble(
                (one_line(f"{k.id}: {k.name}"), "bold"),
                one_line(f"  {d.what(k)}"),
                one_line(f"  [{k.file}:{k.line}]"),
            )
        )
        if k.because:
            console.print(t(f"  changed because {'; '.join(k.because)}"))
        if k.fields:
            table = Table(box=None, padding=(0, 2), show_header=True)
            for column in ("field", "base", "head"):
                table.add_column(column, overflow="fold")
            for fc in k.fields:
                table.add_row(t(fc.field), t(fc.base or "–"), t(fc.head or "–"))
            console.print(table)
        if k.impact and not k.moved:
            console.print(t("  the values are the same in every period compared"))
        elif k.impact:
            fmt = k.format
            table = Table(box=None, padding=(0, 2))
            for column in ("period", "base", "head", "Δ", "Δ %", "moved most"):
                justify = "left" if column in ("period", "moved most") else "right"
                table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
            for i in k.impact:
                table.add_row(
                    t(i.period), t(d.value(fmt, i.base)), t(d.value(fmt, i.head)),
                    t(d.difference(fmt, i)), t(d.relative(fmt, i)), t(d.movers(fmt, i.movers)),
                )  # fmt: skip
            console.print(table)
        if k.base is not None and k.head is not None:
            fmt = k.format
            console.print(
                t(
                    f"  {k.head.period}: {d.pair(k.base.status.words, k.head.status.words)} "
                    f"(target {d.pair(d.bound(fmt, k.base.bound), d.bound(fmt, k.head.bound))})"
                )
            )
    for kind, heading in ((Kind.ADDED, "Added KPIs"), (Kind.REMOVED, "Removed KPIs")):
        listed = [k for k in diff.kpis if k.kind is kind]
        if not listed:
            continue
        console.print()
        table = Table(title=heading, title_justify="left")
        for column in ("KPI", "Name", "Scorecard", "Owner", "Value", "Status"):
            table.add_column(column, justify="right" if column == "Value" else "left")
        for k in listed:
            side = k.head if kind is Kind.ADDED else k.base
            table.add_row(
                t(k.id), t(k.name), t(k.scorecard), t(k.owner),
                t(d.value(k.format, side.value) if side else ""),
                t(side.status.words if side else ""),
            )  # fmt: skip
        console.print(table)
    if diff.sources:
        console.print()
        table = Table(title="Sources changed", title_justify="left")
        for column in ("Source", "Field", "Base", "Head", "Read by"):
            table.add_column(column, overflow="fold")
        for s in diff.sources:
            for fc in s.fields:
                table.add_row(
                    t(s.id), t(fc.field), t(fc.base or "–"), t(fc.head or "–"), t(", ".join(s.kpis))
                )
        console.print(table)
    if diff.project:
        console.print()
        table = Table(title="Project settings changed", title_justify="left")
        for column in ("Setting", "Base", "Head"):
            table.add_column(column)
        for fc in diff.project:
            table.add_row(t(fc.field), t(fc.base or "–"), t(fc.head or "–"))
        console.print(table)
