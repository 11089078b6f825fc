"""``diff --format markdown``: a pull-request comment, the summary on top, details folded.

The comment starts with a hidden marker (:data:`MARKER`) by which ``kpispec comment``
finds it again, and stays within GitHub's 65,536 characters: when the report is longer,
whole rows and sections are left out from the end, and a note says so.
"""

from __future__ import annotations

import html

from kpispec.comment import LIMITS, marker_line
from kpispec.diff import describe as d
from kpispec.diff.model import Diff, Kind, KpiChange
from kpispec.escaping import markdown_text as cell
from kpispec.escaping import one_line

MARKER = marker_line()
#: GitHub's limit on the body of a comment, in characters (GitLab's is larger).
LIMIT = LIMITS["github"]
STATUS_ICON = {"met": "✅", "at_risk": "⚠️", "missed": "❌", "no_data": "◌", "no_target": "·"}


def _status(s: object) -> str:
    text = str(s)
    return f"{STATUS_ICON.get(text, '')} {text.replace('_', ' ')}".strip()


def _html(text: str) -> str:
    return html.escape(one_line(text), quote=False)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |\n"


def _kpi(kpi: KpiChange) -> str:
    return f"{cell(kpi.name)} (`{kpi.id}`)"  # ids are [a-z][a-z0-9_]*


def _details(kpi: KpiChange) -> str:
    fmt = kpi.format
    # a <summary> is HTML, where Markdown is not read: names are HTML-escaped there
    summary = f"<b>{_html(kpi.name)}</b> ({_html(kpi.id)}): {_html(d.what(kpi))}"
    lines = [f"<details><summary>{summary}</summary>\n\n"]
    if kpi.because:
        lines.append("Changed because " + cell("; ".join(kpi.because)) + ".\n\n")
    if kpi.fields:
        lines.append(_row(["Field", "Base", "Head"]) + _row(["---", "---", "---"]))
        for fc in kpi.fields:
            lines.append(_row([f"`{fc.field}`", cell(fc.base or "–"), cell(fc.head or "–")]))
        lines.append("\n")
    if kpi.impact and not kpi.moved:
        lines.append("The values are the same in every period compared.\n\n")
    elif kpi.impact:
        lines.append(
            _row(["Period", "Base", "Head", "Δ", "Δ %", "Moved most"])
            + _row(["---", "---:", "---:", "---:", "---:", "---"])
        )
        for i in kpi.impact:
            movers = d.movers(fmt, i.movers)
            lines.append(
                _row(
                    [
                        cell(i.period),
                        cell(d.value(fmt, i.base)),
                        cell(d.value(fmt, i.head)),
                        cell(d.difference(fmt, i)),
                        cell(d.relative(fmt, i)),
                        cell(movers),
                    ]
                )
            )
        lines.append("\n")
    if kpi.base is not None and kpi.head is not None and (kpi.base.bound or kpi.head.bound):
        lines.append(
            f"Target in force {cell(kpi.head.period)}: "
            f"{cell(d.pair(d.bound(fmt, kpi.base.bound), d.bound(fmt, kpi.head.bound)))} "
            f"({d.pair(_status(kpi.base.status), _status(kpi.head.status))}).\n\n"
        )
    lines.append(f"Defined in {cell(kpi.file)}, line {kpi.line}.\n\n</details>\n\n")
    return "".join(lines)


