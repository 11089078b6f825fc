"""``check --format markdown``: a summary fit for a pull-request comment or a job summary."""

from __future__ import annotations

from kpispec.escaping import markdown_text as _cell
from kpispec.formatting import kpi_owner
from kpispec.gate.describe import bound_text, value_text
from kpispec.gate.verdict import FAIL, WARN, Judged, Verdict
from kpispec.results import STATUSES, Results, Status
from kpispec.sparkline import sparkline

STATUS_WORD = {
    Status.MET: "✅ met",
    Status.AT_RISK: "⚠️ at risk",
    Status.MISSED: "❌ missed",
    Status.NO_DATA: "◌ no data",
    Status.NO_TARGET: "· no target",
}


def _row(judged: Judged) -> str:
    card, kpi = judged.card, judged.kpi
    locale = card.locale
    values = [p.value for p in kpi.series]
    change = kpi.previous.change
    cells = [
        f"{_cell(kpi.name)} (`{kpi.id}`)",  # ids are [a-z][a-z0-9_]*
        _cell(card.title),
        _cell(kpi.period.label),
        _cell(value_text(kpi, kpi.value, locale)),
        _cell(bound_text(kpi, locale)),
        _cell(kpi.deadline or ""),
        STATUS_WORD[kpi.status] + (" (stale)" if kpi.stale else ""),
        sparkline(values),
        "" if change is None else ("▲" if change > 0 else "▼" if change < 0 else "="),
        _cell(kpi_owner(kpi)),
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| KPI | Scorecard | Period | Value | Target | Deadline | Status | Trend | Δ | Owner |\n"
    "| --- | --- | --- | ---: | ---: | --- | --- | --- | :-: | --- |"
)


def render(verdict: Verdict, results: Results) -> str:
    summary = results.summary
    head = "❌ **KPI check failed**" if not verdict.passed else "✅ **KPI check passed**"
    counts = ", ".join(
        f"{summary.count(status)} {STATUS_WORD[status].split(' ', 1)[1]}" for status in STATUSES
    )
    lines = [
        "## KPI scorecard check",
        "",
        f"{head}: {counts} of {summary.kpis} KPIs (as of {results.as_of}, failing on {verdict.fail_on}).",
        "",
    ]
    attention = [j for j in verdict.judged if j.outcome in (FAIL, WARN)]
    attention.sort(key=lambda j: j.outcome != FAIL)
    if attention:
        lines += [HEADER, *(_row(j) for j in attention), ""]
    rest = [j for j in verdict.judged if j.outcome not in (FAIL, WARN)]
    if rest:
        lines += [
            f"<details><summary>{len(rest)} other KPIs</summary>",
            "",
            HEADER,
            *(_row(j) for j in rest),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)
