"""The CI verdict: which KPIs fail the job, which only warn, from the results document.

A KPI *fails* when its target in force has ``gate: fail`` and its status is at or past the
line (``--fail-on missed``, the default, or ``at_risk``). It *warns* when it is missed or at
risk behind ``gate: warn``, at risk behind ``gate: fail`` (with ``--fail-on missed``), stale,
or without data behind a gate. ``gate: off`` and KPIs without a target are only reported:
a KPI that is missed, at risk or without data behind ``gate: off`` is *off* (counted apart,
neither passing nor warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kpispec.results import iter_kpis


class FailOn(StrEnum):
    missed = "missed"
    at_risk = "at_risk"
    never = "never"


FAIL, WARN, PASS, OFF, SKIP = "fail", "warn", "pass", "off", "skip"


@dataclass
class Judged:
    card: dict[str, Any]
    kpi: dict[str, Any]
    outcome: str  #: fail, warn, pass, off or skip
    reasons: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    fail_on: FailOn
    judged: list[Judged]

    @property
    def failures(self) -> list[Judged]:
        return [j for j in self.judged if j.outcome == FAIL]

    @property
    def warnings(self) -> list[Judged]:
        return [j for j in self.judged if j.outcome == WARN]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "failures": [j.kpi["id"] for j in self.failures],
            "warnings": [j.kpi["id"] for j in self.warnings],
        }


def _outcome(kpi: dict[str, Any], fail_on: FailOn) -> tuple[str, list[str]]:
    status, gate = kpi["status"], kpi["gate"]
    reasons: list[str] = []
    if kpi["stale"]:
        reasons.append("stale data")
    if status == "no_target" or gate is None:
        return (WARN if reasons else SKIP), reasons or ["no target"]
    if gate == "off":
        if status in ("missed", "at_risk", "no_data"):
            return OFF, [f"{status.replace('_', ' ')} (gate off)", *reasons]
        return (WARN if reasons else PASS), reasons
    failing = {FailOn.missed: ("missed",), FailOn.at_risk: ("missed", "at_risk"), FailOn.never: ()}
    if gate == "fail" and status in failing[fail_on]:
        return FAIL, [status.replace("_", " "), *reasons]
    if status in ("missed", "at_risk", "no_data"):
        return WARN, [status.replace("_", " "), *reasons]
    return (WARN if reasons else PASS), reasons


def judge(doc: dict[str, Any], fail_on: FailOn = FailOn.missed) -> Verdict:
    judged = []
    for card, kpi in iter_kpis(doc):
        outcome, reasons = _outcome(kpi, fail_on)
        judged.append(Judged(card, kpi, outcome, reasons))
    return Verdict(fail_on, judged)