def render(diff: Diff) -> str:
    chunks: list[str] = [
        f"{MARKER}\n## {cell(d.title(diff))}\n\n",
        f"**{cell(d.headline(diff.headline))}** (as of {diff.as_of}).\n\n",
    ]
    if diff.empty:
        chunks.append(
            "No change: both revisions define the same KPIs, sources and targets "
            "(changes of formatting, quoting or key order do not count).\n"
        )
        return "".join(chunks)
    flips = [(k, f) for k in diff.kpis for f in k.flips]
    if flips:
        chunks.append(
            "### Status flips\n\n"
            + _row(["KPI", "Period", "Status", "Value", "Target in force"])
            + _row(["---", "---", "---", "---:", "---"])
        )
        for k, f in flips:
            fmt = k.format
            chunks.append(
                _row(
                    [
                        _kpi(k),
                        cell(f.period),
                        f"{_status(f.base)} → {_status(f.head)}",
                        cell(d.pair(d.value(fmt, f.base_value), d.value(fmt, f.head_value))),
                        cell(d.pair(d.bound(fmt, f.base_bound), d.bound(fmt, f.head_bound))),
                    ]
                )
            )
        chunks.append("\n")
    present = [k for k in diff.kpis if k.kind in (Kind.CHANGED, Kind.INDIRECT)]
    if present:
        chunks.append(
            "### Changed KPIs\n\n"
            + _row(["KPI", "What changed", "Evaluated period", "Value", "Status", "Owner"])
            + _row(["---", "---", "---", "---:", "---", "---"])
        )
        for k in present:
            fmt = k.format
            b, h = k.base, k.head
            chunks.append(
                _row(
                    [
                        _kpi(k),
                        cell(d.what(k)),
                        cell(h.period if h else ""),
                        cell(d.pair(d.value(fmt, b.value), d.value(fmt, h.value)))
                        if b and h
                        else "",
                        d.pair(_status(b.status), _status(h.status)) if b and h else "",
                        cell(k.owner or ""),
                    ]
                )
            )
        chunks.append("\n")
    for kind, heading in ((Kind.ADDED, "Added KPIs"), (Kind.REMOVED, "Removed KPIs")):
        listed = [k for k in diff.kpis if k.kind is kind]
        if listed:
            chunks.append(
                f"### {heading}\n\n"
                + _row(["KPI", "Scorecard", "Owner", "Value", "Status"])
                + _row(["---", "---", "---", "---:", "---"])
            )
            for k in listed:
                side = k.head if kind is Kind.ADDED else k.base
                chunks.append(
                    _row(
                        [
                            _kpi(k),
                            cell(k.scorecard),
                            cell(k.owner or ""),
                            cell(d.value(k.format, side.value)) if side else "",
                            _status(side.status) if side else "",
                        ]
                    )
                )
            chunks.append("\n")
    if diff.sources:
        chunks.append(
            "### Sources changed\n\n"
            + _row(["Source", "Field", "Base", "Head", "Read by"])
            + _row(["---", "---", "---", "---", "---"])
        )
        for s in diff.sources:
            for fc in s.fields:
                chunks.append(
                    _row(
                        [
                            f"`{s.id}`",
                            f"`{fc.field}`",
                            cell(fc.base or "–"),
                            cell(fc.head or "–"),
                            cell(", ".join(s.kpis)),
                        ]
                    )
                )
        chunks.append("\n")
    if diff.project:
        chunks.append(
            "### Project settings changed\n\n"
            + _row(["Setting", "Base", "Head"])
            + _row(["---", "---", "---"])
        )
        for fc in diff.project:
            chunks.append(_row([f"`{fc.field}`", cell(fc.base or "–"), cell(fc.head or "–")]))
        chunks.append("\n")
    detailed = [k for k in diff.kpis if k.kind in (Kind.CHANGED, Kind.INDIRECT)]
    if detailed:
        chunks.append("### Details\n\n")
        chunks.extend(_details(k) for k in detailed)
    return _fit(chunks)


def _fit(chunks: list[str]) -> str:
    """The chunks that fit in :data:`LIMIT` with the note, in order; all when they fit."""
    whole = "".join(chunks)
    if len(whole) <= LIMIT:
        return whole
    kept: list[str] = []
    size = 0
    for number, chunk in enumerate(chunks):
        note = (
            f"\n_{len(chunks) - number} more rows and sections are left out to keep this "
            f"comment within GitHub's {LIMIT:,} characters; `kpispec diff` shows the whole "
            "report._\n"
        )
        if size + len(chunk) + len(note) > LIMIT:
            return "".join(kept) + note
        kept.append(chunk)
        size += len(chunk)
    return "".join(kept)  # pragma: no cover - the whole did not fit, so a chunk cannot either
