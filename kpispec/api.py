"""The Python API: everything the command line does, callable from Python.

    import kpispec
    loaded = kpispec.load("specs")                      # the checked project
    doc = kpispec.evaluate(loaded, as_of="2026-11-22")  # the results document (a dict)

Problems raise :class:`kpispec.SpecError` (invalid specs) or :class:`kpispec.DataError`
(a source cannot be read), each carrying its diagnostics.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpispec.diagnostics import DataError, Diagnostic, Loc, SpecError
from kpispec.files import exists
from kpispec.spec.load import Loaded
from kpispec.spec.load import load as _load

if TYPE_CHECKING:
    from kpispec.periods import Period


def load(
    path: str | Path,
    *,
    data: bool = True,
    allow_outside_root: bool = False,
    strict: bool = False,
) -> Loaded:
    """Load and check a project (a folder or a spec file). Raises SpecError if invalid."""
    path = Path(path)
    if not exists(path):
        raise SpecError(
            [
                Diagnostic(
                    "E100",
                    f"no such file or folder: {path}",
                    Loc(str(path)),
                    "name a project folder or a spec file",
                )
            ]
        )
    loaded = _load(path, data=data, allow_outside_root=allow_outside_root, strict=strict)
    if loaded.spec_errors:
        raise SpecError(loaded.spec_errors)
    return loaded


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


def evaluate(
    project: Loaded | str | Path,
    *,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
    allow_outside_root: bool = False,
) -> dict[str, Any]:
    """Evaluate every KPI (of the chosen scorecards) and return the results document."""
    from kpispec.engine.evaluate import evaluate as run
    from kpispec.results import build

    loaded = (
        project
        if isinstance(project, Loaded)
        else load(project, allow_outside_root=allow_outside_root)
    )
    checked = loaded.checked
    chosen = chosen_scorecards(loaded, scorecards)
    ids = _kpi_ids(loaded, chosen)
    evaluation = run(checked, as_of=parse_as_of(as_of), period=parse_period(period), kpi_ids=ids)
    return build(checked, evaluation, scorecards=chosen, kpi_ids=ids)


def _kpi_ids(loaded: Loaded, chosen: list[str] | None) -> list[str]:
    """The KPIs of the chosen scorecards (the engine adds the KPIs they reference)."""
    return [
        k.id
        for card in loaded.checked.project.scorecards
        if chosen is None or card.id in chosen
        for k in card.kpis
    ]


def render(
    doc: dict[str, Any],
    output: str | Path,
    *,
    templates: str | Path | None = None,
    root: str | Path | None = None,
    allow_outside_root: bool = False,
) -> list[str]:
    """Write the static site and the Markdown scorecards of a results document into ``output``.

    Refuses (raising an error) to write into a folder that holds anything but a previous
    kpispec build, into ``/`` or a folder holding the project ``root``, and through a
    symlink that leads out of the project root or the current folder (unless
    ``allow_outside_root``); returns the relative paths written.
    """
    from kpispec.report.site import build

    try:
        return build(
            doc,
            Path(output),
            templates=Path(templates) if templates else None,
            root=Path(root) if root is not None else None,
            allow_outside_root=allow_outside_root,
        )
    except OSError as exc:  # a name too long, a read-only folder, a full disk
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"cannot write the site to {output}: {exc.strerror or exc}",
                    Loc("<command line>"),
                    "choose an output folder that can be written (-o DIR)",
                )
            ]
        ) from None


def explain(
    project: Loaded,
    *,
    as_of: str | date | None = None,
    period: str | None = None,
    scorecards: list[str] | None = None,
) -> str:
    """The Polars plan of every source's fused query, as text: for the KPIs of the chosen
    scorecards (by default all) and the KPIs they reference, as ``evaluate`` runs them."""
    from kpispec.engine.evaluate import evaluate as run
    from kpispec.escaping import one_line

    ids = _kpi_ids(project, chosen_scorecards(project, scorecards))
    evaluation = run(
        project.checked, as_of=parse_as_of(as_of), period=parse_period(period), kpi_ids=ids
    )
    parts = []
    for plan in evaluation.plans:
        parts.append(
            f"# source `{plan.opened.source.id}`: one query for {sum(len(g.kpis) for g in plan.groups)} KPIs"
        )
        # Polars prints names from the data (a CSV header) raw, line breaks included: each
        # line of its plan gets a gutter, so that every line printed starts with ours.
        parts.extend(f"| {one_line(line)}" for line in plan.explain().split("\n"))
    return "\n".join(parts)


def chosen_scorecards(loaded: Loaded, scorecards: list[str] | None) -> list[str] | None:
    known = [c.id for c in loaded.checked.project.scorecards]
    if scorecards:
        for card in scorecards:
            if card not in known:
                from kpispec.spec.suggest import did_you_mean

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


__all__ = ["DataError", "SpecError", "evaluate", "explain", "load", "render"]
