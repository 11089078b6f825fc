"""Semantic checks of a whole project, as passes over one shared context.

The schema has already checked the shape of every file; these passes check what a schema
cannot: ids unique across files, references that resolve, formulas that parse and mean
something, consistent targets, and (when allowed to read data) columns that exist. Each
pass is one module; each problem is reported by one pass, once. The analysed formulas are
kept for the engine (:class:`CheckedProject`).
"""

from __future__ import annotations

from collections.abc import Callable

from kpispec.spec.checks.context import CheckedKpi, CheckedProject, Context
from kpispec.spec.checks.cycles import check_cycles
from kpispec.spec.checks.derived import check_derived
from kpispec.spec.checks.formulas import check_kpis
from kpispec.spec.checks.ids import check_ids
from kpispec.spec.checks.joins import check_joins
from kpispec.spec.checks.lint import check_smart
from kpispec.spec.checks.settings import check_settings
from kpispec.spec.checks.sources import check_sources
from kpispec.spec.checks.spectests import check_spec_tests
from kpispec.spec.checks.targets import check_targets
from kpispec.spec.checks.types import check_types
from kpispec.spec.model import Project

__all__ = ["PASSES", "CheckedKpi", "CheckedProject", "check_project"]

#: The passes in the order they run: each may read what the ones before it found
#: (the first source and KPI of each id, the columns read, the analysed formulas, the order).
PASSES: tuple[Callable[[Context], None], ...] = (
    check_ids,
    check_settings,
    check_sources,  # also reads the data's columns and analyses source filters
    check_joins,  # lookup joins: a source gains the columns of the sources it joins
    check_kpis,  # links, formulas and filters of each KPI
    check_cycles,
    check_derived,
    check_types,  # formulas against the column kinds read from the data (E314)
    check_targets,
    check_spec_tests,
    check_smart,
)


def check_project(
    project: Project, *, data: bool = True, allow_outside_root: bool = False
) -> CheckedProject:
    """Run every semantic check. Never raises for problems in the specs."""
    ctx = Context(project, data=data, allow_outside_root=allow_outside_root)
    for check in PASSES:
        check(ctx)
    return ctx.result()
