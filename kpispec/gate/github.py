"""``check --format github``: workflow commands that GitHub shows as annotations.

Each points at the target's line in its spec file; at most ten errors and ten warnings are
written (GitHub shows no more per step), the rest summed up in one line.
"""

from __future__ import annotations

from kpispec.diagnostics import github_command
from kpispec.gate.describe import sentence, spec_place
from kpispec.gate.verdict import FAIL, WARN, Verdict
from kpispec.results import Status

MAX_PER_KIND = 10


def render(verdict: Verdict, root: str = "") -> str:
    lines = []
    for outcome, kind in ((FAIL, "error"), (WARN, "warning")):
        items = [j for j in verdict.judged if j.outcome is outcome]
        for judged in items[:MAX_PER_KIND]:
            file, line = spec_place(judged.kpi)
            status = judged.kpi.status
            title = f"KPI {judged.kpi.name} " + (
                "missed its target"
                if status is Status.MISSED
                else "is at risk"
                if status is Status.AT_RISK
                else "needs a look"
            )
            lines.append(
                github_command(
                    kind,
                    sentence(judged.card, judged.kpi),
                    file=f"{root}{file}",
                    line=line,
                    title=title,
                )
            )
        if len(items) > MAX_PER_KIND:
            rest = len(items) - MAX_PER_KIND
            if outcome is FAIL:
                noun = "failing KPI" if rest == 1 else "failing KPIs"
            else:
                noun = "KPI with a warning" if rest == 1 else "KPIs with warnings"
            lines.append(
                github_command(kind, f"and {rest} more {noun} (kpispec check lists them all)")
            )
    return "\n".join(lines) + ("\n" if lines else "")
