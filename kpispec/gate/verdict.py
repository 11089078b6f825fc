"""The CI verdict: which KPIs fail the job, which only warn, from the results.

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

from kpispec.results import ATTENTION, Gate, Kpi, Results, Scorecard, Status


class FailOn(StrEnum):
    """``--fail-on``: the status at which a ``gate: fail`` target fails the job."""

    missed = Status.MISSED.value
    at_risk = Status.AT_RISK.value
    never = "never"


class Outcome(StrEnum):
    """What a KPI does to the job."""

    FAIL = "fail"
    WARN = "warn"
    PASS = "pass"
    OFF = "off"
    SKIP = "skip"


FAIL, WARN, PASS, OFF, SKIP = Outcome.FAIL, Outcome.WARN, Outcome.PASS, Outcome.OFF, Outcome.SKIP
#: The statuses that fail the job behind ``gate: fail``, per ``--fail-on``.
FAILING: dict[FailOn, tuple[Status, ...]] = {
    FailOn.missed: (Status.MISSED,),
    FailOn.at_risk: (Status.MISSED, Status.AT_RISK),
    FailOn.never: (),
}


@dataclass(frozen=True, slots=True)
class Judged:
    card: Scorecard
    kpi: Kpi
    outcome: Outcome
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Verdict:
    fail_on: FailOn
    judged: tuple[Judged, ...]

    @property
    def failures(self) -> list[Judged]:
        return [j for j in self.judged if j.outcome is FAIL]

    @property
    def warnings(self) -> list[Judged]:
        return [j for j in self.judged if j.outcome is WARN]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "failures": [j.kpi.id for j in self.failures],
            "warnings": [j.kpi.id for j in self.warnings],
        }


def _outcome(kpi: Kpi, fail_on: FailOn) -> tuple[Outcome, tuple[str, ...]]:
    status, gate = kpi.status, kpi.gate
    reasons: tuple[str, ...] = ("stale data",) if kpi.stale else ()
    if status is Status.NO_TARGET or gate is None:
        return (WARN if reasons else SKIP), reasons or ("no target",)
    if gate is Gate.OFF:
        if status in ATTENTION:
            return OFF, (f"{status.words} (gate off)", *reasons)
        return (WARN if reasons else PASS), reasons
    if gate is Gate.FAIL and status in FAILING[fail_on]:
        return FAIL, (status.words, *reasons)
    if status in ATTENTION:
        return WARN, (status.words, *reasons)
    return (WARN if reasons else PASS), reasons


def judge(results: Results, fail_on: FailOn = FailOn.missed) -> Verdict:
    judged = []
    for card, kpi in results.kpis():
        outcome, reasons = _outcome(kpi, fail_on)
        judged.append(Judged(card, kpi, outcome, reasons))
    return Verdict(fail_on, tuple(judged))
