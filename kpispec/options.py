"""The values of command-line options, as the API takes them: dates, periods, the gate line.

Each bad value is E001 at ``<command line>`` (exit status 2), whichever command it is for.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from kpispec.diagnostics import Diagnostic, Loc, SpecError

if TYPE_CHECKING:
    from kpispec.gate.verdict import FailOn
    from kpispec.periods import Period
    from kpispec.spec.load import Loaded


def parse_as_of(value: str | date | None) -> date:
    from kpispec.periods import FIRST_YEAR, LAST_YEAR, check_date

    if value is None:
        return date.today()
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
        check_date(day)
    except (ValueError, TypeError):
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"invalid --as-of date {value!r}",
                    Loc("<command line>"),
                    f"write it as YYYY-MM-DD, in the years {FIRST_YEAR} to {LAST_YEAR}",
                )
            ]
        ) from None
    return day


def parse_period(period: str | None) -> Period | None:
    """The ``--period`` label as a period (None: the last complete one)."""
    from kpispec.periods import FIRST_YEAR, LAST_YEAR, parse_user_label

    if period is None:
        return None
    try:
        return parse_user_label(period)
    except ValueError:
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"invalid --period {period!r}",
                    Loc("<command line>"),
                    "write a period label: 2026, 2026-Q4, 2026-10, 2026-W41 or 2026-10-05, "
                    f"in the years {FIRST_YEAR} to {LAST_YEAR}",
                )
            ]
        ) from None


def parse_fail_on(value: str) -> FailOn:
    """The ``--fail-on`` line: missed, at_risk or never (E001 for anything else)."""
    from kpispec.gate.verdict import FailOn

    try:
        return FailOn(value)
    except ValueError:
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"--fail-on cannot be {value!r}",
                    Loc("<command line>"),
                    "write --fail-on missed, at_risk or never",
                )
            ]
        ) from None


def chosen_scorecards(loaded: Loaded, scorecards: list[str] | None) -> list[str] | None:
    known = [c.id for c in loaded.checked.project.scorecards]
    if scorecards:
        for card in scorecards:
            if card not in known:
                from kpispec.suggest import did_you_mean

                raise SpecError(
                    [
                        Diagnostic(
                            "E001",
                            f"no scorecard `{card}`",
                            Loc("<command line>"),
                            did_you_mean(card, known) or f"scorecards: {', '.join(known)}",
                        )
                    ]
                )
        return [
            c
            for c in known
            if c in scorecards and (loaded.selected is None or c in loaded.selected)
        ]
    return loaded.selected


def chosen_kpis(loaded: Loaded, kpis: list[str]) -> list[str]:
    """``--kpi`` ids, each a KPI of the project (E001 on the command line otherwise)."""
    known = list(loaded.checked.kpis)
    for kpi in kpis:
        if kpi not in loaded.checked.kpis:
            from kpispec.suggest import did_you_mean

            raise SpecError(
                [
                    Diagnostic(
                        "E001",
                        f"no KPI `{kpi}`",
                        Loc("<command line>"),
                        did_you_mean(kpi, known) or "name a KPI id of the specs",
                    )
                ]
            )
    return kpis
