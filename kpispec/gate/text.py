"""``check --format text``: the failing and at-risk KPIs first, then a one-line verdict."""

from __future__ import annotations

from kpispec.escaping import one_line
from kpispec.formatting import kpi_owner
from kpispec.gate.describe import sentence, spec_place
from kpispec.gate.verdict import FAIL, OFF, PASS, SKIP, WARN, Verdict

LABEL = {FAIL: "FAIL", WARN: "WARN", OFF: "off ", PASS: "ok  ", SKIP: "--  "}
ORDER = {FAIL: 0, WARN: 1, OFF: 2, PASS: 3, SKIP: 4}


def render(verdict: Verdict, root: str = "") -> str:
    lines = []
    for judged in sorted(verdict.judged, key=lambda j: ORDER[j.outcome]):
        card, kpi = judged.card, judged.kpi
        file, line = spec_place(kpi)
        owner = kpi_owner(kpi)
        where = f"{root}{file}:{line}"
        lines.append(  # names, owners and file names are the spec's: one line each
            f"{LABEL[judged.outcome]} {card.id}/{kpi.id}: "
            + one_line(sentence(card, kpi) + (f" owner {owner}" if owner else "") + f" [{where}]")
        )
    counts = {k: sum(j.outcome is k for j in verdict.judged) for k in LABEL}
    result = "failed" if not verdict.passed else "passed"
    off = f"{counts[OFF]} missed (gate off), " if counts[OFF] else ""
    lines.append(
        f"kpispec check {result}: {counts[FAIL]} failing, {counts[WARN]} warning, "
        f"{counts[PASS]} passing, {off}{counts[SKIP]} without target (fail on: {verdict.fail_on})"
    )
    return "\n".join(lines) + "\n"
